//! `listen`: syslog over TCP, UDP and TLS in, one JSON event line per message out. The way in:
//! sockets here, frames from [`crate::framing`], events from [`crate::ingest`].
//!
//! - [`listener`]: binds the TCP, TLS and UDP sockets ([`Listener::bind`]), then runs the
//!   accept loops, the UDP receive loops and the writer until SIGINT/SIGTERM
//!   ([`Listener::run`]).
//! - [`bind`]: the sockets and their options (reuse, receive buffers), the open-file limit.
//! - [`accept`]: the accept loop: per-source limit, TLS handshake with its timeout, a task per
//!   connection.
//! - [`connection`]: one stream (TCP or TLS): read, cut into frames with
//!   [`crate::framing::FrameCodec`], turn each frame into an event with
//!   [`crate::ingest::LineParser`], hand batches of event lines to the writer.
//! - [`udp`]: a reader thread per UDP socket, datagrams in batches (recvmmsg), a large
//!   receive buffer by default.
//! - [`relp`]: one RELP session (TCP or TLS): frames from [`crate::framing::relp`], events
//!   like [`connection`]'s, each message acknowledged once its event is written.
//! - [`stream`]: which streams can say that data waits before a buffer is lent to them, and
//!   the read buffers lent.
//! - [`tls`]: the rustls server configuration (certificate, key, optional client CA for mutual
//!   TLS, minimum version) and the `tls.*` fields of a session.
//! - [`output`]: the one writer thread: large writes, flushed whenever the queue runs dry;
//!   whole lines only, a full output retried or fatal (`--on-output-error`), a broken one fatal.
//! - [`budget`]: the memory all connections may hold in unfinished messages
//!   (`--max-buffered-bytes`), and cutting the largest when it is spent.
//! - [`stats`]: counters, `--stats` lines, the final summary, rate-limited warnings, kernel
//!   UDP drop counts.
//! - [`shutdown`]: SIGINT/SIGTERM to a cancellation every task watches.
//! - [`metrics`]: `--metrics`: the counters for Prometheus, and `/health` for balancers.
//! - [`proxy`]: the PROXY header a balancer sends first, from trusted peers only.
//! - [`shared`]: what every task of one `listen` reads: the parser, limits, counters, warnings.
//!
//! Flow control: connections hand event batches to the writer through one bounded queue. When
//! the output cannot keep up the queue fills, TCP connections wait for room and stop reading,
//! so their senders' windows close; UDP cannot wait long, so a batch of datagrams that finds
//! no room within 100 ms is dropped and counted. A plain TCP connection takes its room in the
//! queue before it reads ([`stream`]), so one that waits holds nothing; a TLS connection reads
//! first and waits with one read and its events. Memory stays bounded by the queue, the read
//! buffers lent to the worker threads, one read per TLS connection, and `--max-buffered-bytes`
//! for the unfinished messages of all connections together ([`budget`]).

mod accept;
mod bind;
pub mod budget;
pub mod connection;
pub mod listener;
pub mod metrics;
pub mod output;
pub mod proxy;
pub mod relp;
pub mod shared;
pub mod shutdown;
pub mod stats;
pub mod stream;
pub mod tls;
pub mod udp;

use std::io;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::framing::{DEFAULT_MAX_MESSAGE_SIZE, Framing};
use crate::ingest::ParseOptions;

pub use crate::transport::Protocol;
pub use crate::transport::tls::TlsVersion;
pub use listener::Listener;
pub use output::OnOutputError;
pub use stats::ListenSummary;
pub use tls::TlsConfig;

/// The default address for TCP and UDP when none is given: loopback only, so that listening
/// on a network is always an explicit choice.
pub const DEFAULT_LISTEN_ADDR: &str = "127.0.0.1:5514";
/// The default `--max-connections`.
pub const DEFAULT_MAX_CONNECTIONS: usize = 10_000;
/// The default `--idle-timeout`, as Elastic's TCP input (`timeout: 300s`).
pub const DEFAULT_IDLE_TIMEOUT: Duration = Duration::from_secs(300);
/// The default `--frame-timeout`: a message begun must be finished within this long. Any
/// sender writes a message in one go; only a drip-feed takes a minute over one.
pub const DEFAULT_FRAME_TIMEOUT: Duration = Duration::from_secs(60);
/// The most `--max-buffered-bytes` defaults to, whatever the memory.
pub const MAX_DEFAULT_BUFFERED_BYTES: usize = 1 << 30;

