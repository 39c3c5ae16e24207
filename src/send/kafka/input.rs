//! The input side of `send --kafka-brokers`: lines in (on their own thread, as
//! [`crate::send::relay`] reads them), records out to the [`KafkaSender`].

use std::io::{self, Read};
use std::sync::mpsc::{RecvTimeoutError, TryRecvError};
use std::time::{Duration, Instant};

use crate::framing::{Decoded, Decoder, Framing};
use crate::send::relay::{RelayStats, read_ahead};

use super::producer::KafkaSender;
use super::record::{RecordBuilder, RecordError};

const TICK_EVERY: Duration = Duration::from_millis(100);

/// Sends the message given as arguments: one record (not split).
pub fn send_one(
    message: &[u8],
    builder: &RecordBuilder,
    sender: &mut KafkaSender,
) -> Result<RelayStats, RecordError> {
    let mut records = Vec::new();
    builder.build(message, false, &mut Vec::new(), &mut records)?;
    for record in &records {
        sender.send(record);
    }
    Ok(RelayStats {
        lines: 1,
        messages: records.len() as u64,
        ..RelayStats::default()
    })
}

/// Reads `input` to its end, one line a record (LF; a CR before it dropped), and hands each
/// to `sender`. `on_error` gets the line number (from 1) of every line skipped; `on_tick`
/// the counts, after every chunk of input and at least every 100 ms while waiting. Stops
/// early when the producer failed for good.
pub fn relay<R: Read + Send + 'static>(
    input: R,
    builder: &RecordBuilder,
    max_len: usize,
    sender: &mut KafkaSender,
    mut on_error: impl FnMut(u64, &RecordError),
    mut on_tick: impl FnMut(&RelayStats),
) -> io::Result<RelayStats> {
    // With the write-ahead queue, read one chunk ahead only: what was read but not queued yet
    // is what a `kill -9` loses (at most two reads of 64 KiB). Without it, eight more.
    let rx = read_ahead(input, if sender.writes_ahead() { 0 } else { 8 });
    let mut stats = RelayStats::default();
    let mut decoder = Decoder::new(&Framing::Lf, max_len);
    let mut buf: Vec<u8> = Vec::new();
    let mut scratch = Vec::new();
    let mut records = Vec::new();
    let mut last_tick = Instant::now();
    let mut eof = false;
    loop {
        let (start, _) = decoder.for_each(&buf, eof, |decoded| {
            stats.lines += 1;
            records.clear();
            let result = match decoded {
                Decoded::Frame(line) | Decoded::Truncated(line) => {
                    builder.build(line, true, &mut scratch, &mut records)
                }
                Decoded::Oversized(_) | Decoded::Invalid { .. } => {
                    Err(RecordError::Line(crate::egress::LineError::Oversized {
                        max_len,
                    }))
                }
            };
            match result {
                Ok(()) => {
                    for record in &records {
                        sender.send(record);
                        stats.messages += 1;
                    }
                }
                Err(e) => {
                    stats.errors += 1;
                    on_error(stats.lines, &e);
                }
            }
            std::ops::ControlFlow::<()>::Continue(())
        });
        buf.drain(..start);
        // What was read is in the queue files (handed to the OS) before more is read.
        sender.flush_queue();
        on_tick(&stats);
        if eof || sender.failed().is_some() {
            return Ok(stats);
        }
        let chunk = match rx.try_recv() {
            Ok(chunk) => Some(chunk),
            Err(TryRecvError::Disconnected) => None,
            Err(TryRecvError::Empty) => loop {
                // Caught up with the input: keep the producer moving meanwhile.
                sender.idle(Duration::ZERO);
                if sender.failed().is_some() {
                    return Ok(stats);
                }
                match rx.recv_timeout(Duration::from_millis(20)) {
                    Ok(chunk) => break Some(chunk),
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
