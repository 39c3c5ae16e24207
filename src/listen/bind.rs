//! `listen`'s sockets before they run: TCP listeners and UDP sockets with their options
//! (address and port reuse, receive buffers), and the process limits many connections need.

use std::io;
use std::net::SocketAddr;

use socket2::{Domain, Protocol as SockProtocol, Socket, Type};

use super::udp;

/// Pending connections the kernel queues for each TCP listener.
const LISTEN_BACKLOG: i32 = 4096;

/// Refuses an address another program already listens on, before `listen` binds its
/// SO_REUSEPORT group there. The kernel lets any process of the same user join such a group, so
/// a second `listen` on the same port would start without a word and take half the
/// connections (or datagrams) into its own output. A socket without SO_REUSEPORT cannot join:
/// binding one (and closing it at once) says whether the port is free. Port 0 is always free.
pub(super) fn check_not_taken(addr: SocketAddr, stream: bool) -> io::Result<()> {
    if addr.port() == 0 {
        return Ok(());
    }
    let (kind, protocol) = if stream {
        (Type::STREAM, SockProtocol::TCP)
    } else {
        (Type::DGRAM, SockProtocol::UDP)
    };
    let probe = Socket::new(Domain::for_address(addr), kind, Some(protocol))?;
    if stream {
        // As `bind_tcp`: old connections in TIME_WAIT do not make the port taken.
        probe.set_reuse_address(true)?;
    }
    probe.bind(&addr.into())
}

pub(super) fn bind_tcp(
    addr: SocketAddr,
    recv_buffer: Option<usize>,
    reuse_port: bool,
) -> io::Result<std::net::TcpListener> {
    let socket = Socket::new(
        Domain::for_address(addr),
        Type::STREAM,
        Some(SockProtocol::TCP),
    )?;
    // Restarting `listen` must not wait for the old connections' TIME_WAIT; a port another
    // program listens on is still refused.
    socket.set_reuse_address(true)?;
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
    socket.listen(LISTEN_BACKLOG)?;
    socket.set_nonblocking(true)?;
    Ok(socket.into())
}

pub(super) fn bind_udp(
    addr: SocketAddr,
    recv_buffer: usize,
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
    udp::set_recv_buffer(&socket, recv_buffer)?;
    socket.bind(&addr.into())?;
    Ok(socket.into())
}

/// The socket's inode, which `/proc/net/udp` lists it by.
pub(super) fn socket_inode(socket: &std::net::UdpSocket) -> Option<u64> {
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
pub(super) fn raise_open_file_limit() {
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
