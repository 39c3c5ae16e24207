//! The sockets `bench` writes to: blocking std TCP and UDP, kept small and private so that
//! `send`'s client can replace them later. On Linux, a TCP socket also tells how many of the
//! bytes written its peer acknowledged (`TCP_INFO.tcpi_bytes_acked`), which survives a reset.

use std::io::{self, Write};
use std::net::{Shutdown, SocketAddr, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

/// How long a connection attempt may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// How long a finished TCP connection waits for its peer to acknowledge what was written.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

pub enum Socket {
    Tcp(TcpStream),
    Udp(UdpSocket),
}

impl Socket {
    pub fn connect_tcp(addr: SocketAddr) -> io::Result<Socket> {
        let stream = TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT)?;
        stream.set_nodelay(true)?;
        Ok(Socket::Tcp(stream))
    }

    pub fn connect_udp(addr: SocketAddr) -> io::Result<Socket> {
        let bind: SocketAddr = if addr.is_ipv4() {
            "0.0.0.0:0".parse().expect("address")
        } else {
            "[::]:0".parse().expect("address")
        };
        let socket = UdpSocket::bind(bind)?;
        socket.connect(addr)?;
        Ok(Socket::Udp(socket))
    }

    /// Writes as much of `buf` as the socket takes and returns how much that was; only an
    /// error on the first byte is an error, so the caller knows exactly what went out.
    // `write` rather than `write_all`: on an error, write_all does not say how much of the
    // batch went out, and the count of messages sent must be exact. Short writes loop.
    #[allow(clippy::disallowed_methods)]
    pub fn write_stream(&mut self, buf: &[u8]) -> (usize, Option<io::Error>) {
        let Socket::Tcp(stream) = self else {
            unreachable!("stream writes on a TCP socket only")
        };
        let mut written = 0;
        while written < buf.len() {
            match stream.write(&buf[written..]) {
                Ok(0) => {
                    return (
                        written,
                        Some(io::Error::new(
                            io::ErrorKind::WriteZero,
                            "peer took nothing",
                        )),
                    );
                }
                Ok(n) => written += n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return (written, Some(e)),
            }
        }
        (written, None)
    }

    /// One datagram.
    pub fn send_datagram(&self, message: &[u8]) -> io::Result<()> {
        let Socket::Udp(socket) = self else {
            unreachable!("datagrams on a UDP socket only")
        };
        socket.send(message).map(|_| ())
    }

    /// Bytes of this TCP connection its peer acknowledged; `None` over UDP or where the OS
    /// does not say.
    pub fn bytes_acked(&self) -> Option<u64> {
        match self {
            Socket::Tcp(stream) => tcp_bytes_acked(stream),
            Socket::Udp(_) => None,
        }
    }

    /// Ends a TCP connection cleanly: FIN, then a bounded wait until the peer acknowledged
    /// `written` bytes (or stops answering). Returns the bytes acknowledged.
    pub fn finish(self, written: u64) -> Option<u64> {
        let Socket::Tcp(stream) = &self else {
            return None;
        };
        let _ = stream.shutdown(Shutdown::Write);
        let deadline = Instant::now() + DRAIN_TIMEOUT;
        loop {
            let acked = self.bytes_acked()?.min(written);
            if acked >= written || Instant::now() >= deadline {
                return Some(acked);
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }
}

#[cfg(target_os = "linux")]
fn tcp_bytes_acked(stream: &TcpStream) -> Option<u64> {
    use std::os::fd::AsRawFd;
    // SAFETY: tcp_info is plain old data; getsockopt writes at most `len` bytes into it.
    let mut info: libc::tcp_info = unsafe { std::mem::zeroed() };
    let mut len = std::mem::size_of::<libc::tcp_info>() as libc::socklen_t;
    // SAFETY: the pointers describe `info` and `len`, which outlive the call.
    let rc = unsafe {
        libc::getsockopt(
            stream.as_raw_fd(),
            libc::IPPROTO_TCP,
            libc::TCP_INFO,
            (&raw mut info).cast(),
            &mut len,
        )
    };
    // tcpi_bytes_acked arrived in Linux 4.1; an older kernel returns a shorter struct.
    let needed = std::mem::offset_of!(libc::tcp_info, tcpi_bytes_acked) + 8;
    (rc == 0 && len as usize >= needed).then_some(info.tcpi_bytes_acked)
}

#[cfg(not(target_os = "linux"))]
fn tcp_bytes_acked(_stream: &TcpStream) -> Option<u64> {
    None
}
