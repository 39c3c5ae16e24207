//! The input side of `send`: lines (text or JSON events) in, framed by
//! [`crate::egress::MessageEncoder`], handed to a [`Sender`] or, for `--dry-run`, written out.
//! Reading happens on its own thread so that the sender keeps connections, timers and the disk
//! queue moving while the input is idle.
//!
//! Read-ahead is bounded for the disk queue's sake: the reading thread holds at most one read
//! ([`READ_CHUNK_BYTES`]) while the previous one is cut into lines, and after each read is
//! handed over the sender writes what it queued to the OS ([`Sender::sync_queue`]). So input
//! read but not yet in the queue files, what a `kill -9` can lose, is at most two reads and
//! the line that straddles them.

use std::io::{self, Read, Write};
use std::ops::ControlFlow;
use std::sync::mpsc::{self, RecvTimeoutError, TryRecvError};
use std::time::{Duration, Instant};

use crate::egress::{LineError, MessageEncoder};
use crate::framing::{Decoded, Decoder, Framing};

use super::relp::RelpSender;
use super::sender::Sender;

/// One read of the input.
pub const READ_CHUNK_BYTES: usize = 64 * 1024;

/// Counts of one run of the input side.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RelayStats {
    pub lines: u64,
    pub messages: u64,
    /// Lines skipped with a [`LineError`] (reported through `on_error`).
    pub errors: u64,
    /// Messages cut to the UDP record size.
    pub truncated: u64,
    pub bytes_read: u64,
}

