//! What the kernel knows about a socket that the standard library does not say, and the one
//! option it cannot set: bytes the peer has not yet acknowledged (SIOCOUTQ), bytes it has
//! (TCP_INFO), and UDP segmentation offload (UDP_SEGMENT). Linux; elsewhere each says it
//! cannot tell.

use std::io;
use std::net::{TcpStream, UdpSocket};
#[cfg(target_os = "linux")]
use std::os::fd::AsRawFd;

/// Bytes written to the socket that the receiver's kernel has not acknowledged (0 when the OS
/// cannot tell).
#[cfg(target_os = "linux")]
pub fn unacknowledged(stream: &TcpStream) -> usize {
    let mut n: libc::c_int = 0;
    // SAFETY: TIOCOUTQ (SIOCOUTQ) stores one int for a TCP socket.
    let rc = unsafe { libc::ioctl(stream.as_raw_fd(), libc::TIOCOUTQ, &mut n) };
    if rc == 0 { n.max(0) as usize } else { 0 }
}

#[cfg(not(target_os = "linux"))]
pub fn unacknowledged(_stream: &TcpStream) -> usize {
    0
}

/// Bytes of data written on this connection that the peer has acknowledged; survives a reset.
/// `tcpi_bytes_acked` counts the sequence numbers acknowledged, and the SYN took one: without
/// taking it off, a message whose last byte was still unacknowledged counted as acknowledged
/// (the FIN takes one more; callers cap the count at what they wrote).
#[cfg(target_os = "linux")]
pub fn bytes_acked(stream: &TcpStream) -> Option<u64> {
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
    (rc == 0 && len as usize >= needed).then_some(info.tcpi_bytes_acked.saturating_sub(1))
}

#[cfg(not(target_os = "linux"))]
pub fn bytes_acked(_stream: &TcpStream) -> Option<u64> {
    None
}

/// Errors with which the kernel refuses a GSO send it cannot do on this path.
pub fn gso_refused(e: &io::Error) -> bool {
    #[cfg(target_os = "linux")]
    {
        matches!(
            e.raw_os_error(),
            Some(libc::EIO | libc::EINVAL | libc::EOPNOTSUPP)
        )
    }
    #[cfg(not(target_os = "linux"))]
    {
        let _ = e;
        false
    }
}

/// `setsockopt(UDP_SEGMENT)`: the size the kernel cuts a larger send into (0: off).
#[cfg(target_os = "linux")]
pub fn set_udp_segment(socket: &UdpSocket, size: usize) -> io::Result<()> {
    /// From linux/udp.h (Linux 4.18); the libc crate defines it for Android only.
    const UDP_SEGMENT: libc::c_int = 103;
    let value = libc::c_int::try_from(size).map_err(|_| io::ErrorKind::InvalidInput)?;
    // SAFETY: the pointer and length describe `value`, which outlives the call.
    let rc = unsafe {
        libc::setsockopt(
            socket.as_raw_fd(),
            libc::IPPROTO_UDP,
            UDP_SEGMENT,
            (&raw const value).cast(),
            std::mem::size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
pub fn set_udp_segment(_socket: &UdpSocket, _size: usize) -> io::Result<()> {
    Err(io::ErrorKind::Unsupported.into())
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use std::io::{Read, Write};
    use std::net::{TcpListener, TcpStream};
    use std::time::{Duration, Instant};

    use super::bytes_acked;

    /// Waits (at most 5 s) until the peer acknowledged `want` bytes, and returns the count.
    fn acked_when_settled(stream: &TcpStream, want: u64) -> Option<u64> {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let acked = bytes_acked(stream);
            if acked >= Some(want) || Instant::now() >= deadline {
                return acked;
            }
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    #[test]
    fn bytes_acked_counts_data_only_not_the_syn() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let (mut server, _) = listener.accept().unwrap();
        // Connected, nothing written: the kernel's count is 1 (the SYN), the data count 0.
        assert_eq!(bytes_acked(&client), Some(0));
        (&client).write_all(&[b'x'; 1000]).unwrap();
        assert_eq!(acked_when_settled(&client, 1000), Some(1000));
        let mut got = [0u8; 1000];
        server.read_exact(&mut got).unwrap();
        // Still exactly the data, a moment later.
        std::thread::sleep(Duration::from_millis(20));
        assert_eq!(bytes_acked(&client), Some(1000));
    }
}
