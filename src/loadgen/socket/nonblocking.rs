//! Plain TCP without blocking, for the multiplexed load, where one thread serves many
//! connections and none may hold up the others: a connect that is started now and checked
//! once poll(2) says the socket is writable, writes that take what the socket has room for,
//! and a close that asks the kernel, without waiting on it, how much the receiver
//! acknowledged. The counting is that of the blocking [`super::Socket`].

use std::io::{self, Write};
use std::net::{Shutdown, SocketAddr, TcpStream};
use std::os::fd::{AsFd, BorrowedFd};
use std::time::Instant;

use rustix::io::Errno;
use socket2::{Domain, Socket as RawSocket, Type};

use super::{CONNECT_TIMEOUT, DRAIN_TIMEOUT};
use crate::send::connection;
use crate::transport::socket::bytes_acked;

/// A connected TCP stream in non-blocking mode.
pub struct NonBlockingTcp(TcpStream);

impl NonBlockingTcp {
    /// Connects as [`super::Socket::connect_tcp`] does, blocking, then turns non-blocking:
    /// for the connections opened before the run's clock starts.
    pub fn connect(addr: SocketAddr) -> io::Result<NonBlockingTcp> {
        let stream = connection::connect_tcp(addr, CONNECT_TIMEOUT)?;
        stream.set_nonblocking(true)?;
        Ok(NonBlockingTcp(stream))
    }

    /// The socket, to poll.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.0.as_fd()
    }

    /// Writes as much of `buf` as the socket has room for, at least one byte; an error of
    /// kind `WouldBlock` when it has none, any other error when the connection failed.
    // `write` rather than `write_all`: what went out must be counted exactly, and a full
    // socket buffer is not an error here but a reason to wait.
    #[allow(clippy::disallowed_methods)]
    pub fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        loop {
            match self.0.write(buf) {
                Ok(0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::WriteZero,
                        "peer took nothing",
                    ));
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                result => return result,
            }
        }
    }

    /// Bytes of this connection its peer acknowledged; `None` where the OS does not say.
    pub fn bytes_acked(&self) -> Option<u64> {
        bytes_acked(&self.0)
    }

    /// Sends FIN: the start of a clean end. Check [`Self::bytes_acked`] until it reaches what
    /// was written, or the time [`drain_until`] gives is up, then drop the stream.
    pub fn shutdown_write(&self) {
        let _ = self.0.shutdown(Shutdown::Write);
    }
}

/// How long a closed connection waits for its peer to acknowledge what was written, from
/// `now`: as long as the blocking [`super::Socket::finish`] waits.
pub fn drain_until(now: Instant) -> Instant {
    now + DRAIN_TIMEOUT
}

/// A TCP connect under way.
pub struct TcpConnect {
    socket: RawSocket,
    /// When it has taken [`CONNECT_TIMEOUT`] and counts as timed out.
    until: Instant,
}

/// Where a [`TcpConnect`] stands.
pub enum Connect {
    Pending(TcpConnect),
    Connected(NonBlockingTcp),
    Failed(io::Error),
}

impl TcpConnect {
    /// Starts connecting to `addr`; an error is one the kernel gave at once (over loopback a
    /// refusal often is).
    pub fn start(addr: SocketAddr, now: Instant) -> io::Result<TcpConnect> {
        let socket = RawSocket::new(Domain::for_address(addr), Type::STREAM, None)?;
        socket.set_nonblocking(true)?;
        connection::start_connect(&socket, addr)?;
        Ok(TcpConnect {
            socket,
            until: now + CONNECT_TIMEOUT,
        })
    }

    /// The socket, to poll: it turns writable when the connect is done or failed.
    pub fn fd(&self) -> BorrowedFd<'_> {
        self.socket.as_fd()
    }

    /// When to give up on it.
    pub fn until(&self) -> Instant {
        self.until
    }

    /// Looks whether the connect is done: the stream (Nagle's delay off, as the blocking
    /// connect has it), its error, or still pending; after [`CONNECT_TIMEOUT`], pending
    /// counts as timed out.
    pub fn check(self, now: Instant) -> Connect {
        match self.socket.take_error() {
            Ok(None) => {}
            Ok(Some(e)) | Err(e) => return Connect::Failed(e),
        }
        match self.socket.peer_addr() {
            Ok(_) => {}
            Err(e) if Errno::from_io_error(&e) == Some(Errno::NOTCONN) => {
                if now < self.until {
                    return Connect::Pending(self);
                }
                // The words of the blocking connect's timeout (std's connect_timeout).
                let e = io::Error::new(io::ErrorKind::TimedOut, "connection timed out");
                return Connect::Failed(e);
            }
            Err(e) => return Connect::Failed(e),
        }
        let stream: TcpStream = self.socket.into();
        match stream.set_nodelay(true) {
            Ok(()) => Connect::Connected(NonBlockingTcp(stream)),
            Err(e) => Connect::Failed(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;
    use std::net::TcpListener;
    use std::time::Duration;

    use super::*;
    use crate::send::poll::{self, Interest};

    /// Waits (bounded) for `fd` to turn writable.
    fn writable(fd: BorrowedFd<'_>) {
        let ready = poll::wait(&[(fd, Interest::Write)], Duration::from_secs(5)).unwrap();
        assert!(!ready[0].is_none(), "not writable within 5 s");
    }

    fn connect(addr: SocketAddr) -> NonBlockingTcp {
        let mut connect = TcpConnect::start(addr, Instant::now()).unwrap();
        loop {
            writable(connect.fd());
            match connect.check(Instant::now()) {
                Connect::Pending(c) => connect = c,
                Connect::Connected(stream) => return stream,
                Connect::Failed(e) => panic!("{e}"),
            }
        }
    }

    #[test]
    fn a_full_socket_says_would_block_and_what_went_out_arrives_and_is_acknowledged() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut stream = connect(listener.local_addr().unwrap());
        let (mut peer, _) = listener.accept().unwrap();
        // The receiver reads nothing yet: the socket buffers fill up and then refuse.
        let chunk = vec![b'x'; 64 * 1024];
        let mut written = 0u64;
        loop {
            match stream.write(&chunk) {
                Ok(n) => written += n as u64,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) => panic!("{e}"),
            }
        }
        assert!(written > 0);
        stream.shutdown_write();
        let mut got = Vec::new();
        peer.read_to_end(&mut got).unwrap();
        assert_eq!(got.len() as u64, written);
        #[cfg(target_os = "linux")]
        {
            // The count takes in the FIN too: at least what was written.
            let acked = || stream.bytes_acked().is_some_and(|a| a >= written);
            let deadline = drain_until(Instant::now());
            while !acked() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(1));
            }
            assert!(acked(), "{:?} of {written}", stream.bytes_acked());
        }
    }

    #[test]
    fn a_connect_to_a_closed_port_fails_with_the_refusal() {
        // A port that was free a moment ago: nothing listens there.
        let addr = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap();
        let error = match TcpConnect::start(addr, Instant::now()) {
            Err(e) => e,
            Ok(mut connect) => loop {
                writable(connect.fd());
                match connect.check(Instant::now()) {
                    Connect::Pending(c) => connect = c,
                    Connect::Connected(_) => panic!("connected to a closed port"),
                    Connect::Failed(e) => break e,
                }
            },
        };
        assert_eq!(error.kind(), io::ErrorKind::ConnectionRefused, "{error}");
    }
}
