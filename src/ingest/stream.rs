//! Parsing a whole byte stream (a file, stdin) into JSON event lines, in input order, with
//! memory bounded by the maximum message size — on one thread, or on several that parse
//! batches of lines in parallel while the output keeps the input's order.

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::ops::ControlFlow;
use std::sync::mpsc;
use std::sync::{Arc, Mutex};
use std::thread;

use super::{LineParser, Outcome};
use crate::framing::{Decoded, Decoder, FrameError, Framing};

/// Bytes read from the input at a time.
const READ_CHUNK_BYTES: usize = 1 << 20;
/// Output is handed to the writer in pieces of about this size.
const OUTPUT_FLUSH_BYTES: usize = 1 << 20;
/// Input bytes per batch handed to a worker thread.
const BATCH_BYTES: usize = 1 << 20;

/// Counts for `--stats`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    /// Lines read (one event each).
    pub lines: u64,
    /// Lines whose event carries `error.message`.
    pub errors: u64,
    /// Input bytes read.
    pub bytes: u64,
}

impl Stats {
    fn count(&mut self, outcome: Outcome) {
        self.lines += 1;
        if outcome == Outcome::Failed {
            self.errors += 1;
        }
    }

    fn add(&mut self, other: Stats) {
        self.lines += other.lines;
        self.errors += other.errors;
        self.bytes += other.bytes;
    }
}

/// Where a stream failed: reading the input, or writing the output (a closed pipe, a full disk).
#[derive(Debug)]
pub enum StreamError {
    Read(io::Error),
    Write(io::Error),
}

impl std::fmt::Display for StreamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StreamError::Read(e) => write!(f, "read error: {e}"),
            StreamError::Write(e) => write!(f, "write error: {e}"),
        }
    }
}

impl std::error::Error for StreamError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            StreamError::Read(e) | StreamError::Write(e) => Some(e),
        }
    }
}

/// Reads `input` to its end, cutting it into messages with `decoder` and calling `each` for
/// every decoded message, in order. The buffer never holds more than one maximum-size message
/// plus a read.
pub(crate) fn for_each_line<R: Read>(
    mut input: R,
    decoder: &mut Decoder,
    bytes_read: &mut u64,
    mut each: impl FnMut(Decoded<'_>) -> Result<(), StreamError>,
) -> Result<(), StreamError> {
    // `buf[start..end]` holds the unconsumed bytes. The vector only grows (zeroed once), so a
    // read does not pay for clearing the space it is about to fill.
    let mut buf: Vec<u8> = vec![0; READ_CHUNK_BYTES];
    let mut start = 0;
    let mut end = 0;
    let mut eof = false;
    loop {
        let (used, failed) =
            decoder.for_each(&buf[start..end], eof, |decoded| match each(decoded) {
                Ok(()) => ControlFlow::Continue(()),
                Err(e) => ControlFlow::Break(e),
            });
        if let Some(e) = failed {
            return Err(e);
        }
        start += used;
        if eof {
            return Ok(());
        }
        // Move the unconsumed tail to the front, then read more behind it.
        buf.copy_within(start..end, 0);
        end -= start;
        start = 0;
        if buf.len() - end < READ_CHUNK_BYTES {
            buf.resize(end + READ_CHUNK_BYTES, 0);
        }
        let n = loop {
            match input.read(&mut buf[end..]) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(StreamError::Read(e)),
            }
        };
        end += n;
        *bytes_read += n as u64;
        eof = n == 0;
    }
}

/// Parses `input` into JSON lines written to `output`, on the calling thread.
pub fn parse_serial<R: Read, W: Write>(
    input: R,
    parser: &LineParser,
    max_len: usize,
    output: &mut W,
) -> Result<Stats, StreamError> {
    serial(input, parser, Decoder::new(&Framing::Lf, max_len), output)
}

