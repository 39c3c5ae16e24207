//! `send`'s delivery: framed messages to one or more receivers over UDP, TCP or TLS, with
//! weighted load balancing ([`super::balance`]), reconnection with backoff, detection of a
//! peer that closed before writing into its dead socket, a throttle, backpressure (block, drop
//! or the disk queue of [`super::disk_queue`]) and counters for the summary.
//!
//! One thread, non-blocking sockets and poll(2) ([`super::poll`]). Each destination
//! (one address of one `--to` host) has a buffer of framed messages; [`Sender::send`] appends
//! a message to the buffer of the destination the balancer picks, and buffers are written
//! when they hold [`FLUSH_BYTES`] or when the caller is idle ([`Sender::idle`]). A
//! destination whose buffer is full is blocking and gets no new messages until it drains. When a connection fails, the
//! messages in its buffer that were not completely written go to the other destinations (or
//! back to the queue); what the kernel had accepted for a peer that died is lost, as with any
//! sender without application acknowledgements.
//!
//! With `--backpressure queue` the queue is written ahead: every message goes to the
//! [`DiskQueue`] first and to a destination from there, tagged with its record's id, so that
//! the queue deletes a file only once every record in it has been written to a socket.
//!
//! This module decides what happens to each message (a destination, waiting, the queue, or
//! dropping it) and when the run ends; the destinations and their connections are
//! [`super::pool`]'s. Formatting and framing are [`crate::egress`]'s and [`crate::framing`]'s
//! job.

use std::io;
use std::time::{Duration, Instant};

use super::destination::DestinationStats;
use super::disk_queue::{DiskQueue, Full};
use super::options::{Backpressure, Target};
pub use super::pool::FLUSH_BYTES;
use super::pool::{Pool, PoolConfig};
use super::throttle::Throttle;
use super::tls::ClientTls;
use crate::framing::proxy::ProxyVersion;
use crate::transport::Protocol;

/// The disk queue is handed to the OS at least this often.
const QUEUE_FLUSH_EVERY: Duration = Duration::from_millis(100);
/// How often [`Sender::set_ticker`]'s function gets the counters.
const TICK_EVERY: Duration = Duration::from_millis(100);
/// At the end, how long a receiver gets to close its end after `send` closed its own (at most
/// `--write-timeout`).
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

/// Everything [`Sender::start`] needs; built by the CLI from the flags.
pub struct SenderConfig {
    pub targets: Vec<Target>,
    pub protocol: Protocol,
    /// For [`Protocol::Tls`].
    pub tls: Option<ClientTls>,
    /// SNI and the name checked in the certificate; `None`: each target's host.
    pub tls_servername: Option<String>,
    pub connect_timeout: Duration,
    pub write_timeout: Duration,
    pub lb_stats_period: Duration,
    pub dns_resolution_period: Duration,
    pub exclude_self: bool,
    /// At most this many connections at once (0: no limit); the subset rotates every DNS period.
    pub max_connections: usize,
    /// Start every TCP or TLS connection with a PROXY header naming its own endpoints, as a
    /// balancer would (`--proxy-protocol`).
    pub proxy_header: Option<ProxyVersion>,
    /// Bytes per second; 0: no throttle.
    pub throttle: u64,
    pub backpressure: Backpressure,
    pub queue: Option<DiskQueue>,
    /// With a full queue: wait (true) or drop.
    pub queue_full_block: bool,
    /// Where notices go (connection lost, reconnecting, corrupt queue files).
    pub notice: Box<dyn FnMut(&str)>,
}