/// Everything `listen` needs, free of the command line.
#[derive(Clone, Debug)]
pub struct ListenerConfig {
    pub tcp: Vec<SocketAddr>,
    pub udp: Vec<SocketAddr>,
    pub tls: Vec<SocketAddr>,
    /// RELP over TCP ([`relp`]).
    pub relp: Vec<SocketAddr>,
    /// RELP over TLS, with `tls_config`.
    pub relp_tls: Vec<SocketAddr>,
    /// Required when `tls` or `relp_tls` is not empty.
    pub tls_config: Option<TlsConfig>,
    /// Framing of TCP and TLS streams; UDP is one message per datagram.
    pub framing: Framing,
    pub max_message_size: usize,
    /// How messages become events. With `dataset` unset, TCP and TLS events get
    /// `tcp.generic` and UDP events `udp.generic`, as Elastic's integrations name them.
    pub parse: ParseOptions,
    pub output: Output,
    /// Connections beyond this many open ones are closed at once and counted.
    pub max_connections: usize,
    /// Connections from one IP address beyond this many open ones are closed at once and
    /// counted; `None`: no limit but `max_connections`.
    pub max_connections_per_source: Option<usize>,
    /// A connection that sends nothing for this long is closed; `None`: never.
    pub idle_timeout: Option<Duration>,
    /// A connection that holds part of a message this long without finishing it is closed
    /// (the part becomes an error event); `None`: never.
    pub frame_timeout: Option<Duration>,
    /// The most memory, in bytes, all connections together may hold in unfinished messages;
    /// beyond it the largest are cut into error events.
    pub max_buffered_bytes: usize,
    /// What to do when the output is full.
    pub on_output_error: OnOutputError,
    /// SO_RCVBUF for the sockets, in bytes; the kernel may double or cap it. `None`: the
    /// system's default for TCP, [`udp::DEFAULT_RECV_BUFFER`] for UDP.
    pub recv_buffer_size: Option<usize>,
    /// Open one UDP socket per worker thread on each UDP address (SO_REUSEPORT), so the kernel
    /// spreads datagrams over them.
    pub reuse_port: bool,
    /// Print counters on stderr this often.
    pub stats_interval: Option<Duration>,
    /// Runtime worker threads; 0: one per core.
    pub threads: usize,
    /// Read a PROXY header first on TCP and TLS connections (`--proxy-protocol`).
    pub proxy: Option<proxy::ProxyConfig>,
    /// Serve `/metrics` and `/health` over HTTP here (`--metrics`).
    pub metrics: Option<SocketAddr>,
    /// After SIGTERM, fail health checks but keep receiving this long, so that a balancer
    /// stops sending first (`--shutdown-delay`).
    pub shutdown_delay: Duration,
}

impl Default for ListenerConfig {
    fn default() -> Self {
        let addr: SocketAddr = DEFAULT_LISTEN_ADDR.parse().expect("valid default address");
        ListenerConfig {
            tcp: vec![addr],
            udp: vec![addr],
            tls: Vec::new(),
            relp: Vec::new(),
            relp_tls: Vec::new(),
            tls_config: None,
            framing: Framing::Auto,
            max_message_size: DEFAULT_MAX_MESSAGE_SIZE,
            parse: ParseOptions::default(),
            output: Output::Stdout,
            max_connections: DEFAULT_MAX_CONNECTIONS,
            max_connections_per_source: None,
            idle_timeout: Some(DEFAULT_IDLE_TIMEOUT),
            frame_timeout: Some(DEFAULT_FRAME_TIMEOUT),
            max_buffered_bytes: default_max_buffered_bytes(),
            on_output_error: OnOutputError::default(),
            recv_buffer_size: None,
            reuse_port: false,
            stats_interval: None,
            threads: 0,
            proxy: None,
            metrics: None,
            shutdown_delay: Duration::ZERO,
        }
    }
}

