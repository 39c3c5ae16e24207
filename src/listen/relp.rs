//! One RELP session (`listen --relp`, `--relp-tls`): what rsyslog's `omrelp` speaks.
//!
//! The reading half cuts frames with [`RelpDecoder`], answers `open` with the offers it
//! accepts, turns each `syslog` frame into an event as [`super::connection`] does, and hands
//! each read's events to the writer with a completion ([`EventSender::send_acked`]). The
//! replying half answers in command order: the `rsp 200 OK` of a `syslog` frame goes out only
//! once its event is written and flushed, so what the client sees acknowledged is in the output
//! (librelp acknowledges on enqueue, which loses messages when the server dies). If the output
//! fails, those frames get `rsp 500` and the client keeps them.
//!
//! As librelp does: a frame that is not RELP, a `syslog` before `open` or a second `open` is a
//! protocol violation — the session gets `500` where a transaction number is known, then
//! `serverclose`, and is closed; an unknown command gets `500` and the session goes on. At
//! shutdown the session stops reading, answers what it read, sends `serverclose` and closes;
//! the client resends whatever is not acknowledged.

use std::io::Write;
use std::sync::Arc;

use bytes::{Buf, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::{mpsc, oneshot};
use tokio::time::timeout;

use super::output::{BATCH_BYTES, EventSender};
use super::shared::Shared;
use super::stats::Counters;
use crate::ecs::{Peer, Received};
use crate::framing::Decoded;
use crate::framing::relp::{self, RelpDecoder, RelpFrame};
use crate::ingest::{LineParser, Outcome};
use crate::syslog::timestamp::Timestamp;

/// `network.protocol` of the events.
pub const NETWORK_PROTOCOL: &str = "relp";
/// Replies waiting to be written, per session: enough for a window of 128 frames read a few
/// at a time.
const PENDING_REPLIES: usize = 256;
const READ_BYTES: usize = 64 * 1024;

/// The peer of a RELP session: its events say `network.protocol: relp`.
pub fn peer(mut peer: Peer) -> Peer {
    peer.protocol = Some(NETWORK_PROTOCOL);
    peer
}

/// What the replying half writes, in this order.
enum Reply {
    /// Bytes ready now (an `open`'s or a `close`'s response, a `500`).
    Now(Vec<u8>),
    /// `rsp 200 OK` for these transactions once the writer fires `written`; `rsp 500` if it
    /// fails first.
    Written {
        written: oneshot::Receiver<()>,
        txnrs: Vec<u32>,
    },
    /// `serverclose`, then close.
    ServerClose,
}

/// Serves one session to its end.
pub async fn serve<S>(
    stream: S,
    peer: Peer,
    parser: LineParser,
    shared: Arc<Shared>,
    tx: EventSender,
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let (read, write) = tokio::io::split(stream);
    let (replies, pending) = mpsc::channel(PENDING_REPLIES);
    let session = Session {
        decoder: RelpDecoder::new(shared.max_len),
        parser,
        opened: false,
        batch: Vec::new(),
        txnrs: Vec::new(),
        messages: 0,
        parse_errors: 0,
        peer: Arc::new(peer),
        shared,
        tx,
        replies,
    };
    tokio::join!(session.run(read), reply(write, pending));
}

struct Session {
    decoder: RelpDecoder,
    parser: LineParser,
    opened: bool,
    /// Events of the frames read so far, and their transaction numbers.
    batch: Vec<u8>,
    txnrs: Vec<u32>,
    messages: u64,
    parse_errors: u64,
    peer: Arc<Peer>,
    shared: Arc<Shared>,
    tx: EventSender,
    replies: mpsc::Sender<Reply>,
}

/// What to do after a frame.
enum Next {
    Go,
    /// The client closed the session (after its `close` was answered).
    Closed,
    /// Protocol violation: `serverclose` and close.
    Abort,
}

impl Session {
    async fn run<R: AsyncRead + Unpin>(mut self, mut read: R) {
        let mut buf = BytesMut::with_capacity(READ_BYTES);
        let serverclose = loop {
            if buf.capacity() - buf.len() < READ_BYTES {
                buf.reserve(READ_BYTES);
            }
            let got = tokio::select! {
                biased;
                () = self.shared.token.cancelled() => break true,
                got = read_within(&mut read, &mut buf, self.shared.idle_timeout) => got,
            };
            match got {
                Some(Ok(n)) if n > 0 => Counters::add(&self.shared.counters.bytes, n as u64),
                None => {
                    Counters::add(&self.shared.counters.idle_closed, 1);
                    break true;
                }
                // EOF or a read error: the client is gone, nobody to answer.
                Some(_) => break false,
            }
            match self.frames(&mut buf).await {
                Next::Go => {}
                Next::Closed => break false,
                Next::Abort => {
                    Counters::add(&self.shared.counters.frame_errors, 1);
                    break true;
                }
            }
            if !self.hand_over().await {
                break true;
            }
        };
        self.hand_over().await;
        if serverclose {
            let _ = self.replies.send(Reply::ServerClose).await;
        }
    }

    /// Handles every complete frame in `buf` and drops them from it.
    async fn frames(&mut self, buf: &mut BytesMut) -> Next {
        loop {
            let (txnr, command, data, used) = match self.decoder.decode(buf) {
                Ok(Some((
                    RelpFrame {
                        txnr,
                        command,
                        data,
                    },
                    used,
                ))) => {
                    if command == "syslog" && self.opened {
                        // The hot path: no copy of the frame.
                        self.event(data);
                        self.txnrs.push(txnr);
                        buf.advance(used);
                        if self.batch.len() >= BATCH_BYTES && !self.hand_over().await {
                            return Next::Abort;
                        }
                        continue;
                    }
                    (txnr, command.to_string(), data.to_vec(), used)
                }
                Ok(None) => return Next::Go,
                Err(e) => {
                    let addr = self.peer.addr;
                    self.shared
                        .warnings
                        .warn(|| format!("{addr}: {e}; closing the RELP session"));
                    return Next::Abort;
                }
            };
            buf.advance(used);
            // Answers to other commands come after the acks of the frames before them.
            if !self.hand_over().await {
                return Next::Abort;
            }
            let next = self.command(txnr, &command, &data);
            if let Next::Go = next {
                continue;
            }
            return next;
        }
    }

    /// Answers a command other than a `syslog` on an open session.
    fn command(&mut self, txnr: u32, command: &str, data: &[u8]) -> Next {
        let addr = self.peer.addr;
        let (status, text, offers, next) = match command {
            "open" if self.opened => (
                500,
                "protocol error: session already open",
                None,
                Next::Abort,
            ),
            "open" => match accept_offers(data) {
                Ok(offers) => {
                    self.opened = true;
                    (200, "OK", Some(offers), Next::Go)
                }
                Err(why) => (500, why, None, Next::Abort),
            },
            _ if !self.opened => (500, "protocol error: no open session", None, Next::Abort),
            "close" => (200, "OK", None, Next::Closed),
            _ => {
                let command = command.to_string();
                self.shared
                    .warnings
                    .warn(|| format!("{addr}: RELP command {command:?} is not supported"));
                (500, "command not supported", None, Next::Go)
            }
        };
        if let Next::Abort = next {
            let command = command.to_string();
            self.shared
                .warnings
                .warn(|| format!("{addr}: RELP {command}: {text}; closing the session"));
        }
        let mut rsp = Vec::new();
        relp::response_data(
            status,
            text,
            offers.as_deref().unwrap_or_default(),
            &mut rsp,
        );
        let mut frame = Vec::with_capacity(rsp.len() + 24);
        relp::encode(txnr, "rsp", &rsp, &mut frame);
        if self.replies.try_send(Reply::Now(frame)).is_err() {
            // The replying half is gone or far behind: give up on the session.
            return Next::Abort;
        }
        next
    }

    fn event(&mut self, data: &[u8]) {
        let received = Received {
            peer: &self.peer,
            created: Timestamp::now(),
            created_text: None,
        };
        if self.batch.capacity() == 0 {
            self.tx.prepare(&mut self.batch);
        }
        let decoded = Decoded::Frame(data);
        let outcome = self.parser.write_received(
            &decoded,
            self.shared.max_len,
            Some(&received),
            &mut self.batch,
        );
        self.messages += 1;
        if outcome == Outcome::Failed {
            self.parse_errors += 1;
        }
    }

    /// Hands the events read so far to the writer and queues their acks. False when the
    /// writer or the replying half is gone.
    async fn hand_over(&mut self) -> bool {
        let counters = &self.shared.counters;
        Counters::add(&counters.tcp_messages, std::mem::take(&mut self.messages));
        Counters::add(
            &counters.parse_errors,
            std::mem::take(&mut self.parse_errors),
        );
        if self.txnrs.is_empty() {
            self.tx.release(&mut self.batch);
            return true;
        }
        let (done, written) = oneshot::channel();
        if self.tx.send_acked(&mut self.batch, done).await.is_err() {
            return false;
        }
        let txnrs = std::mem::take(&mut self.txnrs);
        self.replies
            .send(Reply::Written { written, txnrs })
            .await
            .is_ok()
    }
}

/// The offers of an `open` this server accepts, as the response's data; or why it refuses.
fn accept_offers(data: &[u8]) -> Result<Vec<u8>, &'static str> {
    let mut version = false;
    let mut syslog = false;
    for (name, value) in relp::offers(data) {
        match name {
            // librelp offers 0 although the spec says 1; both mean this protocol.
            b"relp_version" => version = true,
            b"commands" => syslog |= value.split(|&b| b == b',').any(|c| c == b"syslog"),
            _ => {}
        }
    }
    if !version {
        return Err("protocol error: open without relp_version");
    }
    let mut out = Vec::new();
    let _ = write!(
        out,
        "relp_version=0\nrelp_software=syslogkit,{},https://github.com/syslogkit\n",
        env!("CARGO_PKG_VERSION")
    );
    if syslog {
        out.extend_from_slice(b"commands=syslog");
    }
    Ok(out)
}

