//! One TCP or TLS connection: read, cut into frames, turn frames into event lines, hand
//! batches to the writer.
//!
//! A plain TCP connection waits for data, then for room in the writer's queue, and only then reads,
//! into a buffer its worker thread lends it ([`super::stream`]); once its complete messages are
//! events it gives the buffer back and keeps only the start of a message under way. So a connection
//! that waits holds neither bytes nor events, and ten thousand busy connections behind a slow
//! output leave their bytes in the kernel, whose full receive windows hold the senders back. A
//! message larger than `LENT_REST_BYTES` (4 KiB), a TLS stream and the drain at shutdown read into
//! the connection's own buffer instead: it starts small and doubles while reads fill it, up to
//! `MAX_READ_BYTES` (256 KiB) a read; it never holds more than one maximum-size message plus one
//! read (the decoder discards the rest of an oversized message as it arrives). Events are handed
//! over in the order their frames arrived.
//!
//! A message begun must be finished within `--frame-timeout`, or the connection is closed (a
//! drip-feed, one byte now and then, would otherwise keep a slot for ever: every byte resets
//! `--idle-timeout`). What all connections hold of unfinished messages is counted against
//! `--max-buffered-bytes` ([`super::budget`]); a connection asked to cut its message turns the
//! part so far into an error event and skips the rest. Either way the part received is an
//! event with `error.message`, never dropped without a word.
//!
//! At shutdown the connection keeps reading until the sender has been quiet for
//! [`DRAIN_QUIET`] (at most [`DRAIN_LIMIT`]), then emits a last partial message, if any, as an
//! event with `error.message`.

use std::io;
use std::sync::Arc;
use std::time::Duration;

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::time::{Instant, timeout, timeout_at};

use super::budget::{Account, CUT_KEEP_BYTES};
use super::output::{BATCH_BYTES, EventSender, Slot};
use super::shared::Shared;
use super::shutdown::{DRAIN_LIMIT, DRAIN_QUIET};
use super::stats::Counters;
use super::stream::{ConnectionStream, lend_read_buffer, return_read_buffer};
use crate::ecs::{Peer, Received};
use crate::framing::{FrameCodec, FrameError, InvalidPrefix};
use crate::ingest::{LineParser, Outcome};
use crate::syslog::timestamp::Timestamp;

/// The first read's size; doubled while reads fill the buffer, up to [`MAX_READ_BYTES`].
const FIRST_READ_BYTES: usize = 1024;
const MAX_READ_BYTES: usize = 256 * 1024;
/// The most of a message under way a connection keeps between reads in a buffer of its own
/// size while it waits for data; beyond it, it keeps the buffer the message is read into.
const LENT_REST_BYTES: usize = 4 * 1024;

