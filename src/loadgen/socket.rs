//! The sockets `bench` writes to: blocking TCP and UDP, and TLS over TCP. They are opened and
//! closed by `send`'s connection code ([`crate::send::connection`]: the connect, the rustls
//! session and its handshake errors, close_notify and the wait for the receiver's close), so
//! both speak to receivers the same way; what is `bench`'s own is measuring. Writes here are
//! blocking and count exactly what went out; on Linux, a TCP socket also tells how many of the
//! bytes written its peer acknowledged (`TCP_INFO.tcpi_bytes_acked`), which survives a reset.
//! Over TLS that count is of encrypted bytes (records, handshake), which do not map onto
//! messages, so TLS sockets do not say. UDP batches use segmentation offload (GSO).
//! [`nonblocking`] has the same for plain TCP without blocking, for the multiplexed load.

use std::fmt;
use std::io::{self, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, UdpSocket};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::ClientConnection;
use rustls::pki_types::ServerName;

use crate::send::connection;
use crate::transport::socket::{bytes_acked as tcp_bytes_acked, gso_refused, set_udp_segment};

pub mod nonblocking;

/// How long a connection attempt may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a finished TCP connection waits for its peer to acknowledge what was written.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

/// Plaintext bytes handed to rustls at a time: one record's worth, written out before the
/// next, so that after an error the bytes that went out are known to a record.
const TLS_RECORD_BYTES: usize = 16 * 1024;

/// How often a TLS write that the receiver does not take looks whether to give up.
const BLOCKED_WRITE_CHECK: Duration = Duration::from_millis(100);

/// How a [`Socket::write_stream`] ended.
#[derive(Debug)]
pub enum WriteEnd {
    /// All of it went out.
    Done,
    /// The connection failed.
    Failed(io::Error),
    /// The receiver took nothing until `give_up` (TLS only). `partly`: the end of the bytes
    /// whose TLS record went out in part, so that the receiver cannot read them (the count
    /// written when none did).
    GaveUp { partly: usize },
}

/// How to speak TLS to the receiver: the client configuration from the `--tls-*` options and
/// the name its certificate must carry.
#[derive(Clone, Debug)]
pub struct TlsClient {
    pub config: Arc<rustls::ClientConfig>,
    pub server_name: ServerName<'static>,
}

/// Why a connection could not be opened.
#[derive(Debug)]
pub enum ConnectError {
    /// The TCP connection: refused, timed out, unreachable.
    Connect(io::Error),
    /// The TLS handshake, explained ([`crate::send::tls::handshake_error`]).
    Handshake(String),
}

impl fmt::Display for ConnectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConnectError::Connect(e) => write!(f, "{e}"),
            ConnectError::Handshake(reason) => f.write_str(reason),
        }
    }
}

pub enum Socket {
    Tcp(TcpStream),
    Tls(TcpStream, Box<ClientConnection>),
    Udp(Udp),
}

/// What [`Socket::send_datagrams`] did.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Datagrams {
    pub datagrams: u64,
    pub bytes: u64,
    /// Datagrams the kernel refused (e.g. no receiver: connection refused).
    pub errors: u64,
}

impl Datagrams {
    fn add(&mut self, datagrams: u64, bytes: u64) {
        self.datagrams += datagrams;
        self.bytes += bytes;
    }
}

/// Datagrams one GSO `send` carries at most (the kernel's `UDP_MAX_SEGMENTS` of Linux 4.18).
const GSO_SEGMENTS: usize = 64;
/// Bytes one GSO `send` carries at most: what fits in one IP packet's length field.
const GSO_MAX_BYTES: usize = 65_000;
/// `gso_size` when segmentation offload is unavailable.
const GSO_OFF: usize = usize::MAX;

/// A connected UDP socket and the segment size set on it for GSO (0: none yet).
pub struct Udp {
    socket: UdpSocket,
    gso_size: usize,
}

impl Udp {
    /// Sets the GSO segment size to `size` unless it is already; false where GSO is off.
    fn gso(&mut self, size: usize) -> bool {
        if self.gso_size == GSO_OFF {
            return false;
        }
        if self.gso_size != size {
            if set_udp_segment(&self.socket, size).is_err() {
                self.gso_size = GSO_OFF;
                return false;
            }
            self.gso_size = size;
        }
        true
    }

