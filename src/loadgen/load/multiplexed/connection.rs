//! One connection of the multiplexed load: the thread-per-connection sending loop
//! ([`super::super::threaded`]) turned into a state machine that its thread steps whenever it
//! may go on, and that says when that is next ([`Wake`]). Where the loop blocked, the state
//! keeps what it needs to resume: the batch and how much of it went out when the socket was
//! full, the time the next batch is due, the backoff of a reconnect, a connect under way,
//! the wait for the receiver's acknowledgement of a closed connection.
//!
//! It counts as the loop does: messages wholly written, bytes, acknowledged messages per
//! socket, write errors and their text, reconnects and connect errors, the time of the last
//! write. It stops as the loop does: a batch under way is written out before the run's end is
//! looked at, unless the receiver stops taking it and `--duration`'s time and a grace of
//! [`END_GRACE`](super::super::END_GRACE) pass meanwhile; then the rest of the batch is
//! dropped, the connection closed and its error says so ([`Connection::step`]'s
//! `cut_at_the_end`).

use std::mem;
use std::os::fd::BorrowedFd;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use super::super::message::Batch;
use super::super::{
    AckTracker, BATCH_BYTES, ConnStats, Load, RECONNECT_BACKOFF_MAX, RECONNECT_BACKOFF_MIN,
    add_acked, not_reading_error,
};
use crate::loadgen::rate::Pacer;
use crate::loadgen::socket::nonblocking::{Connect, NonBlockingTcp, TcpConnect, drain_until};

/// How often a closed connection looks whether its peer acknowledged everything, as the
/// blocking close does.
const DRAIN_CHECK: Duration = Duration::from_millis(1);

/// When to step a connection again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Wake {
    /// As soon as the thread's other connections had their turn.
    Now,
    /// When its socket turns writable (poll(2)), or at the given time at the latest.
    Writable(Option<Instant>),
    /// At this time (the next batch is due, a backoff or a drain check).
    At(Instant),
    /// Never: it is done.
    Done,
}

enum State {
    /// Connected: writing batches, or waiting for the next one to be due.
    Open(NonBlockingTcp),
    /// FIN sent; waiting until the receiver acknowledged all bytes written or `until`.
    Closing {
        stream: NonBlockingTcp,
        until: Instant,
        then: AfterClose,
    },
    /// Opening the connection again after a failed write or `--reconnect-every`.
    Reconnecting(Reconnect),
    Done,
}

enum AfterClose {
    Reconnect,
    Stop,
}

/// Attempts to open a lost connection again: after 50 ms, then twice as long each time up to
/// 1 s, for at most `--reconnect-timeout`.
struct Reconnect {
    started: Instant,
    attempts: u32,
    backoff: Duration,
    attempt: Attempt,
}

enum Attempt {
    /// The next attempt starts at this time.
    At(Instant),
    Connecting(TcpConnect),
}

/// What a write of the pending batch came to.
enum Progress {
    /// All of it went out.
    Done,
    /// The socket is full; the rest waits.
    Blocked,
    Failed(std::io::Error),
}

pub struct Connection<'a> {
    load: &'a Load<'a>,
    pacer: Pacer,
    quota: Option<u64>,
    per_batch: u64,
    live: &'a AtomicU64,
    state: State,
    stats: ConnStats,
    /// The acknowledged messages of the sockets closed so far; `None` once one could not say.
    acked: Option<u64>,
    acks: AckTracker,
    batch: Batch,
    /// Bytes and whole messages of `batch` written so far.
    written: usize,
    counted: usize,
    /// Bytes written on this socket before `batch`, and in all.
    batch_offset: u64,
    offset: u64,
    since_connect: u64,
    last_write: Instant,
}

