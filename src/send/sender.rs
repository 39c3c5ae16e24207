//! `send`'s delivery: framed messages to one or more receivers over UDP, TCP or TLS, with
//! weighted load balancing ([`super::balance`]), reconnection with backoff, detection of a
//! peer that closed before writing into its dead socket, a throttle, backpressure (block, drop
//! or the disk queue of [`super::disk_queue`]) and counters for the summary.
//!
//! One thread, non-blocking sockets and poll(2). Each destination (one address of one `--to`
//! host) has a buffer of framed messages; [`Sender::send`] appends a message to the buffer of
//! the destination the balancer picks, and buffers are written when they hold
//! [`FLUSH_BYTES`] or when the caller is idle ([`Sender::idle`]). A destination whose buffer
//! is full is blocking and gets no new messages until it drains. When a connection fails, the
//! messages in its buffer that were not completely written go to the other destinations (or
//! the queue); what the kernel had accepted for a peer that died is lost, as with any sender
//! without application acknowledgements.
//!
//! Formatting and framing are [`crate::egress`]'s and [`crate::framing`]'s job.

use std::collections::VecDeque;
use std::fmt;
use std::io::{self, ErrorKind, Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream, ToSocketAddrs, UdpSocket};
use std::os::fd::{AsRawFd, RawFd};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::ClientConnection;
use socket2::{Domain, Socket, Type};

use super::balance::{self, Load, Periods};
use super::disk_queue::{DiskQueue, Full};
use super::throttle::Throttle;
use super::tls as tls_client;
pub use crate::transport::Protocol;
use crate::transport::socket::unacknowledged;

/// A destination's buffer is written when it holds this much.
pub const FLUSH_BYTES: usize = 64 * 1024;
/// A destination whose unwritten buffer holds this much is blocking.
pub const MAX_PENDING_BYTES: usize = 1024 * 1024;
/// First wait before reconnecting; doubles up to [`MAX_BACKOFF`].
pub const MIN_BACKOFF: Duration = Duration::from_millis(200);
pub const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// The disk queue is handed to the OS at least this often.
const QUEUE_FLUSH_EVERY: Duration = Duration::from_millis(100);
/// How often [`Sender::set_ticker`]'s function gets the counters.
const TICK_EVERY: Duration = Duration::from_millis(100);
/// At the end, how long a receiver gets to close its end after `send` closed its own (at most
/// `--write-timeout`).
const CLOSE_TIMEOUT: Duration = Duration::from_secs(2);

/// What to do with a message when no destination can take it, or the throttle is reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backpressure {
    /// Wait (reconnecting) until a destination takes it.
    Block,
    /// Drop it, and count it.
    Drop,
    /// Write it to the disk queue.
    Queue,
}

impl Backpressure {
    pub const NAMES: [&'static str; 3] = ["block", "drop", "queue"];
}

impl std::str::FromStr for Backpressure {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "block" => Ok(Backpressure::Block),
            "drop" => Ok(Backpressure::Drop),
            "queue" => Ok(Backpressure::Queue),
            _ => Err(format!(
                "unknown backpressure {s:?}: use block, drop or queue"
            )),
        }
    }
}

/// One `--to HOST:PORT[,weight=N]`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub host: String,
    pub port: u16,
    pub weight: u32,
}

impl std::str::FromStr for Target {
    type Err = String;

    /// `HOST:PORT`, `[V6]:PORT`, each optionally followed by `,weight=N`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut parts = s.split(',');
        let address = parts.next().unwrap_or_default();
        let mut weight = 1;
        for option in parts {
            match option.split_once('=') {
                Some(("weight", n)) => {
                    weight = n.parse().ok().filter(|&w| w > 0).ok_or_else(|| {
                        format!("{s:?}: weight {n:?} must be a whole number above 0, e.g. weight=2")
                    })?;
                }
                _ => {
                    return Err(format!(
                        "{s:?}: unknown option {option:?}; the only one is weight=N"
                    ));
                }
            }
        }
        let (host, port) = address
            .rsplit_once(':')
            .ok_or_else(|| format!("{s:?}: expected HOST:PORT, e.g. 127.0.0.1:514 or [::1]:514"))?;
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err(format!("{s:?}: the host is empty; e.g. 127.0.0.1:514"));
        }
        let port = port
            .parse::<u16>()
            .ok()
            .filter(|&p| p > 0)
            .ok_or_else(|| format!("{s:?}: port {port:?} must be 1-65535"))?;
        Ok(Target {
            host: host.to_string(),
            port,
            weight,
        })
    }
}

/// Everything [`Sender::start`] needs; built by the CLI from the flags.
pub struct SenderConfig {
    pub targets: Vec<Target>,
    pub protocol: Protocol,
    /// For [`Protocol::Tls`].
    pub tls: Option<Arc<rustls::ClientConfig>>,
    /// SNI and the name checked in the certificate; `None`: each target's host.
    pub tls_servername: Option<String>,
    pub connect_timeout: Duration,
    pub write_timeout: Duration,
    pub lb_stats_period: Duration,
    pub dns_resolution_period: Duration,
    pub exclude_self: bool,
    /// At most this many connections at once (0: no limit); the subset rotates every DNS period.
    pub max_connections: usize,
    /// Bytes per second; 0: no throttle.
    pub throttle: u64,
    pub backpressure: Backpressure,
    pub queue: Option<DiskQueue>,
    /// With a full queue: wait (true) or drop.
    pub queue_full_block: bool,
    /// Where notices go (connection lost, reconnecting, corrupt queue files).
    pub notice: Box<dyn FnMut(&str)>,
}

/// Why [`Sender::start`] failed.
#[derive(Debug)]
pub struct StartError(pub String);

impl fmt::Display for StartError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StartError {}

/// Counters of one destination.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DestinationStats {
    /// `host:port` as given, and the address when it differs.
    pub name: String,
    pub messages: u64,
    pub bytes: u64,
    pub connects: u64,
    pub failures: u64,
    pub weight: u32,
    pub up: bool,
}

/// Counters for the summary and `--stats`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    /// Messages completely written to a socket.
    pub sent: u64,
    pub bytes: u64,
    pub dropped: u64,
    /// Messages written to the disk queue by this run.
    pub queued: u64,
    /// Messages still in the disk queue at the end (of this run or earlier ones), when known.
    pub left_in_queue: bool,
    /// Messages given to [`Sender::send`] that were neither sent, dropped nor queued (the
    /// run stopped while they were in a buffer).
    pub undelivered: u64,
    pub destinations: Vec<DestinationStats>,
}