/// The default `--max-buffered-bytes`: an eighth of the memory, at most
/// [`MAX_DEFAULT_BUFFERED_BYTES`] (1 GiB where the memory cannot be read).
pub fn default_max_buffered_bytes() -> usize {
    let total = std::fs::read_to_string("/proc/meminfo").ok().and_then(|m| {
        let kib: u64 = m
            .lines()
            .find_map(|l| l.strip_prefix("MemTotal:"))?
            .trim()
            .strip_suffix("kB")?
            .trim()
            .parse()
            .ok()?;
        usize::try_from(kib.saturating_mul(1024)).ok()
    });
    total.map_or(MAX_DEFAULT_BUFFERED_BYTES, |t| {
        (t / 8).min(MAX_DEFAULT_BUFFERED_BYTES)
    })
}

/// Where the events go.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Output {
    Stdout,
    /// Created or truncated.
    File(PathBuf),
}

impl std::fmt::Display for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Output::Stdout => f.write_str("stdout"),
            Output::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// What stops `listen` from starting or running. Each error's own text says what failed and
/// what to do; the OS error, where there is one, is its `source` (printed after it once).
#[derive(Debug, thiserror::Error)]
pub enum ListenError {
    /// A socket could not be opened or bound.
    #[error("cannot listen on {addr}/{protocol}{}", bind_hint(*addr, *protocol, source))]
    Bind {
        addr: SocketAddr,
        protocol: Protocol,
        #[source]
        source: io::Error,
    },
    /// The TLS certificate, key or client CA could not be used.
    #[error(transparent)]
    Tls(#[from] tls::ServerTlsError),
    /// TLS addresses without a certificate and key.
    #[error("--tls needs a certificate and key: add --tls-cert FILE --tls-key FILE")]
    TlsWithoutCertificate,
    /// The output file could not be created.
    #[error("cannot create output file {}", path.display())]
    Output {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    /// Writing the events failed (a closed pipe, a full disk with `--on-output-error exit`):
    /// `listen` stopped, and `summary` says what was received and not written.
    #[error(
        "writing events to {output} failed, so listen stopped; {} of {} messages received were not written",
        summary.unwritten(),
        summary.messages()
    )]
    Write {
        output: Output,
        summary: Box<ListenSummary>,
        #[source]
        source: io::Error,
    },
    /// The `--metrics` endpoint could not be bound.
    #[error("cannot serve --metrics on {addr}")]
    Metrics {
        addr: SocketAddr,
        #[source]
        source: io::Error,
    },
    /// The async runtime or the signal handlers could not be set up.
    #[error("starting the network runtime")]
    Runtime(#[source] io::Error),
}

/// What to do about a bind error that has a usual cause; empty otherwise.
fn bind_hint(addr: SocketAddr, protocol: Protocol, source: &io::Error) -> String {
    let flag = match protocol {
        Protocol::Tcp => "--tcp",
        Protocol::Udp => "--udp",
        Protocol::Tls => "--tls",
        Protocol::Relp => "--relp",
        Protocol::RelpTls => "--relp-tls",
    };
    match source.kind() {
        io::ErrorKind::PermissionDenied if addr.port() < 1024 => format!(
            ": permission denied; ports below 1024 need root or CAP_NET_BIND_SERVICE, try {flag} {}",
            SocketAddr::new(addr.ip(), 5514)
        ),
        io::ErrorKind::AddrInUse => format!(
            ": address already in use; another program listens there (see `ss -lntup 'sport = :{}'`): stop it or pick another port",
            addr.port()
        ),
        io::ErrorKind::AddrNotAvailable => format!(
            ": no interface of this machine has address {}; use 127.0.0.1, [::1], 0.0.0.0 or [::]",
            addr.ip()
        ),
        _ => String::new(),
    }
}

/// Binds every socket of `config`, reports to `on_bound` the bound addresses (port 0 becomes
/// the port the kernel chose), the UDP receive buffers the kernel granted and where
/// `--metrics` serves, and receives until SIGINT or SIGTERM.
pub fn listen(
    config: ListenerConfig,
    on_bound: impl FnOnce(&[(Protocol, SocketAddr)], &[(SocketAddr, usize)], Option<SocketAddr>),
) -> Result<ListenSummary, ListenError> {
    let listener = Listener::bind(config)?;
    on_bound(
        &listener.local_addrs(),
        &listener.udp_recv_buffers(),
        listener.metrics_addr(),
    );
    listener.run()
}