    /// One datagram, whatever the GSO segment size (one no longer than it is sent whole).
    fn send_one(&mut self, message: &[u8]) -> io::Result<()> {
        if self.gso_size != 0 && self.gso_size != GSO_OFF && message.len() > self.gso_size {
            // A longer one would be cut: clear the segment size first.
            if set_udp_segment(&self.socket, 0).is_err() {
                self.gso_size = GSO_OFF;
            } else {
                self.gso_size = 0;
            }
        }
        self.socket.send(message).map(|_| ())
    }
}

impl Socket {
    pub fn connect_tcp(addr: SocketAddr) -> io::Result<Socket> {
        Ok(Socket::Tcp(connection::connect_tcp(addr, CONNECT_TIMEOUT)?))
    }

    /// A TCP connection and a completed TLS handshake, both within [`CONNECT_TIMEOUT`] each.
    pub fn connect_tls(addr: SocketAddr, tls: &TlsClient) -> Result<Socket, ConnectError> {
        let mut stream =
            connection::connect_tcp(addr, CONNECT_TIMEOUT).map_err(ConnectError::Connect)?;
        let mut session = connection::tls_session(tls.config.clone(), tls.server_name.clone())
            .map_err(|e| ConnectError::Handshake(format!("TLS: {e}")))?;
        if !connection::handshake(&mut stream, &mut session, CONNECT_TIMEOUT)
            .map_err(ConnectError::Handshake)?
        {
            return Err(ConnectError::Handshake(format!(
                "TLS handshake failed: no answer within {}s; is {addr} a TLS receiver (not plain TCP)?",
                CONNECT_TIMEOUT.as_secs()
            )));
        }
        Ok(Socket::Tls(stream, Box::new(session)))
    }

    pub fn connect_udp(addr: SocketAddr) -> io::Result<Socket> {
        Ok(Socket::Udp(Udp {
            socket: connection::udp_socket(addr)?,
            gso_size: 0,
        }))
    }

    /// Writes as much of `buf` as the socket takes and returns how much that was, with how
    /// the write ended, so that the caller knows exactly what went out. `give_up`: when a TLS
    /// write that the receiver stopped taking is abandoned ([`WriteEnd::GaveUp`]), asked again
    /// each time the write has waited [`BLOCKED_WRITE_CHECK`] (an interrupt can bring it
    /// forward); a plain TCP write here always blocks until it is taken or fails.
    // `write` rather than `write_all`: on an error, write_all does not say how much of the
    // batch went out, and the count of messages sent must be exact. Short writes loop.
    #[allow(clippy::disallowed_methods)]
    pub fn write_stream(
        &mut self,
        buf: &[u8],
        give_up: impl Fn() -> Option<Instant>,
    ) -> (usize, WriteEnd) {
        let stream = match self {
            Socket::Tcp(stream) => stream,
            Socket::Tls(stream, tls) => return write_tls(stream, tls, buf, give_up),
            Socket::Udp(_) => unreachable!("stream writes on a TCP or TLS socket only"),
        };
        let mut written = 0;
        while written < buf.len() {
            match stream.write(&buf[written..]) {
                Ok(0) => {
                    return (
                        written,
                        WriteEnd::Failed(io::Error::new(
                            io::ErrorKind::WriteZero,
                            "peer took nothing",
                        )),
                    );
                }
                Ok(n) => written += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return (written, WriteEnd::Failed(e)),
            }
        }
        (written, WriteEnd::Done)
    }