/// Parses `input` cut with any `framing` (`frame --decode`: an offline `listen`) into JSON
/// lines written to `output`, on `jobs` threads (1: the calling thread only).
pub fn parse_framed<R: Read + Send, W: Write>(
    input: R,
    parser: &LineParser,
    framing: &Framing,
    max_len: usize,
    jobs: usize,
    output: &mut W,
) -> Result<Stats, StreamError> {
    if jobs > 1 {
        return parse_in_parallel(input, parser, framing, max_len, jobs, output);
    }
    serial(input, parser, Decoder::new(framing, max_len), output)
}

fn serial<R: Read, W: Write>(
    input: R,
    parser: &LineParser,
    mut decoder: Decoder,
    output: &mut W,
) -> Result<Stats, StreamError> {
    let max_len = decoder.max_len();
    let mut stats = Stats::default();
    let mut out = Vec::with_capacity(OUTPUT_FLUSH_BYTES + 4096);
    let mut bytes = 0;
    let result = for_each_line(input, &mut decoder, &mut bytes, |decoded| {
        stats.count(parser.write_decoded(&decoded, max_len, &mut out));
        if out.len() >= OUTPUT_FLUSH_BYTES {
            output.write_all(&out).map_err(StreamError::Write)?;
            out.clear();
        }
        Ok(())
    });
    // Whatever was parsed before a read error still goes out.
    output.write_all(&out).map_err(StreamError::Write)?;
    stats.bytes = bytes;
    result.map(|()| stats)
}

/// A batch of lines copied out of the input: `data` holds them back to back.
struct Batch {
    seq: u64,
    data: Vec<u8>,
    /// End offset in `data` of each line, and what is wrong with it (cut, invalid).
    lines: Vec<(usize, Option<FrameError>)>,
}

/// Parses `input` with `jobs` worker threads; events come out in input order. Memory is bounded
/// by a few batches per worker.
pub fn parse_parallel<R: Read + Send, W: Write>(
    input: R,
    parser: &LineParser,
    max_len: usize,
    jobs: usize,
    output: &mut W,
) -> Result<Stats, StreamError> {
    parse_framed(input, parser, &Framing::Lf, max_len, jobs, output)
}

fn parse_in_parallel<R: Read + Send, W: Write>(
    input: R,
    parser: &LineParser,
    framing: &Framing,
    max_len: usize,
    jobs: usize,
    output: &mut W,
) -> Result<Stats, StreamError> {
    let (batch_tx, batch_rx) = mpsc::sync_channel::<Batch>(jobs * 2);
    let batch_rx = Arc::new(Mutex::new(batch_rx));
    let (done_tx, done_rx) = mpsc::sync_channel::<(u64, Vec<u8>, Stats)>(jobs * 2);

    thread::scope(|scope| {
        for _ in 0..jobs {
            let batch_rx = Arc::clone(&batch_rx);
            let done_tx = done_tx.clone();
            let parser = parser.clone();
            scope.spawn(move || {
                loop {
                    let next = batch_rx.lock().map(|rx| rx.recv());
                    let Ok(Ok(batch)) = next else { return };
                    let (seq, out, stats) = parse_batch(&parser, max_len, &batch);
                    if done_tx.send((seq, out, stats)).is_err() {
                        return;
                    }
                }
            });
        }
        // Only the workers may hold the receiver: when they stop, the reader's sends fail.
        drop(batch_rx);
        drop(done_tx);

        let reader = scope.spawn(move || -> Result<u64, StreamError> {
            let mut decoder = Decoder::new(framing, max_len);
            let mut batch = new_batch(0);
            let mut bytes = 0;
            let sent = for_each_line(input, &mut decoder, &mut bytes, |decoded| {
                let defect = decoded.defect();
                batch.data.extend_from_slice(decoded.bytes());
                batch.lines.push((batch.data.len(), defect));
                if batch.data.len() >= BATCH_BYTES {
                    let next = new_batch(batch.seq + 1);
                    // A send fails only when the workers are gone, i.e. the writer stopped:
                    // stop reading too.
                    batch_tx
                        .send(std::mem::replace(&mut batch, next))
                        .map_err(|_| StreamError::Write(io::ErrorKind::BrokenPipe.into()))?;
                }
                Ok(())
            });
            if !batch.lines.is_empty() {
                let _ = batch_tx.send(batch);
            }
            drop(batch_tx);
            sent.map(|()| bytes)
        });

        // Write results in sequence order as they complete.
        let mut stats = Stats::default();
        let mut pending = BTreeMap::new();
        let mut next_seq = 0;
        let mut write_error = None;
        for (seq, out, batch_stats) in done_rx {
            pending.insert(seq, (out, batch_stats));
            while let Some((out, batch_stats)) = pending.remove(&next_seq) {
                if write_error.is_none()
                    && let Err(e) = output.write_all(&out)
                {
                    write_error = Some(e);
                }
                stats.add(batch_stats);
                next_seq += 1;
            }
            if write_error.is_some() {
                break; // dropping the receiver stops the workers, then the reader
            }
        }
        if let Some(e) = write_error {
            return Err(StreamError::Write(e));
        }
        let bytes = reader.join().expect("reader thread does not panic")?;
        stats.bytes = bytes;
        Ok(stats)
    })
}

