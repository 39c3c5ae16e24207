//! The input side of `send --kafka-brokers`: lines in, records out to the [`KafkaSender`].
//!
//! Two stages on two threads. The input stage reads, cuts lines and makes each line's records
//! (checking that a JSON line is an object is most of the CPU a record costs `send`); the
//! caller's thread only hands the records to the client and serves its reports. A JSON line
//! bound for the fixed topic crosses over as its place in the bytes read, with no copy.

use std::io::{self, Read};
use std::ops::Range;
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError, SyncSender, TryRecvError};
use std::time::{Duration, Instant};

use crate::framing::{Decoded, Decoder, Framing};
use crate::send::relay::{READ_CHUNK_BYTES, RelayStats};

use super::producer::KafkaSender;
use super::record::{Record, RecordBuilder, RecordError, RecordRef};

const TICK_EVERY: Duration = Duration::from_millis(100);

/// Sends the message given as arguments: one record (not split).
pub fn send_one(
    message: &[u8],
    builder: &RecordBuilder,
    sender: &mut KafkaSender,
) -> Result<RelayStats, RecordError> {
    let mut messages = 0;
    builder.for_each_record(message, false, &mut Vec::new(), |record| {
        sender.send(record);
        messages += 1;
    })?;
    Ok(RelayStats {
        lines: 1,
        messages,
        ..RelayStats::default()
    })
}

/// Reads `input` to its end, one line a record (LF; a CR before it dropped), and hands each
/// to `sender`. `on_error` gets the line number (from 1) of every line skipped; `on_tick`
/// the counts, after every read of input and at least every 100 ms while waiting. Stops
/// early when the producer failed for good.
pub fn relay<R: Read + Send + 'static>(
    input: R,
    builder: Arc<RecordBuilder>,
    max_len: usize,
    sender: &mut KafkaSender,
    mut on_error: impl FnMut(u64, &RecordError),
    mut on_tick: impl FnMut(&RelayStats),
) -> io::Result<RelayStats> {
    // With the write-ahead queue, one read ahead only: what was read but not queued yet is
    // what a `kill -9` loses (at most two reads of 64 KiB). Without it, eight more.
    let ahead = if sender.writes_ahead() { 0 } else { 8 };
    // The topic of `Prepared::Plain` records, which only exist when there is one.
    let topic = builder.plain_topic().map(str::to_string);
    let batches = InputStage::start(input, builder, max_len, ahead);
    let mut stats = RelayStats::default();
    let mut last_tick = Instant::now();
    loop {
        let batch = match batches.try_recv() {
            Ok(batch) => Some(batch),
            Err(TryRecvError::Disconnected) => None,
            Err(TryRecvError::Empty) => loop {
                // Caught up with the input: keep the producer moving meanwhile.
                sender.idle(Duration::ZERO);
                if sender.failed().is_some() {
                    return Ok(stats);
                }
                match batches.recv_timeout(Duration::from_millis(20)) {
                    Ok(batch) => break Some(batch),
                    Err(RecvTimeoutError::Disconnected) => break None,
                    Err(RecvTimeoutError::Timeout) => {
                        if last_tick.elapsed() >= TICK_EVERY {
                            on_tick(&stats);
                            last_tick = Instant::now();
                        }
                    }
                }
            },
        };
        let Some(batch) = batch else {
            return Ok(stats);
        };
        let batch = batch?;
        stats.bytes_read += batch.read as u64;
        stats.lines += batch.lines;
        for record in &batch.records {
            sender.send(match record {
                Prepared::Plain(value) => RecordRef {
                    topic: topic.as_deref().unwrap_or_default(),
                    key: None,
                    headers: &[],
                    value: &batch.bytes[value.clone()],
                },
                Prepared::Built(record) => record.borrowed(),
            });
        }
        stats.messages += batch.records.len() as u64;
        for (line, e) in &batch.bad {
            stats.errors += 1;
            on_error(*line, e);
        }
        // What was read is in the queue files (handed to the OS) before more is read.
        sender.flush_queue();
        on_tick(&stats);
        if sender.failed().is_some() {
            return Ok(stats);
        }
        batches.recycle(batch.bytes);
    }
}