    /// One datagram.
    /// Sends the messages laid end to end in `buf` (message `i` ends at `ends[i]`), one
    /// datagram each. On Linux, runs of messages of one size go out up to [`GSO_SEGMENTS`] per
    /// `send` with UDP generic segmentation offload: the kernel cuts them into separate
    /// datagrams, so the receiver sees exactly what one `send` each would give, at a fraction
    /// of the per-datagram cost. Where the kernel refuses it, one `send` a message.
    pub fn send_datagrams(&mut self, buf: &[u8], ends: &[usize]) -> Datagrams {
        let Socket::Udp(udp) = self else {
            unreachable!("datagrams on a UDP socket only")
        };
        let mut sent = Datagrams::default();
        let mut start = 0;
        let mut i = 0;
        while i < ends.len() {
            let size = ends[i] - start;
            // The longest run of messages of this size that one send may carry.
            let mut run = 1;
            while i + run < ends.len()
                && run < GSO_SEGMENTS
                && ends[i + run] - ends[i + run - 1] == size
                && (run + 1) * size <= GSO_MAX_BYTES
            {
                run += 1;
            }
            let end = ends[i + run - 1];
            if run > 1 && udp.gso(size) {
                match udp.socket.send(&buf[start..end]) {
                    Ok(_) => sent.add(run as u64, (end - start) as u64),
                    Err(e) if gso_refused(&e) => {
                        // Not for this path after all (e.g. no checksum offload): one by one.
                        udp.gso_size = GSO_OFF;
                        continue;
                    }
                    Err(_) => sent.errors += run as u64,
                }
            } else {
                let mut from = start;
                for &to in &ends[i..i + run] {
                    match udp.send_one(&buf[from..to]) {
                        Ok(()) => sent.add(1, (to - from) as u64),
                        Err(_) => sent.errors += 1,
                    }
                    from = to;
                }
            }
            start = end;
            i += run;
        }
        sent
    }

