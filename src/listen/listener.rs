//! Binding the sockets and running everything: accept loops for TCP and TLS, receive loops
//! for UDP, the `--stats` ticker, the signal handler and the writer.

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::{Duration, Instant};

use futures_util::FutureExt;
use socket2::{Domain, Protocol as SockProtocol, Socket, Type};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::runtime::Runtime;
use tokio::sync::oneshot;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;

use super::output::{BATCH_BYTES, EventSender, Writer};
use super::shared::Shared;
use super::shutdown::Signals;
use super::stats::{self, Counters, ListenSummary, Warnings};
use super::{ListenError, ListenerConfig, Protocol, tls};
use super::{connection, relp};
use crate::ecs::{InputType, Peer, Received};
use crate::framing::Decoder;
use crate::ingest::{LineParser, Outcome, ParseOptions};
use crate::syslog::timestamp::Timestamp;

/// How long a TLS handshake may take before the connection is dropped (slowloris).
pub const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Pending connections the kernel queues for each TCP listener.
const LISTEN_BACKLOG: i32 = 4096;
/// Datagrams read in one go (without waiting) before their events are handed over.
const UDP_BATCH_DATAGRAMS: usize = 256;
/// How long a batch of datagrams waits for room in the writer's queue before it is dropped.
/// The first benchmark dropped 5 % of a 50,000 msg/s stream with no wait at all while the
/// file writer caught up; rsyslog blocks instead and lost none.
const UDP_QUEUE_WAIT: Duration = Duration::from_millis(100);
/// The largest UDP payload.
const UDP_MAX_DATAGRAM: usize = 65_536;

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
    udp_inodes: Vec<u64>,
    writer: Writer,
    writer_done: oneshot::Receiver<()>,
    tx: EventSender,
    shared: Arc<Shared>,
    tcp_parser: LineParser,
    udp_parser: LineParser,
    stats_interval: Option<Duration>,
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
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .thread_name("syslogkit-net")
            .enable_all()
            .build()
            .map_err(ListenError::Runtime)?;

        let mut tcp = Vec::new();
        let plain = config.tcp.iter().map(|a| (*a, Protocol::Tcp));
        let tls_addrs = config.tls.iter().map(|a| (*a, Protocol::Tls));
        let relp = (config.relp.iter().map(|a| (*a, Protocol::Relp)))
            .chain(config.relp_tls.iter().map(|a| (*a, Protocol::RelpTls)));
        for (addr, protocol) in plain.chain(tls_addrs).chain(relp) {
            let listener =
                bind_tcp(addr, config.recv_buffer_size).map_err(|source| ListenError::Bind {
                    addr,
                    protocol,
                    source,
                })?;
            let addr = listener.local_addr().map_err(ListenError::Runtime)?;
            let tls = protocol.is_tls().then(|| acceptor.clone()).flatten();
            tcp.push(TcpBound {
                listener,
                addr,
                tls,
                relp: protocol.is_relp(),
            });
        }
        let mut udp = Vec::new();
        let mut udp_keep = Vec::new();
        let mut udp_inodes = Vec::new();
        let per_addr = if config.reuse_port { threads } else { 1 };
        for &wanted in &config.udp {
            let mut addr = wanted;
            for i in 0..per_addr {
                let socket = bind_udp(addr, config.recv_buffer_size, config.reuse_port).map_err(
                    |source| ListenError::Bind {
                        addr,
                        protocol: Protocol::Udp,
                        source,
                    },
                )?;
                if i == 0 {
                    // Port 0: the others join the port the kernel chose.
                    addr = socket.local_addr().map_err(ListenError::Runtime)?;
                }
                udp_inodes.extend(socket_inode(&socket));
                udp_keep.push(socket.try_clone().map_err(ListenError::Runtime)?);
                udp.push(UdpBound { socket, addr });
            }
        }

        let signals = {
            let _guard = runtime.enter();
            Signals::install().map_err(ListenError::Runtime)?
        };
        let (done_tx, writer_done) = oneshot::channel();
        let (writer, tx) = Writer::start(&config.output, done_tx)?;
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
            max_connections: config.max_connections as u64,
            counters: Counters::default(),
            warnings: Warnings::default(),
            token: CancellationToken::new(),
        });
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
            shared,
            tcp_parser: parser("tcp.generic"),
            udp_parser: parser("udp.generic"),
            stats_interval: config.stats_interval,
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
        for u in &self.udp {
            if !addrs.contains(&(Protocol::Udp, u.addr)) {
                addrs.push((Protocol::Udp, u.addr));
            }
        }
        addrs
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
            shared,
            tcp_parser,
            udp_parser,
            stats_interval,
        } = self;
        let token = shared.token.clone();
        let inodes = Arc::new(udp_inodes);
        runtime.block_on(async {
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
            for bound in udp {
                match UdpSocket::from_std(bound.socket) {
                    Ok(socket) => {
                        let parser = udp_parser.clone();
                        tokio::spawn(udp_loop(socket, parser, shared.clone(), tx.clone()));
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
            tokio::select! {
                () = signals.wait(token.clone()) => {}
                _ = writer_done => token.cancel(),
            }
        });
        // The runtime's threads go on draining the connections; the writer ends when the
        // last of them has handed over its events.
        let written = writer.join();
        runtime.shutdown_timeout(Duration::from_secs(1));
        shared.warnings.flush();
        let summary = shared
            .counters
            .snapshot(started, stats::kernel_udp_drops(&inodes));
        drop(udp_keep);
        written.map_err(ListenError::Write)?;
        Ok(summary)
    }
}

fn bind_tcp(addr: SocketAddr, recv_buffer: Option<usize>) -> io::Result<std::net::TcpListener> {
    let socket = Socket::new(
        Domain::for_address(addr),
        Type::STREAM,
        Some(SockProtocol::TCP),
    )?;
    // Restarting `listen` must not wait for the old connections' TIME_WAIT; a port another
    // program listens on is still refused.
    socket.set_reuse_address(true)?;
    if let Some(size) = recv_buffer {
        socket.set_recv_buffer_size(size)?;
    }
    socket.bind(&addr.into())?;
    socket.listen(LISTEN_BACKLOG)?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

fn bind_udp(
    addr: SocketAddr,
    recv_buffer: Option<usize>,
    reuse_port: bool,
) -> io::Result<std::net::UdpSocket> {
    let socket = Socket::new(
        Domain::for_address(addr),
        Type::DGRAM,
        Some(SockProtocol::UDP),
    )?;
    #[cfg(all(unix, not(any(target_os = "solaris", target_os = "illumos"))))]
    if reuse_port {
        socket.set_reuse_port(true)?;
    }
    #[cfg(not(all(unix, not(any(target_os = "solaris", target_os = "illumos")))))]
    let _ = reuse_port;
    if let Some(size) = recv_buffer {
        socket.set_recv_buffer_size(size)?;
    }
    socket.bind(&addr.into())?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

/// The socket's inode, which `/proc/net/udp` lists it by.
fn socket_inode(socket: &std::net::UdpSocket) -> Option<u64> {
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::fs::MetadataExt;
        use std::os::unix::io::AsRawFd;
        std::fs::metadata(format!("/proc/self/fd/{}", socket.as_raw_fd()))
            .ok()
            .map(|m| m.ino())
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = socket;
        None
    }
}

/// Thousands of connections need thousands of descriptors: lift the soft limit to the hard
/// one, as servers do (the default soft limit is often 1024).
fn raise_open_file_limit() {
    #[cfg(unix)]
    // SAFETY: getrlimit/setrlimit only read and write the struct passed to them.
    unsafe {
        let mut limit = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 && limit.rlim_cur < limit.rlim_max
        {
            limit.rlim_cur = limit.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
        }
    }
}

/// Decrements the open-connection count when a connection task ends, however it ends.
struct OpenConnection(Arc<Shared>);

impl Drop for OpenConnection {
    fn drop(&mut self) {
        self.0.counters.open.fetch_sub(1, Relaxed);
    }
}

async fn accept_loop(
    listener: TcpListener,
    tls: Option<TlsAcceptor>,
    relp: bool,
    parser: LineParser,
    shared: Arc<Shared>,
    tx: EventSender,
) {
    let mut stopping = false;
    loop {
        let accepted = if stopping {
            // Connections the kernel completed before the signal were accepted by the sender's
            // account, and may hold data: take them too; they go straight to draining.
            match listener.accept().now_or_never() {
                Some(accepted) => accepted,
                None => break,
            }
        } else {
            tokio::select! {
                biased;
                () = shared.token.cancelled() => {
                    stopping = true;
                    continue;
                }
                accepted = listener.accept() => accepted,
            }
        };
        let (stream, addr) = match accepted {
            Ok(pair) => pair,
            Err(_) if stopping => break,
            Err(e) => {
                // Out of descriptors or memory: back off instead of spinning.
                shared
                    .warnings
                    .warn(|| format!("accepting a connection failed: {e}"));
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let counters = &shared.counters;
        if counters.open.load(Relaxed) >= shared.max_connections {
            Counters::add(&counters.refused, 1);
            let max = shared.max_connections;
            shared
                .warnings
                .warn(|| format!("{addr}: refused: --max-connections {max} connections are open"));
            drop(stream);
            continue;
        }
        counters.open.fetch_add(1, Relaxed);
        Counters::add(&counters.connections, 1);
        let guard = OpenConnection(shared.clone());
        let (shared, tx, tls, parser) = (shared.clone(), tx.clone(), tls.clone(), parser.clone());
        tokio::spawn(async move {
            let _guard = guard;
            match tls {
                None if relp => {
                    let peer = relp::peer(Peer::new(addr, InputType::Tcp, None));
                    relp::serve(stream, peer, parser, shared, tx).await;
                }
                None => {
                    let peer = Peer::new(addr, InputType::Tcp, None);
                    connection::serve(stream, peer, parser, shared, tx).await;
                }
                Some(acceptor) => serve_tls(acceptor, stream, addr, relp, parser, shared, tx).await,
            }
        });
    }
}

async fn serve_tls(
    acceptor: TlsAcceptor,
    stream: TcpStream,
    addr: SocketAddr,
    relp: bool,
    parser: LineParser,
    shared: Arc<Shared>,
    tx: EventSender,
) {
    let handshake = tokio::select! {
        biased;
        () = shared.token.cancelled() => return,
        r = tokio::time::timeout(TLS_HANDSHAKE_TIMEOUT, acceptor.accept(stream)) => r,
    };
    let stream = match handshake {
        Ok(Ok(stream)) => stream,
        Ok(Err(e)) => {
            Counters::add(&shared.counters.tls_failed, 1);
            shared
                .warnings
                .warn(|| format!("{addr}: TLS handshake failed: {e}"));
            return;
        }
        Err(_) => {
            Counters::add(&shared.counters.tls_failed, 1);
            shared.warnings.warn(|| {
                format!(
                    "{addr}: TLS handshake not done after {} s, closing",
                    TLS_HANDSHAKE_TIMEOUT.as_secs()
                )
            });
            return;
        }
    };
    let session = tls::session(stream.get_ref().1);
    let peer = Peer::new(addr, InputType::Tcp, Some(session));
    if relp {
        relp::serve(stream, relp::peer(peer), parser, shared, tx).await;
    } else {
        connection::serve(stream, peer, parser, shared, tx).await;
    }
}

/// Reads datagrams, one message each. A batch waits at most [`UDP_QUEUE_WAIT`] for room in
/// the writer's queue (the socket's receive buffer holds what arrives meanwhile), then is
/// dropped and counted: a stalled output must not stall UDP forever.
async fn udp_loop(socket: UdpSocket, parser: LineParser, shared: Arc<Shared>, tx: EventSender) {
    let decoder = Decoder::new(&shared.framing, shared.max_len);
    let mut buf = vec![0u8; UDP_MAX_DATAGRAM];
    let mut batch = Vec::new();
    let mut peer: Option<Peer> = None;
    let counters = &shared.counters;
    loop {
        let first = tokio::select! {
            biased;
            () = shared.token.cancelled() => break,
            r = socket.recv_from(&mut buf) => r,
        };
        let mut datagrams = 0u64;
        let mut next = first;
        tx.prepare(&mut batch);
        loop {
            match next {
                Ok((n, addr)) => {
                    datagrams += 1;
                    Counters::add(&counters.bytes, n as u64);
                    let peer = match &mut peer {
                        Some(p) if p.addr == addr => p,
                        slot => slot.insert(Peer::new(addr, InputType::Udp, None)),
                    };
                    let received = Received {
                        peer,
                        created: Timestamp::now(),
                    };
                    let decoded = decoder.decode_datagram(&buf[..n]);
                    if decoded.defect().is_some() {
                        Counters::add(&counters.frame_errors, 1);
                    }
                    let outcome = parser.write_received(
                        &decoded,
                        shared.max_len,
                        Some(&received),
                        &mut batch,
                    );
                    if outcome == Outcome::Failed {
                        Counters::add(&counters.parse_errors, 1);
                    }
                }
                // ICMP port unreachable from an earlier reply and the like: not ours to fix.
                Err(ref e) if e.kind() != io::ErrorKind::WouldBlock => {}
                Err(_) => break,
            }
            if datagrams as usize >= UDP_BATCH_DATAGRAMS || batch.len() >= BATCH_BYTES {
                break;
            }
            next = socket.try_recv_from(&mut buf);
        }
        if batch.is_empty() {
            continue;
        }
        match tokio::time::timeout(UDP_QUEUE_WAIT, tx.send(&mut batch)).await {
            Ok(Ok(())) => Counters::add(&counters.udp_messages, datagrams),
            Ok(Err(_)) => return,
            Err(_) => {
                batch.clear();
                Counters::add(&counters.udp_dropped, datagrams);
            }
        }
    }
    // Shutdown: what the kernel already holds was delivered to us; take it all, waiting for
    // room in the queue this time.
    loop {
        let mut datagrams = 0;
        while let Ok((n, addr)) = socket.try_recv_from(&mut buf) {
            datagrams += 1;
            Counters::add(&counters.bytes, n as u64);
            let peer = Peer::new(addr, InputType::Udp, None);
            let received = Received {
                peer: &peer,
                created: Timestamp::now(),
            };
            let decoded = decoder.decode_datagram(&buf[..n]);
            if parser.write_received(&decoded, shared.max_len, Some(&received), &mut batch)
                == Outcome::Failed
            {
                Counters::add(&counters.parse_errors, 1);
            }
            if batch.len() >= BATCH_BYTES {
                break;
            }
        }
        if datagrams == 0 {
            break;
        }
        Counters::add(&counters.udp_messages, datagrams);
        if tx.send(&mut batch).await.is_err() {
            return;
        }
    }
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
