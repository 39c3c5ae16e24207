//! UDP: one thread per socket, reading datagrams in batches (`recvmmsg(2)` on Linux, up to
//! [`RECV_BATCH`] a call), one message each.
//!
//! A burst is lost when the socket's receive buffer fills faster than it is read, so the reader
//! is a thread of its own that does nothing but receive and parse (no runtime scheduling
//! between two reads), one system call takes many datagrams, and the buffer asked for by
//! default is [`DEFAULT_RECV_BUFFER`] (SO_RCVBUFFORCE where permitted, else SO_RCVBUF, which
//! the kernel caps at `net.core.rmem_max`). rsyslog's imudp does the same: recvmmsg on its own
//! threads.
//!
//! A batch of events waits at most [`QUEUE_WAIT`] for room in the writer's queue, then is
//! dropped and counted: a stalled output must not stall UDP forever (the receive buffer holds
//! what arrives meanwhile). What the kernel drops on a full buffer is its `drops` count in
//! `/proc/net/udp`, summed over the sockets in [`super::stats::kernel_udp_drops`].

use std::io;
use std::net::{SocketAddr, UdpSocket};
use std::sync::Arc;
use std::time::Duration;

use tokio::runtime::Handle;

use super::output::{BATCH_BYTES, EventSender};
use super::shared::Shared;
use super::stats::Counters;
use crate::ecs::{InputType, Peer, Received};
use crate::framing::Decoder;
use crate::ingest::{LineParser, Outcome};
use crate::syslog::timestamp::Timestamp;

/// The receive buffer asked for when `--recv-buffer-size` is not given: room for a burst of
/// several thousand datagrams (each costs its size plus about 1 KiB of kernel bookkeeping).
pub const DEFAULT_RECV_BUFFER: usize = 8 * 1024 * 1024;
/// Datagrams taken by one receive call.
pub const RECV_BATCH: usize = 32;
/// Datagrams parsed before their events are handed over, at most.
const BATCH_DATAGRAMS: usize = 256;
/// How long a batch of datagrams waits for room in the writer's queue before it is dropped.
/// The first benchmark dropped 5 % of a 50,000 msg/s stream with no wait at all while the
/// file writer caught up; rsyslog blocks instead and lost none.
pub const QUEUE_WAIT: Duration = Duration::from_millis(100);
/// How often a reader waiting for datagrams looks at the shutdown token.
const POLL: Duration = Duration::from_millis(100);
/// The largest UDP payload.
const MAX_DATAGRAM: usize = 65_536;

/// Asks for a receive buffer of `size` bytes: SO_RCVBUFFORCE first (root or CAP_NET_ADMIN,
/// past `net.core.rmem_max`), SO_RCVBUF otherwise.
pub fn set_recv_buffer(socket: &socket2::Socket, size: usize) -> io::Result<()> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let value = libc::c_int::try_from(size).unwrap_or(libc::c_int::MAX);
        // SAFETY: setsockopt reads an int from a pointer to a live local of that size.
        let forced = unsafe {
            libc::setsockopt(
                socket.as_raw_fd(),
                libc::SOL_SOCKET,
                libc::SO_RCVBUFFORCE,
                (&raw const value).cast(),
                size_of::<libc::c_int>() as libc::socklen_t,
            )
        };
        if forced == 0 {
            return Ok(());
        }
    }
    socket.set_recv_buffer_size(size)
}

/// Starts the reader thread of one socket. It ends after the shutdown token, once it has read
/// what the kernel already holds, or when the writer is gone.
pub fn spawn(
    socket: UdpSocket,
    parser: LineParser,
    shared: Arc<Shared>,
    tx: EventSender,
    runtime: Handle,
) -> io::Result<std::thread::JoinHandle<()>> {
    socket.set_nonblocking(false)?;
    socket.set_read_timeout(Some(POLL))?;
    std::thread::Builder::new()
        .name("syslogkit-udp".into())
        .spawn(move || {
            let mut reader = Reader {
                decoder: Decoder::new(&shared.framing, shared.max_len),
                parser,
                batch: Vec::new(),
                datagrams: 0,
                peer: None,
                shared,
                tx,
                runtime,
            };
            reader.run(&socket);
        })
}