/// The records of the complete lines of one read.
#[derive(Default)]
struct Batch {
    /// The lines' bytes.
    bytes: Vec<u8>,
    records: Vec<Prepared>,
    /// The lines skipped, by line number.
    bad: Vec<(u64, RecordError)>,
    lines: u64,
    /// Bytes read for this batch.
    read: usize,
}

enum Prepared {
    /// A JSON line as its own record to [`RecordBuilder::plain_topic`]: where it is in the
    /// batch's bytes.
    Plain(Range<usize>),
    Built(Record),
}

/// The thread that reads the input and makes its records.
struct InputStage {
    batches: Receiver<io::Result<Batch>>,
    spare: SyncSender<Vec<u8>>,
}

impl InputStage {
    /// Starts reading on a thread of its own; at most `ahead` batches wait beyond the one
    /// being made (0: a rendezvous). A read error ends the batches; so does the end of the
    /// input, when the channel closes. The thread is not joined: a read that never returns
    /// (a terminal) must not keep the caller from finishing.
    fn start<R: Read + Send + 'static>(
        mut input: R,
        builder: Arc<RecordBuilder>,
        max_len: usize,
        ahead: usize,
    ) -> InputStage {
        let (tx, batches) = mpsc::sync_channel(ahead);
        let (spare, spare_rx) = mpsc::sync_channel::<Vec<u8>>(ahead + 2);
        std::thread::spawn(move || {
            let mut lines = Lines {
                builder: &builder,
                plain_topic: builder.plain_topic(),
                decoder: Decoder::new(&Framing::Lf, max_len),
                max_len,
                line: 0,
                scratch: Vec::new(),
            };
            let mut buf = Vec::new();
            loop {
                let held = buf.len();
                buf.resize(held + READ_CHUNK_BYTES, 0);
                let read = match input.read(&mut buf[held..]) {
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                        buf.truncate(held);
                        continue;
                    }
                    Err(e) => {
                        let _ = tx.send(Err(e));
                        return;
                    }
                };
                buf.truncate(held + read);
                let eof = read == 0;
                let batch = lines.cut(
                    &mut buf,
                    || spare_rx.try_recv().unwrap_or_default(),
                    eof,
                    read,
                );
                if tx.send(Ok(batch)).is_err() || eof {
                    return;
                }
            }
        });
        InputStage { batches, spare }
    }

    fn try_recv(&self) -> Result<io::Result<Batch>, TryRecvError> {
        self.batches.try_recv()
    }

    fn recv_timeout(&self, wait: Duration) -> Result<io::Result<Batch>, RecvTimeoutError> {
        self.batches.recv_timeout(wait)
    }

    /// Hands a batch's buffer back for a later read.
    fn recycle(&self, bytes: Vec<u8>) {
        let _ = self.spare.try_send(bytes);
    }
}

/// Cutting lines and making records, on the input stage's thread.
struct Lines<'b> {
    builder: &'b RecordBuilder,
    plain_topic: Option<&'b str>,
    decoder: Decoder,
    max_len: usize,
    /// Lines so far.
    line: u64,
    scratch: Vec<Vec<u8>>,
}

