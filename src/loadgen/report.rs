//! What a `bench` run did, as the sender saw it: totals, per connection, lost connections, and
//! how much of it the receiving TCP acknowledged.

use std::fmt::Write;

use serde_json::{Value, json};

use super::marker::run_hex;

/// One sending connection (its reconnects included).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ConnStats {
    /// The `conn=` of its markers, from 1.
    pub conn: u32,
    /// Messages wholly handed to the kernel (TCP) or sent as datagrams (UDP).
    pub messages: u64,
    /// Bytes of those messages, framing included.
    pub bytes: u64,
    /// The last `seq=` used; a message cut short by an error used its number too.
    pub last_seq: u64,
    /// Messages whose last byte the receiving TCP acknowledged (`TCP_INFO.tcpi_bytes_acked`):
    /// they reached the receiver's kernel, which does not mean its program read them.
    /// `None` over UDP, over TLS (the kernel counts encrypted bytes) or where the OS does not
    /// say. Over RELP: the messages the receiver acknowledged with `rsp 200`.
    pub acknowledged: Option<u64>,
    /// Connections opened again: after `--reconnect-every` messages or a failed write.
    pub reconnects: u64,
    /// Failed attempts to open the connection again (refused, timed out, TLS handshake).
    pub connect_errors: u64,
    /// Writes that failed (the receiver closed or reset the connection); each loses what the
    /// kernel had not delivered yet, and the connection is opened again.
    pub write_errors: u64,
    /// The last of those failures.
    pub write_error: Option<String>,
    /// Datagrams the kernel refused (UDP: an ICMP port unreachable came back).
    pub send_errors: u64,
    /// Why the connection stopped early.
    pub error: Option<String>,
}

#[derive(Clone, Debug)]
pub struct Report {
    pub run: u32,
    pub protocol: &'static str,
    pub target: String,
    pub framing: &'static str,
    /// Messages per second asked for over all connections; `None`: unlimited.
    pub target_rate: Option<f64>,
    /// Opening every connection, before the first message (not part of `seconds`).
    pub connect_seconds: f64,
    pub seconds: f64,
    pub idle_connections: u32,
    /// SIGINT or SIGTERM ended the run before its count or duration.
    pub interrupted: bool,
    pub connections: Vec<ConnStats>,
}

impl Report {
    pub fn messages(&self) -> u64 {
        self.connections.iter().map(|c| c.messages).sum()
    }

    pub fn bytes(&self) -> u64 {
        self.connections.iter().map(|c| c.bytes).sum()
    }

    /// All connections' acknowledged counts, when every one has it.
    pub fn acknowledged(&self) -> Option<u64> {
        self.connections.iter().map(|c| c.acknowledged).sum()
    }

    pub fn connect_errors(&self) -> u64 {
        self.connections.iter().map(|c| c.connect_errors).sum()
    }

    pub fn reconnects(&self) -> u64 {
        self.connections.iter().map(|c| c.reconnects).sum()
    }

    pub fn write_errors(&self) -> u64 {
        self.connections.iter().map(|c| c.write_errors).sum()
    }

    pub fn send_errors(&self) -> u64 {
        self.connections.iter().map(|c| c.send_errors).sum()
    }

    pub fn errors(&self) -> impl Iterator<Item = (u32, &str)> {
        self.connections
            .iter()
            .filter_map(|c| c.error.as_deref().map(|e| (c.conn, e)))
    }

    pub fn messages_per_second(&self) -> f64 {
        rate(self.messages() as f64, self.seconds)
    }

    /// Megabytes (10⁶ bytes) per second.
    pub fn mb_per_second(&self) -> f64 {
        rate(self.bytes() as f64 / 1e6, self.seconds)
    }

    pub fn to_json(&self) -> Value {
        let conns: Vec<Value> = self
            .connections
            .iter()
            .map(|c| {
                json!({
                    "conn": c.conn,
                    "messages": c.messages,
                    "bytes": c.bytes,
                    "last_seq": c.last_seq,
                    "acknowledged": c.acknowledged,
                    "messages_per_second": round(rate(c.messages as f64, self.seconds)),
                    "reconnects": c.reconnects,
                    "connect_errors": c.connect_errors,
                    "write_errors": c.write_errors,
                    "write_error": c.write_error,
                    "send_errors": c.send_errors,
                    "error": c.error,
                })
            })
            .collect();
        json!({
            "run": run_hex(self.run),
            "target": self.target,
            "protocol": self.protocol,
            "framing": self.framing,
            "target_rate": self.target_rate,
            "messages": self.messages(),
            "bytes": self.bytes(),
            // Microseconds: a few connections on loopback open in well under a millisecond.
            "connect_seconds": (self.connect_seconds * 1e6).round() / 1e6,
            "seconds": round(self.seconds),
            "messages_per_second": round(self.messages_per_second()),
            "mb_per_second": round(self.mb_per_second()),
            "acknowledged": self.acknowledged(),
            "connect_errors": self.connect_errors(),
            "reconnects": self.reconnects(),
            "write_errors": self.write_errors(),
            "send_errors": self.send_errors(),
            "idle_connections": self.idle_connections,
            "interrupted": self.interrupted,
            "connections": conns,
        })
    }

    pub fn to_text(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "run {} → {}/{} ({}): {} messages, {} bytes in {:.3} s: {:.0} messages/s, {:.2} MB/s",
            run_hex(self.run),
            self.target,
            self.protocol,
            self.framing,
            self.messages(),
            self.bytes(),
            self.seconds,
            self.messages_per_second(),
            self.mb_per_second()
        );
        let acked = self
            .acknowledged()
            .map_or("n/a".to_string(), |a| a.to_string());
        let by = if self.protocol.starts_with("relp") {
            "RELP"
        } else {
            "TCP"
        };
        let _ = writeln!(
            s,
            "acknowledged by {by}: {acked}, write errors: {}, connect errors: {}, reconnects: {}, send errors: {}, idle connections: {}",
            self.write_errors(),
            self.connect_errors(),
            self.reconnects(),
            self.send_errors(),
            self.idle_connections
        );
        if self.interrupted {
            s.push_str("interrupted (SIGINT or SIGTERM): the run ended early; the counts are what was sent\n");
        }
        for c in &self.connections {
            let acked = c.acknowledged.map_or("n/a".into(), |a| a.to_string());
            let _ = write!(
                s,
                "  conn {}: {} messages (last seq {}), {} bytes, {:.0} messages/s, acknowledged {acked}",
                c.conn,
                c.messages,
                c.last_seq,
                c.bytes,
                rate(c.messages as f64, self.seconds)
            );
            if let Some(e) = &c.write_error {
                let _ = write!(s, ", {} write errors, the last: {e}", c.write_errors);
            }
            if let Some(e) = &c.error {
                let _ = write!(s, ", stopped: {e}");
            }
            s.push('\n');
        }
        s
    }
}

fn rate(amount: f64, seconds: f64) -> f64 {
    if seconds > 0.0 { amount / seconds } else { 0.0 }
}

/// Three decimals are plenty in a report.
fn round(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}
