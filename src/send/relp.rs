//! `send --protocol relp` (and `relp-tls`): a RELP client, as rsyslog's omrelp, where "sent"
//! means acknowledged by the receiver.
//!
//! One session at a time to one receiver, blocking sockets. Each message is a `syslog` frame
//! with the next transaction number (1..=999,999,999, then 1 again); at most `window` of them
//! (128, as omrelp) are unacknowledged. A `rsp 200` for the oldest one counts it sent. When
//! the session breaks (a write or read fails, the receiver sends `serverclose` or closes, an
//! acknowledgement is out of order, a `rsp 500`, no acknowledgement within the ack timeout),
//! every unacknowledged message is kept, in order, and sent again first on the next session,
//! with new transaction numbers, as librelp does: the receiver may have written some of them
//! already, so delivery is at least once.
//!
//! Without a session, `--backpressure` decides about each message: `block` reconnects until it
//! can send it, `drop` drops it (counted), `queue` writes it to the [`DiskQueue`], which is
//! drained first once a session is up. At the end, what is still unacknowledged after the ack
//! timeout is "not delivered", or, with a queue, goes to the queue for the next run. With a
//! [`RelpConfig::give_up`] time (`bench --duration`), no wait goes past it.
//!
//! One session's protocol (offer, frames, acknowledgements, the [`Window`]) is in [`session`];
//! this file decides what happens to messages as sessions come and go. The pure part, the
//! [`Window`], is unit-tested; the sessions against rsyslog's imrelp and `listen --relp` in
//! `tests/it/relp.rs`.

mod session;

use std::collections::VecDeque;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::ClientConfig;
use rustls::pki_types::ServerName;

use super::disk_queue::DiskQueue;
use super::options::Backpressure;
use crate::framing::relp::RelpError;

pub use session::{AckError, Window};
use session::{Session, WRITE_BYTES, set_nonblocking};

/// omrelp's default window of unacknowledged messages.
pub const DEFAULT_WINDOW: usize = 128;
/// Reconnection backoff: from the first to the last, doubling.
const BACKOFF_FIRST: Duration = Duration::from_millis(100);
const BACKOFF_MAX: Duration = Duration::from_secs(2);

