//! The load: one thread per connection with a blocking socket, each writing batches of about
//! [`BATCH_BYTES`] (one `write` per batch over TCP, one per 16 KiB record over TLS, one `send`
//! per message over UDP), paced by its share of the total rate ([`Pacer`]). Connections are
//! opened before the clock starts, so a refused or unreachable target is an error before any
//! load, not a report of zeros.
//!
//! A connection whose write fails (the receiver restarted, reset it) is opened again, retrying
//! with a backoff for at most `reconnect_timeout`; its sequence numbers go on where they were,
//! so `bench verify` shows exactly the messages lost with the old connection.

use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use self::message::{Batch, MessageWriter, Source};
use super::marker::MARKER_LEN;
use super::rate::Pacer;
use super::report::{ConnStats, Report};
use super::socket::{self, CONNECT_TIMEOUT, ConnectError, Socket, TlsClient};
use crate::egress::Formatter;
use crate::framing::Framing;
use crate::framing::encode::{Encoder, Escape};
use crate::syslog::format::OutputFormat;
pub use crate::transport::Protocol;

mod message;
mod relp;

/// Bytes gathered before one TCP write: 256 KiB, as socat's `-b 262144` (issue 16: with 64 KiB,
/// 8 connections reached 0.58 of socat pushing the same frames; the kernel's per-write cost).
pub const BATCH_BYTES: usize = 256 * 1024;

/// The largest UDP payload over IPv4.
pub const MAX_DATAGRAM_SIZE: usize = 65_507;

/// Messages whose acknowledgement is still tracked one by one: the last 64 MiB of a connection,
/// far more than a kernel send queue holds, so anything before is acknowledged.
const ACK_WINDOW_BYTES: u64 = 64 * 1024 * 1024;

/// The first wait before opening a lost connection again; it doubles up to
/// [`RECONNECT_BACKOFF_MAX`].
const RECONNECT_BACKOFF_MIN: Duration = Duration::from_millis(50);
const RECONNECT_BACKOFF_MAX: Duration = Duration::from_secs(1);

/// When the run ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// This many messages over all connections.
    Count(u64),
    /// After this long.
    Duration(Duration),
}

/// What to send, where and how fast.
#[derive(Clone, Debug)]
pub struct LoadConfig {
    pub target: SocketAddr,
    pub protocol: Protocol,
    /// The client configuration and server name for [`Protocol::Tls`].
    pub tls: Option<TlsClient>,
    pub connections: u32,
    pub stop: Stop,
    /// Total messages per second over all connections; `None`: as fast as possible.
    pub rate: Option<f64>,
    /// Bytes of each syslog message, header included, framing excluded; ignored with a template.
    pub size: usize,
    pub formatter: Formatter,
    /// [`Framing::Lf`] or [`Framing::OctetCounting`] over TCP and TLS; UDP sends one message per
    /// datagram.
    pub framing: Framing,
    /// Lines to replay, cycled, the marker put before their message text. Empty: padding.
    pub template: Vec<Vec<u8>>,
    /// TCP connections (TLS: with the handshake done) opened and held without sending.
    pub idle_connections: u32,
    /// Close and reopen each connection after this many messages.
    pub reconnect_every: Option<u64>,
    /// How long a lost (or `reconnect_every`-closed) connection keeps trying to open again
    /// before it stops with an error; at least one attempt is made.
    pub reconnect_timeout: Duration,
    /// The `run=` of the markers.
    pub run: u32,
}

/// Why a run could not start.
#[derive(Debug)]
pub enum LoadError {
    /// A value that cannot work, with what to use instead.
    Config(String),
    /// The target refused, did not answer or cannot be reached.
    Connect { addr: SocketAddr, source: io::Error },
    /// The TLS handshake failed; the reason says why and what to do.
    Handshake { addr: SocketAddr, reason: String },
}

impl LoadError {
    fn connect(addr: SocketAddr, e: ConnectError) -> LoadError {
        match e {
            ConnectError::Connect(source) => LoadError::Connect { addr, source },
            ConnectError::Handshake(reason) => LoadError::Handshake { addr, reason },
        }
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Config(reason) => f.write_str(reason),
            LoadError::Connect { addr, source } => match source.kind() {
                io::ErrorKind::ConnectionRefused => write!(
                    f,
                    "cannot connect to {addr}: connection refused, nothing listens there; start a receiver (e.g. 'syslogkit listen --tcp {addr}') or fix --to"
                ),
                io::ErrorKind::TimedOut => write!(
                    f,
                    "cannot connect to {addr}: no answer within {}s; check --to, the route and any firewall",
                    CONNECT_TIMEOUT.as_secs()
                ),
                _ => write!(
                    f,
                    "cannot connect to {addr}: {source}; check --to (HOST:PORT of a syslog receiver)"
                ),
            },
            LoadError::Handshake { addr, reason } => {
                write!(f, "cannot connect to {addr} over TLS: {reason}")
            }
        }
    }
}

