//! The marker `bench` puts at the start of every message text, and finding it again in a
//! receiver's output.
//!
//! ```text
//! seq=000000001 conn=001 run=1a2b3c4d t=1700000000123456 <padding or template line>
//! ```
//!
//! - `seq`: 1, 2, 3… per connection, at least 9 digits; it goes on across `--reconnect-every`,
//!   so a connection's sequence has no gap unless a message was lost.
//! - `conn`: the sending connection, 1 to N, at least 3 digits.
//! - `run`: 8 lowercase hex digits drawn once per `bench` run, so runs sharing a file are told
//!   apart (`bench verify --run`).
//! - `t`: the send time in microseconds since the Unix epoch, for latency against the
//!   receiver's own receive time (`event.created` of `syslogkit listen`).
//!
//! The fields are zero-padded, so every marker of a run has the same length ([`MARKER_LEN`])
//! and `--size` can be met exactly. Readers accept any number of digits.

use memchr::memmem;

/// Length of a marker whose values fit the padded widths (seq < 10⁹, conn < 1000, t of 16
/// digits: until the year 2286), trailing space included.
pub const MARKER_LEN: usize = "seq=000000001 conn=001 run=1a2b3c4d t=1700000000123456 ".len();

/// The fields of one marker.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Marker {
    pub seq: u64,
    pub conn: u32,
    pub run: u32,
    /// Send time, microseconds since the epoch; `None` for markers written without one.
    pub sent_us: Option<u64>,
}

/// Appends the marker for `m`, trailing space included.
pub fn write(m: &Marker, out: &mut Vec<u8>) {
    out.extend_from_slice(b"seq=");
    padded(m.seq, 9, out);
    out.extend_from_slice(b" conn=");
    padded(u64::from(m.conn), 3, out);
    out.extend_from_slice(b" run=");
    out.extend_from_slice(run_hex(m.run).as_bytes());
    if let Some(t) = m.sent_us {
        out.extend_from_slice(b" t=");
        padded(t, 16, out);
    }
    out.push(b' ');
}

/// Digits of a sequence number written at its padded width.
pub const SEQ_DIGITS: usize = 9;

/// Sequence numbers below this have exactly [`SEQ_DIGITS`] digits when padded.
pub const SEQ_LIMIT: u64 = 1_000_000_000;

/// Where the sequence digits of marker `m` are in `frame` (a message with `m` written in it):
/// after the first copy of the whole marker. `None` when the frame does not hold it as
/// written, or the sequence number is too long to patch in place.
pub fn seq_digits_at(frame: &[u8], m: &Marker) -> Option<usize> {
    if m.seq >= SEQ_LIMIT {
        return None;
    }
    let mut text = Vec::with_capacity(MARKER_LEN);
    write(m, &mut text);
    memmem::find(frame, &text).map(|at| at + "seq=".len())
}

/// Writes `seq` zero-padded into `slot`, [`SEQ_DIGITS`] bytes; `seq` < [`SEQ_LIMIT`].
pub fn put_seq(mut seq: u64, slot: &mut [u8]) {
    debug_assert!(seq < SEQ_LIMIT && slot.len() == SEQ_DIGITS);
    for digit in slot.iter_mut().rev() {
        *digit = b'0' + (seq % 10) as u8;
        seq /= 10;
    }
}

/// A run id as written in markers: 8 lowercase hex digits.
pub fn run_hex(run: u32) -> String {
    format!("{run:08x}")
}

/// Parses 8 hex digits (`--run`).
pub fn parse_run(s: &str) -> Result<u32, String> {
    if s.len() == 8 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        u32::from_str_radix(s, 16).map_err(|e| e.to_string())
    } else {
        Err(format!(
            "{s:?} is not a run id: write the 8 hex digits after 'run=' in a marker, e.g. 1a2b3c4d"
        ))
    }
}

fn padded(value: u64, width: usize, out: &mut Vec<u8>) {
    let mut buf = itoa::Buffer::new();
    let digits = buf.format(value).as_bytes();
    out.extend(std::iter::repeat_n(
        b'0',
        width.saturating_sub(digits.len()),
    ));
    out.extend_from_slice(digits);
}