enum Conn {
    Down,
    Connecting(Socket, Instant),
    Tcp(TcpStream),
    Tls(TcpStream, Box<ClientConnection>, Instant),
    Udp(UdpSocket),
}

struct Destination {
    host: String,
    port: u16,
    addr: SocketAddr,
    /// In the current `--max-connections` subset, and still resolved.
    active: bool,
    load: Load,
    conn: Conn,
    /// Framed messages not yet completely written: `buf[written..]`, message ends in `ends`.
    buf: Vec<u8>,
    written: usize,
    ends: VecDeque<usize>,
    /// Where the first message in `ends` starts.
    first_start: usize,
    last_progress: Instant,
    /// Messages written on the current connection: the ones a receiver that resets it at the
    /// end, or stops reading (`--write-timeout`), may not have read.
    conn_messages: u64,
    /// Bytes written on the current connection.
    conn_bytes: u64,
    /// Timed out after the end of input: not reconnected, its messages count as not delivered.
    given_up: bool,
    backoff: Duration,
    retry_at: Instant,
    stats: DestinationStats,
}

impl Destination {
    fn new(target: &Target, addr: SocketAddr, now: Instant) -> Destination {
        let given = format!("{}:{}", target.host, target.port);
        let name = if given == addr.to_string() {
            given
        } else {
            format!("{given} ({addr})")
        };
        Destination {
            host: target.host.clone(),
            port: target.port,
            addr,
            // `resolve` chooses the active ones (--max-connections).
            active: false,
            load: Load::new(target.weight),
            conn: Conn::Down,
            buf: Vec::new(),
            written: 0,
            ends: VecDeque::new(),
            first_start: 0,
            last_progress: now,
            conn_messages: 0,
            conn_bytes: 0,
            given_up: false,
            backoff: MIN_BACKOFF,
            retry_at: now,
            stats: DestinationStats {
                name,
                weight: target.weight,
                ..DestinationStats::default()
            },
        }
    }

    fn ready(&self) -> bool {
        match &self.conn {
            Conn::Tcp(_) | Conn::Udp(_) => true,
            Conn::Tls(_, tls, _) => !tls.is_handshaking(),
            _ => false,
        }
    }

    fn can_take(&self) -> bool {
        self.active && self.ready() && self.buf.len() - self.written < MAX_PENDING_BYTES
    }

    fn unwritten(&self) -> usize {
        self.buf.len() - self.written
    }

    fn fd(&self) -> Option<RawFd> {
        match &self.conn {
            Conn::Down => None,
            Conn::Connecting(s, _) => Some(s.as_raw_fd()),
            Conn::Tcp(s) | Conn::Tls(s, _, _) => Some(s.as_raw_fd()),
            Conn::Udp(s) => Some(s.as_raw_fd()),
        }
    }

    /// Messages written completely since the last call: counts them.
    fn count_written(&mut self) {
        while let Some(&end) = self.ends.front() {
            if end > self.written {
                break;
            }
            self.ends.pop_front();
            self.first_start = end;
            self.stats.messages += 1;
            self.conn_messages += 1;
        }
        if self.written == self.buf.len() {
            self.buf.clear();
            self.written = 0;
            self.ends.clear();
            self.first_start = 0;
        } else if self.first_start > MAX_PENDING_BYTES {
            // Drop the written messages from the front; keep the partly written one whole.
            let cut = self.first_start;
            self.buf.drain(..cut);
            for end in &mut self.ends {
                *end -= cut;
            }
            self.written -= cut;
            self.first_start = 0;
        }
    }

    /// Takes the messages not completely written, framed, in order.
    fn take_unwritten(&mut self) -> Vec<Vec<u8>> {
        let mut start = self.first_start;
        let mut out = Vec::new();
        for &end in &self.ends {
            if end > self.written {
                out.push(self.buf[start..end].to_vec());
            }
            start = end;
        }
        self.buf.clear();
        self.ends.clear();
        self.written = 0;
        self.first_start = 0;
        out
    }
}

/// What [`Sender::set_ticker`] calls with the counters.
pub type Ticker = Box<dyn FnMut(&Summary)>;

/// Sends framed messages; see the module documentation.
pub struct Sender {
    config: SenderConfig,
    destinations: Vec<Destination>,
    /// Messages of failed connections, sent before new ones.
    orphans: VecDeque<Vec<u8>>,
    throttle: Option<Throttle>,
    lb_periods: Periods,
    dns_periods: Periods,
    rotation: usize,
    dropped: u64,
    undelivered: u64,
    last_queue_flush: Instant,
    /// Records taken from the queue are in flight until every buffer is written.
    queue_in_flight: bool,
    /// The input has ended ([`Sender::finish`]).
    finishing: bool,
    /// Gets the counters every [`TICK_EVERY`], also while `send` blocks (`--stats`).
    ticker: Option<Ticker>,
    last_tick: Instant,
}

impl Sender {
    /// Resolves the targets and makes the first connections. Fails when no destination can be
    /// connected and there is no queue to hold messages meanwhile: a one-shot `send` to a host
    /// that is down says so at once, as logger does.
    pub fn start(mut config: SenderConfig) -> Result<Sender, StartError> {
        let now = Instant::now();
        if let Some(queue) = config.queue.as_mut() {
            for notice in queue.take_notices() {
                (config.notice)(&notice);
            }
        }
        let throttle = (config.throttle > 0).then(|| Throttle::new(config.throttle, now));
        let mut sender = Sender {
            lb_periods: Periods::new(config.lb_stats_period, now),
            dns_periods: Periods::new(config.dns_resolution_period, now),
            config,
            destinations: Vec::new(),
            orphans: VecDeque::new(),
            throttle,
            rotation: 0,
            dropped: 0,
            undelivered: 0,
            last_queue_flush: now,
            queue_in_flight: false,
            finishing: false,
            ticker: None,
            last_tick: now,
        };
        sender.resolve(true)?;
        // Wait for the first connections (bounded by the connect timeout).
        let deadline = Instant::now() + sender.config.connect_timeout;
        loop {
            sender.pump(Duration::from_millis(10));
            let ready = sender.destinations.iter().any(|d| d.active && d.ready());
            let pending = sender
                .destinations
                .iter()
                .any(|d| d.active && matches!(d.conn, Conn::Connecting(..) | Conn::Tls(..)));
            if ready || !pending || Instant::now() >= deadline {
                break;
            }
        }
        if !sender.destinations.iter().any(|d| d.active && d.ready())
            && sender.config.queue.is_none()
        {
            let failures: Vec<String> = sender
                .destinations
                .iter()
                .filter(|d| d.active)
                .map(|d| d.stats.name.clone())
                .collect();
            return Err(StartError(format!(
                "cannot connect to {}: see the errors above; check that the receiver runs and the address, port and --protocol are right, or use --backpressure queue to queue meanwhile",
                failures.join(", ")
            )));
        }
        Ok(sender)
    }