struct Reader {
    decoder: Decoder,
    parser: LineParser,
    batch: Vec<u8>,
    /// Datagrams whose events are in `batch`.
    datagrams: u64,
    /// The last sender, whose `Peer` is reused while it keeps sending.
    peer: Option<Peer>,
    shared: Arc<Shared>,
    tx: EventSender,
    runtime: Handle,
}

impl Reader {
    fn run(&mut self, socket: &UdpSocket) {
        let mut recv = RecvBatch::new();
        loop {
            let stopping = self.shared.token.is_cancelled();
            // At shutdown, take what the kernel holds without waiting for more.
            match recv.recv(socket, !stopping) {
                Ok(n) => {
                    for i in 0..n {
                        let (payload, addr) = recv.datagram(i);
                        self.add(payload, addr);
                    }
                    let drained = n < RECV_BATCH;
                    let full = self.batch.len() >= BATCH_BYTES
                        || self.datagrams as usize >= BATCH_DATAGRAMS;
                    if (drained || full) && !self.hand_over(stopping) {
                        return;
                    }
                }
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
                    ) =>
                {
                    if !self.hand_over(stopping) || stopping {
                        return;
                    }
                }
                // ICMP port unreachable from an earlier reply, EINTR and the like: not ours.
                Err(_) => {}
            }
        }
    }

    fn add(&mut self, payload: &[u8], addr: Option<SocketAddr>) {
        let counters = &self.shared.counters;
        self.tx.prepare(&mut self.batch);
        self.datagrams += 1;
        Counters::add(&counters.bytes, payload.len() as u64);
        let addr = addr.unwrap_or_else(|| SocketAddr::from(([0, 0, 0, 0], 0)));
        let peer = match &mut self.peer {
            Some(p) if p.addr == addr => p,
            slot => slot.insert(Peer::new(addr, InputType::Udp, None)),
        };
        let received = Received {
            peer,
            created: Timestamp::now(),
            created_text: None,
        };
        let decoded = self.decoder.decode_datagram(payload);
        if decoded.defect().is_some() {
            Counters::add(&counters.frame_errors, 1);
        }
        let outcome = self.parser.write_received(
            &decoded,
            self.shared.max_len,
            Some(&received),
            &mut self.batch,
        );
        if outcome == Outcome::Failed {
            Counters::add(&counters.parse_errors, 1);
        }
    }

    /// Hands the events over: waiting for room at shutdown (what the kernel held was delivered
    /// to us), else at most [`QUEUE_WAIT`], then dropping and counting them. False when the
    /// writer is gone.
    fn hand_over(&mut self, stopping: bool) -> bool {
        let datagrams = std::mem::take(&mut self.datagrams);
        if self.batch.is_empty() {
            self.tx.release(&mut self.batch);
            return true;
        }
        let counters = &self.shared.counters;
        let (tx, batch) = (&self.tx, &mut self.batch);
        let sent = self.runtime.block_on(async {
            if stopping {
                Some(tx.send(batch).await)
            } else {
                tokio::time::timeout(QUEUE_WAIT, tx.send(batch)).await.ok()
            }
        });
        match sent {
            Some(Ok(())) => {
                Counters::add(&counters.udp_messages, datagrams);
                true
            }
            Some(Err(_)) => {
                // Received, never to be written: counted as received so that the summary's
                // "not written" includes them.
                Counters::add(&counters.udp_messages, datagrams);
                false
            }
            None => {
                self.batch.clear();
                Counters::add(&counters.udp_dropped, datagrams);
                true
            }
        }
    }
}

/// Buffers for [`RECV_BATCH`] datagrams and their senders, filled by one `recvmmsg(2)`.
#[cfg(target_os = "linux")]
struct RecvBatch {
    data: Vec<u8>,
    lens: [usize; RECV_BATCH],
    names: Vec<libc::sockaddr_storage>,
}

#[cfg(target_os = "linux")]
impl RecvBatch {
    fn new() -> RecvBatch {
        RecvBatch {
            data: vec![0; RECV_BATCH * MAX_DATAGRAM],
            lens: [0; RECV_BATCH],
            // SAFETY: sockaddr_storage is plain data; all zeroes is a valid (empty) value.
            names: vec![unsafe { std::mem::zeroed() }; RECV_BATCH],
        }
    }

