//! What a connection needs of its stream beyond reading: whether the stream can say that data
//! is waiting before a buffer is handed to it, and the read buffers lent to the streams that can.
//!
//! A plain TCP socket can (`readable`, then a read that does not wait), so a connection waits
//! for data and then for room in the writer's queue holding neither a read buffer nor events:
//! when the output is slow, ten thousand busy connections leave their bytes in the kernel,
//! whose full receive windows hold the senders back, instead of each holding a buffer of its
//! own. Such a connection reads into a buffer lent by its worker thread
//! ([`lend_read_buffer`]) and gives it back once its complete messages are events
//! ([`return_read_buffer`]), keeping only the start of a message still under way.
//!
//! A TLS stream cannot tell (rustls may already hold decrypted bytes the socket no longer
//! shows), so it is read first, into a buffer of its own, as any `AsyncRead`.

use std::cell::RefCell;
use std::future::Future;
use std::io;

use bytes::BytesMut;
use tokio::io::AsyncRead;
use tokio::net::TcpStream;
use tokio_rustls::server::TlsStream;

/// The size of a lent read buffer: one read takes at most this much, whose events usually fit
/// one batch of the writer's queue.
pub const LENT_READ_BYTES: usize = 64 * 1024;
/// Lent buffers a worker thread keeps for the next read.
const LENT_BUFFERS_KEPT: usize = 4;

/// A connection's stream.
pub trait ConnectionStream: AsyncRead + Unpin + Send {
    /// Whether [`readable`](Self::readable) and [`try_read_buf`](Self::try_read_buf) work.
    const TELLS_READINESS: bool;

    /// Resolves once a read would not wait: data, the end of the stream, or an error.
    fn readable(&self) -> impl Future<Output = io::Result<()>> + Send;

    /// Reads what is there without waiting; `WouldBlock` when nothing is after all.
    fn try_read_buf(&mut self, buf: &mut BytesMut) -> io::Result<usize>;
}

impl ConnectionStream for TcpStream {
    const TELLS_READINESS: bool = true;

    fn readable(&self) -> impl Future<Output = io::Result<()>> + Send {
        TcpStream::readable(self)
    }

    fn try_read_buf(&mut self, buf: &mut BytesMut) -> io::Result<usize> {
        TcpStream::try_read_buf(self, buf)
    }
}

impl ConnectionStream for TlsStream<TcpStream> {
    const TELLS_READINESS: bool = false;

    fn readable(&self) -> impl Future<Output = io::Result<()>> + Send {
        std::future::ready(Ok(()))
    }

    fn try_read_buf(&mut self, _: &mut BytesMut) -> io::Result<usize> {
        Err(io::ErrorKind::WouldBlock.into())
    }
}

thread_local! {
    static LENT: RefCell<Vec<BytesMut>> = const { RefCell::new(Vec::new()) };
}

/// Puts `rest`, the start of a message under way (small), into a lent buffer with room for one
/// read, and returns it.
pub fn lend_read_buffer(rest: &[u8]) -> BytesMut {
    let mut buf = LENT
        .with(|lent| lent.borrow_mut().pop())
        .unwrap_or_else(|| BytesMut::with_capacity(LENT_READ_BYTES));
    buf.extend_from_slice(rest);
    buf
}

/// Takes back a lent buffer: what it still holds is copied into a buffer of its own size,
/// which is returned (none at all when nothing is left).
pub fn return_read_buffer(mut buf: BytesMut) -> BytesMut {
    let rest = BytesMut::from(&buf[..]);
    buf.clear();
    // A cleared buffer that has advanced finds its room again at its start.
    buf.reserve(LENT_READ_BYTES);
    if buf.capacity() <= 2 * LENT_READ_BYTES {
        LENT.with(|lent| {
            let mut lent = lent.borrow_mut();
            if lent.len() < LENT_BUFFERS_KEPT {
                lent.push(buf);
            }
        });
    }
    rest
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Buf;

    #[test]
    fn a_lent_buffer_starts_with_the_rest_and_has_room_for_a_read() {
        let buf = lend_read_buffer(b"<13>Oct 11 22:14:15 host app: par");
        assert_eq!(&buf[..], b"<13>Oct 11 22:14:15 host app: par");
        assert!(buf.capacity() >= LENT_READ_BYTES);
    }

    #[test]
    fn returning_a_buffer_keeps_only_what_it_still_holds_and_the_next_lend_reuses_it() {
        let mut buf = lend_read_buffer(b"");
        buf.extend_from_slice(b"one\ntwo\nthr");
        buf.advance(8);
        let ptr = buf.as_ptr();
        let rest = return_read_buffer(buf);
        assert_eq!(&rest[..], b"thr");
        assert!(
            rest.capacity() < 64,
            "the rest keeps a small buffer of its own"
        );
        let again = lend_read_buffer(&rest);
        assert_eq!(&again[..], b"thr");
        // The same allocation, found again at its start (8 bytes before where it had advanced to).
        assert_eq!(again.as_ptr(), ptr.wrapping_sub(8));
    }

    #[test]
    fn an_empty_rest_costs_no_allocation() {
        let rest = return_read_buffer(lend_read_buffer(b""));
        assert_eq!(rest.capacity(), 0);
    }
}
