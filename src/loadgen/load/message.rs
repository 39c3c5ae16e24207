//! The bytes a connection writes: syslog messages with a marker ([`MessageWriter`]) and
//! batches of them framed end to end ([`Batch`]). Both sending paths build their writes here;
//! when and where the bytes go is theirs.

use super::now_us;
use crate::egress::Formatter;
use crate::framing::encode::Encoder;
use crate::loadgen::marker::{self, MARKER_LEN, Marker};
use crate::syslog::timestamp::TimeContext;
use crate::syslog::{Message, looks_like_rfc5424, rfc3164, rfc5424};

/// Builds messages: header, marker, padding or template line.
pub(super) struct MessageWriter {
    pub formatter: Formatter,
    pub size: usize,
    pub template: Vec<Vec<u8>>,
}

const PADDING: &[u8] = b"PADD";

impl MessageWriter {
    /// The header with its trailing space, written once per batch (its time is the batch's).
    pub fn prefix(&self, out: &mut Vec<u8>) {
        out.clear();
        self.formatter.write_message(
            &Message {
                msg: Some(b""),
                ..Message::default()
            },
            out,
        );
    }

    /// Appends message `m` to `out`.
    pub fn write(&self, prefix: &[u8], m: &Marker, time: &TimeContext, out: &mut Vec<u8>) {
        if self.template.is_empty() {
            out.extend_from_slice(prefix);
            marker::write(m, out);
            let mut left = self.size.saturating_sub(prefix.len() + MARKER_LEN);
            while left > 0 {
                let n = left.min(PADDING.len());
                out.extend_from_slice(&PADDING[..n]);
                left -= n;
            }
            return;
        }
        let line = &self.template[((m.seq - 1) % self.template.len() as u64) as usize];
        let mut text = Vec::with_capacity(MARKER_LEN + line.len());
        marker::write(m, &mut text);
        let parsed = if line.first() == Some(&b'<') {
            if looks_like_rfc5424(line) {
                rfc5424::parse(line, time).ok()
            } else {
                rfc3164::parse(line, time).ok()
            }
        } else {
            None
        };
        match parsed {
            Some(original) => {
                text.extend_from_slice(original.msg.unwrap_or_default());
                self.formatter.write_message(
                    &Message {
                        timestamp: None,
                        msg: Some(&text),
                        ..original
                    },
                    out,
                );
            }
            None => {
                text.extend_from_slice(line);
                self.formatter.write_message(
                    &Message {
                        msg: Some(&text),
                        ..Message::default()
                    },
                    out,
                );
            }
        }
    }
}

/// Who sends a batch and how its messages are made.
#[derive(Clone, Copy)]
pub(super) struct Source<'a> {
    pub writer: &'a MessageWriter,
    /// The framing over TCP and TLS; `None` over UDP (one message per datagram).
    pub encoder: Option<&'a Encoder>,
    /// The `conn=` and `run=` of the markers.
    pub conn: u32,
    pub run: u32,
}

/// Messages laid end to end for one write (over UDP: one datagram each), and where each ends.
#[derive(Default)]
pub(super) struct Batch {
    pub bytes: Vec<u8>,
    /// The end offset in `bytes` of each message, in order.
    pub ends: Vec<usize>,
    prefix: Vec<u8>,
    message: Vec<u8>,
    /// Template lines' RFC 3164 stamps need a year; their time is replaced anyway.
    time: TimeContext,
}

impl Batch {
    /// Replaces the batch with the `n` messages from sequence number `first_seq` on, all
    /// stamped with the time of now.
    pub fn fill(&mut self, source: Source<'_>, first_seq: u64, n: u64) {
        source.writer.prefix(&mut self.prefix);
        let sent_us = now_us();
        self.bytes.clear();
        self.ends.clear();
        // With padding (no template), the messages of a batch differ only in their sequence
        // digits: the first frame is built, the others are copies of it with the digits
        // patched (issue 16: building each message was most of bench's CPU).
        let mut patch: Option<(std::ops::Range<usize>, usize)> = None;
        for seq in first_seq..first_seq + n {
            if let Some((frame, digits_at)) = &patch {
                self.bytes.extend_from_within(frame.clone());
                let at = self.bytes.len() - frame.len() + digits_at;
                marker::put_seq(seq, &mut self.bytes[at..at + marker::SEQ_DIGITS]);
                self.ends.push(self.bytes.len());
                continue;
            }
            let m = Marker {
                seq,
                conn: source.conn,
                run: source.run,
                sent_us: Some(sent_us),
            };
            self.message.clear();
            source
                .writer
                .write(&self.prefix, &m, &self.time, &mut self.message);
            let start = self.bytes.len();
            match source.encoder {
                Some(encoder) => encoder.encode(&self.message, &mut self.bytes),
                None => self.bytes.extend_from_slice(&self.message),
            }
            self.ends.push(self.bytes.len());
            if source.writer.template.is_empty()
                && first_seq - 1 + n < marker::SEQ_LIMIT
                && let Some(at) = marker::seq_digits_at(&self.bytes[start..], &m)
            {
                let frame = start..self.bytes.len();
                // The copies to come, at once rather than by doubling.
                self.bytes
                    .reserve(frame.len() * (first_seq + n - seq - 1) as usize);
                patch = Some((frame, at));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::egress::FormatOptions;
    use crate::framing::Framing;
    use crate::framing::encode::Escape;

    fn source<'a>(writer: &'a MessageWriter, encoder: &'a Encoder) -> Source<'a> {
        Source {
            writer,
            encoder: Some(encoder),
            conn: 7,
            run: 0xabcd,
        }
    }

    #[test]
    fn patched_copies_carry_their_own_sequence_numbers_and_frame_ends() {
        let writer = MessageWriter {
            formatter: Formatter::new(FormatOptions::default()).unwrap(),
            size: 120,
            template: Vec::new(),
        };
        let encoder = Encoder::new(&Framing::Lf, Escape::ControlCharacters).unwrap();
        let mut batch = Batch::default();
        batch.fill(source(&writer, &encoder), 41, 3);
        assert_eq!(batch.ends.len(), 3);
        let mut start = 0;
        for (i, &end) in batch.ends.iter().enumerate() {
            let frame = &batch.bytes[start..end];
            assert_eq!(frame.len(), 121, "{}", String::from_utf8_lossy(frame));
            let m = marker::find(frame).unwrap();
            assert_eq!((m.seq, m.conn, m.run), (41 + i as u64, 7, 0xabcd));
            start = end;
        }
    }
}
