//! The load: connections writing batches of about [`BATCH_BYTES`] (one `write` per batch over
//! TCP, one per 16 KiB record over TLS, one `send` per message over UDP), each paced by its
//! share of the total rate ([`Pacer`]). Connections are opened before the clock starts, so a
//! refused or unreachable target is an error before any load, not a report of zeros.
//!
//! Plain TCP runs from a few threads, one per core, each stepping many non-blocking
//! connections and waiting in poll(2) when all of them wait ([`multiplexed`]): at 10,000
//! connections, a thread each cost bench as much CPU as the receiver. TLS, UDP and RELP keep a
//! thread per connection with a blocking socket ([`threaded`], which says why). Both paths
//! build their batches alike ([`message`]) and count alike.
//!
//! A connection whose write fails (the receiver restarted, reset it) is opened again, retrying
//! with a backoff for at most `reconnect_timeout`; its sequence numbers go on where they were,
//! so `bench verify` shows exactly the messages lost with the old connection.

use std::collections::VecDeque;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use self::message::{MessageWriter, Source};
use super::marker::MARKER_LEN;
use super::rate::Pacer;
use super::report::{ConnStats, Report};
use super::socket::nonblocking::NonBlockingTcp;
use super::socket::{self, CONNECT_TIMEOUT, ConnectError, Socket, TlsClient};
use crate::egress::Formatter;
use crate::framing::Framing;
use crate::framing::encode::{Encoder, Escape};
use crate::syslog::format::OutputFormat;
pub use crate::transport::Protocol;

mod message;
mod multiplexed;
mod threaded;

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

/// How long past `--duration`'s end a write under way may wait for the receiver to take it. A
/// receiver slower than bench keeps the sockets full most of the time, so at the end most
/// connections are in a write: one that is read at all finishes it well within this. One
/// that stopped reading is left then, and its connection's error says so.
const END_GRACE: Duration = Duration::from_secs(5);

/// The longest a connection waits (for the next batch's time, for a full socket) before it
/// looks whether the run was interrupted.
const INTERRUPT_CHECK: Duration = Duration::from_millis(100);

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
    /// Once set (by a SIGINT or SIGTERM handler), the run ends as at `--duration`'s end: no
    /// new message, a write under way gets [`END_GRACE`], and the report counts what went.
    pub interrupt: Option<Arc<AtomicBool>>,
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

/// When the run ends: at `--duration`'s end, or earlier once [`LoadConfig::interrupt`] is
/// set, at the time the first connection to look saw it.
struct RunEnd<'a> {
    duration_end: Option<Instant>,
    interrupt: Option<&'a AtomicBool>,
    interrupted_at: OnceLock<Instant>,
}

impl RunEnd<'_> {
    /// The time to stop sending; `None`: when the count is sent.
    fn deadline(&self) -> Option<Instant> {
        let interrupted = self
            .interrupt
            .filter(|flag| flag.load(Ordering::Relaxed))
            .map(|_| *self.interrupted_at.get_or_init(Instant::now));
        match (self.duration_end, interrupted) {
            (Some(end), Some(at)) => Some(end.min(at)),
            (end, at) => end.or(at),
        }
    }

    /// When a write under way gives up on a receiver that stopped taking it: [`END_GRACE`]
    /// after the deadline; never for a run to a count.
    fn end_grace(&self) -> Option<Instant> {
        self.deadline().map(|d| d + END_GRACE)
    }

    fn interrupted(&self) -> bool {
        self.interrupted_at.get().is_some()
    }
}

/// What every connection of a run shares: the configuration, how messages are made, the
/// clock, and the counters the progress line reads.
struct Load<'a> {
    config: &'a LoadConfig,
    writer: &'a MessageWriter,
    encoder: Option<&'a Encoder>,
    start: Instant,
    end: RunEnd<'a>,
    /// Messages written so far per connection.
    live: &'a [AtomicU64],
}

