//! One connection of `send` to one receiver address, non-blocking: opening it (a TCP connect,
//! the TLS handshake, a connected UDP socket), checking that the peer has not closed it before
//! writing into it, writing what the socket takes, and closing it so that a receiver that did
//! not read everything is noticed; and the texts of the errors on the way.
//!
//! `bench`'s blocking sockets ([`crate::loadgen`]) are opened and closed with the same pieces:
//! [`connect_tcp`], [`udp_socket`], [`tls_session`] and [`handshake`], [`send_close`] and
//! [`await_close`], so that both speak TLS and end connections the same way.
//!
//! When to do each (polling, retries, which messages go where) is [`super::sender`]'s job; the
//! rustls configuration is [`super::tls`]'s.

use std::io::{self, ErrorKind, Read, Write};
use std::net::{SocketAddr, TcpStream, UdpSocket};
use std::os::fd::{AsFd, BorrowedFd};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::ClientConnection;
use rustls::pki_types::ServerName;
use socket2::{Domain, Socket, Type};

use super::tls as tls_client;
use crate::framing::proxy::{self, ProxyVersion};
use crate::transport::Protocol;
use crate::transport::socket::unacknowledged;

/// Plaintext handed to rustls at a time before its records are written out.
const TLS_CHUNK_BYTES: usize = 64 * 1024;

/// The state of one destination's connection.
pub enum Conn {
    Down,
    /// A TCP connect in progress, and when it started.
    Connecting(Socket, Instant),
    Tcp(TcpStream),
    /// TLS over TCP, and when the TCP connection started (the handshake shares its timeout).
    Tls(TcpStream, Box<ClientConnection>, Instant),
    Udp(UdpSocket),
}

impl Conn {
    /// Connected, and for TLS with the handshake done: messages can be written.
    pub fn ready(&self) -> bool {
        match self {
            Conn::Tcp(_) | Conn::Udp(_) => true,
            Conn::Tls(_, tls, _) => !tls.is_handshaking(),
            _ => false,
        }
    }

    pub fn is_down(&self) -> bool {
        matches!(self, Conn::Down)
    }

    /// A TCP connect or a TLS session (handshaking or not) on the way.
    pub fn is_pending_or_tls(&self) -> bool {
        matches!(self, Conn::Connecting(..) | Conn::Tls(..))
    }

    /// rustls holds records not yet written to the socket.
    pub fn tls_pending(&self) -> bool {
        matches!(self, Conn::Tls(_, tls, _) if tls.wants_write())
    }

    /// The socket, to poll.
    pub fn fd(&self) -> Option<BorrowedFd<'_>> {
        match self {
            Conn::Down => None,
            Conn::Connecting(s, _) => Some(s.as_fd()),
            Conn::Tcp(s) | Conn::Tls(s, _, _) => Some(s.as_fd()),
            Conn::Udp(s) => Some(s.as_fd()),
        }
    }

    /// Drops the connection (a plain close).
    pub fn close(&mut self) {
        *self = Conn::Down;
    }

    /// Makes the next close a reset, so that nothing written and not yet read trickles in
    /// later.
    pub fn reset_on_close(&self) {
        if let Conn::Tcp(s) | Conn::Tls(s, _, _) = self {
            let _ = socket2::SockRef::from(s).set_linger(Some(Duration::ZERO));
        }
    }
}

/// Starts a connection to `addr`: a connected UDP socket at once, or a non-blocking TCP
/// connect ([`Conn::Connecting`]) to be finished by [`established`] once it is writable.
pub fn open(addr: SocketAddr, protocol: Protocol, now: Instant) -> Result<Conn, String> {
    if protocol == Protocol::Udp {
        return udp_socket(addr)
            .map(Conn::Udp)
            .map_err(|e| format!("cannot open a UDP socket: {e}"));
    }
    let socket = Socket::new(Domain::for_address(addr), Type::STREAM, None)
        .and_then(|s| s.set_nonblocking(true).map(|()| s))
        .map_err(|e| format!("cannot open a socket: {e}"))?;
    start_connect(&socket, addr).map_err(|e| connect_error(&e))?;
    Ok(Conn::Connecting(socket, now))
}