    /// Receives up to [`RECV_BATCH`] datagrams: with `wait`, blocks until the first (at most
    /// the socket's read timeout) and takes the others that are ready; without, takes only what
    /// is ready. Returns how many arrived.
    fn recv(&mut self, socket: &UdpSocket, wait: bool) -> io::Result<usize> {
        use std::os::fd::AsRawFd;
        let mut iovecs: Vec<libc::iovec> = self
            .data
            .chunks_exact_mut(MAX_DATAGRAM)
            .map(|chunk| libc::iovec {
                iov_base: chunk.as_mut_ptr().cast(),
                iov_len: chunk.len(),
            })
            .collect();
        let mut headers: Vec<libc::mmsghdr> = iovecs
            .iter_mut()
            .zip(self.names.iter_mut())
            .map(|(iov, name)| {
                // SAFETY: msghdr is plain data; zeroed is "no name, no buffers, no control".
                let mut hdr: libc::msghdr = unsafe { std::mem::zeroed() };
                hdr.msg_name = std::ptr::from_mut(name).cast();
                hdr.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
                hdr.msg_iov = iov;
                hdr.msg_iovlen = 1;
                libc::mmsghdr {
                    msg_hdr: hdr,
                    msg_len: 0,
                }
            })
            .collect();
        let flags = if wait {
            libc::MSG_WAITFORONE
        } else {
            libc::MSG_DONTWAIT
        };
        // SAFETY: every header points at a live buffer and name of this batch, of the sizes
        // given; the kernel writes at most that much into each and sets msg_len/msg_namelen.
        let n = unsafe {
            libc::recvmmsg(
                socket.as_raw_fd(),
                headers.as_mut_ptr(),
                RECV_BATCH as libc::c_uint,
                flags as _,
                std::ptr::null_mut(),
            )
        };
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        let n = n as usize;
        for (len, hdr) in self.lens.iter_mut().zip(&headers).take(n) {
            *len = hdr.msg_len as usize;
        }
        Ok(n)
    }

    /// The `i`th datagram of the last [`recv`](Self::recv) and its sender.
    fn datagram(&self, i: usize) -> (&[u8], Option<SocketAddr>) {
        let start = i * MAX_DATAGRAM;
        let payload = &self.data[start..start + self.lens[i].min(MAX_DATAGRAM)];
        (payload, socket_addr(&self.names[i]))
    }
}

/// The IPv4 or IPv6 address in `storage`, as the kernel wrote it.
#[cfg(target_os = "linux")]
fn socket_addr(storage: &libc::sockaddr_storage) -> Option<SocketAddr> {
    use std::net::{Ipv4Addr, Ipv6Addr, SocketAddrV6};
    match libc::c_int::from(storage.ss_family) {
        libc::AF_INET => {
            // SAFETY: the family says the storage holds a sockaddr_in, which it is large and
            // aligned enough for.
            let v4 = unsafe { &*std::ptr::from_ref(storage).cast::<libc::sockaddr_in>() };
            let ip = Ipv4Addr::from(u32::from_be(v4.sin_addr.s_addr));
            Some(SocketAddr::from((ip, u16::from_be(v4.sin_port))))
        }
        libc::AF_INET6 => {
            // SAFETY: as above, for sockaddr_in6.
            let v6 = unsafe { &*std::ptr::from_ref(storage).cast::<libc::sockaddr_in6>() };
            let ip = Ipv6Addr::from(v6.sin6_addr.s6_addr);
            Some(SocketAddr::V6(SocketAddrV6::new(
                ip,
                u16::from_be(v6.sin6_port),
                v6.sin6_flowinfo,
                v6.sin6_scope_id,
            )))
        }
        _ => None,
    }
}

/// Elsewhere: one datagram per call.
#[cfg(not(target_os = "linux"))]
struct RecvBatch {
    data: Vec<u8>,
    len: usize,
    addr: Option<SocketAddr>,
}

#[cfg(not(target_os = "linux"))]
impl RecvBatch {
    fn new() -> RecvBatch {
        RecvBatch {
            data: vec![0; MAX_DATAGRAM],
            len: 0,
            addr: None,
        }
    }

    fn recv(&mut self, socket: &UdpSocket, wait: bool) -> io::Result<usize> {
        socket.set_nonblocking(!wait)?;
        let (len, addr) = socket.recv_from(&mut self.data)?;
        (self.len, self.addr) = (len, Some(addr));
        Ok(1)
    }

    fn datagram(&self, _i: usize) -> (&[u8], Option<SocketAddr>) {
        (&self.data[..self.len], self.addr)
    }
}
