//! One TCP or TLS connection: read, cut into frames, turn frames into event lines, hand
//! batches to the writer.
//!
//! The read buffer starts small and doubles while reads fill it, so ten thousand idle
//! connections cost little and a busy one reads in large chunks; it never holds more than one
//! maximum-size message plus one read (the decoder discards the rest of an oversized message
//! as it arrives). Events are handed over in the order their frames arrived, and waiting for
//! room in the writer's queue is what stops the reading when the output is slow.
//!
//! At shutdown the connection keeps reading until the sender has been quiet for
//! [`DRAIN_QUIET`] (at most [`DRAIN_LIMIT`]), then emits a last partial message, if any, as an
//! event with `error.message`.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::time::{Instant, timeout};

use super::output::{BATCH_BYTES, EventSender};
use super::shared::Shared;
use super::shutdown::{DRAIN_LIMIT, DRAIN_QUIET};
use super::stats::Counters;
use crate::ecs::{Peer, Received};
use crate::framing::{FrameCodec, FrameError, InvalidPrefix};
use crate::ingest::{LineParser, Outcome};
use crate::syslog::timestamp::Timestamp;

/// The first read's size; doubled while reads fill the buffer, up to [`MAX_READ_BYTES`].
const FIRST_READ_BYTES: usize = 1024;
const MAX_READ_BYTES: usize = 256 * 1024;

/// How one read ended.
enum Read {
    Data(usize),
    Eof,
    Failed(io::Error),
    /// Nothing for `--idle-timeout`.
    Idle,
    /// During shutdown: nothing for [`DRAIN_QUIET`], or [`DRAIN_LIMIT`] reached.
    Drained,
    /// The shutdown signal came while waiting.
    Shutdown,
}

/// Serves one connection to its end. `peer` is what its events carry as `source.*`/`tls.*`.
pub async fn serve<S>(
    mut stream: S,
    peer: Peer,
    parser: LineParser,
    shared: Arc<Shared>,
    tx: EventSender,
) where
    S: AsyncRead + Unpin,
{
    let mut conn = Conn {
        codec: FrameCodec::new(&shared.framing, shared.max_len),
        parser,
        buf: BytesMut::new(),
        batch: Vec::new(),
        messages: 0,
        parse_errors: 0,
        frame_errors: 0,
        peer: Arc::new(peer),
        shared,
        tx,
    };
    let mut read_size = FIRST_READ_BYTES;
    let mut drain_until: Option<Instant> = None;
    loop {
        if conn.buf.capacity() - conn.buf.len() < read_size {
            conn.buf.reserve(read_size);
        }
        let room = conn.buf.capacity() - conn.buf.len();
        let read = match drain_until {
            None => {
                tokio::select! {
                    biased;
                    read = read_within(&mut stream, &mut conn.buf, conn.shared.idle_timeout) => read,
                    _ = conn.shared.token.cancelled() => Read::Shutdown,
                }
            }
            Some(deadline) => {
                let quiet = DRAIN_QUIET.min(deadline.saturating_duration_since(Instant::now()));
                match timeout(quiet, stream.read_buf(&mut conn.buf)).await {
                    Ok(result) => Read::from(result),
                    Err(_) => Read::Drained,
                }
            }
        };
        match read {
            Read::Data(n) => {
                Counters::add(&conn.shared.counters.bytes, n as u64);
                if n == room && read_size < MAX_READ_BYTES {
                    read_size *= 2;
                }
                if !conn.emit(false).await {
                    return;
                }
            }
            Read::Shutdown => drain_until = Some(Instant::now() + DRAIN_LIMIT),
            Read::Eof | Read::Drained => break,
            Read::Idle => {
                Counters::add(&conn.shared.counters.idle_closed, 1);
                break;
            }
            Read::Failed(e) => {
                // A TLS peer that closes without close_notify is an ordinary end of stream.
                if e.kind() != io::ErrorKind::UnexpectedEof {
                    let addr = conn.peer.addr;
                    conn.shared
                        .warnings
                        .warn(|| format!("{addr}: read error, closing the connection: {e}"));
                }
                break;
            }
        }
    }
    conn.emit(true).await;
}