    /// Resolves every target (all A/AAAA records), keeping destinations that are still there.
    fn resolve(&mut self, first: bool) -> Result<(), StartError> {
        let now = Instant::now();
        let own = if self.config.exclude_self {
            local_addresses()
        } else {
            Vec::new()
        };
        let mut wanted: Vec<(usize, SocketAddr)> = Vec::new();
        for (t, target) in self.config.targets.iter().enumerate() {
            let addrs = match (target.host.as_str(), target.port).to_socket_addrs() {
                Ok(addrs) => addrs.collect::<Vec<_>>(),
                Err(e) if first => {
                    return Err(StartError(format!(
                        "cannot resolve {}: {e}; check the name, or give an IP address",
                        target.host
                    )));
                }
                Err(e) => {
                    (self.config.notice)(&format!(
                        "cannot resolve {} again ({e}); keeping its previous addresses",
                        target.host
                    ));
                    self.destinations
                        .iter()
                        .filter(|d| d.host == target.host && d.port == target.port)
                        .map(|d| d.addr)
                        .collect()
                }
            };
            let before = wanted.len();
            for addr in addrs {
                if own.contains(&addr.ip()) {
                    if first {
                        (self.config.notice)(&format!(
                            "--exclude-self: leaving out {}:{} ({addr}), an address of this machine",
                            target.host, target.port
                        ));
                    }
                    continue;
                }
                if wanted.iter().any(|(_, a)| *a == addr) {
                    continue;
                }
                wanted.push((t, addr));
            }
            if wanted.len() == before && first && self.config.targets.len() == 1 {
                return Err(StartError(format!(
                    "every address of {} is this machine's and --exclude-self drops them: leave out --exclude-self or give another host",
                    target.host
                )));
            }
        }
        if wanted.is_empty() {
            return Err(StartError(
                "no destination left: every address of every --to is this machine's and --exclude-self drops them; leave out --exclude-self or give other hosts".into(),
            ));
        }
        for d in &mut self.destinations {
            d.active = false;
        }
        let mut order = Vec::new();
        for (t, addr) in wanted {
            let target = &self.config.targets[t];
            let i = match self
                .destinations
                .iter()
                .position(|d| d.addr == addr && d.host == target.host && d.port == target.port)
            {
                Some(i) => i,
                None => {
                    self.destinations.push(Destination::new(target, addr, now));
                    self.destinations.len() - 1
                }
            };
            order.push(i);
        }
        // --max-connections: a window of the resolved destinations, moved every period.
        let cap = self.config.max_connections;
        let chosen: Vec<usize> = if cap == 0 || order.len() <= cap {
            order
        } else {
            let start = self.rotation % order.len();
            self.rotation += cap;
            (0..cap).map(|k| order[(start + k) % order.len()]).collect()
        };
        for i in chosen {
            self.destinations[i].active = true;
        }
        // Destinations no longer wanted: their unwritten messages go elsewhere.
        for i in 0..self.destinations.len() {
            if !self.destinations[i].active && !matches!(self.destinations[i].conn, Conn::Down) {
                let orphans = self.destinations[i].take_unwritten();
                self.orphans.extend(orphans);
                close(&mut self.destinations[i].conn);
            }
        }
        Ok(())
    }

    /// Calls `ticker` with the counters every 100 ms from now on, also while waiting for a
    /// destination or the throttle, and while [`finish`](Self::finish) delivers the rest.
    pub fn set_ticker(&mut self, ticker: Ticker) {
        self.ticker = Some(ticker);
    }

    /// Sends one framed message (or queues or drops it, as `--backpressure` says).
    pub fn send(&mut self, framed: &[u8]) {
        self.route(framed, false);
        // Messages go through the queue while it holds any: send what is already on disk.
        if self.queue_in_use() {
            self.drain_queue(true);
        }
    }

    fn queue_in_use(&self) -> bool {
        self.config.queue.as_ref().is_some_and(|q| !q.is_empty())
    }

    fn route(&mut self, framed: &[u8], from_queue: bool) {
        // Keep the order: while the queue holds messages, new ones go behind them.
        if !from_queue
            && let Some(queue) = self.config.queue.as_ref()
            && !queue.is_empty()
        {
            self.enqueue(framed);
            return;
        }
        loop {
            let throttled = match &mut self.throttle {
                Some(t) => !t.try_take(framed.len(), Instant::now()),
                None => false,
            };
            if !throttled && let Some(i) = self.pick() {
                self.put(i, framed);
                return;
            }
            match self.config.backpressure {
                Backpressure::Drop => {
                    self.dropped += 1;
                    return;
                }
                Backpressure::Queue if self.config.queue.is_some() => {
                    if from_queue {
                        // Put it back at the front; the caller stops draining.
                        let queue = self.config.queue.as_mut().expect("checked");
                        queue.unpop(std::iter::once(framed.to_vec()));
                    } else {
                        self.enqueue(framed);
                    }
                    return;
                }
                _ => {
                    let wait = match &self.throttle {
                        Some(t) if throttled => {
                            t.wait_for(framed.len()).min(Duration::from_millis(50))
                        }
                        _ => Duration::from_millis(20),
                    };
                    self.pump(wait);
                }
            }
        }
    }

    fn pick(&self) -> Option<usize> {
        balance::pick(self.destinations.iter().map(|d| (&d.load, d.can_take())))
    }