impl std::error::Error for LoadError {}

/// A new run id: 8 hex digits that differ from run to run.
pub fn new_run_id() -> u32 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(now_us() as u128);
    h.write_u32(std::process::id());
    h.finish() as u32
}

fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

/// End offsets of the messages written on the current socket, to turn acknowledged bytes into
/// acknowledged messages.
#[derive(Default)]
struct AckTracker {
    ends: VecDeque<u64>,
    /// Messages dropped from `ends`: older than [`ACK_WINDOW_BYTES`], so acknowledged.
    settled: u64,
}

impl AckTracker {
    fn push(&mut self, end: u64) {
        self.ends.push_back(end);
        let floor = end.saturating_sub(ACK_WINDOW_BYTES);
        while self.ends.front().is_some_and(|&e| e < floor) {
            self.ends.pop_front();
            self.settled += 1;
        }
    }

    /// Messages whose last byte lies within the first `acked` bytes; resets for a new socket.
    fn take(&mut self, acked: u64) -> u64 {
        let n = self.settled + self.ends.partition_point(|&e| e <= acked) as u64;
        *self = AckTracker::default();
        n
    }
}

/// Runs the load, calling `progress` with the messages sent so far about every 100 ms.
pub fn run(config: LoadConfig, mut progress: impl FnMut(u64)) -> Result<Report, LoadError> {
    check(&config)?;
    let connect = || match (config.protocol, &config.tls) {
        (Protocol::Tls, Some(tls)) => Socket::connect_tls(config.target, tls),
        (Protocol::Udp, _) => Socket::connect_udp(config.target).map_err(ConnectError::Connect),
        _ => Socket::connect_tcp(config.target).map_err(ConnectError::Connect),
    };
    let connecting = Instant::now();
    let mut sockets = Vec::new();
    for _ in 0..config.connections {
        sockets.push(connect().map_err(|e| LoadError::connect(config.target, e))?);
    }
    // Idle connections only hold a connection (TLS: a session) open.
    let mut idle = Vec::new();
    for _ in 0..config.idle_connections {
        idle.push(match config.protocol {
            Protocol::Tls => connect().map_err(|e| LoadError::connect(config.target, e))?,
            _ => Socket::connect_tcp(config.target).map_err(|source| LoadError::Connect {
                addr: config.target,
                source,
            })?,
        });
    }
    let encoder = if config.protocol.is_stream() {
        Some(
            Encoder::new(&config.framing, Escape::ControlCharacters)
                .map_err(|e| LoadError::Config(format!("--framing: {e}")))?,
        )
    } else {
        None
    };
    let writer = MessageWriter {
        formatter: config.formatter.clone(),
        size: config.size,
        template: config.template.clone(),
    };
    let n = u64::from(config.connections);
    let per_conn_rate = config.rate.map(|r| r / n as f64);
    let live: Vec<AtomicU64> = (0..n).map(|_| AtomicU64::new(0)).collect();
    let start = Instant::now();
    let deadline = match config.stop {
        Stop::Duration(d) => Some(start + d),
        Stop::Count(_) => None,
    };
    let results: Vec<(ConnStats, Instant)> = thread::scope(|scope| {
        let handles: Vec<_> = sockets
            .into_iter()
            .enumerate()
            .map(|(i, socket)| {
                let quota = match config.stop {
                    Stop::Count(total) => Some(total / n + u64::from((i as u64) < total % n)),
                    Stop::Duration(_) => None,
                };
                let worker = Worker {
                    conn: i as u32 + 1,
                    config: &config,
                    writer: &writer,
                    encoder: encoder.as_ref(),
                    pacer: Pacer::new(start, per_conn_rate),
                    quota,
                    deadline,
                    live: &live[i],
                };
                scope.spawn(move || worker.run(socket, &connect))
            })
            .collect();
        while !handles.iter().all(|h| h.is_finished()) {
            progress(live.iter().map(|c| c.load(Ordering::Relaxed)).sum());
            thread::sleep(Duration::from_millis(100));
        }
        handles
            .into_iter()
            .map(|h| h.join().expect("a bench connection panicked"))
            .collect()
    });
    socket::finish_idle(idle);
    let end = results.iter().map(|r| r.1).max().unwrap_or(start);
    Ok(Report {
        run: config.run,
        protocol: config.protocol.as_str(),
        target: config.target.to_string(),
        framing: match (config.protocol, &config.framing) {
            (Protocol::Udp, _) => "datagram",
            (p, _) if p.is_relp() => "relp",
            (_, Framing::OctetCounting) => "octet-counting",
            _ => "lf",
        },
        target_rate: config.rate,
        connect_seconds: start.duration_since(connecting).as_secs_f64(),
        seconds: end.duration_since(start).as_secs_f64(),
        idle_connections: config.idle_connections,
        connections: results.into_iter().map(|r| r.0).collect(),
    })
}