/// Why [`Sender::start`] failed; each says what to do instead.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// A `--to` host has no address. (Later, when it is resolved again, a failure keeps its
    /// previous addresses.)
    #[error("cannot resolve {host}: {error}; check the name, or give an IP address")]
    Resolve { host: String, error: io::Error },
    /// `--exclude-self` left out every address of the only `--to` host.
    #[error(
        "every address of {host} is this machine's and --exclude-self drops them: leave out --exclude-self or give another host"
    )]
    OnlySelf { host: String },
    /// `--exclude-self` left out every address of every `--to` host.
    #[error(
        "no destination left: every address of every --to is this machine's and --exclude-self drops them; leave out --exclude-self or give other hosts"
    )]
    NoneLeft,
    /// No destination could be connected within `--connect-timeout`, and there is no queue
    /// to hold messages meanwhile. The reasons were given as notices.
    #[error(
        "cannot connect to {}: see the errors above; nothing was sent and send does not retry; check that the receiver runs and the address, port and --protocol are right, or use --backpressure queue to queue meanwhile",
        .destinations.join(", ")
    )]
    Connect { destinations: Vec<String> },
}

/// Counters for the summary and `--stats`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Messages completely written to a socket (less those of connections that then stalled
    /// or were reset: those are `undelivered`).
    pub sent: u64,
    pub bytes: u64,
    pub dropped: u64,
    /// Messages in the disk queue not yet sent (of this run or earlier ones); at the end,
    /// what the next run sends first.
    pub queued: u64,
    /// Messages left in the disk queue at the end.
    pub left_in_queue: bool,
    /// Messages given to [`Sender::send`] that were neither sent, dropped nor queued (the
    /// run stopped while they were in a buffer), or written on a connection that then stalled
    /// or was reset.
    pub undelivered: u64,
    /// Messages lost in damaged queue files (at least that many).
    pub lost_in_queue: u64,
    pub destinations: Vec<DestinationStats>,
}

/// What [`Sender::set_ticker`] calls with the counters.
pub type Ticker = Box<dyn FnMut(&Summary)>;

/// Sends framed messages; see the module documentation.
pub struct Sender {
    pool: Pool,
    backpressure: Backpressure,
    queue: Option<DiskQueue>,
    queue_full_block: bool,
    throttle: Option<Throttle>,
    dropped: u64,
    last_queue_flush: Instant,
    /// Gets the counters every [`TICK_EVERY`], also while `send` blocks (`--stats`).
    ticker: Option<Ticker>,
    last_tick: Instant,
}

impl Sender {
    /// Resolves the targets and makes the first connections. Fails when no destination can be
    /// connected and there is no queue to hold messages meanwhile: a one-shot `send` to a host
    /// that is down says so at once, as logger does.
    pub fn start(config: SenderConfig) -> Result<Sender, StartError> {
        let now = Instant::now();
        let SenderConfig {
            targets,
            protocol,
            tls,
            tls_servername,
            connect_timeout,
            write_timeout,
            lb_stats_period,
            dns_resolution_period,
            exclude_self,
            max_connections,
            proxy_header,
            throttle,
            backpressure,
            mut queue,
            queue_full_block,
            mut notice,
        } = config;
        if let Some(queue) = queue.as_mut() {
            for text in queue.take_notices() {
                notice(&text);
            }
        }
        let pool = PoolConfig {
            targets,
            protocol,
            tls,
            tls_servername,
            connect_timeout,
            write_timeout,
            lb_stats_period,
            dns_resolution_period,
            exclude_self,
            max_connections,
            proxy_header,
            keep_orphans: queue.is_some(),
        };
        let mut sender = Sender {
            pool: Pool::new(pool, notice, now),
            backpressure,
            queue,
            queue_full_block,
            throttle: (throttle > 0).then(|| Throttle::new(throttle, now)),
            dropped: 0,
            last_queue_flush: now,
            ticker: None,
            last_tick: now,
        };
        sender.pool.resolve(true)?;
        // Wait for the first connections (bounded by the connect timeout).
        let deadline = Instant::now() + connect_timeout;
        loop {
            sender.pump(Duration::from_millis(10));
            if sender.pool.any_ready()
                || !sender.pool.any_connecting()
                || Instant::now() >= deadline
            {
                break;
            }
        }
        if !sender.pool.any_ready() && sender.queue.is_none() {
            return Err(StartError::Connect {
                destinations: sender.pool.active_names(),
            });
        }
        sender.pool.started();
        Ok(sender)
    }

