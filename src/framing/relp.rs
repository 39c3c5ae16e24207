//! RELP frames (librelp `doc/relp.html`, the 2008 spec), both ways:
//!
//! ```text
//! RELP-FRAME = TXNR SP COMMAND SP DATALEN [SP DATA] LF
//! TXNR       = 1*9DIGIT      COMMAND = 1*32ALPHA      DATALEN = 1*9DIGIT
//! ```
//!
//! [`RelpDecoder`] is a pure function of the unconsumed bytes: it answers with one frame and how
//! many bytes it took, with "need more", or with a [`RelpError`]. Unlike plain syslog framing,
//! RELP has no way to resynchronise (DATA may hold any byte, LF included), so every error is a
//! protocol violation and ends the session, as librelp does; the decoder then never has to skip.
//! It holds at most one frame: a DATALEN above the maximum is refused as soon as its digits
//! end, before any of its data is buffered.
//!
//! The session rules (offers, responses, the window of unacknowledged transactions) are left to
//! `listen::relp` and `send::relp`; the helpers here only read and write the bytes of `open`
//! offers and `rsp` data.

use std::fmt;

/// Transaction numbers run 1..=999,999,999 and then wrap to 1; 0 is `serverclose`'s.
pub const MAX_TXNR: u32 = 999_999_999;
/// The longest command name.
pub const MAX_COMMAND_LEN: usize = 32;
/// DATALEN has at most nine digits.
const MAX_DATALEN_DIGITS: usize = 9;
/// librelp's and imrelp's default maximum DATALEN (`maxDataSize`): 128 KiB.
pub const DEFAULT_MAX_DATALEN: usize = 128 * 1024;
/// The longest header `TXNR SP COMMAND SP DATALEN SP`.
const MAX_HEADER_LEN: usize = 9 + 1 + MAX_COMMAND_LEN + 1 + MAX_DATALEN_DIGITS + 1;

/// One frame, borrowed from the read buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RelpFrame<'b> {
    pub txnr: u32,
    /// ASCII letters only (`open`, `syslog`, `rsp`, `close`, `serverclose`).
    pub command: &'b str,
    pub data: &'b [u8],
}

/// Why bytes are not a RELP frame. Every one ends the session.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum RelpError {
    #[error(
        "RELP: expected a transaction number (1 to 9 digits) at the start of a frame, found {0:?}"
    )]
    BadTxnr(String),
    #[error("RELP: expected a command (1 to 32 letters) after the transaction number, found {0:?}")]
    BadCommand(String),
    #[error("RELP: expected DATALEN (1 to 9 digits) after the command, found {0:?}")]
    BadDatalen(String),
    #[error(
        "RELP: frame of {len} data bytes is larger than the maximum ({max} bytes); raise --max-message-size"
    )]
    TooLarge { len: usize, max: usize },
    #[error("RELP: expected LF after {len} data bytes, found {found:?}")]
    MissingTrailer { len: usize, found: String },
    #[error("RELP: stream ended in the middle of a frame")]
    Truncated,
}

/// Shows at most a few bytes of hostile input in an error.
fn shown(bytes: &[u8]) -> String {
    super::escape_delimiter(&bytes[..bytes.len().min(16)])
}

/// Cuts RELP frames out of a byte stream.
#[derive(Clone, Copy, Debug)]
pub struct RelpDecoder {
    max_data_len: usize,
}

impl RelpDecoder {
    /// A decoder refusing frames with more than `max_data_len` data bytes.
    pub fn new(max_data_len: usize) -> Self {
        RelpDecoder { max_data_len }
    }

    pub fn max_data_len(&self) -> usize {
        self.max_data_len
    }

    /// The most bytes a caller ever needs to hold for one frame.
    pub fn max_frame_len(&self) -> usize {
        MAX_HEADER_LEN + self.max_data_len + 1
    }