/// Finds the first marker in `line`, wherever it is (after an rsyslog or syslog-ng header, in a
/// JSON `message`). A `seq=` not followed by a whole marker is skipped.
pub fn find(line: &[u8]) -> Option<Marker> {
    let finder = memmem::Finder::new(b"seq=");
    let mut from = 0;
    while let Some(i) = finder.find(&line[from..]) {
        let start = from + i;
        if let Some(m) = parse_at(&line[start + 4..]) {
            return Some(m);
        }
        from = start + 4;
    }
    None
}

/// Parses what follows `seq=`.
fn parse_at(rest: &[u8]) -> Option<Marker> {
    let (seq, rest) = digits(rest)?;
    let rest = rest.strip_prefix(b" conn=")?;
    let (conn, rest) = digits(rest)?;
    let rest = rest.strip_prefix(b" run=")?;
    let hex = rest.get(..8)?;
    if !hex.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    let run = u32::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?;
    let rest = &rest[8..];
    let sent_us = rest.strip_prefix(b" t=").and_then(digits).map(|(t, _)| t);
    Some(Marker {
        seq,
        conn: u32::try_from(conn).ok()?,
        run,
        sent_us,
    })
}

/// Leading ASCII digits as a number (at most 19 of them), and the rest.
fn digits(s: &[u8]) -> Option<(u64, &[u8])> {
    let n = s.iter().take_while(|b| b.is_ascii_digit()).count();
    if n == 0 || n > 19 {
        return None;
    }
    let value = s[..n]
        .iter()
        .fold(0u64, |acc, &b| acc * 10 + u64::from(b - b'0'));
    Some((value, &s[n..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: Marker = Marker {
        seq: 42,
        conn: 7,
        run: 0x1a2b_3c4d,
        sent_us: Some(1_700_000_000_123_456),
    };

    #[test]
    fn marker_is_fixed_width_and_documented_shape() {
        let mut out = Vec::new();
        write(&M, &mut out);
        assert_eq!(
            out,
            b"seq=000000042 conn=007 run=1a2b3c4d t=1700000000123456 ".to_vec()
        );
        assert_eq!(out.len(), MARKER_LEN);
    }

    #[test]
    fn patched_sequence_digits_give_the_marker_written_whole() {
        let mut frame = b"120 <13>Dec  2 08:00:00 host bench: ".to_vec();
        write(&M, &mut frame);
        frame.extend_from_slice(b"PADD\n");
        let at = seq_digits_at(&frame, &M).unwrap();
        for seq in [1, 43, 999_999_999] {
            put_seq(seq, &mut frame[at..at + SEQ_DIGITS]);
            let mut want = b"120 <13>Dec  2 08:00:00 host bench: ".to_vec();
            write(&Marker { seq, ..M }, &mut want);
            want.extend_from_slice(b"PADD\n");
            assert_eq!(frame, want);
        }
        assert_eq!(
            seq_digits_at(
                &frame,
                &Marker {
                    seq: SEQ_LIMIT,
                    ..M
                }
            ),
            None
        );
    }

    #[test]
    fn marker_is_found_after_an_rsyslog_header() {
        let line = b"2025-01-01T00:00:00+00:00 host app: seq=000000042 conn=007 run=1a2b3c4d t=1700000000123456 PADDPADD";
        assert_eq!(find(line), Some(M));
    }

    #[test]
    fn marker_without_time_parses() {
        let m = find(b"<13>x: seq=5 conn=1 run=000000ff rest").unwrap();
        assert_eq!((m.seq, m.conn, m.run, m.sent_us), (5, 1, 255, None));
    }

    #[test]
    fn broken_marker_is_skipped_for_a_later_whole_one() {
        let m = find(b"seq=abc seq=3 conn=2 run=0000000a").unwrap();
        assert_eq!((m.seq, m.conn, m.run), (3, 2, 10));
        assert_eq!(find(b"seq=3 conn=2 run=zz"), None);
        assert_eq!(find(b"no marker here"), None);
    }

    #[test]
    fn run_ids_are_eight_hex_digits() {
        assert_eq!(parse_run("1a2b3c4d"), Ok(0x1a2b_3c4d));
        assert!(parse_run("xyz").unwrap_err().contains("8 hex digits"));
    }
}