    /// Calls `ticker` with the counters every 100 ms from now on, also while waiting for a
    /// destination or the throttle, and while [`finish`](Self::finish) delivers the rest.
    pub fn set_ticker(&mut self, ticker: Ticker) {
        self.ticker = Some(ticker);
    }

    /// Sends one framed message (or queues or drops it, as `--backpressure` says).
    ///
    /// With the disk queue every message is written to it first, in order, and taken from
    /// it for a destination once the queue has handed it to the OS ([`DiskQueue::pop`]): a
    /// message is never only in `send`'s memory on its way to a socket, so `kill -9` cannot
    /// lose it.
    pub fn send(&mut self, framed: &[u8]) {
        if self.queue.is_some() {
            self.enqueue(framed);
            self.drain_queue();
        } else {
            self.route(framed);
        }
    }

    fn queue_in_use(&self) -> bool {
        self.queue.as_ref().is_some_and(|q| !q.is_empty())
    }

    /// Without a queue: a destination, or waiting, or dropping.
    fn route(&mut self, framed: &[u8]) {
        loop {
            let throttled = match &mut self.throttle {
                Some(t) => !t.try_take(framed.len(), Instant::now()),
                None => false,
            };
            if !throttled && let Some(i) = self.pool.pick() {
                self.pool.put(i, framed, 0);
                return;
            }
            if self.backpressure == Backpressure::Drop {
                self.dropped += 1;
                return;
            }
            let wait = match &self.throttle {
                Some(t) if throttled => t.wait_for(framed.len()).min(Duration::from_millis(50)),
                _ => Duration::from_millis(20),
            };
            self.pump(wait);
        }
    }

    fn enqueue(&mut self, framed: &[u8]) {
        loop {
            let queue = self.queue.as_mut().expect("queue mode has a queue");
            match queue.push(framed) {
                Ok(Ok(())) => return,
                Ok(Err(e)) => {
                    let dir = queue.dir().display().to_string();
                    self.pool.notice(&format!(
                        "cannot write to the queue in {dir}: {e}; message dropped"
                    ));
                    self.dropped += 1;
                    return;
                }
                Err(Full) if !self.queue_full_block => {
                    self.dropped += 1;
                    return;
                }
                Err(Full) => {
                    // --queue-full block: wait until what was sent makes room.
                    self.pump(Duration::from_millis(20));
                    self.pool.flush_all();
                    self.sync_queue();
                }
            }
        }
    }

    /// Progress without new input: writes buffers, connects, drains the queue, runs timers.
    /// Waits at most `wait` for sockets.
    pub fn idle(&mut self, wait: Duration) {
        self.pump(wait);
        self.pool.flush_all();
        self.sync_queue();
    }

    /// Hands what the queue buffers to the OS, sends what it holds while destinations take
    /// it, and deletes the files sent. The input side calls it after each read it has
    /// handed over, so that what `kill -9` can lose is bounded by the reads in progress.
    pub fn sync_queue(&mut self) {
        let Some(queue) = self.queue.as_mut() else {
            return;
        };
        if let Err(e) = queue.flush() {
            self.pool.notice(&format!("cannot write to the queue: {e}"));
        }
        self.last_queue_flush = Instant::now();
        self.drain_queue();
        self.commit_queue();
    }

    /// Deletes the queue files whose records are all written to sockets.
    fn commit_queue(&mut self) {
        if !self
            .queue
            .as_ref()
            .is_some_and(DiskQueue::has_read_segments)
        {
            return;
        }
        let watermark = self.pool.min_unwritten_id().unwrap_or(u64::MAX);
        if let Some(queue) = self.queue.as_mut()
            && let Err(e) = queue.commit(watermark)
        {
            self.pool
                .notice(&format!("cannot delete a sent queue file: {e}"));
        }
    }