impl From<io::Result<usize>> for Read {
    fn from(result: io::Result<usize>) -> Read {
        match result {
            Ok(0) => Read::Eof,
            Ok(n) => Read::Data(n),
            Err(e) => Read::Failed(e),
        }
    }
}

/// One read, given up after `idle` without data.
async fn read_within<S: AsyncRead + Unpin>(
    stream: &mut S,
    buf: &mut BytesMut,
    idle: Option<Duration>,
) -> Read {
    match idle {
        None => Read::from(stream.read_buf(buf).await),
        Some(idle) => match timeout(idle, stream.read_buf(buf)).await {
            Ok(result) => Read::from(result),
            Err(_) => Read::Idle,
        },
    }
}

struct Conn {
    codec: FrameCodec,
    parser: LineParser,
    buf: BytesMut,
    batch: Vec<u8>,
    messages: u64,
    parse_errors: u64,
    frame_errors: u64,
    peer: Arc<Peer>,
    shared: Arc<Shared>,
    tx: EventSender,
}

impl Conn {
    /// Turns every complete frame in the buffer (at `eof`, also the rest) into events and
    /// hands them to the writer. False when the writer is gone.
    async fn emit(&mut self, eof: bool) -> bool {
        let (peer, shared) = (self.peer.clone(), self.shared.clone());
        let received = Received {
            peer: &peer,
            created: Timestamp::now(),
        };
        let max_len = shared.max_len;
        self.tx.prepare(&mut self.batch);
        loop {
            // Frames are parsed where they lie in the read buffer; the buffer advances once
            // per batch. The codec reports hostile input as frames with a defect, never as Err.
            let (parser, batch) = (&mut self.parser, &mut self.batch);
            let (messages, parse_errors, frame_errors) = (
                &mut self.messages,
                &mut self.parse_errors,
                &mut self.frame_errors,
            );
            let used = self.codec.decode_in_place(&self.buf, eof, |decoded| {
                if let Some(error) = decoded.defect() {
                    *frame_errors += 1;
                    warn_frame(&shared, &peer, error, decoded.bytes(), max_len);
                }
                // LineParser drops one trailing LF inside a frame, as rsyslog does.
                let outcome = parser.write_received(&decoded, max_len, Some(&received), batch);
                *messages += 1;
                if outcome == Outcome::Failed {
                    *parse_errors += 1;
                }
                batch.len() < BATCH_BYTES
            });
            self.buf.advance(used);
            if self.batch.len() < BATCH_BYTES {
                break;
            }
            if !self.hand_over().await {
                return false;
            }
            self.tx.prepare(&mut self.batch);
        }
        self.hand_over().await
    }

    /// Sends the batch to the writer, waiting for room (backpressure), and publishes counts.
    async fn hand_over(&mut self) -> bool {
        let counters = &self.shared.counters;
        Counters::add(&counters.tcp_messages, std::mem::take(&mut self.messages));
        Counters::add(
            &counters.parse_errors,
            std::mem::take(&mut self.parse_errors),
        );
        Counters::add(
            &counters.frame_errors,
            std::mem::take(&mut self.frame_errors),
        );
        if self.batch.is_empty() {
            // An idle connection keeps no buffer.
            self.tx.release(&mut self.batch);
            return true;
        }
        self.tx.send(&mut self.batch).await.is_ok()
    }
}

/// Reports a defective frame on stderr (rate-limited) with the sender's address.
fn warn_frame(shared: &Shared, peer: &Peer, error: FrameError, bytes: &[u8], max_len: usize) {
    // A message cut short by the end of the stream is the sender's business; the event says so.
    if error == FrameError::Truncated {
        return;
    }
    let addr = peer.addr;
    let what = match error {
        FrameError::Invalid(InvalidPrefix::CountTooLarge) => "bad length prefix",
        FrameError::Invalid(_) => "bad frame",
        _ => "oversized message",
    };
    shared
        .warnings
        .warn(|| format!("{addr}: {what}: {}", error.message(bytes, max_len)));
}
