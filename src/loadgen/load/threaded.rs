//! The thread-per-connection path, for TLS, UDP and RELP: each connection gets a thread with
//! a blocking socket that writes a batch, sleeps until the next one is due, and after a failed
//! write reconnects with a backoff before going on. Plain TCP runs from a few threads instead
//! ([`super::multiplexed`]). The others stay here: a TLS connection is opened, written and
//! closed by blocking code shared with `send` (the handshake, records written out one by one,
//! close_notify), a RELP session is `send`'s blocking `RelpSender` (windows, acknowledgements,
//! resending), and UDP never waits for a receiver. Each would need a second, non-blocking
//! implementation to save a cost that only shows at thousands of connections.

use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::Instant;

use super::message::{Batch, Source};
use super::{
    BATCH_BYTES, ConnStats, INTERRUPT_CHECK, Load, LoadConfig, Protocol, RECONNECT_BACKOFF_MAX,
    RECONNECT_BACKOFF_MIN, RunEnd, not_reading_error,
};
use crate::loadgen::rate::Pacer;
use crate::loadgen::socket::{ConnectError, Socket, WriteEnd};

mod relp;

/// Sends over `sockets`, a thread each, calling `progress` about every 100 ms; returns each
/// connection's counts and when its last write ended, in connection order.
pub(super) fn run(
    load: &Load<'_>,
    sockets: Vec<Socket>,
    connect: &(impl Fn() -> Result<Socket, ConnectError> + Sync),
    progress: &mut impl FnMut(u64),
) -> Vec<(ConnStats, Instant)> {
    let jobs = sockets.into_iter().enumerate().map(|(i, socket)| {
        let worker = Worker {
            source: load.source(i as u32 + 1),
            config: load.config,
            pacer: load.pacer(),
            quota: load.quota(i),
            end: &load.end,
            live: &load.live[i],
        };
        move || worker.run(socket, connect)
    });
    load.run_watched(jobs, progress)
}