/// Where framed messages go.
pub enum Sink<'a> {
    Send(&'a mut Sender),
    /// RELP (`--protocol relp`): unframed messages, each acknowledged by the receiver.
    Relp(&'a mut RelpSender),
    /// `--dry-run`: the framed bytes, one after the other.
    Write(&'a mut dyn Write),
}

impl Sink<'_> {
    fn put(&mut self, framed: &[u8]) -> io::Result<()> {
        match self {
            Sink::Send(s) => {
                s.send(framed);
                Ok(())
            }
            Sink::Relp(s) => {
                s.send(framed);
                Ok(())
            }
            Sink::Write(w) => w.write_all(framed),
        }
    }

    /// A read has been handed over: the disk queue gets what it holds to the OS.
    fn read_done(&mut self) {
        if let Sink::Send(s) = self {
            s.sync_queue();
        }
    }

    fn idle(&mut self, wait: Duration) -> io::Result<()> {
        match self {
            Sink::Send(s) => {
                s.idle(wait);
                Ok(())
            }
            Sink::Relp(s) => {
                s.idle(wait);
                Ok(())
            }
            Sink::Write(w) => w.flush(),
        }
    }
}

/// Why [`send_one`] failed.
#[derive(Debug, thiserror::Error)]
pub enum OneShotError {
    /// The message cannot become a syslog message (`--input json` and not JSON, too long).
    #[error("the message cannot be sent: {0}")]
    Message(LineError),
    /// Writing it out (`--dry-run`) failed.
    #[error("writing the message: {0}")]
    Write(io::Error),
}

/// Sends the messages given as arguments (one message, as logger joins them).
pub fn send_one(
    message: &[u8],
    encoder: &MessageEncoder,
    output: &mut Sink<'_>,
) -> Result<RelayStats, OneShotError> {
    let mut scratch = Vec::new();
    let mut framed = Vec::new();
    let truncated = encoder
        .encode(message, false, &mut scratch, &mut framed)
        .map_err(OneShotError::Message)?;
    for f in &framed {
        output.put(f).map_err(OneShotError::Write)?;
    }
    Ok(RelayStats {
        lines: 1,
        messages: framed.len() as u64,
        truncated,
        ..RelayStats::default()
    })
}

/// Reads `input` on a thread of its own, in chunks of up to 64 KiB, so that the caller keeps
/// its connections, timers and queue moving while the input is idle. At most `queued` chunks
/// wait beyond the one being read (0: a rendezvous, one chunk ahead). A read error ends the
/// chunks; so does the end of input, when the channel closes.
pub fn read_ahead<R: Read + Send + 'static>(input: R, queued: usize) -> ReadAhead {
    let (tx, rx) = mpsc::sync_channel::<io::Result<Vec<u8>>>(queued);
    let (spare_tx, spare_rx) = mpsc::sync_channel::<Vec<u8>>(queued + 2);
    std::thread::spawn(move || {
        let mut input = input;
        loop {
            // A buffer handed back is reused: only the part the last read left short needs
            // zeroing, instead of a fresh 64 KiB for every read.
            let mut chunk = spare_rx.try_recv().unwrap_or_default();
            chunk.resize(READ_CHUNK_BYTES, 0);
            match input.read(&mut chunk) {
                Ok(0) => return,
                Ok(n) => {
                    chunk.truncate(n);
                    if tx.send(Ok(chunk)).is_err() {
                        return;
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    let _ = tx.send(Err(e));
                    return;
                }
            }
        }
    });
    ReadAhead {
        chunks: rx,
        spare: spare_tx,
    }
}

/// The chunks [`read_ahead`]'s thread reads, and the way back for their buffers.
pub struct ReadAhead {
    chunks: mpsc::Receiver<io::Result<Vec<u8>>>,
    spare: mpsc::SyncSender<Vec<u8>>,
}

impl ReadAhead {
    pub fn try_recv(&self) -> Result<io::Result<Vec<u8>>, TryRecvError> {
        self.chunks.try_recv()
    }

    pub fn recv_timeout(&self, wait: Duration) -> Result<io::Result<Vec<u8>>, RecvTimeoutError> {
        self.chunks.recv_timeout(wait)
    }

    /// Hands a chunk's buffer back to the reading thread once its bytes are copied out.
    pub fn recycle(&self, chunk: Vec<u8>) {
        let _ = self.spare.try_send(chunk);
    }
}

/// Reads `input` to its end, one message per line (LF; a CR before it dropped), and hands each
/// to `output`. `on_error` gets the line number (from 1) of every line skipped;
/// `on_tick` is called with the counts so far after every message handed over, and at least
/// every 100 ms while waiting for input (for progress and `--stats`): keep it cheap.
pub fn relay<R: Read + Send + 'static>(
    input: R,
    encoder: &MessageEncoder,
    max_len: usize,
    output: &mut Sink<'_>,
    mut on_error: impl FnMut(u64, &LineError),
    mut on_tick: impl FnMut(&RelayStats),
) -> io::Result<RelayStats> {
    // A rendezvous: the thread reads one chunk ahead and waits until it is taken.
    let rx = read_ahead(input, 0);
    let mut stats = RelayStats::default();
    let mut decoder = Decoder::new(&Framing::Lf, max_len);
    let mut buf: Vec<u8> = Vec::new();
    let mut scratch = Vec::new();
    let mut framed = Vec::new();
    let mut last_tick = Instant::now();
    let mut eof = false;
    loop {
        // Cut and send every complete line in the buffer.
        let (start, failed) = decoder.for_each(&buf, eof, |decoded| {
            stats.lines += 1;
            framed.clear();
            let result = match decoded {
                Decoded::Frame(line) | Decoded::Truncated(line) => {
                    encoder.encode(line, true, &mut scratch, &mut framed)
                }
                Decoded::Oversized(_) | Decoded::Invalid { .. } => {
                    Err(LineError::Oversized { max_len })
                }
            };
            match result {
                Ok(truncated) => {
                    stats.truncated += truncated;
                    for f in &framed {
                        if let Err(e) = output.put(f) {
                            return ControlFlow::Break(e);
                        }
                        stats.messages += 1;
                    }
                    // A chunk can take long to hand over when the sender blocks (throttle,
                    // backpressure): the counts stay current meanwhile.
                    on_tick(&stats);
                }
                Err(e) => {
                    stats.errors += 1;
                    on_error(stats.lines, &e);
                }
            }
            ControlFlow::Continue(())
        });
        if let Some(e) = failed {
            return Err(e);
        }
        buf.drain(..start);
        output.read_done();
        if eof {
            return Ok(stats);
        }
        if last_tick.elapsed() >= Duration::from_millis(100) {
            on_tick(&stats);
            last_tick = Instant::now();
        }
        // More input; while there is none, keep the sender moving.
        let chunk = match rx.try_recv() {
            Ok(chunk) => Some(chunk),
            Err(TryRecvError::Disconnected) => None,
            Err(TryRecvError::Empty) => {
                // Caught up with the input: the counts are current while the sender works.
                on_tick(&stats);
                last_tick = Instant::now();
                loop {
                    output.idle(Duration::ZERO)?;
                    match rx.recv_timeout(Duration::from_millis(20)) {
                        Ok(chunk) => break Some(chunk),
                        Err(RecvTimeoutError::Disconnected) => break None,
                        Err(RecvTimeoutError::Timeout) => {
                            if last_tick.elapsed() >= Duration::from_millis(100) {
                                on_tick(&stats);
                                last_tick = Instant::now();
                            }
                        }
                    }
                }
            }
        };
        match chunk {
            Some(chunk) => {
                let chunk = chunk?;
                stats.bytes_read += chunk.len() as u64;
                buf.extend_from_slice(&chunk);
                rx.recycle(chunk);
            }
            None => eof = true,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::egress::{FormatOptions, Formatter, InputKind, LineEncoder, TextFields};
    use crate::framing::{Encoder, Escape};
    use crate::syslog::format::OutputFormat;

    fn encoder(format: OutputFormat, text: TextFields, record: Option<usize>) -> MessageEncoder {
        let f = Formatter::new(FormatOptions {
            format,
            hostname: Some("h".into()),
            zone: "UTC".parse().unwrap(),
            ..FormatOptions::default()
        })
        .unwrap();
        MessageEncoder::new(
            LineEncoder::new(f, InputKind::Auto),
            text,
            Some(Encoder::new(&Framing::Lf, Escape::ControlCharacters).unwrap()),
            record,
            Some(4),
            true,
        )
    }

    fn run(e: &MessageEncoder, input: &'static str) -> (String, RelayStats, Vec<u64>) {
        let mut out = Vec::new();
        let mut errors = Vec::new();
        let stats = relay(
            input.as_bytes(),
            e,
            1000,
            &mut Sink::Write(&mut out),
            |n, _| errors.push(n),
            |_| {},
        )
        .unwrap();
        (String::from_utf8(out).unwrap(), stats, errors)
    }

    #[test]
    fn long_text_lines_are_split_empty_ones_skipped_and_bad_json_reported() {
        let e = encoder(OutputFormat::Raw, TextFields::default(), None);
        let (out, stats, errors) = run(&e, "abcdefg\n\n{bad\nok");
        assert_eq!(out, "abcd\nefg\nok\n");
        assert_eq!(stats.messages, 3);
        assert_eq!(errors, vec![3]);
    }

    #[test]
    fn text_fields_go_into_the_rfc5424_header() {
        let text = TextFields {
            procid: Some("42".into()),
            msgid: Some("ID7".into()),
            structured_data: vec![("zoo@1".into(), vec![("tiger".into(), "a\"b".into())])],
        };
        let e = encoder(OutputFormat::Rfc5424, text, None);
        let (out, _, _) = run(&e, "hi\n");
        assert!(
            out.ends_with(" h syslogkit 42 ID7 [zoo@1 tiger=\"a\\\"b\"] hi\n"),
            "{out}"
        );
    }

    #[test]
    fn udp_records_are_cut_with_dots_and_counted() {
        let mut e = encoder(OutputFormat::Raw, TextFields::default(), Some(3 + 3));
        e.max_text_size = None;
        let (out, stats, _) = run(&e, "0123456789\nabc\n");
        assert_eq!(out, "012...\nabc\n");
        assert_eq!(stats.truncated, 1);
    }
}