impl Lines<'_> {
    /// Makes the records of every complete line in `buf` (every line at `eof`). The bytes
    /// of those lines leave `buf` as the batch's; what is left of an unfinished line starts
    /// a buffer from `fresh` (nothing moves while no line is complete).
    fn cut(
        &mut self,
        buf: &mut Vec<u8>,
        fresh: impl FnOnce() -> Vec<u8>,
        eof: bool,
        read: usize,
    ) -> Batch {
        let mut batch = Batch {
            read,
            ..Batch::default()
        };
        let (base, len) = (buf.as_ptr() as usize, buf.len());
        let (builder, plain_topic, max_len) = (self.builder, self.plain_topic, self.max_len);
        let (line_no, scratch) = (&mut self.line, &mut self.scratch);
        let (used, _) = self.decoder.for_each(buf, eof, |decoded| {
            *line_no += 1;
            batch.lines += 1;
            let result = match decoded {
                Decoded::Frame(line) | Decoded::Truncated(line) => {
                    // Where the line is in `buf` (the decoder hands out parts of it).
                    let at = (line.as_ptr() as usize)
                        .checked_sub(base)
                        .filter(|at| at + line.len() <= len);
                    builder.for_each_record(line, true, scratch, |record| {
                        let plain = record.key.is_none()
                            && record.headers.is_empty()
                            && Some(record.topic) == plain_topic
                            && std::ptr::eq(record.value, line);
                        batch.records.push(match at {
                            Some(at) if plain => Prepared::Plain(at..at + line.len()),
                            _ => Prepared::Built(record.owned()),
                        });
                    })
                }
                Decoded::Oversized(_) | Decoded::Invalid { .. } => {
                    Err(RecordError::Line(crate::egress::LineError::Oversized {
                        max_len,
                    }))
                }
            };
            if let Err(e) = result {
                batch.bad.push((*line_no, e));
            }
            std::ops::ControlFlow::<()>::Continue(())
        });
        if used > 0 {
            let mut rest = fresh();
            rest.clear();
            rest.extend_from_slice(&buf[used..]);
            buf.truncate(used);
            batch.bytes = std::mem::replace(buf, rest);
        }
        batch
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::egress::InputKind;
    use crate::send::kafka::record::test_builder;

    fn builder(key: Option<&str>) -> RecordBuilder {
        test_builder("t", key, InputKind::Json)
    }

    fn lines(builder: &RecordBuilder, max_len: usize) -> Lines<'_> {
        Lines {
            builder,
            plain_topic: builder.plain_topic(),
            decoder: Decoder::new(&Framing::Lf, max_len),
            max_len,
            line: 0,
            scratch: Vec::new(),
        }
    }

    /// The values of a batch's records, as text.
    fn values(batch: &Batch) -> Vec<String> {
        batch
            .records
            .iter()
            .map(|r| match r {
                Prepared::Plain(range) => String::from_utf8_lossy(&batch.bytes[range.clone()]),
                Prepared::Built(record) => String::from_utf8_lossy(&record.value),
            })
            .map(|v| v.into_owned())
            .collect()
    }

    #[test]
    fn an_unfinished_line_waits_for_the_next_read_and_bad_lines_keep_their_numbers() {
        let b = builder(None);
        let mut lines = lines(&b, 1024);
        let mut buf = b"{\"a\":1}\r\n{\"b\":".to_vec();
        let batch = lines.cut(&mut buf, Vec::new, false, 15);
        assert_eq!(values(&batch), [r#"{"a":1}"#]);
        assert!(matches!(batch.records[0], Prepared::Plain(_)), "no copy");
        assert_eq!((batch.lines, batch.read), (1, 15));
        assert_eq!(buf, b"{\"b\":", "the unfinished line is kept");

        buf.extend_from_slice(b"2}\nnot json\n[1]\n{\"c\":3}");
        let batch = lines.cut(&mut buf, Vec::new, false, 21);
        assert_eq!(values(&batch), [r#"{"b":2}"#]);
        let bad: Vec<u64> = batch.bad.iter().map(|(n, _)| *n).collect();
        assert_eq!(bad, [3, 4], "line 3 is no JSON, line 4 no object");
        assert_eq!(buf, b"{\"c\":3}");

        // A read that completes no line moves nothing.
        let batch = lines.cut(&mut buf, || unreachable!("no new buffer"), false, 0);
        assert_eq!((batch.lines, batch.records.len()), (0, 0));
        let batch = lines.cut(&mut buf, Vec::new, true, 0);
        assert_eq!(values(&batch), [r#"{"c":3}"#], "the last line needs no LF");
        assert!(buf.is_empty());
    }

    #[test]
    fn records_that_need_fields_are_built_and_a_line_too_long_is_bad() {
        let b = builder(Some("k"));
        let mut lines = lines(&b, 16);
        let mut buf = b"{\"k\":\"x\",\"v\":1}\n{\"k\":\"a very long value\"}\n{}\n".to_vec();
        let batch = lines.cut(&mut buf, Vec::new, false, 48);
        assert_eq!(values(&batch), [r#"{"k":"x","v":1}"#, "{}"]);
        assert!(
            matches!(&batch.records[0], Prepared::Built(r) if r.key.as_deref() == Some(&b"x"[..]))
        );
        let bad: Vec<u64> = batch.bad.iter().map(|(n, _)| *n).collect();
        assert_eq!(bad, [2], "{:?}", batch.bad);
    }
}