/// How one read ended.
enum Read {
    Data(usize),
    Eof,
    Failed(io::Error),
    /// Nothing for `--idle-timeout`.
    Idle,
    /// A message begun and not finished within `--frame-timeout`.
    FrameTimeout,
    /// Asked to cut its unfinished message (`--max-buffered-bytes`).
    Cut,
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
    S: ConnectionStream,
{
    let mut conn = Conn {
        codec: FrameCodec::new(&shared.framing, shared.max_len),
        parser,
        buf: BytesMut::new(),
        lent: false,
        batch: Vec::new(),
        messages: 0,
        parse_errors: 0,
        frame_errors: 0,
        completed: 0,
        account: shared.budget.account(),
        allocated: 0,
        peer: Arc::new(peer),
        shared,
        tx,
        created_text: Vec::new(),
    };
    let mut read_size = FIRST_READ_BYTES;
    let mut drain_until: Option<Instant> = None;
    // When the message under way began (its first byte arrived).
    let mut pending_since: Option<Instant> = None;
    let frame_timeout = conn.shared.frame_timeout;
    loop {
        // A plain socket is waited on before anything is lent to it. A message larger than a
        // lent buffer takes, a TLS stream and the drain at shutdown read into the
        // connection's own buffer.
        let lend = S::TELLS_READINESS && drain_until.is_none() && conn.buf.len() <= LENT_REST_BYTES;
        if !lend && conn.buf.capacity() - conn.buf.len() < read_size {
            // An unfinished message is about to double its buffer: the budget hears of it
            // first, and if that makes this message one of the largest, it is cut instead.
            if !conn.buf.is_empty() && conn.account.grow_to(conn.next_allocation(read_size)) {
                if !conn.cut_for_budget().await {
                    return;
                }
                continue;
            }
            conn.buf.reserve(read_size);
            conn.allocated = conn.allocated.max(conn.buf.capacity());
        }
        let frame_deadline = pending_since.zip(frame_timeout).map(|(s, t)| s + t);
        let idle = conn.shared.idle_timeout;
        let mut slot = None;
        let mut room = conn.buf.capacity() - conn.buf.len();
        let read = match drain_until {
            None if lend => {
                let waited = tokio::select! {
                    biased;
                    () = conn.account.cut_requested() => Some(Read::Cut),
                    ready = ready_within(&stream, idle, frame_deadline) => ready,
                    _ = conn.shared.token.cancelled() => Some(Read::Shutdown),
                };
                match waited {
                    Some(read) => read,
                    None => {
                        // Data is waiting: room in the writer's queue first, then a buffer.
                        let Ok(taken) = conn.tx.reserve().await else {
                            return;
                        };
                        conn.buf = lend_read_buffer(&conn.buf);
                        conn.lent = true;
                        room = conn.buf.capacity() - conn.buf.len();
                        match stream.try_read_buf(&mut conn.buf) {
                            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                                conn.take_back_read_buffer();
                                continue;
                            }
                            result => {
                                slot = Some(taken);
                                Read::from(result)
                            }
                        }
                    }
                }
            }
            None => {
                tokio::select! {
                    biased;
                    () = conn.account.cut_requested() => Read::Cut,
                    read = read_within(&mut stream, &mut conn.buf, idle, frame_deadline) => read,
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
                let before = conn.completed;
                if !conn.emit(false, slot.take()).await {
                    return;
                }
                let unfinished = conn.codec.in_message(&conn.buf);
                pending_since = match pending_since {
                    _ if !unfinished => None,
                    _ if conn.completed > before => Some(Instant::now()),
                    Some(since) => Some(since),
                    None => Some(Instant::now()),
                };
                conn.account_buffer();
                // A sender that keeps the socket busy with one endless message is never idle:
                // check the deadline here too.
                if drain_until.is_none()
                    && pending_since
                        .zip(frame_timeout)
                        .is_some_and(|(since, t)| since.elapsed() >= t)
                {
                    conn.frame_timed_out().await;
                    return;
                }
            }
            Read::Shutdown => drain_until = Some(Instant::now() + DRAIN_LIMIT),
            Read::Eof | Read::Drained => break,
            Read::Idle => {
                Counters::add(&conn.shared.counters.idle_closed, 1);
                break;
            }
            Read::FrameTimeout => {
                conn.frame_timed_out().await;
                return;
            }
            Read::Cut => {
                if !conn.cut_for_budget().await {
                    return;
                }
                pending_since = conn
                    .codec
                    .in_message(&conn.buf)
                    .then(Instant::now)
                    .or(pending_since);
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
    conn.emit(true, None).await;
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

/// Waits until the stream has data (or its end, or an error) without reading it: None then,
/// or why the wait ended: `idle` without data, `frame_deadline`, a failed socket.
async fn ready_within<S: ConnectionStream>(
    stream: &S,
    idle: Option<Duration>,
    frame_deadline: Option<Instant>,
) -> Option<Read> {
    let idle_deadline = idle.map(|d| Instant::now() + d);
    let deadline = match (idle_deadline, frame_deadline) {
        (Some(i), Some(f)) => Some(i.min(f)),
        (i, f) => i.or(f),
    };
    let ready = match deadline {
        None => stream.readable().await,
        Some(deadline) => match timeout_at(deadline, stream.readable()).await {
            Ok(ready) => ready,
            Err(_) if frame_deadline == Some(deadline) => return Some(Read::FrameTimeout),
            Err(_) => return Some(Read::Idle),
        },
    };
    ready.err().map(Read::Failed)
}

/// One read, given up after `idle` without data or at `frame_deadline`.
async fn read_within<S: AsyncRead + Unpin>(
    stream: &mut S,
    buf: &mut BytesMut,
    idle: Option<Duration>,
    frame_deadline: Option<Instant>,
) -> Read {
    let idle_deadline = idle.map(|d| Instant::now() + d);
    let deadline = match (idle_deadline, frame_deadline) {
        (Some(i), Some(f)) => Some(i.min(f)),
        (i, f) => i.or(f),
    };
    match deadline {
        None => Read::from(stream.read_buf(buf).await),
        Some(deadline) => match timeout_at(deadline, stream.read_buf(buf)).await {
            Ok(result) => Read::from(result),
            Err(_) if frame_deadline == Some(deadline) => Read::FrameTimeout,
            Err(_) => Read::Idle,
        },
    }
}

struct Conn {
    codec: FrameCodec,
    parser: LineParser,
    buf: BytesMut,
    /// `buf` is lent by the worker thread ([`lend_read_buffer`]).
    lent: bool,
    batch: Vec<u8>,
    messages: u64,
    parse_errors: u64,
    frame_errors: u64,
    /// Messages completed since the connection opened.
    completed: u64,
    /// This connection's share of `--max-buffered-bytes`.
    account: Account,
    /// The read buffer's allocation, as far as known (a `BytesMut` that has advanced shows
    /// only the capacity ahead of its start).
    allocated: usize,
    peer: Arc<Peer>,
    shared: Arc<Shared>,
    tx: EventSender,
    /// `event.created` of the read being turned into events, as text (kept for its buffer).
    created_text: Vec<u8>,
}

impl Conn {
    /// At most what the read buffer's allocation becomes when it grows to take `read_size`
    /// more bytes (a `Vec` doubles, or grows to just what is needed if that is more).
    fn next_allocation(&self, read_size: usize) -> usize {
        let now = self.allocated.max(self.buf.capacity());
        (2 * now).max(self.buf.len() + read_size)
    }

    /// Gives a lent read buffer back, keeping what it still holds in a buffer of its own.
    fn take_back_read_buffer(&mut self) {
        self.buf = return_read_buffer(std::mem::take(&mut self.buf));
        self.lent = false;
        self.allocated = self.buf.capacity();
    }

    /// Gives a lent or large read buffer back once it holds little, and reports what the
    /// connection holds to the budget.
    fn account_buffer(&mut self) {
        if self.lent {
            if self.buf.len() <= LENT_REST_BYTES {
                self.take_back_read_buffer();
            } else {
                // A large message under way keeps the buffer as its own.
                self.lent = false;
                self.allocated = self.allocated.max(self.buf.capacity());
            }
        }
        if self.buf.len() <= MAX_READ_BYTES && self.allocated > 4 * MAX_READ_BYTES {
            // A finished large message leaves a large allocation behind: copy the little that
            // is left into a small one.
            self.buf = BytesMut::from(&self.buf[..]);
            self.allocated = self.buf.capacity();
        }
        let held = if self.buf.is_empty() {
            0
        } else {
            self.allocated.max(self.buf.capacity())
        };
        self.account.hold(held);
    }

    /// Gives up on the message under way: its part so far, at most `keep` bytes of it, becomes
    /// an error event saying `reason`, and the rest of the message is skipped as it arrives.
    /// Returns whether there was a message under way.
    fn give_up(&mut self, keep: usize, reason: impl FnOnce(usize) -> String) -> bool {
        let (part, used) = self.codec.cut(&self.buf);
        let cut = match part {
            Some(part) => {
                let received = Received {
                    peer: &self.peer,
                    created: Timestamp::now(),
                    created_text: None,
                };
                self.tx.prepare(&mut self.batch);
                let kept = &part[..part.len().min(keep)];
                self.parser.write_received_error(
                    kept,
                    reason(part.len()),
                    Some(&received),
                    &mut self.batch,
                );
                self.messages += 1;
                self.completed += 1;
                self.frame_errors += 1;
                self.parse_errors += 1;
                true
            }
            None => false,
        };
        self.buf.advance(used);
        self.allocated = self.allocated.max(self.buf.capacity());
        self.account_buffer();
        cut
    }

    /// `--max-buffered-bytes` was reached and this connection holds one of the largest
    /// unfinished messages. False when the writer is gone.
    async fn cut_for_budget(&mut self) -> bool {
        self.account.cut_done();
        let limit = self.account.limit();
        let cut = self.give_up(CUT_KEEP_BYTES, |len| {
            format!(
                "message cut short after {len} bytes: all connections together held more than --max-buffered-bytes ({limit} bytes) of unfinished messages, and this was one of the largest; its first {} bytes are kept here, the rest of it was skipped",
                len.min(CUT_KEEP_BYTES)
            )
        });
        if cut {
            Counters::add(&self.shared.counters.cut_partials, 1);
            let addr = self.peer.addr;
            self.shared.warnings.warn(|| {
                format!(
                    "{addr}: unfinished message cut short: --max-buffered-bytes {limit} reached"
                )
            });
        }
        self.hand_over().await
    }

    /// No message finished within `--frame-timeout`: the part under way becomes an error
    /// event, and the connection closes.
    async fn frame_timed_out(&mut self) {
        let secs = self.shared.frame_timeout.unwrap_or_default().as_secs_f64();
        Counters::add(&self.shared.counters.frame_timeouts, 1);
        let addr = self.peer.addr;
        self.shared.warnings.warn(|| {
            format!("{addr}: a message begun {secs} s ago is not finished (--frame-timeout), closing the connection")
        });
        self.give_up(usize::MAX, |len| {
            format!(
                "connection closed by --frame-timeout ({secs} s): the message was not finished in time; the {len} bytes received are kept"
            )
        });
        self.hand_over().await;
    }
    /// Turns every complete frame in the buffer (at `eof`, also the rest) into events and
    /// hands them to the writer, the first batch into `slot` if the connection holds one, each
    /// further batch into room waited for before it is made. False when the writer is gone.
    async fn emit(&mut self, eof: bool, slot: Option<Slot>) -> bool {
        // `event.created` written once for all the events of this read.
        let created = Timestamp::now();
        let mut created_text = std::mem::take(&mut self.created_text);
        created_text.clear();
        created.write_rfc3339_utc(&mut created_text);
        let peer = self.peer.clone();
        let received = Received {
            peer: &peer,
            created,
            created_text: Some(&created_text),
        };
        let ok = self.emit_received(eof, slot, &received).await;
        self.created_text = created_text;
        ok
    }

    /// [`Self::emit`] with the events' `received`.
    async fn emit_received(
        &mut self,
        eof: bool,
        mut slot: Option<Slot>,
        received: &Received<'_>,
    ) -> bool {
        let (peer, shared) = (received.peer, self.shared.clone());
        let max_len = shared.max_len;
        loop {
            self.tx.prepare(&mut self.batch);
            // Frames are parsed where they lie in the read buffer; the buffer advances once
            // per batch. The codec reports hostile input as frames with a defect, never as Err.
            let (parser, batch) = (&mut self.parser, &mut self.batch);
            let (messages, parse_errors, frame_errors, completed) = (
                &mut self.messages,
                &mut self.parse_errors,
                &mut self.frame_errors,
                &mut self.completed,
            );
            let used = self.codec.decode_in_place(&self.buf, eof, |decoded| {
                if let Some(error) = decoded.defect() {
                    *frame_errors += 1;
                    warn_frame(&shared, peer, error, decoded.bytes(), max_len);
                }
                // LineParser drops one trailing LF inside a frame, as rsyslog does.
                let outcome = parser.write_received(&decoded, max_len, Some(received), batch);
                *messages += 1;
                *completed += 1;
                if outcome == Outcome::Failed {
                    *parse_errors += 1;
                }
                batch.len() < BATCH_BYTES
            });
            self.buf.advance(used);
            let full = self.batch.len() >= BATCH_BYTES;
            match slot.take() {
                Some(slot) if !self.batch.is_empty() => {
                    self.publish_counts();
                    slot.send(&mut self.batch);
                }
                _ => {
                    if !self.hand_over().await {
                        return false;
                    }
                }
            }
            if !full {
                return true;
            }
            // More frames wait in the buffer: room for their batch first. A lent buffer goes
            // back before the wait, its rest copied into the connection's own.
            if self.lent {
                self.take_back_read_buffer();
            }
            match self.tx.reserve().await {
                Ok(room) => slot = Some(room),
                Err(_) => return false,
            }
        }
    }

    /// Sends the batch to the writer, waiting for room (backpressure), and publishes counts.
    async fn hand_over(&mut self) -> bool {
        self.publish_counts();
        if self.batch.is_empty() {
            // An idle connection keeps no buffer.
            self.tx.release(&mut self.batch);
            return true;
        }
        self.tx.send(&mut self.batch).await.is_ok()
    }

    /// Adds this connection's counts since the last call to the shared counters.
    fn publish_counts(&mut self) {
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