/// Starts a non-blocking `socket`'s connect to `addr`: done or under way (it turns writable
/// when finished), or the error the kernel gave at once (over loopback a refusal often is).
pub fn start_connect(socket: &Socket, addr: SocketAddr) -> io::Result<()> {
    match socket.connect(&addr.into()) {
        Err(e) if rustix::io::Errno::from_io_error(&e) != Some(rustix::io::Errno::INPROGRESS) => {
            Err(e)
        }
        _ => Ok(()),
    }
}

/// How to start TLS on a connection: the client configuration and the server name.
pub struct TlsStart<'a> {
    pub config: Arc<rustls::ClientConfig>,
    pub server_name: &'a str,
}

/// A TCP connect that the poll reported done: its error, or the stream, with a TLS session
/// started when `tls` says so (the handshake is then driven by [`drive_tls`]).
pub fn established(
    socket: Socket,
    since: Instant,
    tls: Option<TlsStart<'_>>,
    proxy_header: Option<ProxyVersion>,
) -> Result<Conn, String> {
    match socket.take_error() {
        Ok(None) => {}
        Ok(Some(e)) | Err(e) => return Err(connect_error(&e)),
    }
    let stream: TcpStream = socket.into();
    let _ = stream.set_nodelay(true);
    if let Some(version) = proxy_header {
        write_proxy_header(&stream, version)
            .map_err(|e| format!("writing the PROXY header: {e}"))?;
    }
    let Some(tls) = tls else {
        return Ok(Conn::Tcp(stream));
    };
    let name = tls_client::server_name(tls.server_name).map_err(|e| e.to_string())?;
    let session = tls_session(tls.config, name).map_err(|e| e.to_string())?;
    Ok(Conn::Tls(stream, Box::new(session), since))
}

/// Writes a PROXY header naming the connection's own endpoints, before anything else (TLS
/// included). A fresh socket's send buffer takes its at most 52 bytes at once.
pub fn write_proxy_header(stream: &TcpStream, version: ProxyVersion) -> io::Result<()> {
    let (source, destination) = (stream.local_addr()?, stream.peer_addr()?);
    let mut header = Vec::with_capacity(64);
    proxy::write(version, source, destination, &mut header);
    let mut stream = stream;
    stream.write_all(&header)
}

/// A UDP socket connected to `addr`, bound to any local port of its family.
pub fn udp_socket(addr: SocketAddr) -> io::Result<UdpSocket> {
    let bind: SocketAddr = if addr.is_ipv4() {
        "0.0.0.0:0".parse().expect("valid")
    } else {
        "[::]:0".parse().expect("valid")
    };
    let socket = UdpSocket::bind(bind)?;
    socket.connect(addr)?;
    Ok(socket)
}

/// A blocking TCP connection made within `timeout`, with Nagle's delay off (messages go out
/// as they are written), for `bench`.
pub fn connect_tcp(addr: SocketAddr, timeout: Duration) -> io::Result<TcpStream> {
    let stream = TcpStream::connect_timeout(&addr, timeout)?;
    stream.set_nodelay(true)?;
    Ok(stream)
}

/// A client session for `server_name` (SNI, and the name the certificate must carry).
pub fn tls_session(
    config: Arc<rustls::ClientConfig>,
    server_name: ServerName<'static>,
) -> Result<ClientConnection, rustls::Error> {
    ClientConnection::new(config, server_name)
}

/// Completes a TLS handshake on a blocking stream within `timeout`. `Ok(false)`: the
/// receiver did not answer in time (it may not speak TLS); an error is explained
/// ([`tls_client::handshake_error`]). Leaves the stream's timeouts unset.
pub fn handshake(
    stream: &mut TcpStream,
    tls: &mut ClientConnection,
    timeout: Duration,
) -> Result<bool, String> {
    let deadline = Instant::now() + timeout;
    let set = |stream: &TcpStream, t: Option<Duration>| {
        stream
            .set_read_timeout(t)
            .and_then(|()| stream.set_write_timeout(t))
            .map_err(|e| format!("cannot set a timeout: {e}"))
    };
    let result = loop {
        if !tls.is_handshaking() {
            // rustls may hold the client's last flight (TLS 1.3 Finished) after the handshake
            // is done on its side: the receiver's is not done until it has it.
            let flushed = (|| {
                while tls.wants_write() {
                    tls.write_tls(stream)?;
                }
                Ok(())
            })();
            break flushed
                .map(|()| true)
                .map_err(|e| tls_client::handshake_error(&e));
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            break Ok(false);
        }
        // Each blocking read or write waits at most what is left; one that times out is no
        // progress, and the deadline decides.
        set(stream, Some(left))?;
        if let Err(e) = drive_tls(stream, tls) {
            break Err(e);
        }
    };
    set(stream, None)?;
    result
}