/// One read, `None` after `idle` without data.
async fn read_within<R: AsyncRead + Unpin>(
    read: &mut R,
    buf: &mut BytesMut,
    idle: Option<std::time::Duration>,
) -> Option<std::io::Result<usize>> {
    match idle {
        None => Some(read.read_buf(buf).await),
        Some(idle) => timeout(idle, read.read_buf(buf)).await.ok(),
    }
}

/// The replying half: writes the replies in order, each `syslog` ack once its event is
/// written, then closes the write side.
async fn reply<W: AsyncWrite + Unpin>(mut write: W, mut pending: mpsc::Receiver<Reply>) {
    let mut out = Vec::new();
    while let Some(next) = pending.recv().await {
        match next {
            Reply::Now(bytes) => out.extend_from_slice(&bytes),
            Reply::Written { written, txnrs } => {
                let rsp: &[u8] = match written.await {
                    Ok(()) => b"200 OK",
                    Err(_) => b"500 the event could not be written",
                };
                for txnr in txnrs {
                    relp::encode(txnr, "rsp", rsp, &mut out);
                }
            }
            Reply::ServerClose => {
                relp::encode(0, "serverclose", b"", &mut out);
                break;
            }
        }
        // Gather what is already due into one write.
        if !pending.is_empty() && out.len() < READ_BYTES {
            continue;
        }
        if write.write_all(&out).await.is_err() {
            return;
        }
        out.clear();
    }
    let _ = write.write_all(&out).await;
    let _ = write.shutdown().await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn open_with_librelp_offers_is_accepted_with_syslog() {
        let offers = accept_offers(
            b"relp_version=0\nrelp_software=librelp,1.11.0,http://librelp.adiscon.com\ncommands=syslog",
        )
        .unwrap();
        let text = String::from_utf8(offers).unwrap();
        assert!(
            text.starts_with("relp_version=0\nrelp_software=syslogkit,"),
            "{text}"
        );
        assert!(text.ends_with("\ncommands=syslog"), "{text}");
    }

    #[test]
    fn open_without_relp_version_is_refused_and_without_syslog_offers_no_commands() {
        assert!(accept_offers(b"commands=syslog").is_err());
        let offers = accept_offers(b"relp_version=1\ncommands=starttls").unwrap();
        assert!(!String::from_utf8(offers).unwrap().contains("commands="));
    }
}
