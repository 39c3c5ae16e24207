//! Binding the sockets ([`super::bind`]) and running everything: accept loops for TCP and TLS
//! ([`super::accept`]), receive loops for UDP, the `--stats` ticker, the signal handler and
//! the writer.

use std::collections::HashMap;
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::AtomicBool;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::net::TcpListener;
use tokio::runtime::Runtime;
use tokio::sync::oneshot;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use super::accept::accept_loop;
use super::bind::{bind_tcp, bind_udp, check_not_taken, raise_open_file_limit, socket_inode};
use super::budget::{self, Budget};
use super::metrics::ListenMetrics;
use super::output::{EventSender, Writer};
use super::shared::Shared;
use super::shutdown::Signals;
use super::stats::{self, Counters, ListenSummary, Warnings};
use super::udp;
use super::{ListenError, ListenerConfig, Output, Protocol, tls};
use crate::ingest::{LineParser, ParseOptions};
use crate::transport::metrics::MetricsServer;

struct TcpBound {
    listener: std::net::TcpListener,
    addr: SocketAddr,
    tls: Option<TlsAcceptor>,
    /// RELP sessions instead of plain syslog streams.
    relp: bool,
}

struct UdpBound {
    socket: std::net::UdpSocket,
    addr: SocketAddr,
    /// SO_RCVBUF as the kernel reports it (twice what it grants for data).
    recv_buffer: usize,
}

/// Bound sockets, ready to run.
pub struct Listener {
    runtime: Runtime,
    signals: Signals,
    tcp: Vec<TcpBound>,
    udp: Vec<UdpBound>,
    /// Duplicates of the UDP sockets, kept open to the end so their kernel drop counters can
    /// still be read for the summary.
    udp_keep: Vec<std::net::UdpSocket>,
    udp_inodes: Arc<Vec<u64>>,
    writer: Writer,
    writer_done: oneshot::Receiver<()>,
    tx: EventSender,
    output: Output,
    shared: Arc<Shared>,
    tcp_parser: LineParser,
    udp_parser: LineParser,
    stats_interval: Option<Duration>,
    /// `--metrics`: serving from `bind` on; dropped when `run` returns.
    metrics: Option<MetricsServer>,
    shutdown_delay: Duration,
}