/// What the client needs, free of the command line.
pub struct RelpConfig {
    pub host: String,
    pub port: u16,
    /// TLS below RELP (`relp-tls`), with the server name to check.
    pub tls: Option<(Arc<ClientConfig>, ServerName<'static>)>,
    /// Unacknowledged messages at most.
    pub window: usize,
    pub connect_timeout: Duration,
    /// A session whose oldest message is not acknowledged within this is broken; at the end,
    /// how long to wait for the last acknowledgements.
    pub ack_timeout: Duration,
    pub backpressure: Backpressure,
    pub queue: Option<DiskQueue>,
    /// With a full queue: wait (true) or drop.
    pub queue_full_block: bool,
    /// Where notices go (session lost, reconnected).
    pub notice: Box<dyn FnMut(&str)>,
    /// When waiting stops, whatever the timeouts say: a send blocked on a full window, a
    /// reconnect and the end's wait for acknowledgements give up then, and what is not
    /// acknowledged is not delivered (`bench --duration`'s end). `None` (`send`): the timeouts
    /// alone.
    pub give_up: Option<Instant>,
}

impl RelpConfig {
    /// `timeout`, cut short at [`RelpConfig::give_up`] (to 1 ms at least: a socket's timeout
    /// cannot be zero).
    fn bounded(&self, timeout: Duration) -> Duration {
        match self.give_up {
            Some(g) => timeout
                .min(g.saturating_duration_since(Instant::now()))
                .max(Duration::from_millis(1)),
            None => timeout,
        }
    }
}

/// Why a session could not be opened or went down.
#[derive(Debug, thiserror::Error)]
pub enum RelpSendError {
    #[error("cannot resolve {0}")]
    Resolve(String, #[source] io::Error),
    #[error("cannot connect to {0}")]
    Connect(SocketAddr, #[source] io::Error),
    #[error("{0}")]
    Handshake(String),
    #[error("{addr}: the receiver refused the RELP session: {rsp}")]
    Refused { addr: SocketAddr, rsp: String },
    #[error("{addr}: the receiver does not offer the syslog command")]
    NoSyslog { addr: SocketAddr },
    #[error("{0}: session lost")]
    Io(SocketAddr, #[source] io::Error),
    #[error("{0}: {1}")]
    Protocol(SocketAddr, #[source] RelpError),
    #[error("{addr}: {what}")]
    Session { addr: SocketAddr, what: String },
    #[error("{0}: the time was up with the receiver not acknowledging")]
    GaveUp(SocketAddr),
}

/// The counts at the end.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RelpSummary {
    /// Messages the receiver acknowledged.
    pub sent: u64,
    pub bytes: u64,
    pub dropped: u64,
    /// Written to the disk queue by this run.
    pub queued: u64,
    pub left_in_queue: bool,
    /// Neither acknowledged, dropped nor queued.
    pub undelivered: u64,
    /// Messages sent again on a new session because the old one broke before their ack.
    pub resent: u64,
    pub sessions: u64,
    pub failures: u64,
    /// A wait stopped at [`RelpConfig::give_up`].
    pub gave_up: bool,
}

/// The client: see the module documentation.
pub struct RelpSender {
    config: RelpConfig,
    session: Option<Session>,
    /// Messages of broken sessions, oldest first, to send before any new one.
    resend: VecDeque<Vec<u8>>,
    summary: RelpSummary,
    /// When the session last failed, and the next wait before reconnecting.
    backoff: Duration,
    last_attempt: Option<Instant>,
    acked: Vec<usize>,
}

impl RelpSender {
    /// Opens the first session. Without a queue, a receiver that cannot be reached at start is
    /// an error at once (as logger and `send` over TCP).
    pub fn start(config: RelpConfig) -> Result<RelpSender, RelpSendError> {
        let mut sender = RelpSender {
            config,
            session: None,
            resend: VecDeque::new(),
            summary: RelpSummary::default(),
            backoff: BACKOFF_FIRST,
            last_attempt: None,
            acked: Vec::new(),
        };
        match Session::open(&sender.config) {
            Ok(s) => {
                sender.summary.sessions += 1;
                sender.session = Some(s);
            }
            Err(e) if sender.config.queue.is_none() => return Err(e),
            Err(e) => {
                sender.note(&format!("{e}; queueing to disk until it is back"));
                sender.last_attempt = Some(Instant::now());
            }
        }
        Ok(sender)
    }

    fn note(&mut self, message: &str) {
        (self.config.notice)(message);
    }

    /// Sets [`RelpConfig::give_up`] anew (an earlier end than the one the sender started with).
    pub fn set_give_up(&mut self, give_up: Option<Instant>) {
        self.config.give_up = give_up;
    }

    /// Whether a wait stopped at [`RelpConfig::give_up`]: what is not acknowledged by now
    /// will not be.
    pub fn gave_up(&self) -> bool {
        self.summary.gave_up
    }

    fn past_give_up(&self) -> bool {
        self.config.give_up.is_some_and(|g| Instant::now() >= g)
    }

    /// Sends one message (without framing: RELP's DATALEN is the framing).
    pub fn send(&mut self, message: &[u8]) {
        if self.past_give_up() {
            self.summary.gave_up = true;
            self.refuse_final(message.to_vec());
            return;
        }
        self.drain_queue();
        if self.session.is_none() && !self.connect(self.config.backpressure == Backpressure::Block)
        {
            self.refuse(message.to_vec());
            return;
        }
        self.resend_all();
        self.put(message.to_vec());
    }

    /// Input is idle: write what is gathered and take the acknowledgements that came.
    pub fn idle(&mut self, _wait: Duration) {
        if let Some(s) = &mut self.session {
            let result = s.flush().and_then(|()| {
                set_nonblocking(s, true)?;
                let read = s.fill();
                set_nonblocking(s, false)?;
                match read {
                    Err(RelpSendError::Io(_, e)) if e.kind() == io::ErrorKind::WouldBlock => Ok(()),
                    other => other,
                }
                .and_then(|()| s.take_acks(&mut self.acked))
            });
            self.count_acks();
            if let Err(e) = result {
                self.fail(e);
            }
        } else if self.config.backpressure != Backpressure::Drop {
            // Keep reconnecting (with the backoff) so that a queue drains.
            if self.connect(false) {
                self.resend_all();
            }
        }
        self.drain_queue();
    }

    /// Waits for every acknowledgement (at most the ack timeout without progress; `block`
    /// keeps reconnecting for as long), then closes the session. What is left is queued or
    /// counted not delivered.
    pub fn finish(mut self) -> RelpSummary {
        let mut progress = Instant::now();
        loop {
            self.drain_queue();
            let queue_waiting = self.config.queue.as_ref().is_some_and(|q| !q.is_empty());
            let waiting = self.session.as_ref().is_some_and(|s| !s.window.is_empty())
                || !self.resend.is_empty()
                || (queue_waiting && self.session.is_some());
            if !waiting || progress.elapsed() >= self.config.ack_timeout {
                break;
            }
            if self.past_give_up() {
                self.summary.gave_up = true;
                break;
            }
            if self.session.is_none() {
                if self.config.backpressure == Backpressure::Drop || !self.connect(false) {
                    std::thread::sleep(BACKOFF_FIRST);
                    continue;
                }
                self.resend_all();
            }
            let before = self.summary.sent;
            if let Some(s) = &mut self.session {
                let give_up = self.config.give_up;
                let timeout = self.config.ack_timeout;
                let result = s
                    .bound_waits(give_up, timeout)
                    .and_then(|()| s.flush())
                    .and_then(|()| s.bound_waits(give_up, timeout))
                    .and_then(|()| s.fill())
                    .and_then(|()| s.take_acks(&mut self.acked));
                self.count_acks();
                if let Err(e) = result {
                    self.fail(e);
                }
            }
            if self.summary.sent > before {
                progress = Instant::now();
            }
        }
        if let Some(mut s) = self.session.take() {
            self.resend.extend(s.window.drain());
            s.close();
        }
        let left: Vec<Vec<u8>> = self.resend.drain(..).collect();
        for message in left {
            self.refuse_final(message);
        }
        if let Some(queue) = &mut self.config.queue {
            // What was taken from the queue and not acknowledged is queued again above: every
            // record taken is done with.
            let taken = queue.next_id();
            let _ = queue.close(taken);
            self.summary.left_in_queue = !queue.is_empty();
        }
        self.summary
    }

    /// A message there is no session for, by `--backpressure`.
    fn refuse(&mut self, message: Vec<u8>) {
        match self.config.backpressure {
            Backpressure::Queue => self.queue(message),
            _ => self.summary.dropped += 1,
        }
    }

    /// A message left at the end.
    fn refuse_final(&mut self, message: Vec<u8>) {
        match self.config.backpressure {
            Backpressure::Queue => self.queue(message),
            _ => self.summary.undelivered += 1,
        }
    }

    fn queue(&mut self, message: Vec<u8>) {
        let full_block = self.config.queue_full_block;
        let Some(queue) = &mut self.config.queue else {
            self.summary.undelivered += 1;
            return;
        };
        loop {
            match queue.push(&message) {
                Ok(Ok(())) => {
                    let _ = queue.flush();
                    self.summary.queued += 1;
                    return;
                }
                Ok(Err(_)) => {
                    self.summary.undelivered += 1;
                    return;
                }
                Err(_full) if full_block => std::thread::sleep(BACKOFF_FIRST),
                Err(_full) => {
                    self.summary.dropped += 1;
                    return;
                }
            }
        }
    }

    /// Sends what the queue holds, once a session is up (before any new message).
    fn drain_queue(&mut self) {
        if self.session.is_none() {
            return;
        }
        let Some(queue) = &mut self.config.queue else {
            return;
        };
        if queue.is_empty() {
            return;
        }
        let mut records = Vec::new();
        while let Ok(Some((_, record))) = queue.pop() {
            records.push(record);
            if records.len() >= self.config.window {
                break;
            }
        }
        for record in records {
            if self.session.is_none() {
                self.resend.push_back(record);
            } else {
                self.put(record);
            }
        }
        // Popped records are in flight; their files go once the window is acknowledged.
        if self.session.as_ref().is_some_and(|s| s.window.is_empty())
            && let Some(queue) = &mut self.config.queue
        {
            let taken = queue.next_id();
            let _ = queue.commit(taken);
        }
    }

    /// Sends the messages of broken sessions first, in order.
    fn resend_all(&mut self) {
        while self.session.is_some()
            && let Some(message) = self.resend.pop_front()
        {
            self.summary.resent += 1;
            self.put(message);
        }
    }

    /// Puts one message in the window, waiting for room; on a broken session the message
    /// and the window go to `resend`, and `block` reconnects.
    fn put(&mut self, message: Vec<u8>) {
        let mut message = Some(message);
        while let Some(m) = message.take() {
            let Some(s) = &mut self.session else {
                self.resend.push_back(m);
                if self.config.backpressure == Backpressure::Block {
                    self.connect(true);
                    self.resend_all();
                } else {
                    // drop/queue: what cannot be sent now waits for the next session (queue),
                    // or the end.
                    let pending: Vec<Vec<u8>> = self.resend.drain(..).collect();
                    for m in pending {
                        self.refuse(m);
                    }
                }
                return;
            };
            s.push(m);
            let (give_up, timeout) = (self.config.give_up, self.config.ack_timeout);
            let result = if s.window.len() >= self.config.window {
                s.bound_waits(give_up, timeout)
                    .and_then(|()| s.flush())
                    .and_then(|()| {
                        while s.window.len() >= self.config.window {
                            s.bound_waits(give_up, timeout)?;
                            s.fill()?;
                            s.take_acks(&mut self.acked)?;
                        }
                        Ok(())
                    })
            } else if s.out.len() >= WRITE_BYTES {
                s.bound_waits(give_up, timeout).and_then(|()| s.flush())
            } else {
                Ok(())
            };
            self.count_acks();
            if let Err(e) = result {
                if matches!(e, RelpSendError::GaveUp(_)) {
                    self.summary.gave_up = true;
                }
                self.fail(e);
            }
        }
    }

    fn count_acks(&mut self) {
        self.summary.sent += self.acked.len() as u64;
        self.summary.bytes += self.acked.iter().map(|&n| n as u64).sum::<u64>();
        self.acked.clear();
    }

    /// The session broke: keep its unacknowledged messages for the next one.
    fn fail(&mut self, e: RelpSendError) {
        if let Some(mut s) = self.session.take() {
            let unacked: Vec<Vec<u8>> = s.window.drain().collect();
            let n = unacked.len();
            for m in unacked.into_iter().rev() {
                self.resend.push_front(m);
            }
            self.summary.failures += 1;
            self.last_attempt = Some(Instant::now());
            self.note(&format!(
                "{e}; {n} unacknowledged messages are sent again on the next session"
            ));
        }
    }

    /// Opens a session; with `wait`, retries (with backoff) until it succeeds.
    fn connect(&mut self, wait: bool) -> bool {
        loop {
            if self.past_give_up() {
                self.summary.gave_up = true;
                return false;
            }
            if let Some(last) = self.last_attempt {
                let due = last + self.backoff;
                let now = Instant::now();
                if now < due {
                    if !wait {
                        return false;
                    }
                    let due = self.config.give_up.map_or(due, |g| due.min(g));
                    std::thread::sleep(due.saturating_duration_since(now));
                    continue;
                }
            }
            match Session::open(&self.config) {
                Ok(s) => {
                    self.summary.sessions += 1;
                    self.backoff = BACKOFF_FIRST;
                    self.last_attempt = None;
                    let addr = s.addr;
                    self.session = Some(s);
                    if self.summary.sessions > 1 {
                        self.note(&format!("{addr}: RELP session open again"));
                    }
                    return true;
                }
                Err(e) => {
                    if self.backoff == BACKOFF_FIRST {
                        self.note(&format!("{e}; retrying"));
                    }
                    self.last_attempt = Some(Instant::now());
                    self.backoff = (self.backoff * 2).min(BACKOFF_MAX);
                    if !wait {
                        return false;
                    }
                }
            }
        }
    }
}