/// One datagram; a refusal reported by ICMP for an earlier datagram makes the send fail, so
/// this one is sent again once: UDP has no other way to know.
pub fn send_datagram(socket: &UdpSocket, framed: &[u8]) -> io::Result<()> {
    socket
        .send(framed)
        .or_else(|_| socket.send(framed))
        .map(|_| ())
}

/// Writes as much of `bytes` as the connection takes now, and says how much that was; an
/// error ends the connection. With TLS, bytes count as written once rustls has them; what it
/// has not yet written goes out on the next call.
pub fn write(conn: &mut Conn, bytes: &[u8]) -> (usize, io::Result<()>) {
    match conn {
        Conn::Tcp(stream) => match write_some(stream, bytes) {
            Ok(n) => (n, Ok(())),
            Err(e) => (0, Err(e)),
        },
        Conn::Tls(stream, tls, _) => write_tls(stream, tls, bytes),
        _ => (0, Ok(())),
    }
}

/// Hands rustls at most what it will buffer, then writes its records out.
fn write_tls(
    stream: &mut TcpStream,
    tls: &mut ClientConnection,
    bytes: &[u8],
) -> (usize, io::Result<()>) {
    let mut done = 0;
    loop {
        if done < bytes.len() && tls.wants_write() && pending_tls(tls) > TLS_CHUNK_BYTES {
            // Its buffer is full enough: write records first.
        } else if done < bytes.len() {
            let end = (done + TLS_CHUNK_BYTES).min(bytes.len());
            if let Err(e) = tls.writer().write_all(&bytes[done..end]) {
                return (done, Err(e));
            }
            done = end;
        }
        if !tls.wants_write() {
            if done == bytes.len() {
                return (done, Ok(()));
            }
            continue;
        }
        match tls.write_tls(stream) {
            Ok(_) => {}
            Err(e) if e.kind() == ErrorKind::WouldBlock => return (done, Ok(())),
            Err(e) => return (done, Err(e)),
        }
    }
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
pub fn check_peer(conn: &mut Conn) -> Result<(), String> {
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
pub fn close_cleanly(conn: &mut Conn, linger: Duration, stall: Duration) -> Result<(), String> {
    let result = close_and_wait(conn, linger, stall);
    if result.is_err() {
        // What the receiver did not take counts as not delivered: make sure it is not
        // delivered later either.
        conn.reset_on_close();
    }
    conn.close();
    result
}

fn close_and_wait(conn: &mut Conn, linger: Duration, stall: Duration) -> Result<(), String> {
    let (stream, mut tls) = match conn {
        Conn::Tcp(stream) => (stream, None),
        Conn::Tls(stream, tls, _) => (stream, Some(&mut **tls)),
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
    send_close(stream, tls.as_deref_mut(), linger)?;
    await_close(stream, tls, deadline, stall)
}

/// Ends this side of a stream: TLS close_notify, then FIN. The stream is blocking from here
/// on, each write waiting at most `timeout`.
pub fn send_close(
    stream: &mut TcpStream,
    tls: Option<&mut ClientConnection>,
    timeout: Duration,
) -> Result<(), String> {
    let io = |e: io::Error| reset_reason(&e);
    stream.set_nonblocking(false).map_err(io)?;
    stream.set_write_timeout(Some(timeout)).map_err(io)?;
    if let Some(tls) = tls {
        tls.send_close_notify();
        while tls.wants_write() {
            tls.write_tls(stream).map_err(io)?;
        }
    }
    stream.shutdown(std::net::Shutdown::Write).map_err(io)
}

/// After [`send_close`], waits until the receiver closes its end in turn, having read
/// everything: a reset or a TLS alert is an error. At `deadline`, one that keeps its end open
/// is given the benefit of the doubt once its kernel has acknowledged every byte, and is
/// waited for while it still takes them; one that takes nothing for `stall` has stopped
/// reading. What the receiver sends meanwhile (TLS session tickets) is read, so that closing
/// does not reset the connection under data it has not read yet.
pub fn await_close(
    stream: &mut TcpStream,
    mut tls: Option<&mut ClientConnection>,
    deadline: Instant,
    stall: Duration,
) -> Result<(), String> {
    let io = |e: io::Error| reset_reason(&e);
    let mut buf = [0u8; 4096];
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

/// Moves a handshake forward as far as the socket allows; the error is explained
/// ([`tls_client::handshake_error`]).
pub fn drive_tls(stream: &mut TcpStream, tls: &mut ClientConnection) -> Result<(), String> {
    drive_handshake(stream, tls).map_err(|e| tls_client::handshake_error(&e))
}

fn drive_handshake(stream: &mut TcpStream, tls: &mut ClientConnection) -> io::Result<()> {
    loop {
        let mut progressed = false;
        while tls.wants_write() {
            match tls.write_tls(stream) {
                Ok(_) => progressed = true,
                Err(e) if would_block(&e) => break,
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
                // Nothing to read yet: the caller waits (poll, or a blocking stream's
                // timeout) and comes back.
                Err(e) if would_block(&e) => return Ok(()),
                Err(e) => return Err(e),
            }
        }
        if !progressed || !tls.is_handshaking() {
            return Ok(());
        }
    }
}

/// A non-blocking socket that cannot go on now, or a blocking one whose timeout ran out.
fn would_block(e: &io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
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

#[cfg(test)]
mod tests {
    use std::net::TcpListener;
    use std::thread;

    use super::*;
    use crate::send::tls::{TlsOptions, client_config};

    /// A non-blocking connection to a fresh listener, and the listener.
    fn connected() -> (Conn, TcpListener) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let stream = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        stream.set_nonblocking(true).unwrap();
        (Conn::Tcp(stream), listener)
    }

    #[test]
    fn check_peer_notices_a_receiver_that_closed() {
        let (mut conn, listener) = connected();
        assert_eq!(check_peer(&mut conn), Ok(()));
        drop(listener.accept().unwrap());
        let deadline = Instant::now() + Duration::from_secs(5);
        let result = loop {
            match check_peer(&mut conn) {
                Ok(()) if Instant::now() < deadline => thread::sleep(Duration::from_millis(5)),
                other => break other,
            }
        };
        assert_eq!(result, Err("the receiver closed the connection".into()));
    }

    #[test]
    fn a_receiver_that_reads_everything_and_closes_is_a_clean_close() {
        let (mut conn, listener) = connected();
        let receiver = thread::spawn(move || {
            let mut got = Vec::new();
            listener.accept().unwrap().0.read_to_end(&mut got).unwrap();
            got
        });
        let (n, result) = write(&mut conn, b"hello\n");
        assert_eq!((n, result.is_ok()), (6, true));
        let wait = Duration::from_secs(5);
        assert_eq!(close_cleanly(&mut conn, wait, wait), Ok(()));
        assert!(conn.is_down());
        assert_eq!(receiver.join().unwrap(), b"hello\n");
    }

    #[test]
    fn a_receiver_that_closed_first_is_reported_at_the_end() {
        let (mut conn, listener) = connected();
        drop(listener.accept().unwrap());
        // Let its FIN arrive.
        thread::sleep(Duration::from_millis(50));
        let wait = Duration::from_secs(1);
        let e = close_cleanly(&mut conn, wait, wait).unwrap_err();
        assert_eq!(
            e,
            "the receiver closed the connection before send had finished"
        );
    }

    #[test]
    fn a_tls_handshake_with_a_silent_receiver_ends_without_an_error_at_the_timeout() {
        let tls = client_config(&TlsOptions {
            insecure: true,
            ..TlsOptions::default()
        })
        .unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap();
        let mut stream = connect_tcp(addr, Duration::from_secs(5)).unwrap();
        let _silent = listener.accept().unwrap();
        let name = ServerName::try_from("localhost").unwrap();
        let mut session = tls_session(tls.config, name).unwrap();
        let timeout = Duration::from_millis(200);
        assert_eq!(handshake(&mut stream, &mut session, timeout), Ok(false));
        // The stream is left as it was found: blocking, without timeouts.
        assert_eq!(stream.read_timeout().unwrap(), None);
    }
}