    /// The first frame of `buf` and the bytes it takes, `Ok(None)` when more input is needed,
    /// or the protocol violation at the start of `buf`.
    pub fn decode<'b>(&self, buf: &'b [u8]) -> Result<Option<(RelpFrame<'b>, usize)>, RelpError> {
        let Some((txnr, mut at)) = number(buf, 0, false, RelpError::BadTxnr)? else {
            return Ok(None);
        };
        let txnr = u32::try_from(txnr).expect("nine digits fit");
        let letters = buf[at..]
            .iter()
            .take(MAX_COMMAND_LEN + 1)
            .take_while(|b| b.is_ascii_alphabetic())
            .count();
        match buf.get(at + letters) {
            None if letters <= MAX_COMMAND_LEN => return Ok(None),
            Some(b' ') if (1..=MAX_COMMAND_LEN).contains(&letters) => {}
            _ => return Err(RelpError::BadCommand(shown(&buf[at..]))),
        }
        let command = std::str::from_utf8(&buf[at..at + letters]).expect("ASCII letters");
        at += letters + 1;
        let Some((len, after)) = number(buf, at, true, RelpError::BadDatalen)? else {
            return Ok(None);
        };
        let len = len as usize;
        if len > self.max_data_len {
            return Err(RelpError::TooLarge {
                len,
                max: self.max_data_len,
            });
        }
        at = after;
        // `number` stopped on SP or LF. DATA follows a SP; with DATALEN 0 librelp writes the
        // LF right away (`3 close 0\n`), and a SP before it is accepted too.
        let data_start = match buf[at - 1] {
            b' ' => at,
            _ if len == 0 => return Ok(Some((frame(txnr, command, b""), at))),
            _ => return Err(RelpError::BadDatalen(shown(&buf[at - 1..]))),
        };
        let end = data_start + len;
        match buf.get(end) {
            None => Ok(None),
            Some(b'\n') => Ok(Some((frame(txnr, command, &buf[data_start..end]), end + 1))),
            Some(_) => Err(RelpError::MissingTrailer {
                len,
                found: shown(&buf[end..]),
            }),
        }
    }

    /// Like [`decode`](Self::decode) once the stream has ended: a partial frame is an error.
    pub fn decode_eof<'b>(
        &self,
        buf: &'b [u8],
    ) -> Result<Option<(RelpFrame<'b>, usize)>, RelpError> {
        match self.decode(buf)? {
            None if !buf.is_empty() => Err(RelpError::Truncated),
            found => Ok(found),
        }
    }
}

fn frame<'b>(txnr: u32, command: &'b str, data: &'b [u8]) -> RelpFrame<'b> {
    RelpFrame {
        txnr,
        command,
        data,
    }
}

/// Reads 1..=9 digits at `buf[at..]` ended by SP (or LF, when `lf_ends` — DATALEN): the value
/// and the offset just past the terminator; `None` when the bytes so far could still be one.
fn number(
    buf: &[u8],
    at: usize,
    lf_ends: bool,
    bad: fn(String) -> RelpError,
) -> Result<Option<(u64, usize)>, RelpError> {
    let rest = &buf[at.min(buf.len())..];
    let digits = rest
        .iter()
        .take(MAX_DATALEN_DIGITS + 1)
        .take_while(|b| b.is_ascii_digit())
        .count();
    match rest.get(digits) {
        None if digits <= MAX_DATALEN_DIGITS => Ok(None),
        Some(&end)
            if (end == b' ' || (lf_ends && end == b'\n'))
                && (1..=MAX_DATALEN_DIGITS).contains(&digits) =>
        {
            let value = rest[..digits]
                .iter()
                .fold(0u64, |n, d| n * 10 + u64::from(d - b'0'));
            Ok(Some((value, at + digits + 1)))
        }
        _ => Err(bad(shown(rest))),
    }
}

/// Appends one frame. DATA is written as is; a frame with no data is `TXNR SP COMMAND SP 0 LF`.
pub fn encode(txnr: u32, command: &str, data: &[u8], out: &mut Vec<u8>) {
    use std::io::Write;
    // Writing into a Vec cannot fail.
    let _ = write!(out, "{txnr} {command} {}", data.len());
    if !data.is_empty() {
        out.push(b' ');
        out.extend_from_slice(data);
    }
    out.push(b'\n');
}

/// The transaction number after `txnr`: 999,999,999 wraps to 1.
pub fn next_txnr(txnr: u32) -> u32 {
    if txnr >= MAX_TXNR { 1 } else { txnr + 1 }
}

/// The data of a `rsp`: `STATUS SP HUMAN-TEXT [LF DATA]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Response<'b> {
    pub status: u16,
    pub text: &'b [u8],
    /// What follows the first LF (an `open`'s accepted offers).
    pub data: &'b [u8],
}

impl Response<'_> {
    pub fn is_ok(&self) -> bool {
        self.status == 200
    }
}

impl fmt::Display for Response<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.status, String::from_utf8_lossy(self.text))
    }
}

/// Reads a `rsp`'s data; `None` when it does not start with three digits.
pub fn parse_response(data: &[u8]) -> Option<Response<'_>> {
    let status = data.get(..3)?;
    if !status.iter().all(u8::is_ascii_digit) || !matches!(data.get(3), None | Some(b' ' | b'\n')) {
        return None;
    }
    let status = status
        .iter()
        .fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
    let rest = data.get(4..).unwrap_or_default();
    let rest = if data.get(3) == Some(&b'\n') {
        // No human text: `200\nDATA`.
        return Some(Response {
            status,
            text: b"",
            data: rest,
        });
    } else {
        rest
    };
    let (text, data) = match memchr::memchr(b'\n', rest) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, &b""[..]),
    };
    Some(Response { status, text, data })
}