    fn put(&mut self, i: usize, framed: &[u8]) {
        let d = &mut self.destinations[i];
        d.load.record(framed.len());
        if let Conn::Udp(socket) = &d.conn {
            match socket.send(framed) {
                Ok(_) => {
                    d.stats.messages += 1;
                    d.stats.bytes += framed.len() as u64;
                }
                // A refusal reported by ICMP for an earlier datagram: this one is sent again
                // once; UDP has no other way to know.
                Err(_) => match socket.send(framed) {
                    Ok(_) => {
                        d.stats.messages += 1;
                        d.stats.bytes += framed.len() as u64;
                    }
                    Err(_) => {
                        d.stats.failures += 1;
                        self.dropped += 1;
                    }
                },
            }
            return;
        }
        if d.unwritten() == 0 {
            // The write timeout counts from when the connection has something to take.
            d.last_progress = Instant::now();
        }
        d.buf.extend_from_slice(framed);
        d.ends.push_back(d.buf.len());
        if d.unwritten() >= FLUSH_BYTES {
            self.flush(i);
        }
    }

    fn enqueue(&mut self, framed: &[u8]) {
        loop {
            let queue = self.config.queue.as_mut().expect("queue mode has a queue");
            match queue.push(framed) {
                Ok(Ok(())) => return,
                Ok(Err(e)) => {
                    let dir = queue.dir().display().to_string();
                    (self.config.notice)(&format!(
                        "cannot write to the queue in {dir}: {e}; message dropped"
                    ));
                    self.dropped += 1;
                    return;
                }
                Err(Full) if !self.config.queue_full_block => {
                    self.dropped += 1;
                    return;
                }
                Err(Full) => {
                    // --queue-full block: wait until draining makes room.
                    self.pump(Duration::from_millis(20));
                    self.drain_queue(false);
                }
            }
        }
    }

    /// Progress without new input: writes buffers, connects, drains the queue, runs timers.
    /// Waits at most `wait` for sockets.
    pub fn idle(&mut self, wait: Duration) {
        self.pump(wait);
        for i in 0..self.destinations.len() {
            if self.destinations[i].unwritten() > 0 {
                self.flush(i);
            }
        }
        self.drain_queue(false);
        if let Some(queue) = self.config.queue.as_mut() {
            if let Err(e) = queue.flush() {
                (self.config.notice)(&format!("cannot write to the queue: {e}"));
            }
            self.last_queue_flush = Instant::now();
        }
    }

    /// Sends what is queued while destinations take it; with `closed_only`, only what is in
    /// closed segments (closing the active one for every message would make tiny files).
    fn drain_queue(&mut self, closed_only: bool) {
        loop {
            if self.config.queue.is_none() || !self.destinations.iter().any(|d| d.can_take()) {
                break;
            }
            if let Some(t) = &self.throttle
                && t.wait_for(1) > Duration::ZERO
            {
                break;
            }
            let queue = self.config.queue.as_mut().expect("checked");
            let record = match queue.pop(closed_only) {
                Ok(Some(r)) => r,
                Ok(None) => break,
                Err(e) => {
                    (self.config.notice)(&format!("cannot read the queue: {e}"));
                    break;
                }
            };
            self.queue_in_flight = true;
            self.route(&record, true);
        }
        for notice in self
            .config
            .queue
            .as_mut()
            .map(DiskQueue::take_notices)
            .unwrap_or_default()
        {
            (self.config.notice)(&notice);
        }
    }