/// Values that cannot work, refused before connecting.
fn check(config: &LoadConfig) -> Result<(), LoadError> {
    let bad = |s: String| Err(LoadError::Config(s));
    if config.protocol.is_tls() && config.tls.is_none() {
        return bad("TLS without a client configuration (--tls-ca, --tls-insecure…)".into());
    }
    if config.connections == 0 {
        return bad("--connections 0: at least 1 connection sends (use --idle-connections for ones that only stay open)".into());
    }
    if let Some(rate) = config.rate
        && !(rate > 0.0 && rate.is_finite())
    {
        return bad(format!(
            "--rate {rate}: must be more than 0 messages/s; leave --rate out to send as fast as possible"
        ));
    }
    match config.stop {
        Stop::Count(0) => return bad("--count 0: send at least 1 message".into()),
        Stop::Duration(d) if d.is_zero() => {
            return bad("--duration 0: give a duration, e.g. --duration 10s".into());
        }
        _ => {}
    }
    if config.reconnect_every == Some(0) {
        return bad(
            "--reconnect-every 0: give a number of messages, e.g. --reconnect-every 1000".into(),
        );
    }
    if config.template.is_empty() {
        let mut prefix = Vec::new();
        let writer = MessageWriter {
            formatter: config.formatter.clone(),
            size: 0,
            template: Vec::new(),
        };
        writer.prefix(&mut prefix);
        let least = prefix.len() + MARKER_LEN;
        if config.size < least {
            let format = config.formatter.options().format;
            let raw = if format == OutputFormat::Raw {
                String::new()
            } else {
                format!(" (--format raw needs {MARKER_LEN})")
            };
            return bad(format!(
                "--size {}: smaller than the {} header and the {MARKER_LEN}-byte marker; use --size {least} or more{raw}",
                config.size, format
            ));
        }
        if config.protocol == Protocol::Udp && config.size > MAX_DATAGRAM_SIZE {
            return bad(format!(
                "--size {}: larger than a UDP datagram can carry ({MAX_DATAGRAM_SIZE}); use TCP or a smaller --size",
                config.size
            ));
        }
    }
    Ok(())
}

struct Worker<'a> {
    conn: u32,
    config: &'a LoadConfig,
    writer: &'a MessageWriter,
    encoder: Option<&'a Encoder>,
    pacer: Pacer,
    quota: Option<u64>,
    deadline: Option<Instant>,
    live: &'a AtomicU64,
}