/// Appends a `rsp` data part: `STATUS SP TEXT [LF DATA]`.
pub fn response_data(status: u16, text: &str, data: &[u8], out: &mut Vec<u8>) {
    use std::io::Write;
    let _ = write!(out, "{status} {text}");
    if !data.is_empty() {
        out.push(b'\n');
        out.extend_from_slice(data);
    }
}

/// The offers of an `open` (or of its response): one `NAME[=VALUE]` a line. Empty lines are
/// skipped; the value is empty when there is no `=`.
pub fn offers(data: &[u8]) -> impl Iterator<Item = (&[u8], &[u8])> {
    data.split(|&b| b == b'\n')
        .filter(|line| !line.is_empty())
        .map(|line| match memchr::memchr(b'=', line) {
            Some(i) => (&line[..i], &line[i + 1..]),
            None => (line, &b""[..]),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const OPEN: &[u8] = b"1 open 86 relp_version=0\nrelp_software=librelp,1.2.16,http://librelp.adiscon.com\ncommands=syslog\n";

    fn one(input: &[u8]) -> Result<Option<(RelpFrame<'_>, usize)>, RelpError> {
        RelpDecoder::new(DEFAULT_MAX_DATALEN).decode(input)
    }

    #[test]
    fn librelp_open_is_one_frame_with_its_offers() {
        let (f, used) = one(OPEN).unwrap().unwrap();
        assert_eq!((f.txnr, f.command, used), (1, "open", OPEN.len()));
        let offers: Vec<_> = offers(f.data).collect();
        assert_eq!(offers[0], (&b"relp_version"[..], &b"0"[..]));
        assert_eq!(offers[2], (&b"commands"[..], &b"syslog"[..]));
    }

    #[test]
    fn librelp_responses_and_close_decode() {
        let (f, _) = one(b"2 rsp 6 200 OK\n").unwrap().unwrap();
        assert_eq!((f.txnr, f.command, f.data), (2, "rsp", &b"200 OK"[..]));
        let rsp = parse_response(f.data).unwrap();
        assert!(rsp.is_ok());
        assert_eq!(rsp.text, b"OK");
        let (f, used) = one(b"3 close 0\n4 ").unwrap().unwrap();
        assert_eq!((f.command, f.data, used), ("close", &b""[..], 10));
        let (f, _) = one(b"0 serverclose 0\n").unwrap().unwrap();
        assert_eq!((f.txnr, f.command), (0, "serverclose"));
        let (f, _) = one(b"5 close 0 \n").unwrap().unwrap();
        assert_eq!(f.data, b"");
    }

    #[test]
    fn data_may_hold_line_feeds() {
        let (f, used) = one(b"7 syslog 5 a\nb\nc\n").unwrap().unwrap();
        assert_eq!((f.data, used), (&b"a\nb\nc"[..], 17));
    }

    #[test]
    fn open_response_carries_offers_after_the_first_lf() {
        let rsp = parse_response(b"200 OK\nrelp_version=0\ncommands=syslog").unwrap();
        assert_eq!(rsp.text, b"OK");
        let offers: Vec<_> = offers(rsp.data).collect();
        assert_eq!(offers.len(), 2);
        assert_eq!(parse_response(b"500 protocol error").unwrap().status, 500);
        assert_eq!(parse_response(b"OK"), None);
    }

    #[test]
    fn a_frame_cut_anywhere_asks_for_more() {
        let whole = b"12 syslog 5 hello\n";
        for cut in 0..whole.len() {
            assert_eq!(one(&whole[..cut]), Ok(None), "cut at {cut}");
        }
        assert_eq!(
            RelpDecoder::new(64).decode_eof(&whole[..7]),
            Err(RelpError::Truncated)
        );
        assert_eq!(RelpDecoder::new(64).decode_eof(b""), Ok(None));
    }

    #[test]
    fn absurd_datalen_is_refused_before_its_data_arrives() {
        assert!(matches!(
            RelpDecoder::new(1024).decode(b"1 syslog 999999999 "),
            Err(RelpError::TooLarge {
                len: 999_999_999,
                max: 1024
            })
        ));
        assert!(matches!(
            one(b"1 syslog 1234567890 x"),
            Err(RelpError::BadDatalen(_))
        ));
        assert!(matches!(
            one(b"1 syslog -1 x"),
            Err(RelpError::BadDatalen(_))
        ));
        assert!(matches!(one(b"1 syslog 3x"), Err(RelpError::BadDatalen(_))));
        assert!(matches!(
            one(b"1 syslog 3\nabc"),
            Err(RelpError::BadDatalen(_))
        ));
    }

    #[test]
    fn missing_trailer_is_a_protocol_violation() {
        let e = one(b"1 syslog 3 abcd\n").unwrap_err();
        assert_eq!(
            e,
            RelpError::MissingTrailer {
                len: 3,
                found: "d\\n".into()
            }
        );
    }

    #[test]
    fn non_numeric_txnr_and_bad_commands_are_refused() {
        assert!(matches!(one(b"x open 0\n"), Err(RelpError::BadTxnr(_))));
        assert!(matches!(one(b"1\nopen 0\n"), Err(RelpError::BadTxnr(_))));
        assert!(matches!(one(b" 1 open 0\n"), Err(RelpError::BadTxnr(_))));
        assert!(matches!(
            one(b"1234567890 open 0\n"),
            Err(RelpError::BadTxnr(_))
        ));
        assert!(matches!(one(b"<13>hello\n"), Err(RelpError::BadTxnr(_))));
        assert!(matches!(one(b"1 op3n 0\n"), Err(RelpError::BadCommand(_))));
        assert!(matches!(one(b"1  0\n"), Err(RelpError::BadCommand(_))));
        let long = format!("1 {} 0\n", "a".repeat(33));
        assert!(matches!(
            one(long.as_bytes()),
            Err(RelpError::BadCommand(_))
        ));
        let longest = format!("1 {} 0\n", "a".repeat(32));
        assert!(one(longest.as_bytes()).unwrap().is_some());
    }

    #[test]
    fn encode_writes_librelp_bytes() {
        let mut out = Vec::new();
        encode(2, "rsp", b"200 OK", &mut out);
        encode(3, "close", b"", &mut out);
        encode(0, "serverclose", b"", &mut out);
        assert_eq!(out, b"2 rsp 6 200 OK\n3 close 0\n0 serverclose 0\n");
        let mut data = Vec::new();
        response_data(200, "OK", b"relp_version=0", &mut data);
        assert_eq!(data, b"200 OK\nrelp_version=0");
    }

    #[test]
    fn txnr_wraps_to_one() {
        assert_eq!(next_txnr(1), 2);
        assert_eq!(next_txnr(MAX_TXNR), 1);
    }

    /// Feeds `input` in pieces of `chunk` bytes and collects the frames, stopping at the
    /// first error; checks the held bytes stay below one maximum frame.
    fn run(
        decoder: RelpDecoder,
        input: &[u8],
        chunk: usize,
    ) -> (Vec<(u32, String, Vec<u8>)>, bool) {
        let mut buf = Vec::new();
        let mut out = Vec::new();
        for piece in input.chunks(chunk.max(1)) {
            buf.extend_from_slice(piece);
            loop {
                match decoder.decode(&buf) {
                    Ok(Some((f, used))) => {
                        out.push((f.txnr, f.command.to_string(), f.data.to_vec()));
                        buf.drain(..used);
                    }
                    Ok(None) => break,
                    Err(_) => return (out, true),
                }
            }
            assert!(
                buf.len() <= decoder.max_frame_len(),
                "held {} bytes",
                buf.len()
            );
        }
        (out, false)
    }

    fn frames() -> impl Strategy<Value = Vec<(u32, String, Vec<u8>)>> {
        prop::collection::vec(
            (
                0..=MAX_TXNR,
                "[a-z]{1,32}",
                prop::collection::vec(any::<u8>(), 0..80),
            ),
            0..12,
        )
    }

    proptest! {
        #[test]
        fn encode_then_decode_gives_back_any_frames(frames in frames(), chunk in 1usize..64) {
            let mut input = Vec::new();
            for (txnr, command, data) in &frames {
                encode(*txnr, command, data, &mut input);
            }
            prop_assert_eq!(run(RelpDecoder::new(80), &input, chunk), (frames, false));
        }

        #[test]
        fn chunking_does_not_matter(
            input in prop::collection::vec(
                prop_oneof![Just(b'1'), Just(b' '), Just(b'\n'), Just(b'a'), any::<u8>()],
                0..200,
            ),
            chunk in 1usize..40,
        ) {
            let decoder = RelpDecoder::new(16);
            prop_assert_eq!(run(decoder, &input, chunk), run(decoder, &input, input.len().max(1)));
        }

        #[test]
        fn arbitrary_bytes_never_panic_and_stay_bounded(
            input in prop::collection::vec(any::<u8>(), 0..600),
            chunk in 1usize..100,
            max in 0usize..32,
        ) {
            run(RelpDecoder::new(max), &input, chunk);
            let _ = RelpDecoder::new(max).decode_eof(&input);
            let _ = parse_response(&input);
            let _ = offers(&input).count();
        }
    }
}