    /// One round of I/O: timers, connects, EOF detection, writes; waits at most `wait`.
    fn pump(&mut self, wait: Duration) {
        let now = Instant::now();
        if now.duration_since(self.last_tick) >= TICK_EVERY
            && let Some(mut ticker) = self.ticker.take()
        {
            ticker(&self.summary());
            self.ticker = Some(ticker);
            self.last_tick = now;
        }
        if self.lb_periods.due(now) {
            self.destinations.iter_mut().for_each(|d| d.load.roll());
        }
        if self.dns_periods.due(now)
            && let Err(e) = self.resolve(false)
        {
            (self.config.notice)(&e.0);
        }
        if let Some(queue) = self.config.queue.as_mut()
            && now.duration_since(self.last_queue_flush) >= QUEUE_FLUSH_EVERY
        {
            let _ = queue.flush();
            self.last_queue_flush = now;
            self.drain_queue(false);
        }
        for i in 0..self.destinations.len() {
            let d = &self.destinations[i];
            if d.active && !d.given_up && matches!(d.conn, Conn::Down) && d.retry_at <= now {
                self.connect(i);
            }
        }
        // Re-route what failed connections left.
        while let Some(m) = self.orphans.pop_front() {
            match self.pick() {
                Some(i) => self.put(i, &m),
                None => {
                    self.orphans.push_front(m);
                    break;
                }
            }
        }
        let mut fds: Vec<libc::pollfd> = Vec::new();
        let mut index = Vec::new();
        for (i, d) in self.destinations.iter().enumerate() {
            let Some(fd) = d.fd() else { continue };
            let events = match &d.conn {
                Conn::Connecting(..) => libc::POLLOUT,
                Conn::Udp(_) => continue,
                Conn::Tls(_, tls, _) if tls.wants_write() => libc::POLLIN | libc::POLLOUT,
                _ if d.unwritten() > 0 => libc::POLLIN | libc::POLLOUT,
                _ => libc::POLLIN,
            };
            fds.push(libc::pollfd {
                fd,
                events,
                revents: 0,
            });
            index.push(i);
        }
        let retrying = |d: &&Destination| d.active && !d.given_up && matches!(d.conn, Conn::Down);
        let any_down = self.destinations.iter().any(|d| retrying(&d));
        let wait = if any_down {
            let next = self
                .destinations
                .iter()
                .filter(retrying)
                .map(|d| d.retry_at.saturating_duration_since(now))
                .min()
                .unwrap_or(wait);
            wait.min(next)
        } else {
            wait
        };
        if fds.is_empty() {
            if !wait.is_zero() {
                std::thread::sleep(wait);
            }
        } else {
            let ms = wait.as_millis().min(i32::MAX as u128) as i32;
            // SAFETY: `fds` is a valid array of `fds.len()` pollfd structures.
            let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, ms) };
            if n < 0 {
                return;
            }
        }
        let now = Instant::now();
        for (pfd, &i) in fds.iter().zip(&index) {
            self.progress(i, pfd.revents, now);
        }
        for i in 0..self.destinations.len() {
            let d = &self.destinations[i];
            if d.unwritten() > 0
                && d.ready()
                && now.duration_since(d.last_progress) > self.config.write_timeout
            {
                self.write_timed_out(i);
            }
        }
        if self.queue_in_flight && self.destinations.iter().all(|d| d.unwritten() == 0) {
            if let Some(queue) = self.config.queue.as_mut()
                && let Err(e) = queue.commit()
            {
                (self.config.notice)(&format!("cannot delete a sent queue file: {e}"));
            }
            self.queue_in_flight = false;
        }
    }

    fn progress(&mut self, i: usize, revents: i16, now: Instant) {
        let d = &mut self.destinations[i];
        match &mut d.conn {
            Conn::Connecting(socket, since) => {
                if revents == 0 {
                    if now.duration_since(*since) > self.config.connect_timeout {
                        let t = self.config.connect_timeout;
                        self.fail(i, &format!("no connection after {t:?} (--connect-timeout)"));
                    }
                    return;
                }
                match socket.take_error() {
                    Ok(None) => {}
                    Ok(Some(e)) | Err(e) => {
                        self.fail(i, &connect_error(&e));
                        return;
                    }
                }
                let Conn::Connecting(socket, since) = std::mem::replace(&mut d.conn, Conn::Down)
                else {
                    unreachable!("matched above")
                };
                let stream: TcpStream = socket.into();
                let _ = stream.set_nodelay(true);
                match self.config.protocol {
                    Protocol::Tls => {
                        let name = self
                            .config
                            .tls_servername
                            .clone()
                            .unwrap_or_else(|| d.host.clone());
                        let tls = tls_client::server_name(&name)
                            .map_err(|e| e.0)
                            .and_then(|sn| {
                                ClientConnection::new(
                                    self.config.tls.clone().expect("TLS has a config"),
                                    sn,
                                )
                                .map_err(|e| e.to_string())
                            });
                        match tls {
                            Ok(tls) => d.conn = Conn::Tls(stream, Box::new(tls), since),
                            Err(e) => {
                                self.fail(i, &e);
                                return;
                            }
                        }
                        self.progress(i, libc::POLLOUT, now);
                    }
                    _ => {
                        d.conn = Conn::Tcp(stream);
                        self.connected(i, now);
                    }
                }
            }
            Conn::Tls(stream, tls, since) if tls.is_handshaking() => {
                if let Err(e) = drive_tls(stream, tls) {
                    let e = tls_client::handshake_error(&e);
                    self.fail(i, &e);
                    return;
                }
                if !tls.is_handshaking() {
                    self.connected(i, now);
                    if self.destinations[i].unwritten() > 0 {
                        self.flush(i);
                    }
                } else if now.duration_since(*since) > self.config.connect_timeout {
                    let t = self.config.connect_timeout;
                    self.fail(
                        i,
                        &format!("TLS handshake not done after {t:?} (--connect-timeout)"),
                    );
                }
            }
            Conn::Tcp(_) | Conn::Tls(..) => {
                if revents & (libc::POLLIN | libc::POLLHUP | libc::POLLERR) != 0
                    && let Err(reason) = check_peer(&mut d.conn)
                {
                    self.fail(i, &reason);
                    return;
                }
                if revents & libc::POLLOUT != 0 && self.destinations[i].unwritten() > 0 {
                    self.flush(i);
                }
            }
            Conn::Down | Conn::Udp(_) => {}
        }
    }

    fn connected(&mut self, i: usize, now: Instant) {
        let d = &mut self.destinations[i];
        d.stats.connects += 1;
        d.backoff = MIN_BACKOFF;
        d.last_progress = now;
        d.conn_messages = 0;
        d.conn_bytes = 0;
        if d.stats.connects > 1 || d.stats.failures > 0 {
            let name = d.stats.name.clone();
            (self.config.notice)(&format!("connected to {name}"));
        }
    }

    fn connect(&mut self, i: usize) {
        let now = Instant::now();
        let addr = self.destinations[i].addr;
        if self.config.protocol == Protocol::Udp {
            let bind: SocketAddr = if addr.is_ipv4() {
                "0.0.0.0:0".parse().expect("valid")
            } else {
                "[::]:0".parse().expect("valid")
            };
            let socket = UdpSocket::bind(bind).and_then(|s| s.connect(addr).map(|()| s));
            match socket {
                Ok(s) => {
                    self.destinations[i].conn = Conn::Udp(s);
                    self.destinations[i].stats.connects += 1;
                }
                Err(e) => self.fail(i, &format!("cannot open a UDP socket: {e}")),
            }
            return;
        }
        let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)
            .and_then(|s| s.set_nonblocking(true).map(|()| s));
        let socket = match socket {
            Ok(s) => s,
            Err(e) => {
                self.fail(i, &format!("cannot open a socket: {e}"));
                return;
            }
        };
        match socket.connect(&addr.into()) {
            Ok(()) => {}
            Err(e) if e.raw_os_error() == Some(libc::EINPROGRESS) => {}
            Err(e) => {
                self.fail(i, &connect_error(&e));
                return;
            }
        }
        self.destinations[i].conn = Conn::Connecting(socket, now);
    }

    /// Writes as much of a destination's buffer as the socket takes now, after checking that
    /// the peer has not closed the connection: writing into a socket whose peer is gone would
    /// lose the first messages (rsyslog #3929).
    fn flush(&mut self, i: usize) {
        let d = &mut self.destinations[i];
        if !d.ready() {
            return;
        }
        if let Err(reason) = check_peer(&mut d.conn) {
            self.fail(i, &reason);
            return;
        }
        let d = &mut self.destinations[i];
        let before = d.written;
        let result = match &mut d.conn {
            Conn::Tcp(stream) => write_some(stream, &d.buf[d.written..]).map(|n| d.written += n),
            Conn::Tls(stream, tls, _) => {
                // Hand rustls at most what it will buffer, then write its records out.
                let mut result = Ok(());
                loop {
                    if d.written < d.buf.len()
                        && tls.wants_write()
                        && pending_tls(tls) > FLUSH_BYTES
                    {
                        // Its buffer is full enough: write records first.
                    } else if d.written < d.buf.len() {
                        let end = (d.written + FLUSH_BYTES).min(d.buf.len());
                        match tls.writer().write_all(&d.buf[d.written..end]) {
                            Ok(()) => d.written = end,
                            Err(e) => {
                                result = Err(e);
                                break;
                            }
                        }
                    }
                    if !tls.wants_write() {
                        if d.written == d.buf.len() {
                            break;
                        }
                        continue;
                    }
                    match tls.write_tls(stream) {
                        Ok(_) => {}
                        Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                        Err(e) => {
                            result = Err(e);
                            break;
                        }
                    }
                }
                result
            }
            _ => Ok(()),
        };
        if let Err(e) = result {
            let reason = format!("write failed: {e}");
            self.fail(i, &reason);
            return;
        }
        let d = &mut self.destinations[i];
        if d.written > before {
            d.stats.bytes += (d.written - before) as u64;
            d.conn_bytes += (d.written - before) as u64;
            d.last_progress = Instant::now();
        }
        // With TLS, a message counts as sent once rustls has it; what it has not yet written
        // goes out on the next POLLOUT.
        d.count_written();
    }

    /// `--write-timeout`: the receiver took nothing for the whole timeout, so it has stopped
    /// reading, and what was written on this connection may sit unread in the kernels'
    /// buffers. The connection is reset rather than closed, so that none of it trickles in
    /// later, and those messages count as not delivered (an upper bound: the receiver may
    /// have read some before it stalled). The ones not completely written go elsewhere. After
    /// the end of input the destination is given up instead of reconnected.
    fn write_timed_out(&mut self, i: usize) {
        let timeout = self.config.write_timeout;
        let d = &mut self.destinations[i];
        if let Conn::Tcp(s) | Conn::Tls(s, _, _) = &d.conn {
            let _ = socket2::SockRef::from(s).set_linger(Some(Duration::ZERO));
        }
        let lost = d.conn_messages;
        d.stats.messages = d.stats.messages.saturating_sub(lost);
        d.stats.bytes = d.stats.bytes.saturating_sub(d.conn_bytes);
        d.conn_messages = 0;
        d.conn_bytes = 0;
        d.given_up = self.finishing;
        self.undelivered += lost;
        let lost = if lost > 0 {
            format!(
                "; {lost} messages written on this connection may not have been read, and count as not delivered"
            )
        } else {
            String::new()
        };
        self.fail(
            i,
            &format!("nothing could be written for {timeout:?} (--write-timeout){lost}"),
        );
    }

    /// Closes a destination's connection, schedules a reconnect and re-routes its messages.
    fn fail(&mut self, i: usize, reason: &str) {
        let d = &mut self.destinations[i];
        close(&mut d.conn);
        d.stats.failures += 1;
        let now = Instant::now();
        d.retry_at = now + d.backoff;
        let backoff = d.backoff;
        d.backoff = (d.backoff * 2).min(MAX_BACKOFF);
        let orphans = d.take_unwritten();
        let name = d.stats.name.clone();
        let given_up = d.given_up;
        let lost = orphans.len();
        self.orphans.extend(orphans);
        let moved = if lost > 0 {
            format!("; {lost} unsent messages go to other destinations")
        } else {
            String::new()
        };
        let hint = self.close_hint(reason);
        let next = if given_up {
            "; the input has ended, so it is not retried".to_string()
        } else {
            format!("; reconnecting in {backoff:?}")
        };
        (self.config.notice)(&format!("{name}: {reason}{hint}{next}{moved}"));
    }

    /// Ends the run: sends (or queues) everything, closes connections cleanly.
    ///
    /// With `--backpressure block` it waits for the destinations to take what is buffered, but
    /// not for ever: it gives up once none could take anything for `--write-timeout`, or every
    /// destination timed out after the end of input. What was not sent then counts as not
    /// delivered.
    pub fn finish(mut self) -> Summary {
        self.finishing = true;
        let mut last_up = Instant::now();
        loop {
            self.idle(Duration::from_millis(10));
            let buffered = !self.orphans.is_empty()
                || self
                    .destinations
                    .iter()
                    .any(|d| d.unwritten() > 0 || tls_pending(&d.conn));
            let queued = self.config.queue.as_ref().is_some_and(|q| !q.is_empty());
            if !buffered && !queued {
                break;
            }
            let none_up = !self
                .destinations
                .iter()
                .any(|d| d.can_take() || d.unwritten() > 0);
            let now = Instant::now();
            if !none_up {
                last_up = now;
            } else {
                match self.config.backpressure {
                    Backpressure::Block => {
                        let all_given_up = self
                            .destinations
                            .iter()
                            .filter(|d| d.active)
                            .all(|d| d.given_up);
                        let waited = now.duration_since(last_up);
                        if all_given_up || waited >= self.config.write_timeout {
                            let left = self.orphans.len()
                                + self
                                    .destinations
                                    .iter()
                                    .map(|d| d.ends.len())
                                    .sum::<usize>();
                            let timeout = self.config.write_timeout;
                            (self.config.notice)(&format!(
                                "giving up: no destination took anything for {timeout:?} (--write-timeout) after the end of input; {left} messages not delivered"
                            ));
                            break;
                        }
                    }
                    Backpressure::Drop => {
                        self.dropped += self.orphans.len() as u64;
                        self.orphans.clear();
                        if !queued {
                            break;
                        }
                    }
                    Backpressure::Queue => {
                        let orphans: Vec<Vec<u8>> = self.orphans.drain(..).collect();
                        for m in orphans {
                            self.enqueue(&m);
                        }
                        break;
                    }
                }
                if queued && self.config.backpressure != Backpressure::Block {
                    break;
                }
            }
        }
        let linger = self.config.write_timeout.min(CLOSE_TIMEOUT);
        for i in 0..self.destinations.len() {
            let d = &mut self.destinations[i];
            self.undelivered += d.ends.len() as u64;
            if let Err(reason) = close_cleanly(&mut d.conn, linger, self.config.write_timeout) {
                // The receiver stopped reading before it saw the end of the stream: what it
                // had not read is lost, and which messages those are cannot be known.
                let lost = d.conn_messages;
                d.stats.messages -= lost;
                d.stats.bytes = d.stats.bytes.saturating_sub(d.conn_bytes);
                d.stats.failures += 1;
                self.undelivered += lost;
                let name = d.stats.name.clone();
                let hint = self.close_hint(&reason);
                (self.config.notice)(&format!(
                    "{name}: {reason}{hint}; up to {lost} messages written on this connection may not have been read, and count as not delivered"
                ));
            }
        }
        self.undelivered += self.orphans.len() as u64;
        if let Some(queue) = self.config.queue.as_mut()
            && let Err(e) = queue.close()
        {
            (self.config.notice)(&format!("cannot close the queue: {e}"));
        }
        self.summary()
    }

    /// What may explain a TLS receiver closing the connection: rsyslog's `x509/*` modes and
    /// other receivers that check the client certificate after the handshake just close it.
    fn close_hint(&self, reason: &str) -> &'static str {
        if self.config.protocol != Protocol::Tls
            || !["closed", "reset", "ended the TLS session"]
                .iter()
                .any(|w| reason.contains(w))
        {
            ""
        } else if tls_client::certificate_asked_for_but_none() {
            ": the receiver asked for a client certificate and none was given (--tls-cert, --tls-key)"
        } else {
            ": a TLS receiver that closes at once may not accept the client certificate (--tls-cert)"
        }
    }

    /// The counters so far.
    pub fn summary(&self) -> Summary {
        let destinations: Vec<DestinationStats> = self
            .destinations
            .iter()
            .map(|d| DestinationStats {
                up: d.ready(),
                ..d.stats.clone()
            })
            .collect();
        Summary {
            sent: destinations.iter().map(|d| d.messages).sum(),
            bytes: destinations.iter().map(|d| d.bytes).sum(),
            dropped: self.dropped,
            queued: self.config.queue.as_ref().map_or(0, |q| q.pushed),
            left_in_queue: self.config.queue.as_ref().is_some_and(|q| !q.is_empty()),
            undelivered: self.undelivered,
            destinations,
        }
    }
}