impl Listener {
    /// Opens the output, loads the TLS material and binds every address. Nothing is accepted
    /// until [`run`](Self::run), but the kernel already queues connections and datagrams, and
    /// SIGINT/SIGTERM are already caught.
    pub fn bind(config: ListenerConfig) -> Result<Listener, ListenError> {
        let tls_wanted = config.tls.is_empty() && config.relp_tls.is_empty();
        let acceptor = match (&config.tls_config, tls_wanted) {
            (Some(tls_config), false) => Some(TlsAcceptor::from(tls::server_config(tls_config)?)),
            (None, false) => {
                return Err(ListenError::TlsWithoutCertificate);
            }
            (_, true) => None,
        };
        let threads = match config.threads {
            0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
            n => n,
        };
        raise_open_file_limit();
        budget::return_freed_buffers_to_the_system();
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .thread_name("syslogkit-net")
            .enable_all()
            .build()
            .map_err(ListenError::Runtime)?;

        // One listening socket per worker on each TCP or TLS address (SO_REUSEPORT), each with
        // its own accept loop: the kernel spreads new connections over them.
        let mut tcp = Vec::new();
        let per_tcp_addr = threads;
        let plain = config.tcp.iter().map(|a| (*a, Protocol::Tcp));
        let tls_addrs = config.tls.iter().map(|a| (*a, Protocol::Tls));
        let relp = (config.relp.iter().map(|a| (*a, Protocol::Relp)))
            .chain(config.relp_tls.iter().map(|a| (*a, Protocol::RelpTls)));
        for (wanted, protocol) in plain.chain(tls_addrs).chain(relp) {
            let mut addr = wanted;
            if per_tcp_addr > 1 {
                check_not_taken(addr, true).map_err(|source| ListenError::Bind {
                    addr,
                    protocol,
                    source,
                })?;
            }
            for i in 0..per_tcp_addr {
                let listener = bind_tcp(addr, config.recv_buffer_size, per_tcp_addr > 1).map_err(
                    |source| ListenError::Bind {
                        addr,
                        protocol,
                        source,
                    },
                )?;
                if i == 0 {
                    // Port 0: the others join the port the kernel chose.
                    addr = listener.local_addr().map_err(ListenError::Runtime)?;
                }
                let tls = protocol.is_tls().then(|| acceptor.clone()).flatten();
                tcp.push(TcpBound {
                    listener,
                    addr,
                    tls,
                    relp: protocol.is_relp(),
                });
            }
        }
        let mut udp = Vec::new();
        let mut udp_keep = Vec::new();
        let mut udp_inodes = Vec::new();
        let per_addr = if config.reuse_port { threads } else { 1 };
        let udp_buffer = config.recv_buffer_size.unwrap_or(udp::DEFAULT_RECV_BUFFER);
        for &wanted in &config.udp {
            let mut addr = wanted;
            if config.reuse_port {
                check_not_taken(addr, false).map_err(|source| ListenError::Bind {
                    addr,
                    protocol: Protocol::Udp,
                    source,
                })?;
            }
            for i in 0..per_addr {
                let socket = bind_udp(addr, udp_buffer, config.reuse_port).map_err(|source| {
                    ListenError::Bind {
                        addr,
                        protocol: Protocol::Udp,
                        source,
                    }
                })?;
                if i == 0 {
                    // Port 0: the others join the port the kernel chose.
                    addr = socket.local_addr().map_err(ListenError::Runtime)?;
                }
                udp_inodes.extend(socket_inode(&socket));
                udp_keep.push(socket.try_clone().map_err(ListenError::Runtime)?);
                let recv_buffer = socket2::SockRef::from(&socket)
                    .recv_buffer_size()
                    .unwrap_or(0);
                udp.push(UdpBound {
                    socket,
                    addr,
                    recv_buffer,
                });
            }
        }

        let signals = {
            let _guard = runtime.enter();
            Signals::install().map_err(ListenError::Runtime)?
        };
        let parser = |default: &str| {
            let dataset = config.parse.dataset.clone().or(Some(default.to_string()));
            LineParser::new(ParseOptions {
                dataset,
                ..config.parse.clone()
            })
        };
        let shared = Arc::new(Shared {
            framing: config.framing.clone(),
            max_len: config.max_message_size,
            idle_timeout: config.idle_timeout,
            frame_timeout: config.frame_timeout,
            max_connections: config.max_connections as u64,
            max_connections_per_source: config.max_connections_per_source,
            per_source: Mutex::new(HashMap::new()),
            budget: Budget::new(config.max_buffered_bytes),
            counters: Counters::default(),
            warnings: Warnings::default(),
            token: CancellationToken::new(),
            draining: AtomicBool::new(false),
            proxy: config.proxy.clone(),
        });
        let (done_tx, writer_done) = oneshot::channel();
        let (writer, tx) = Writer::start(
            &config.output,
            config.on_output_error,
            shared.clone(),
            done_tx,
        )?;
        let udp_inodes = Arc::new(udp_inodes);
        let metrics = match config.metrics {
            None => None,
            Some(addr) => {
                let source = ListenMetrics {
                    shared: shared.clone(),
                    queue: tx.gauge(),
                    udp_inodes: udp_inodes.clone(),
                };
                Some(
                    MetricsServer::start(addr, Arc::new(source))
                        .map_err(|source| ListenError::Metrics { addr, source })?,
                )
            }
        };
        Ok(Listener {
            runtime,
            signals,
            tcp,
            udp,
            udp_keep,
            udp_inodes,
            writer,
            writer_done,
            tx,
            output: config.output.clone(),
            shared,
            tcp_parser: parser("tcp.generic"),
            udp_parser: parser("udp.generic"),
            stats_interval: config.stats_interval,
            metrics,
            shutdown_delay: config.shutdown_delay,
        })
    }

    /// The bound addresses, one per listener (UDP sockets sharing a port once).
    pub fn local_addrs(&self) -> Vec<(Protocol, SocketAddr)> {
        let mut addrs: Vec<(Protocol, SocketAddr)> = self
            .tcp
            .iter()
            .map(|t| {
                let protocol = match (t.tls.is_some(), t.relp) {
                    (true, false) => Protocol::Tls,
                    (false, false) => Protocol::Tcp,
                    (true, true) => Protocol::RelpTls,
                    (false, true) => Protocol::Relp,
                };
                (protocol, t.addr)
            })
            .collect();
        addrs.dedup();
        for u in &self.udp {
            if !addrs.contains(&(Protocol::Udp, u.addr)) {
                addrs.push((Protocol::Udp, u.addr));
            }
        }
        addrs
    }

    /// Where `--metrics` serves, once bound.
    pub fn metrics_addr(&self) -> Option<SocketAddr> {
        self.metrics.as_ref().map(MetricsServer::local_addr)
    }

    /// The receive buffer of each UDP address as the kernel reports it (SO_RCVBUF reads back
    /// twice what was granted for data, the other half being its bookkeeping).
    pub fn udp_recv_buffers(&self) -> Vec<(SocketAddr, usize)> {
        let mut buffers: Vec<(SocketAddr, usize)> = Vec::new();
        for u in &self.udp {
            if !buffers.iter().any(|(a, _)| *a == u.addr) {
                buffers.push((u.addr, u.recv_buffer));
            }
        }
        buffers
    }

    /// A token that stops the listener like SIGTERM does, for embedding and tests.
    pub fn shutdown_token(&self) -> CancellationToken {
        self.shared.token.clone()
    }