    /// Ends a TCP connection cleanly: FIN, then a bounded wait until the peer acknowledged
    /// `written` bytes (or stops answering). Returns the bytes acknowledged. A TLS connection
    /// is closed as `send` closes one ([`connection::send_close`], then
    /// [`connection::await_close`]): close_notify and FIN, then reading until the receiver
    /// closes in turn, or the wait ends.
    pub fn finish(self, written: u64) -> Option<u64> {
        let stream = match self {
            Socket::Tcp(stream) => stream,
            Socket::Tls(mut stream, mut tls) => {
                let deadline = Instant::now() + DRAIN_TIMEOUT;
                close_tls(&mut stream, &mut tls, deadline);
                return None;
            }
            Socket::Udp(_) => return None,
        };
        let _ = stream.shutdown(Shutdown::Write);
        let deadline = Instant::now() + DRAIN_TIMEOUT;
        loop {
            let acked = tcp_bytes_acked(&stream)?.min(written);
            if acked >= written || Instant::now() >= deadline {
                return Some(acked);
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Leaves a connection whose receiver stopped taking what was written ([`WriteEnd::GaveUp`]):
    /// no TLS close_notify, which could not go out either, but a FIN after what the kernel
    /// holds. What the receiver sent and nobody read (TLS session tickets) is read first:
    /// closing over unread data would reset the connection and drop what is still queued.
    pub fn abandon(self) {
        let (Socket::Tcp(mut stream) | Socket::Tls(mut stream, _)) = self else {
            return;
        };
        if stream.set_nonblocking(true).is_ok() {
            let mut buf = [0u8; 4096];
            while matches!(io::Read::read(&mut stream, &mut buf), Ok(n) if n > 0) {}
        }
        let _ = stream.shutdown(Shutdown::Write);
    }
}

/// Writes `buf` a record at a time, each record out to the kernel before the next, and returns
/// the plaintext bytes whose records went out whole. A socket that takes nothing is looked at
/// every [`BLOCKED_WRITE_CHECK`], and left once `give_up` says a time that has passed.
// `write` rather than `write_all`, as in `write_stream`: what rustls took is counted exactly.
#[allow(clippy::disallowed_methods)]
fn write_tls(
    sock: &mut TcpStream,
    conn: &mut ClientConnection,
    buf: &[u8],
    give_up: impl Fn() -> Option<Instant>,
) -> (usize, WriteEnd) {
    if let Err(e) = sock.set_write_timeout(Some(BLOCKED_WRITE_CHECK)) {
        return (0, WriteEnd::Failed(e));
    }
    let mut written = 0;
    while written < buf.len() {
        let end = (written + TLS_RECORD_BYTES).min(buf.len());
        let taken = match conn.writer().write(&buf[written..end]) {
            Ok(0) => {
                let e = io::Error::new(io::ErrorKind::WriteZero, "rustls took nothing");
                return (written, WriteEnd::Failed(e));
            }
            Ok(n) => n,
            Err(e) => return (written, WriteEnd::Failed(e)),
        };
        let mut record_started = false;
        while conn.wants_write() {
            match conn.write_tls(sock) {
                Ok(0) => {
                    let e = io::Error::new(io::ErrorKind::WriteZero, "peer took nothing");
                    return (written, WriteEnd::Failed(e));
                }
                Ok(_) => record_started = true,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if is_timeout(&e) => {
                    if give_up().is_some_and(|at| Instant::now() >= at) {
                        let partly = if record_started {
                            written + taken
                        } else {
                            written
                        };
                        return (written, WriteEnd::GaveUp { partly });
                    }
                }
                Err(e) => return (written, WriteEnd::Failed(e)),
            }
        }
        written += taken;
    }
    (written, WriteEnd::Done)
}

/// A blocking write's timeout (`SO_SNDTIMEO`), which Linux reports as `EAGAIN`.
fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

/// `send`'s close of a TLS stream, its verdict unused: `bench` counts what arrived at the
/// receiver, not what the close says.
fn close_tls(stream: &mut TcpStream, tls: &mut ClientConnection, deadline: Instant) {
    if connection::send_close(stream, Some(&mut *tls), DRAIN_TIMEOUT).is_ok() {
        let _ = connection::await_close(stream, Some(tls), deadline, DRAIN_TIMEOUT);
    }
}

/// Ends held connections: all are closed first (TLS: close_notify, then FIN), then each is read
/// until the receiver closes in turn, within one shared wait.
pub fn finish_idle(sockets: Vec<Socket>) {
    let mut open = Vec::new();
    for socket in sockets {
        match socket {
            Socket::Tls(mut stream, mut tls) => {
                if connection::send_close(&mut stream, Some(&mut *tls), DRAIN_TIMEOUT).is_ok() {
                    open.push((stream, tls));
                }
            }
            Socket::Tcp(stream) => {
                let _ = stream.shutdown(Shutdown::Write);
            }
            Socket::Udp(_) => {}
        }
    }
    let deadline = Instant::now() + DRAIN_TIMEOUT;
    for (mut stream, mut tls) in open {
        let _ = connection::await_close(&mut stream, Some(&mut *tls), deadline, DRAIN_TIMEOUT);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every datagram the receiver got, in order.
    fn receive_all(receiver: &UdpSocket) -> Vec<Vec<u8>> {
        receiver
            .set_read_timeout(Some(Duration::from_millis(200)))
            .unwrap();
        let mut got = Vec::new();
        let mut buf = [0u8; 65_536];
        while let Ok(n) = receiver.recv(&mut buf) {
            got.push(buf[..n].to_vec());
        }
        got
    }

    #[test]
    fn batched_datagrams_arrive_one_message_each_whatever_their_sizes() {
        let receiver = UdpSocket::bind("127.0.0.1:0").unwrap();
        let mut socket = Socket::connect_udp(receiver.local_addr().unwrap()).unwrap();
        // Runs of one size (sent with GSO where Linux allows), sizes changing inside the
        // batch, a run longer than one GSO send, and a longer message after shorter ones.
        let sizes = [100, 100, 100, 7, 7, 300]
            .into_iter()
            .chain(std::iter::repeat_n(50, GSO_SEGMENTS + 3))
            .chain([20, 900, 900]);
        let mut buf = Vec::new();
        let mut ends = Vec::new();
        let mut want = Vec::new();
        for (i, size) in sizes.enumerate() {
            let message: Vec<u8> = (0..size).map(|j| b'a' + ((i + j) % 26) as u8).collect();
            buf.extend_from_slice(&message);
            ends.push(buf.len());
            want.push(message);
        }
        let sent = socket.send_datagrams(&buf, &ends);
        assert_eq!(
            sent,
            Datagrams {
                datagrams: want.len() as u64,
                bytes: buf.len() as u64,
                errors: 0
            }
        );
        assert_eq!(receive_all(&receiver), want);
        // Linux (4.18 and later) took the runs with segmentation offload, not one by one.
        #[cfg(target_os = "linux")]
        assert!(
            matches!(&socket, Socket::Udp(udp) if udp.gso_size != GSO_OFF),
            "UDP_SEGMENT was refused by this kernel"
        );
    }
}