fn close(conn: &mut Conn) {
    *conn = Conn::Down;
}

fn tls_pending(conn: &Conn) -> bool {
    matches!(conn, Conn::Tls(_, tls, _) if tls.wants_write())
}

fn pending_tls(tls: &ClientConnection) -> usize {
    // rustls does not expose its buffered size; wants_write is all we know. Treat it as full
    // so that records are written before more plaintext is handed over.
    if tls.wants_write() { usize::MAX } else { 0 }
}

/// One non-blocking write; `Ok(0)` when the socket takes nothing now.
fn write_some(stream: &mut TcpStream, bytes: &[u8]) -> io::Result<usize> {
    let mut done = 0;
    while done < bytes.len() {
        // `write_all` would loop on WouldBlock; here a partial write is progress.
        #[allow(clippy::disallowed_methods)]
        match stream.write(&bytes[done..]) {
            Ok(0) => return Err(ErrorKind::WriteZero.into()),
            Ok(n) => done += n,
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(done)
}

/// Reads what the peer sent without waiting: `Err` when it closed the connection. Syslog
/// receivers send nothing; anything else (TLS session tickets, alerts) goes to rustls.
fn check_peer(conn: &mut Conn) -> Result<(), String> {
    let mut buf = [0u8; 4096];
    match conn {
        Conn::Tcp(stream) => loop {
            match stream.read(&mut buf) {
                Ok(0) => return Err("the receiver closed the connection".into()),
                Ok(_) => {}
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(format!("connection failed: {e}")),
            }
        },
        Conn::Tls(stream, tls, _) => loop {
            match tls.read_tls(stream) {
                Ok(0) => return Err("the receiver closed the connection".into()),
                Ok(_) => {
                    let state = tls
                        .process_new_packets()
                        .map_err(|e| tls_client::handshake_error(&io::Error::other(e)))?;
                    if state.peer_has_closed() {
                        return Err("the receiver closed the TLS session".into());
                    }
                    while tls.reader().read(&mut buf).is_ok_and(|n| n > 0) {}
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => return Ok(()),
                Err(e) if e.kind() == ErrorKind::Interrupted => {}
                Err(e) => return Err(format!("connection failed: {e}")),
            }
        },
        _ => Ok(()),
    }
}

/// Ends a TCP or TLS connection at the end of the run and checks that the receiver read
/// everything: it must not have closed first, and after `send`'s close (TLS close_notify,
/// then FIN) it must close in turn without a reset or an alert. A receiver that closes with
/// unread data makes its kernel send a reset; that is how a TLS receiver that refused the
/// client certificate after the handshake shows. Waits at most `linger` for the receiver's
/// close; one that keeps its end open is given the benefit of the doubt once its kernel has
/// acknowledged every byte, and is waited for while it still takes them. One that takes
/// nothing for `stall` (--write-timeout) has stopped reading: that is an error.
fn close_cleanly(conn: &mut Conn, linger: Duration, stall: Duration) -> Result<(), String> {
    let result = close_and_wait(conn, linger, stall);
    if result.is_err()
        && let Conn::Tcp(s) | Conn::Tls(s, _, _) = conn
    {
        // What the receiver did not take counts as not delivered: make sure it is not
        // delivered later either.
        let _ = socket2::SockRef::from(&*s).set_linger(Some(Duration::ZERO));
    }
    close(conn);
    result
}

fn close_and_wait(conn: &mut Conn, linger: Duration, stall: Duration) -> Result<(), String> {
    let (stream, mut tls) = match conn {
        Conn::Tcp(stream) => (stream, None),
        Conn::Tls(stream, tls, _) => (stream, Some(tls)),
        _ => return Ok(()),
    };
    let closed_first = |reason: String| format!("{reason} before send had finished");
    let deadline = Instant::now() + linger;
    let mut buf = [0u8; 4096];
    // Closed by the receiver before our close: it stopped reading.
    loop {
        let read = match tls.as_mut() {
            Some(tls) => tls.read_tls(stream),
            None => stream.read(&mut buf),
        };
        match read {
            Ok(0) => return Err(closed_first("the receiver closed the connection".into())),
            Ok(_) => {
                if let Some(tls) = tls.as_mut() {
                    let state = tls.process_new_packets().map_err(|e| tls_alert(&e))?;
                    if state.peer_has_closed() {
                        return Err(closed_first("the receiver closed the TLS session".into()));
                    }
                    while tls.reader().read(&mut buf).is_ok_and(|n| n > 0) {}
                }
            }
            Err(e) if e.kind() == ErrorKind::WouldBlock => break,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(closed_first(reset_reason(&e))),
        }
    }
    let io = |e: io::Error| reset_reason(&e);
    stream.set_nonblocking(false).map_err(io)?;
    stream.set_write_timeout(Some(linger)).map_err(io)?;
    if let Some(tls) = tls.as_mut() {
        tls.send_close_notify();
        while tls.wants_write() {
            tls.write_tls(stream).map_err(io)?;
        }
    }
    stream.shutdown(std::net::Shutdown::Write).map_err(io)?;
    let mut unacked = unacknowledged(stream);
    let mut last_progress = Instant::now();
    loop {
        let now = Instant::now();
        let left = deadline.saturating_duration_since(now);
        if left.is_zero() {
            let still = unacknowledged(stream);
            if still == 0 {
                return Ok(());
            }
            if still < unacked {
                unacked = still;
                last_progress = now;
            } else if now.duration_since(last_progress) >= stall {
                return Err(format!(
                    "the receiver took nothing for {stall:?} (--write-timeout) and left {still} bytes unread"
                ));
            }
        }
        let slice = if left.is_zero() {
            Duration::from_millis(50)
        } else {
            left
        };
        stream.set_read_timeout(Some(slice)).map_err(io)?;
        let read = match tls.as_mut() {
            Some(tls) => tls.read_tls(stream),
            None => stream.read(&mut buf),
        };
        match read {
            Ok(0) => break,
            Ok(_) => {
                if let Some(tls) = tls.as_mut() {
                    tls.process_new_packets().map_err(|e| tls_alert(&e))?;
                    while tls.reader().read(&mut buf).is_ok_and(|n| n > 0) {}
                }
            }
            Err(e) if matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(e) => return Err(reset_reason(&e)),
        }
    }
    // A reset that came in behind the receiver's FIN (its close crossed our last data).
    match stream.take_error() {
        Ok(Some(e)) => Err(reset_reason(&e)),
        _ => Ok(()),
    }
}

fn reset_reason(e: &io::Error) -> String {
    match e.kind() {
        ErrorKind::ConnectionReset | ErrorKind::BrokenPipe => {
            "the receiver reset the connection (it closed it without reading everything)".into()
        }
        _ => format!("connection failed: {e}"),
    }
}

fn tls_alert(e: &rustls::Error) -> String {
    format!("the receiver ended the TLS session: {e}")
}

/// Moves a handshake forward as far as the socket allows.
fn drive_tls(stream: &mut TcpStream, tls: &mut ClientConnection) -> io::Result<()> {
    loop {
        let mut progressed = false;
        while tls.wants_write() {
            match tls.write_tls(stream) {
                Ok(_) => progressed = true,
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) => return Err(e),
            }
        }
        if tls.wants_read() {
            match tls.read_tls(stream) {
                Ok(0) => {
                    return Err(io::Error::new(
                        ErrorKind::UnexpectedEof,
                        "the receiver closed the connection during the TLS handshake",
                    ));
                }
                Ok(_) => {
                    progressed = true;
                    if let Err(e) = tls.process_new_packets() {
                        // Send the alert before giving up.
                        let _ = tls.write_tls(stream);
                        return Err(io::Error::other(e));
                    }
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) => return Err(e),
            }
        }
        if !progressed || !tls.is_handshaking() {
            return Ok(());
        }
    }
}

fn connect_error(e: &io::Error) -> String {
    match e.kind() {
        ErrorKind::ConnectionRefused => {
            "connection refused: nothing listens there; check the port and that the receiver runs"
                .into()
        }
        _ => format!("cannot connect: {e}"),
    }
}

/// This machine's addresses, for `--exclude-self`.
fn local_addresses() -> Vec<IpAddr> {
    let mut out = Vec::new();
    let mut list: *mut libc::ifaddrs = std::ptr::null_mut();
    // SAFETY: getifaddrs fills `list`, which is freed below; each entry is read while valid.
    unsafe {
        if libc::getifaddrs(&mut list) != 0 {
            return out;
        }
        let mut cur = list;
        while !cur.is_null() {
            let addr = (*cur).ifa_addr;
            if !addr.is_null() {
                match i32::from((*addr).sa_family) {
                    libc::AF_INET => {
                        let sin = &*(addr as *const libc::sockaddr_in);
                        out.push(IpAddr::from(
                            u32::from_be(sin.sin_addr.s_addr).to_be_bytes(),
                        ));
                    }
                    libc::AF_INET6 => {
                        let sin6 = &*(addr as *const libc::sockaddr_in6);
                        out.push(IpAddr::from(sin6.sin6_addr.s6_addr));
                    }
                    _ => {}
                }
            }
            cur = (*cur).ifa_next;
        }
        libc::freeifaddrs(list);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_parse_with_weights_and_v6_brackets() {
        assert_eq!(
            "a.example:514,weight=2".parse::<Target>(),
            Ok(Target {
                host: "a.example".into(),
                port: 514,
                weight: 2
            })
        );
        assert_eq!("[::1]:6514".parse::<Target>().unwrap().host, "::1");
        assert!("host".parse::<Target>().unwrap_err().contains("HOST:PORT"));
        assert!("h:0".parse::<Target>().unwrap_err().contains("1-65535"));
        assert!(
            "h:1,weight=0"
                .parse::<Target>()
                .unwrap_err()
                .contains("above 0")
        );
        assert!(
            "h:1,w=3"
                .parse::<Target>()
                .unwrap_err()
                .contains("weight=N")
        );
    }

    #[test]
    fn unwritten_messages_are_the_ones_not_completely_written() {
        let now = Instant::now();
        let t = Target {
            host: "h".into(),
            port: 1,
            weight: 1,
        };
        let mut d = Destination::new(&t, "127.0.0.1:1".parse().unwrap(), now);
        for m in [&b"aa\n"[..], b"bbb\n", b"c\n"] {
            d.buf.extend_from_slice(m);
            d.ends.push_back(d.buf.len());
        }
        d.written = 5; // "aa\n" and half of "bbb\n"
        d.count_written();
        assert_eq!(d.stats.messages, 1);
        assert_eq!(d.take_unwritten(), vec![b"bbb\n".to_vec(), b"c\n".to_vec()]);
    }

    #[test]
    fn this_machine_has_a_loopback_address() {
        assert!(local_addresses().contains(&IpAddr::from([127, 0, 0, 1])));
    }
}