impl Worker<'_> {
    /// Sends this connection's share; returns its counts and when its last write ended.
    fn run(
        self,
        socket: Socket,
        connect: &impl Fn() -> Result<Socket, ConnectError>,
    ) -> (ConnStats, Instant) {
        let mut stats = ConnStats {
            conn: self.conn,
            ..ConnStats::default()
        };
        if self.config.protocol.is_relp() {
            // The socket only checked that the receiver is there; RELP opens its own session.
            drop(socket);
            let last_write = self.send_relp(&mut stats);
            return (stats, last_write);
        }
        // Over TLS the kernel's count is of encrypted bytes, which do not map onto messages.
        let mut acked = (self.config.protocol == Protocol::Tcp).then_some(0);
        let last_write = self.send(socket, connect, &mut stats, &mut acked);
        stats.acknowledged = acked;
        (stats, last_write)
    }

    /// The sending loop; `acked` adds up each socket's acknowledged messages.
    fn send(
        &self,
        mut socket: Socket,
        connect: &impl Fn() -> Result<Socket, ConnectError>,
        stats: &mut ConnStats,
        acked: &mut Option<u64>,
    ) -> Instant {
        let stream = self.config.protocol.is_stream();
        let per_batch = (BATCH_BYTES / self.config.size.max(1)).max(1) as u64;
        let source = Source {
            writer: self.writer,
            encoder: self.encoder,
            conn: self.conn,
            run: self.config.run,
        };
        let mut batch = Batch::default();
        let mut offset = 0u64; // bytes written on this socket
        let mut acks = AckTracker::default();
        let mut since_connect = 0u64;
        let mut last_write = Instant::now();
        loop {
            let now = Instant::now();
            if self.deadline.is_some_and(|d| now >= d)
                || self.quota.is_some_and(|q| stats.last_seq >= q)
            {
                break;
            }
            if let Some(every) = self.config.reconnect_every
                && since_connect >= every
            {
                let socket_acked = socket.finish(offset);
                add_acked(acked, socket_acked.map(|a| acks.take(a)));
                offset = 0;
                since_connect = 0;
                match self.reconnect(connect, stats) {
                    Some(s) => socket = s,
                    None => return last_write,
                }
            }
            let mut max = per_batch;
            if let Some(q) = self.quota {
                max = max.min(q - stats.last_seq);
            }
            if let Some(every) = self.config.reconnect_every {
                max = max.min(every - since_connect);
            }
            let n = self.pacer.allowed(stats.last_seq, max, now);
            if n == 0 {
                let mut wait = self.pacer.wait(stats.last_seq, now);
                if let Some(d) = self.deadline {
                    wait = wait.min(d.saturating_duration_since(now));
                }
                thread::sleep(wait);
                continue;
            }
            batch.fill(source, stats.last_seq + 1, n);
            stats.last_seq += n;
            since_connect += n;
            let ends = &batch.ends;
            if !stream {
                let sent = socket.send_datagrams(&batch.bytes, ends);
                stats.messages += sent.datagrams;
                stats.bytes += sent.bytes;
                stats.send_errors += sent.errors;
            }
            if stream {
                let (written, error) = socket.write_stream(&batch.bytes);
                let whole = ends.partition_point(|&e| e <= written);
                if acked.is_some() {
                    for &end in &ends[..whole] {
                        acks.push(offset + end as u64);
                    }
                }
                stats.messages += whole as u64;
                stats.bytes += written as u64;
                offset += written as u64;
                if let Some(e) = error {
                    last_write = Instant::now();
                    self.live.store(stats.messages, Ordering::Relaxed);
                    // The kernel keeps the acknowledged count of a reset connection.
                    add_acked(acked, socket.bytes_acked().map(|a| acks.take(a)));
                    stats.write_errors += 1;
                    stats.write_error = Some(format!(
                        "write failed after {} messages (seq {}): {e}",
                        stats.messages, stats.last_seq
                    ));
                    offset = 0;
                    since_connect = 0;
                    // The messages of the lost connection are gone; the next ones carry on
                    // with the next sequence numbers, so the loss shows as a gap.
                    match self.reconnect(connect, stats) {
                        Some(s) => socket = s,
                        None => return last_write,
                    }
                    continue;
                }
            }
            last_write = Instant::now();
            self.live.store(stats.messages, Ordering::Relaxed);
        }
        let socket_acked = socket.finish(offset);
        add_acked(acked, socket_acked.map(|a| acks.take(a)));
        last_write
    }

    /// Opens the connection again, retrying after 50 ms, then twice as long each time up to
    /// 1 s, for at most `reconnect_timeout`. `None`: given up (with `stats.error` saying why),
    /// or the run's time ran out meanwhile. A connection opened counts in `stats.reconnects`.
    fn reconnect(
        &self,
        connect: &impl Fn() -> Result<Socket, ConnectError>,
        stats: &mut ConnStats,
    ) -> Option<Socket> {
        let started = Instant::now();
        let give_up = started + self.config.reconnect_timeout;
        let mut backoff = RECONNECT_BACKOFF_MIN;
        let mut attempts = 0;
        let last = loop {
            attempts += 1;
            let e = match connect() {
                Ok(s) => {
                    stats.reconnects += 1;
                    return Some(s);
                }
                Err(e) => e,
            };
            stats.connect_errors += 1;
            let next = Instant::now() + backoff;
            if self.deadline.is_some_and(|d| next >= d) {
                return None;
            }
            if next > give_up {
                break e;
            }
            thread::sleep(backoff);
            backoff = (backoff * 2).min(RECONNECT_BACKOFF_MAX);
        };
        stats.error = Some(format!(
            "reconnecting to {} failed {attempts} times in {:.1}s (--reconnect-timeout {:?}): {last}",
            self.config.target,
            started.elapsed().as_secs_f64(),
            self.config.reconnect_timeout
        ));
        None
    }
}

/// Adds a socket's acknowledged messages; the total is unknown once one socket cannot say.
fn add_acked(total: &mut Option<u64>, socket: Option<u64>) {
    *total = match (*total, socket) {
        (Some(t), Some(s)) => Some(t + s),
        _ => None,
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn acknowledged_messages_are_those_whose_last_byte_was_acked() {
        let mut t = AckTracker::default();
        for end in [100, 200, 300] {
            t.push(end);
        }
        assert_eq!(t.take(250), 2);
        t.push(100);
        assert_eq!(t.take(99), 0);
    }
}