impl Load<'_> {
    /// The share of a count stop of connection `i` (from 0): the total split evenly, the
    /// first connections taking one more each for the remainder.
    fn quota(&self, i: usize) -> Option<u64> {
        let n = u64::from(self.config.connections);
        match self.config.stop {
            Stop::Count(total) => Some(total / n + u64::from((i as u64) < total % n)),
            Stop::Duration(_) => None,
        }
    }

    /// A connection's schedule: its share of the total rate.
    fn pacer(&self) -> Pacer {
        let n = f64::from(self.config.connections);
        Pacer::new(self.start, self.config.rate.map(|r| r / n))
    }

    /// When the run stops sending ([`RunEnd::deadline`]).
    fn deadline(&self) -> Option<Instant> {
        self.end.deadline()
    }

    /// When a write under way gives up ([`RunEnd::end_grace`]).
    fn end_grace(&self) -> Option<Instant> {
        self.end.end_grace()
    }

    /// How the messages of connection `conn` (its `conn=`, from 1) are made.
    fn source(&self, conn: u32) -> Source<'_> {
        Source {
            writer: self.writer,
            encoder: self.encoder,
            conn,
            run: self.config.run,
        }
    }

    /// Runs each of `jobs` on a thread of its own, calling `progress` with the messages sent so
    /// far about every 100 ms until all are done; returns their results in order.
    fn run_watched<T: Send>(
        &self,
        jobs: impl IntoIterator<Item = impl FnOnce() -> T + Send>,
        progress: &mut impl FnMut(u64),
    ) -> Vec<T> {
        thread::scope(|scope| {
            let handles: Vec<_> = jobs.into_iter().map(|job| scope.spawn(job)).collect();
            while !handles.iter().all(|h| h.is_finished()) {
                progress(self.live.iter().map(|c| c.load(Ordering::Relaxed)).sum());
                thread::sleep(Duration::from_millis(100));
            }
            handles
                .into_iter()
                .map(|h| h.join().expect("a bench thread panicked"))
                .collect()
        })
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
    // Plain TCP is written without blocking, from a few threads.
    let mut streams = Vec::new();
    for _ in 0..config.connections {
        if config.protocol == Protocol::Tcp {
            let stream =
                NonBlockingTcp::connect(config.target).map_err(|source| LoadError::Connect {
                    addr: config.target,
                    source,
                })?;
            streams.push(stream);
        } else {
            sockets.push(connect().map_err(|e| LoadError::connect(config.target, e))?);
        }
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
    let live: Vec<AtomicU64> = (0..config.connections).map(|_| AtomicU64::new(0)).collect();
    let start = Instant::now();
    let load = Load {
        config: &config,
        writer: &writer,
        encoder: encoder.as_ref(),
        start,
        end: RunEnd {
            duration_end: match config.stop {
                Stop::Duration(d) => Some(start + d),
                Stop::Count(_) => None,
            },
            interrupt: config.interrupt.as_deref(),
            interrupted_at: OnceLock::new(),
        },
        live: &live,
    };
    let results = if config.protocol == Protocol::Tcp {
        multiplexed::run(&load, streams, &mut progress)
    } else {
        threaded::run(&load, sockets, &connect, &mut progress)
    };
    socket::finish_idle(idle);
    let interrupted = load.end.interrupted();
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
        interrupted,
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

/// The error of a connection left at the run's end because its receiver stopped reading:
/// `not_sent` messages of the write under way did not go out whole, of which those numbered
/// `cut` went out in part.
fn not_reading_error(not_sent: usize, cut: Option<RangeInclusive<u64>>) -> String {
    let cut = match cut {
        Some(seqs) if seqs.start() == seqs.end() => format!(" (seq {} cut short)", seqs.start()),
        Some(seqs) => format!(" (seq {}-{} cut short)", seqs.start(), seqs.end()),
        None => String::new(),
    };
    format!(
        "the run's time was up with the receiver not reading this connection: {not_sent} messages of the last write not sent{cut}"
    )
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
