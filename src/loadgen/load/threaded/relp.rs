//! `bench --protocol relp|relp-tls`: one RELP session per connection through
//! [`crate::send::relp::RelpSender`], so the acknowledged count is the receiver's RELP
//! acknowledgements, which `bench verify` compares with what the receiver wrote. Over RELP
//! nothing is lost to a reconnect (unacknowledged messages are sent again on the next
//! session), so a receiver restart shows as duplicates, not gaps.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::{ConnStats, Protocol, Worker};
use crate::loadgen::marker::Marker;
use crate::send::options::Backpressure;
use crate::send::relp::{DEFAULT_WINDOW, RelpConfig, RelpSender};
use crate::syslog::timestamp::TimeContext;

/// How long the last acknowledgements may take at the end of a run to a count (one to a
/// `--duration` waits until its grace is up: [`super::super::END_GRACE`]).
const ACK_TIMEOUT: Duration = Duration::from_secs(30);

/// `host:port` text for an address (IPv6 in brackets).
fn host(addr: SocketAddr) -> String {
    match addr {
        SocketAddr::V4(a) => a.ip().to_string(),
        SocketAddr::V6(a) => format!("[{}]", a.ip()),
    }
}

impl Worker<'_> {
    /// Sends this connection's share over RELP; returns when the last message was handed over.
    pub(super) fn send_relp(&self, stats: &mut ConnStats) -> Instant {
        let config = self.config;
        let tls = match (config.protocol, &config.tls) {
            (Protocol::RelpTls, Some(tls)) => Some((tls.config.clone(), tls.server_name.clone())),
            _ => None,
        };
        let started = RelpSender::start(RelpConfig {
            host: host(config.target),
            port: config.target.port(),
            tls,
            window: DEFAULT_WINDOW,
            connect_timeout: Duration::from_secs(10),
            ack_timeout: ACK_TIMEOUT.max(config.reconnect_timeout),
            backpressure: Backpressure::Block,
            queue: None,
            queue_full_block: true,
            notice: Box::new(|_| {}),
            give_up: self.end.end_grace(),
        });
        let mut relp = match started {
            Ok(r) => r,
            Err(e) => {
                stats.error = Some(e.to_string());
                stats.acknowledged = Some(0);
                return Instant::now();
            }
        };
        let time = TimeContext::default();
        let mut prefix = Vec::new();
        let mut message = Vec::new();
        let mut last_write = Instant::now();
        loop {
            let now = Instant::now();
            if super::run_over(self.end.deadline(), self.quota, stats.last_seq, now) {
                break;
            }
            let mut max = DEFAULT_WINDOW as u64;
            if let Some(q) = self.quota {
                max = max.min(q - stats.last_seq);
            }
            let n =
                super::allowed_or_wait(&self.pacer, self.end.deadline(), stats.last_seq, max, now);
            if n == 0 {
                continue;
            }
            self.source.writer.prefix(&mut prefix);
            let sent_us = crate::loadgen::load::now_us();
            for _ in 0..n {
                stats.last_seq += 1;
                let m = Marker {
                    seq: stats.last_seq,
                    conn: self.source.conn,
                    run: config.run,
                    sent_us: Some(sent_us),
                };
                message.clear();
                self.source.writer.write(&prefix, &m, &time, &mut message);
                relp.send(&message);
                stats.messages += 1;
                stats.bytes += message.len() as u64;
            }
            if !relp.gave_up() {
                last_write = Instant::now();
            }
            self.live
                .store(stats.messages, std::sync::atomic::Ordering::Relaxed);
        }
        // An interrupt came after the session started: its end bounds the last wait too.
        relp.set_give_up(self.end.end_grace());
        let summary = relp.finish();
        stats.acknowledged = Some(summary.sent);
        stats.reconnects += summary.sessions.saturating_sub(1);
        stats.write_errors += summary.failures;
        if summary.undelivered > 0 {
            stats.write_error = Some(format!(
                "{} messages not acknowledged by the end",
                summary.undelivered
            ));
        }
        if summary.gave_up {
            stats.error = Some(format!(
                "the run's time was up with the receiver not acknowledging this connection: {} messages not acknowledged",
                summary.undelivered
            ));
        }
        last_write
    }
}