impl<'a> Connection<'a> {
    /// Connection `i` (from 0) of the run, over `stream`.
    pub fn new(load: &'a Load<'a>, i: usize, stream: NonBlockingTcp) -> Connection<'a> {
        Connection {
            load,
            pacer: load.pacer(),
            quota: load.quota(i),
            per_batch: (BATCH_BYTES / load.config.size.max(1)).max(1) as u64,
            live: &load.live[i],
            state: State::Open(stream),
            stats: ConnStats {
                conn: i as u32 + 1,
                ..ConnStats::default()
            },
            acked: Some(0),
            acks: AckTracker::default(),
            batch: Batch::default(),
            written: 0,
            counted: 0,
            batch_offset: 0,
            offset: 0,
            since_connect: 0,
            last_write: Instant::now(),
        }
    }

    /// The socket to poll when the last step said [`Wake::Writable`].
    pub fn fd(&self) -> Option<BorrowedFd<'_>> {
        match &self.state {
            State::Open(stream) => Some(stream.fd()),
            State::Reconnecting(Reconnect {
                attempt: Attempt::Connecting(connect),
                ..
            }) => Some(connect.fd()),
            _ => None,
        }
    }

    /// Its counts, and when its last write ended.
    pub fn finish(mut self) -> (ConnStats, Instant) {
        self.stats.acknowledged = self.acked;
        (self.stats, self.last_write)
    }

    /// Goes on as far as it can without waiting; says when to step it again.
    pub fn step(&mut self, now: Instant) -> Wake {
        loop {
            // Each arm leaves the next state behind, and a wake when it has to wait.
            let wake = match mem::replace(&mut self.state, State::Done) {
                State::Open(stream) => self.send(stream, now),
                State::Closing {
                    stream,
                    until,
                    then,
                } => self.close(stream, until, then, now),
                State::Reconnecting(reconnect) => self.reconnect(reconnect, now),
                State::Done => return Wake::Done,
            };
            if let Some(wake) = wake {
                return wake;
            }
        }
    }

    /// The sending loop's round: finish the batch under way, else stop, reconnect, wait for
    /// the next batch or start it.
    fn send(&mut self, mut stream: NonBlockingTcp, now: Instant) -> Option<Wake> {
        if self.written < self.batch.bytes.len() {
            return match self.write(&mut stream) {
                Progress::Done => {
                    self.last_write = Instant::now();
                    self.state = State::Open(stream);
                    if self.stopped(now) {
                        // Closed at once, and its batch freed: at thousands of connections
                        // of one batch each, they would otherwise all be held at once.
                        return None;
                    }
                    // The others of the thread go first.
                    Some(Wake::Now)
                }
                Progress::Blocked if self.past_end_grace(now) => {
                    self.cut_at_the_end(stream, now);
                    None
                }
                Progress::Blocked => {
                    self.state = State::Open(stream);
                    // At the end of the grace at the latest, not to wait on a receiver that
                    // stopped reading for ever.
                    Some(Wake::Writable(self.end_grace()))
                }
                Progress::Failed(e) => {
                    self.write_failed(stream, e, now);
                    None
                }
            };
        }
        let (deadline, config) = (self.load.deadline(), self.load.config);
        if self.stopped(now) {
            self.start_close(stream, AfterClose::Stop, now);
            return None;
        }
        if let Some(every) = config.reconnect_every
            && self.since_connect >= every
        {
            self.start_close(stream, AfterClose::Reconnect, now);
            return None;
        }
        let mut max = self.per_batch;
        if let Some(q) = self.quota {
            max = max.min(q - self.stats.last_seq);
        }
        if let Some(every) = config.reconnect_every {
            max = max.min(every - self.since_connect);
        }
        let n = self.pacer.allowed(self.stats.last_seq, max, now);
        self.state = State::Open(stream);
        if n == 0 {
            let mut due = now + self.pacer.wait(self.stats.last_seq, now);
            if let Some(d) = deadline {
                due = due.min(d.max(now));
            }
            return Some(Wake::At(due));
        }
        let source = self.load.source(self.stats.conn);
        self.batch.fill(source, self.stats.last_seq + 1, n);
        self.stats.last_seq += n;
        self.since_connect += n;
        (self.written, self.counted, self.batch_offset) = (0, 0, self.offset);
        // Written at once, in the next turn of `step`'s loop.
        None
    }

    /// When a write under way gives up on a receiver that stopped taking it.
    pub fn end_grace(&self) -> Option<Instant> {
        self.load.end_grace()
    }

    fn past_end_grace(&self, now: Instant) -> bool {
        self.end_grace().is_some_and(|g| now >= g)
    }

    /// The run's time and [`END_GRACE`](super::super::END_GRACE) are up while the receiver does
    /// not take the batch under way: its rest is not sent and the connection closes, so that
    /// `--duration` ends the run whatever the receiver does. The message being written when
    /// the socket filled is cut short (it used its sequence number, as one cut by a failed
    /// write); the ones after it were never sent, and their numbers go back. Said in
    /// `stats.error`: the receiver stopped reading.
    fn cut_at_the_end(&mut self, stream: NonBlockingTcp, now: Instant) {
        let whole = self.counted;
        let ends = &self.batch.ends;
        let cut = self.written > whole.checked_sub(1).map_or(0, |last| ends[last]);
        let first_seq = self.stats.last_seq + 1 - ends.len() as u64;
        let not_sent = ends.len() - whole;
        self.stats.last_seq = first_seq + whole as u64 + u64::from(cut) - 1;
        let cut = cut.then_some(self.stats.last_seq..=self.stats.last_seq);
        self.stats.error = Some(not_reading_error(not_sent, cut));
        self.written = self.batch.bytes.len();
        self.start_close(stream, AfterClose::Stop, now);
    }

    /// Its time is up, or its share of a count sent.
    fn stopped(&self, now: Instant) -> bool {
        self.load.deadline().is_some_and(|d| now >= d)
            || self.quota.is_some_and(|q| self.stats.last_seq >= q)
    }

    /// Writes of the batch until it is out or the socket is full, counting what went out.
    fn write(&mut self, stream: &mut NonBlockingTcp) -> Progress {
        while self.written < self.batch.bytes.len() {
            let n = match stream.write(&self.batch.bytes[self.written..]) {
                Ok(n) => n,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => return Progress::Blocked,
                Err(e) => return Progress::Failed(e),
            };
            self.written += n;
            let ends = &self.batch.ends;
            let whole = self.counted + ends[self.counted..].partition_point(|&e| e <= self.written);
            if self.acked.is_some() {
                for &end in &ends[self.counted..whole] {
                    self.acks.push(self.batch_offset + end as u64);
                }
            }
            self.stats.messages += (whole - self.counted) as u64;
            self.stats.bytes += n as u64;
            self.offset += n as u64;
            self.counted = whole;
            self.live.store(self.stats.messages, Ordering::Relaxed);
        }
        Progress::Done
    }

    /// The connection was lost (reset, closed) under a write: what its kernel acknowledged
    /// counts, the rest of the batch is dropped, and it is opened again. The messages of the
    /// lost connection are gone; the next ones carry on with the next sequence numbers, so
    /// the loss shows as a gap.
    fn write_failed(&mut self, stream: NonBlockingTcp, e: std::io::Error, now: Instant) {
        self.last_write = Instant::now();
        // The kernel keeps the acknowledged count of a reset connection.
        add_acked(
            &mut self.acked,
            stream.bytes_acked().map(|a| self.acks.take(a)),
        );
        self.stats.write_errors += 1;
        self.stats.write_error = Some(format!(
            "write failed after {} messages (seq {}): {e}",
            self.stats.messages, self.stats.last_seq
        ));
        self.written = self.batch.bytes.len();
        (self.offset, self.since_connect) = (0, 0);
        self.state = State::Reconnecting(Reconnect::now(now));
    }

    /// Sends FIN, to wait for the acknowledgement of what was written before going on.
    fn start_close(&mut self, stream: NonBlockingTcp, then: AfterClose, now: Instant) {
        stream.shutdown_write();
        if matches!(then, AfterClose::Stop) {
            self.batch = Batch::default();
        }
        self.state = State::Closing {
            stream,
            until: drain_until(now),
            then,
        };
    }

    /// Waits (polling the kernel's count every millisecond) until the receiver acknowledged
    /// all bytes written or the drain time is up, then counts the acknowledged messages.
    fn close(
        &mut self,
        stream: NonBlockingTcp,
        until: Instant,
        then: AfterClose,
        now: Instant,
    ) -> Option<Wake> {
        let acked = stream.bytes_acked().map(|a| a.min(self.offset));
        if acked.is_some_and(|a| a < self.offset) && now < until {
            self.state = State::Closing {
                stream,
                until,
                then,
            };
            return Some(Wake::At(now + DRAIN_CHECK));
        }
        add_acked(&mut self.acked, acked.map(|a| self.acks.take(a)));
        (self.offset, self.since_connect) = (0, 0);
        drop(stream);
        if let AfterClose::Reconnect = then {
            self.state = State::Reconnecting(Reconnect::now(now));
        }
        None
    }

    /// One step of opening the connection again; a connection opened counts in
    /// `stats.reconnects`. Stops with `stats.error` saying why when attempts went on for
    /// `--reconnect-timeout`, and without an error when the run's time runs out meanwhile.
    fn reconnect(&mut self, mut r: Reconnect, now: Instant) -> Option<Wake> {
        let result = match r.attempt {
            Attempt::At(at) if now < at => {
                self.state = State::Reconnecting(r);
                return Some(Wake::At(at));
            }
            Attempt::At(_) => {
                r.attempts += 1;
                match TcpConnect::start(self.load.config.target, now) {
                    Ok(connect) => Connect::Pending(connect),
                    Err(e) => Connect::Failed(e),
                }
            }
            Attempt::Connecting(connect) => connect.check(now),
        };
        let e = match result {
            Connect::Pending(connect) => {
                let until = connect.until();
                r.attempt = Attempt::Connecting(connect);
                self.state = State::Reconnecting(r);
                return Some(Wake::Writable(Some(until)));
            }
            Connect::Connected(stream) => {
                self.stats.reconnects += 1;
                self.state = State::Open(stream);
                return None;
            }
            Connect::Failed(e) => e,
        };
        self.stats.connect_errors += 1;
        let next = now + r.backoff;
        if self.load.deadline().is_some_and(|d| next >= d) {
            return None;
        }
        let config = self.load.config;
        if next > r.started + config.reconnect_timeout {
            self.stats.error = Some(format!(
                "reconnecting to {} failed {} times in {:.1}s (--reconnect-timeout {:?}): {e}",
                config.target,
                r.attempts,
                now.duration_since(r.started).as_secs_f64(),
                config.reconnect_timeout
            ));
            return None;
        }
        r.attempt = Attempt::At(next);
        r.backoff = (r.backoff * 2).min(RECONNECT_BACKOFF_MAX);
        self.state = State::Reconnecting(r);
        Some(Wake::At(next))
    }
}

impl Reconnect {
    /// The first attempt at once.
    fn now(now: Instant) -> Reconnect {
        Reconnect {
            started: now,
            attempts: 0,
            backoff: RECONNECT_BACKOFF_MIN,
            attempt: Attempt::At(now),
        }
    }
}