fn new_batch(seq: u64) -> Batch {
    Batch {
        seq,
        data: Vec::with_capacity(BATCH_BYTES + 4096),
        lines: Vec::with_capacity(BATCH_BYTES / 64),
    }
}

fn parse_batch(parser: &LineParser, max_len: usize, batch: &Batch) -> (u64, Vec<u8>, Stats) {
    let mut out = Vec::with_capacity(batch.data.len() * 3);
    let mut stats = Stats::default();
    let mut start = 0;
    for &(end, defect) in &batch.lines {
        let bytes = &batch.data[start..end];
        let decoded = Decoded::from_parts(bytes, defect);
        stats.count(parser.write_decoded(&decoded, max_len, &mut out));
        start = end;
    }
    (batch.seq, out, stats)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::ParseOptions;

    fn input(lines: usize) -> Vec<u8> {
        let mut data = Vec::new();
        for i in 0..lines {
            match i % 3 {
                0 => data.extend_from_slice(
                    format!("<13>Nov 22 10:01:02 h app[{i}]: line {i}\n").as_bytes(),
                ),
                1 => data.extend_from_slice(
                    format!("<13>1 2026-11-22T10:01:02Z h app {i} - - line {i}\n").as_bytes(),
                ),
                _ => data.extend_from_slice(format!("garbage {i}\n").as_bytes()),
            }
        }
        data
    }

    #[test]
    fn parallel_output_equals_serial_output_in_order() {
        let parser = LineParser::new(ParseOptions {
            time: crate::syslog::timestamp::TimeContext::new(
                crate::syslog::timestamp::Zone::Fixed(chrono::FixedOffset::east_opt(0).unwrap()),
                Some(2026),
            ),
            ..ParseOptions::default()
        });
        let data = input(60_000); // several batches
        let mut serial = Vec::new();
        let s1 = parse_serial(&data[..], &parser, 1024, &mut serial).unwrap();
        let mut parallel = Vec::new();
        let s2 = parse_parallel(&data[..], &parser, 1024, 3, &mut parallel).unwrap();
        assert_eq!(s1, s2);
        assert_eq!(s1.lines, 60_000);
        assert_eq!(s1.errors, 20_000);
        // Error events carry the time they were read; compare everything else line by line.
        let strip_time = |out: &[u8]| -> Vec<serde_json::Value> {
            out.split(|&b| b == b'\n')
                .filter(|l| !l.is_empty())
                .map(|l| {
                    let mut v: serde_json::Value = serde_json::from_slice(l).unwrap();
                    if v.get("error").is_some() {
                        v.as_object_mut().unwrap().remove("@timestamp");
                    }
                    v
                })
                .collect()
        };
        assert_eq!(strip_time(&serial), strip_time(&parallel));
    }

    use proptest::strategy::Strategy;

    proptest::proptest! {
        /// Arbitrary bytes (and mutated syslog lines) never panic, and give exactly one valid
        /// JSON line per input line, which keeps the raw line when it failed.
        #[test]
        fn any_stream_gives_one_json_line_per_input_line(
            chunks in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200),
                    proptest::string::string_regex(
                        r#"(<[0-9]{1,3}>)?(1 )?((Nov|Feb) [ 0-9]{1,2} [0-9:]{5,9} )?[a-z\[\]0-9: ="-]{0,60}"#
                    ).unwrap().prop_map(String::into_bytes),
                ],
                0..20,
            ),
            max_len in 1usize..300,
        ) {
            let mut input = Vec::new();
            for chunk in &chunks {
                input.extend_from_slice(chunk);
                input.push(b'\n');
            }
            let parser = LineParser::new(ParseOptions::default());
            let mut out = Vec::new();
            let stats = parse_serial(&input[..], &parser, max_len, &mut out).unwrap();
            let lines: Vec<&[u8]> = input.split(|&b| b == b'\n').collect();
            let expected = lines.len() - 1; // the input ends with LF
            proptest::prop_assert_eq!(stats.lines as usize, expected);
            let events: Vec<serde_json::Value> = out
                .split(|&b| b == b'\n')
                .filter(|l| !l.is_empty())
                .map(|l| {
                    crate::ecs::json::tests::assert_no_duplicate_keys(l);
                    serde_json::from_slice(l).expect("valid JSON")
                })
                .collect();
            proptest::prop_assert_eq!(events.len(), expected);
            for (event, line) in events.iter().zip(&lines) {
                if event.get("error").is_some() {
                    let line = line.strip_suffix(b"\r").unwrap_or(line);
                    let kept = &line[..line.len().min(max_len)];
                    let original = String::from_utf8_lossy(kept);
                    proptest::prop_assert_eq!(event["event"]["original"].as_str(), Some(original.as_ref()));
                }
            }
        }
    }

    #[test]
    fn oversized_line_in_a_stream_is_one_error_event() {
        let parser = LineParser::new(ParseOptions::default());
        let mut data = b"first\n".to_vec();
        data.extend(std::iter::repeat_n(b'x', 3 * READ_CHUNK_BYTES));
        data.extend_from_slice(b"\nlast\n");
        let mut out = Vec::new();
        let stats = parse_serial(&data[..], &parser, 100, &mut out).unwrap();
        assert_eq!(stats.lines, 3);
        let second: serde_json::Value =
            serde_json::from_slice(out.split(|&b| b == b'\n').nth(1).unwrap()).unwrap();
        assert_eq!(second["event"]["original"].as_str().unwrap().len(), 100);
        assert!(
            second["error"]["message"]
                .as_str()
                .unwrap()
                .contains("maximum message size")
        );
    }

    #[test]
    fn octet_counted_stream_with_a_bad_prefix_gives_one_error_event_and_goes_on() {
        let parser = LineParser::new(ParseOptions::default());
        let data = b"abc <13>garbage\n20 <13>1 - h a - - - ok";
        let mut out = Vec::new();
        let stats = parse_framed(
            &data[..],
            &parser,
            &Framing::OctetCounting,
            1024,
            1,
            &mut out,
        )
        .unwrap();
        assert_eq!((stats.lines, stats.errors), (2, 1));
        let events: Vec<serde_json::Value> = out
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_slice(l).unwrap())
            .collect();
        assert_eq!(events[0]["event"]["original"], "abc <13>garbage");
        let error = events[0]["error"]["message"].as_str().unwrap();
        assert!(
            error.starts_with("octet counting: expected a length"),
            "{error}"
        );
        assert_eq!(events[1]["message"], "ok");
    }
}