    /// Sends what is queued while destinations take it.
    fn drain_queue(&mut self) {
        while let Some(queue) = self.queue.as_mut() {
            if !self.pool.any_can_take() {
                break;
            }
            let (id, record) = match queue.pop() {
                Ok(Some(r)) => r,
                Ok(None) => break,
                Err(e) => {
                    self.pool.notice(&format!("cannot read the queue: {e}"));
                    break;
                }
            };
            let throttled = match &mut self.throttle {
                Some(t) => !t.try_take(record.len(), Instant::now()),
                None => false,
            };
            match self.pool.pick() {
                Some(i) if !throttled => self.pool.put(i, &record, id),
                _ => {
                    queue.unpop(id, record);
                    break;
                }
            }
        }
        let notices = self.queue.as_mut().map(DiskQueue::take_notices);
        for text in notices.unwrap_or_default() {
            self.pool.notice(&text);
        }
    }

    /// One round of I/O: the ticker, the queue, and the destinations' connections
    /// ([`Pool::pump`]); waits at most `wait`.
    fn pump(&mut self, wait: Duration) {
        let now = Instant::now();
        if now.duration_since(self.last_tick) >= TICK_EVERY
            && let Some(mut ticker) = self.ticker.take()
        {
            ticker(&self.summary());
            self.ticker = Some(ticker);
            self.last_tick = now;
        }
        if self.queue.is_some() && now.duration_since(self.last_queue_flush) >= QUEUE_FLUSH_EVERY {
            self.sync_queue();
        }
        self.pool.pump(wait);
        // Messages of failed connections go back to the queue, ahead of newer ones.
        if let Some(queue) = self.queue.as_mut() {
            for (id, record) in self.pool.take_orphans() {
                queue.unpop(id, record);
            }
        }
    }

    /// Ends the run: sends (or queues) everything, closes connections cleanly.
    ///
    /// With `--backpressure block` it waits for the destinations to take what is buffered, but
    /// not for ever: it gives up once none could take anything for `--write-timeout`, or every
    /// destination timed out after the end of input. What was not sent then counts as not
    /// delivered.
    pub fn finish(mut self) -> Summary {
        self.pool.input_ended();
        let write_timeout = self.pool.write_timeout();
        let mut last_up = Instant::now();
        loop {
            self.idle(Duration::from_millis(10));
            if !self.pool.buffered() && !self.queue_in_use() {
                break;
            }
            let now = Instant::now();
            if !self.pool.none_up() {
                last_up = now;
                continue;
            }
            match self.backpressure {
                Backpressure::Block => {
                    let waited = now.duration_since(last_up);
                    if self.pool.all_given_up() || waited >= write_timeout {
                        let left = self.pool.messages_left();
                        self.pool.notice(&format!(
                            "giving up: no destination took anything for {write_timeout:?} (--write-timeout) after the end of input; {left} messages not delivered"
                        ));
                        break;
                    }
                }
                Backpressure::Drop => {
                    self.dropped += self.pool.take_orphans().len() as u64;
                    break;
                }
                // What no destination takes stays queued for the next run.
                Backpressure::Queue => break,
            }
        }
        if let Some(queue) = self.queue.as_mut() {
            for (id, record) in self.pool.take_unwritten() {
                queue.unpop(id, record);
            }
        }
        self.pool.close_all(write_timeout.min(CLOSE_TIMEOUT));
        if let Some(queue) = self.queue.as_mut()
            && let Err(e) = queue.close(u64::MAX)
        {
            self.pool.notice(&format!("cannot close the queue: {e}"));
        }
        self.summary()
    }

    /// The counters so far.
    pub fn summary(&self) -> Summary {
        let destinations = self.pool.stats();
        Summary {
            sent: destinations.iter().map(|d| d.messages).sum(),
            bytes: destinations.iter().map(|d| d.bytes).sum(),
            dropped: self.dropped + self.pool.dropped(),
            queued: self.queue.as_ref().map_or(0, DiskQueue::len),
            left_in_queue: self.queue_in_use(),
            undelivered: self.pool.undelivered(),
            lost_in_queue: self.queue.as_ref().map_or(0, DiskQueue::lost),
            destinations,
        }
    }
}