    /// Receives until SIGINT/SIGTERM (or the shutdown token), then drains every connection,
    /// flushes the output and returns the counters.
    pub fn run(self) -> Result<ListenSummary, ListenError> {
        let started = Instant::now();
        let Listener {
            runtime,
            signals,
            tcp,
            udp,
            udp_keep,
            udp_inodes,
            writer,
            writer_done,
            tx,
            output,
            shared,
            tcp_parser,
            udp_parser,
            stats_interval,
            metrics,
            shutdown_delay,
        } = self;
        let token = shared.token.clone();
        let inodes = udp_inodes;
        let mut udp_threads = Vec::new();
        for bound in udp {
            let parser = udp_parser.clone();
            let handle = runtime.handle().clone();
            match udp::spawn(bound.socket, parser, shared.clone(), tx.clone(), handle) {
                Ok(thread) => udp_threads.push(thread),
                Err(e) => shared.warnings.warn(|| format!("{}: {e}", bound.addr)),
            }
        }
        let pipe_closed = runtime.block_on(async {
            for bound in tcp {
                let listener = TcpListener::from_std(bound.listener);
                let (shared, tx) = (shared.clone(), tx.clone());
                match listener {
                    Ok(listener) => {
                        let parser = tcp_parser.clone();
                        let (tls, relp) = (bound.tls, bound.relp);
                        tokio::spawn(accept_loop(listener, tls, relp, parser, shared, tx));
                    }
                    Err(e) => shared.warnings.warn(|| format!("{}: {e}", bound.addr)),
                }
            }
            if let Some(interval) = stats_interval {
                tokio::spawn(stats_loop(
                    interval,
                    started,
                    shared.clone(),
                    inodes.clone(),
                ));
            }
            drop(tx);
            let watch_pipe = matches!(output, Output::Stdout);
            tokio::select! {
                () = signals.wait(token.clone(), &shared.draining, shutdown_delay) => false,
                _ = writer_done => {
                    token.cancel();
                    false
                }
                () = reader_gone(), if watch_pipe => {
                    token.cancel();
                    true
                }
            }
        });
        // The runtime's threads go on draining the connections, and the UDP readers take what
        // the kernel holds; the writer ends when the last of them has handed over its events.
        for thread in udp_threads {
            let _ = thread.join();
        }
        let written = writer.join();
        runtime.shutdown_timeout(Duration::from_secs(1));
        shared.warnings.flush();
        let summary = shared
            .counters
            .snapshot(started, stats::kernel_udp_drops(&inodes));
        drop(udp_keep);
        drop(metrics);
        // A reader that went away while nothing was written is noticed by the watch, not by a
        // failed write: it is the same broken output.
        let written = written.and_then(|()| match pipe_closed {
            #[cfg(unix)]
            true => Err(io::Error::from_raw_os_error(libc::EPIPE)),
            #[cfg(not(unix))]
            true => Err(io::Error::from(io::ErrorKind::BrokenPipe)),
            false => Ok(()),
        });
        written.map_err(|source| ListenError::Write {
            output,
            summary: Box::new(summary),
            source,
        })?;
        Ok(summary)
    }
}

/// How often an idle `listen` looks whether the reader of its stdout pipe is still there.
const PIPE_WATCH: Duration = Duration::from_millis(500);

/// Resolves once stdout is a pipe or socket whose reader has gone (`poll` says POLLERR or
/// POLLHUP on our end), so that `listen | sleep 15` stops when sleep does, not at the next
/// write, which may come much later. Never resolves for a file or a terminal.
async fn reader_gone() {
    #[cfg(unix)]
    {
        use std::os::fd::AsRawFd;
        let fd = io::stdout().as_raw_fd();
        // SAFETY: fstat fills the struct it is given.
        let mut stat: libc::stat = unsafe { std::mem::zeroed() };
        let is_stream = unsafe { libc::fstat(fd, &mut stat) } == 0
            && matches!(stat.st_mode & libc::S_IFMT, libc::S_IFIFO | libc::S_IFSOCK);
        if is_stream {
            loop {
                tokio::time::sleep(PIPE_WATCH).await;
                let mut pfd = libc::pollfd {
                    fd,
                    events: 0,
                    revents: 0,
                };
                // SAFETY: poll reads and writes the one pollfd given, without waiting.
                let ready = unsafe { libc::poll(&mut pfd, 1, 0) };
                if ready > 0 && pfd.revents & (libc::POLLERR | libc::POLLHUP) != 0 {
                    return;
                }
            }
        }
    }
    std::future::pending::<()>().await
}

async fn stats_loop(
    interval: Duration,
    started: Instant,
    shared: Arc<Shared>,
    inodes: Arc<Vec<u64>>,
) {
    let mut ticker = tokio::time::interval(interval);
    ticker.tick().await;
    let mut previous = shared.counters.snapshot(started, None);
    loop {
        tokio::select! {
            () = shared.token.cancelled() => return,
            _ = ticker.tick() => {}
        }
        let now = shared
            .counters
            .snapshot(started, stats::kernel_udp_drops(&inodes));
        eprintln!("{}", stats::interval_line(&now, &previous));
        previous = now;
    }
}