/// One connection's thread.
struct Worker<'a> {
    /// How its messages are made, with its `conn=`.
    source: Source<'a>,
    config: &'a LoadConfig,
    pacer: Pacer,
    quota: Option<u64>,
    end: &'a RunEnd<'a>,
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
            conn: self.source.conn,
            ..ConnStats::default()
        };
        if self.config.protocol.is_relp() {
            // The socket only checked that the receiver is there; RELP opens its own session.
            drop(socket);
            let last_write = self.send_relp(&mut stats);
            return (stats, last_write);
        }
        // No acknowledged count: over TLS the kernel counts encrypted bytes, which do not map
        // onto messages, and UDP has none (plain TCP is the multiplexed path's).
        let last_write = self.send(socket, connect, &mut stats);
        (stats, last_write)
    }

    /// The sending loop.
    fn send(
        &self,
        mut socket: Socket,
        connect: &impl Fn() -> Result<Socket, ConnectError>,
        stats: &mut ConnStats,
    ) -> Instant {
        let stream = self.config.protocol.is_stream();
        let per_batch = (BATCH_BYTES / self.config.size.max(1)).max(1) as u64;
        let mut batch = Batch::default();
        let mut offset = 0u64; // bytes written on this socket
        let mut since_connect = 0u64;
        let mut last_write = Instant::now();
        loop {
            let now = Instant::now();
            if run_over(self.end.deadline(), self.quota, stats.last_seq, now) {
                break;
            }
            if let Some(every) = self.config.reconnect_every
                && since_connect >= every
            {
                socket.finish(offset);
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
            let n = allowed_or_wait(&self.pacer, self.end.deadline(), stats.last_seq, max, now);
            if n == 0 {
                continue;
            }
            batch.fill(self.source, stats.last_seq + 1, n);
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
                let (written, end) = socket.write_stream(&batch.bytes, || self.end.end_grace());
                let whole = ends.partition_point(|&e| e <= written);
                stats.messages += whole as u64;
                stats.bytes += written as u64;
                offset += written as u64;
                match end {
                    WriteEnd::Done => {}
                    WriteEnd::Failed(e) => {
                        last_write = Instant::now();
                        self.live.store(stats.messages, Ordering::Relaxed);
                        stats.write_errors += 1;
                        stats.write_error = Some(format!(
                            "write failed after {} messages (seq {}): {e}",
                            stats.messages, stats.last_seq
                        ));
                        offset = 0;
                        since_connect = 0;
                        // The messages of the lost connection are gone; the next ones carry
                        // on with the next sequence numbers, so the loss shows as a gap.
                        match self.reconnect(connect, stats) {
                            Some(s) => socket = s,
                            None => return last_write,
                        }
                        continue;
                    }
                    WriteEnd::GaveUp { partly } => {
                        cut_at_the_end(stats, ends, whole, partly);
                        self.live.store(stats.messages, Ordering::Relaxed);
                        socket.abandon();
                        return last_write;
                    }
                }
            }
            last_write = Instant::now();
            self.live.store(stats.messages, Ordering::Relaxed);
        }
        socket.finish(offset);
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
            if self.end.deadline().is_some_and(|d| next >= d) {
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

/// The run's time and its grace are up while the receiver does not take the batch under way
/// (`whole` of its messages went out whole, and the bytes up to `partly` at least in part):
/// the messages cut short used their numbers, as ones cut by a failed write; the ones after
/// them were never sent, and their numbers go back. Said in `stats.error`.
fn cut_at_the_end(stats: &mut ConnStats, ends: &[usize], whole: usize, partly: usize) {
    let first_seq = stats.last_seq + 1 - ends.len() as u64;
    // Message `i` was touched when it starts before `partly`: `ends[i - 1] < partly`.
    let touched = if partly == 0 {
        0
    } else {
        (ends.partition_point(|&e| e < partly) + 1).min(ends.len())
    }
    .max(whole);
    stats.last_seq = first_seq + touched as u64 - 1;
    let cut = (touched > whole).then(|| first_seq + whole as u64..=stats.last_seq);
    stats.error = Some(not_reading_error(ends.len() - whole, cut));
}

/// Whether this connection's time is up or its share of a count sent.
fn run_over(deadline: Option<Instant>, quota: Option<u64>, last_seq: u64, now: Instant) -> bool {
    deadline.is_some_and(|d| now >= d) || quota.is_some_and(|q| last_seq >= q)
}

/// How many messages the pacer lets go now, at most `max`; 0 after sleeping until the next one
/// is due (or the run's end, or [`INTERRUPT_CHECK`], to see an interrupt), for the caller to
/// look again.
fn allowed_or_wait(
    pacer: &Pacer,
    deadline: Option<Instant>,
    sent: u64,
    max: u64,
    now: Instant,
) -> u64 {
    let n = pacer.allowed(sent, max, now);
    if n == 0 {
        let mut wait = pacer.wait(sent, now).min(INTERRUPT_CHECK);
        if let Some(d) = deadline {
            wait = wait.min(d.saturating_duration_since(now));
        }
        thread::sleep(wait);
    }
    n
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A batch of four 10-byte messages, seq 1 to 4, cut with `written` bytes out in whole TLS
    /// records and the next record out in part up to `partly`: the last seq used and the error.
    fn cut(written: usize, partly: usize) -> (u64, String) {
        let ends = [10, 20, 30, 40];
        let mut stats = ConnStats {
            last_seq: 4,
            ..ConnStats::default()
        };
        let whole = ends.partition_point(|&e| e <= written);
        cut_at_the_end(&mut stats, &ends, whole, partly);
        (stats.last_seq, stats.error.unwrap())
    }

    #[test]
    fn a_write_cut_at_the_end_keeps_the_numbers_of_what_went_out_at_least_in_part() {
        // Nothing went out: all four numbers go back.
        let (last, error) = cut(0, 0);
        assert_eq!(last, 0);
        assert!(
            error.ends_with("4 messages of the last write not sent"),
            "{error}"
        );
        // Two whole, the third not begun: it and the fourth go back.
        let (last, error) = cut(20, 20);
        assert_eq!(last, 2);
        assert!(
            error.ends_with("2 messages of the last write not sent"),
            "{error}"
        );
        // Half of the second in whole records: the second is cut short.
        let (last, error) = cut(15, 15);
        assert_eq!(last, 2);
        assert!(error.ends_with("3 messages of the last write not sent (seq 2 cut short)"));
        // One whole, then a record reaching into the fourth went out in part.
        let (last, error) = cut(10, 35);
        assert_eq!(last, 4);
        assert!(error.ends_with("3 messages of the last write not sent (seq 2-4 cut short)"));
    }
}
