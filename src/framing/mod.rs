//! Framing: cutting byte streams into syslog messages, and back.
//!
//! Decoders are pure state machines over byte slices: they do no I/O and never copy. Each call
//! looks at the unconsumed bytes and answers with at most one [`Decoded`] item plus how many
//! bytes the caller may drop. `parse` and `frame --decode` drive them over a reader (see
//! `ingest::stream`), `listen` through the `tokio_util::codec` impl in [`codec`], so every
//! command frames the same way.
//!
//! - [`Framing`] names a framing (`lf`, `delimiter`, `octet-counting`, `auto`); [`Decoder`] and
//!   [`encode::Encoder`] are built from it.
//! - [`delimited`]: LF or any delimiter, with `memchr`.
//! - [`octet_counting`]: RFC 6587 §3.4.1 `MSG-LEN SP SYSLOG-MSG`, and `auto` (per message, as
//!   rsyslog's imtcp does).
//! - [`relp`]: RELP frames (`TXNR SP COMMAND SP DATALEN [SP DATA] LF`), both ways.
//! - [`encode`]: the same framings in the other direction, plus the UDP truncation helper.
//! - [`codec`]: `tokio_util::codec::{Decoder, Encoder}` over `BytesMut`, yielding owned frames.
//!
//! Parsing the messages is left to `syslog`, turning them into events to `ingest`.

pub mod codec;
pub mod delimited;
pub mod encode;
pub mod octet_counting;
pub mod proxy;
pub mod relp;

use std::fmt;
use std::ops::ControlFlow;
use std::str::FromStr;

pub use codec::{Frame, FrameCodec};
pub use delimited::DelimitedDecoder;
pub use encode::{Encoder, Escape};
pub use octet_counting::OctetCountingDecoder;

/// The default limit on one message: 20 MiB, as Elastic's TCP input.
pub const DEFAULT_MAX_MESSAGE_SIZE: usize = 20 * 1024 * 1024;

/// One result of a decoder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decoded<'b> {
    /// A complete message, without its delimiter or length prefix.
    Frame(&'b [u8]),
    /// A message longer than the maximum: its first `max` bytes. The decoder skips the rest
    /// up to the end of that message (the next delimiter, or the counted length) and carries
    /// on with the next.
    Oversized(&'b [u8]),
    /// The last message of a stream that ended before its delimiter or counted length.
    Truncated(&'b [u8]),
    /// Bytes where a frame should start but that are not one: with octet counting, a bad
    /// length prefix. `bytes` runs up to the next LF (at most the maximum size; a longer run
    /// is cut and the rest skipped), and the decoder resumes after that LF.
    Invalid {
        bytes: &'b [u8],
        reason: InvalidPrefix,
    },
}

/// What is wrong with a frame, in a form that outlives the buffer (see [`codec::Frame`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FrameError {
    /// See [`Decoded::Oversized`].
    Oversized,
    /// See [`Decoded::Truncated`].
    Truncated,
    /// See [`Decoded::Invalid`].
    Invalid(InvalidPrefix),
}

/// Why an octet-counting length prefix was refused (RFC 6587 §3.4.1:
/// `MSG-LEN = NONZERO-DIGIT *DIGIT`, then one `SP`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InvalidPrefix {
    /// The frame does not start with a digit (`abc `, `<13>…`, a space).
    NoLength,
    /// The length has a leading `0` (`012 `, `00 `; `0 ` alone is an empty message).
    LeadingZero,
    /// The digits are followed by something other than a space (`12abc`, `12\n`).
    NoSpace,
    /// The length is more than [`octet_counting::MAX_COUNT_FACTOR`] times the maximum message
    /// size (`99999999999 `): taken as garbage rather than as a message to skip.
    CountTooLarge,
}

impl<'b> Decoded<'b> {
    /// The item for `bytes` with the given defect: the inverse of [`bytes`](Self::bytes) and
    /// [`defect`](Self::defect), for callers that store frames and parse them later.
    pub fn from_parts(bytes: &'b [u8], defect: Option<FrameError>) -> Self {
        match defect {
            None => Decoded::Frame(bytes),
            Some(FrameError::Oversized) => Decoded::Oversized(bytes),
            Some(FrameError::Truncated) => Decoded::Truncated(bytes),
            Some(FrameError::Invalid(reason)) => Decoded::Invalid { bytes, reason },
        }
    }

    /// The bytes of the message (or of its kept part).
    pub fn bytes(&self) -> &'b [u8] {
        match *self {
            Decoded::Frame(b) | Decoded::Oversized(b) | Decoded::Truncated(b) => b,
            Decoded::Invalid { bytes, .. } => bytes,
        }
    }

    /// What is wrong with the item; `None` for a whole frame.
    pub fn defect(&self) -> Option<FrameError> {
        match self {
            Decoded::Frame(_) => None,
            Decoded::Oversized(_) => Some(FrameError::Oversized),
            Decoded::Truncated(_) => Some(FrameError::Truncated),
            Decoded::Invalid { reason, .. } => Some(FrameError::Invalid(*reason)),
        }
    }

    /// Why the message is incomplete or invalid, for `error.message`; `None` for a whole frame.
    pub fn error(&self, max_len: usize) -> Option<String> {
        self.defect().map(|e| e.message(self.bytes(), max_len))
    }
}

impl FrameError {
    /// A sentence for `error.message`. `bytes` are the item's bytes (a bad prefix is quoted
    /// from them), `max_len` the decoder's maximum message size.
    pub fn message(&self, bytes: &[u8], max_len: usize) -> String {
        const RESYNC: &str =
            "the bytes up to the next LF are kept here and decoding resumed after it";
        let digits = &bytes[..bytes.iter().take_while(|b| b.is_ascii_digit()).count()];
        let shown = |b: &[u8]| escape_delimiter(&b[..b.len().min(24)]);
        match self {
            FrameError::Oversized => format!(
                "message longer than the maximum message size ({max_len} bytes): the first {max_len} bytes are kept, the rest was skipped"
            ),
            FrameError::Truncated => {
                "stream ended in the middle of a message: the part received is kept".into()
            }
            FrameError::Invalid(InvalidPrefix::NoLength) => format!(
                "octet counting: expected a length (digits and a space) at the start of a frame, found \"{}\"; {RESYNC}",
                shown(bytes)
            ),
            FrameError::Invalid(InvalidPrefix::LeadingZero) => format!(
                "octet counting: length \"{}\" starts with 0, which RFC 6587 does not allow; {RESYNC}",
                shown(digits)
            ),
            FrameError::Invalid(InvalidPrefix::NoSpace) => format!(
                "octet counting: length \"{}\" is followed by \"{}\" instead of a space; {RESYNC}",
                shown(digits),
                shown(&bytes[digits.len()..(digits.len() + 1).min(bytes.len())])
            ),
            FrameError::Invalid(InvalidPrefix::CountTooLarge) => format!(
                "octet counting: length \"{}\" is more than {} times the maximum message size ({max_len} bytes), so it is taken as garbage rather than skipped; {RESYNC}",
                shown(digits),
                octet_counting::MAX_COUNT_FACTOR
            ),
        }
    }
}

/// How messages are cut out of a byte stream (`--framing`).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Framing {
    /// Each message ends with LF; a CR before it is dropped (RFC 6587 §3.4.2, as written in
    /// practice).
    #[default]
    Lf,
    /// Each message ends with this byte string (`\0`, `\r\n`, `\x1e`…), never empty.
    Delimiter(Vec<u8>),
    /// RFC 6587 §3.4.1: `MSG-LEN SP SYSLOG-MSG`.
    OctetCounting,
    /// Decoding only: octet counting when a message starts with a digit, else LF, decided per
    /// message as rsyslog's imtcp does.
    Auto,
}

impl Framing {
    /// The framing named `name`; `delimiter` is required exactly when the name is
    /// [`FramingName::Delimiter`] (the command line's `--framing` and `--delimiter`).
    pub fn new(name: FramingName, delimiter: Option<Vec<u8>>) -> Result<Framing, FramingError> {
        match (name, delimiter) {
            (FramingName::Delimiter, Some(d)) if !d.is_empty() => Ok(Framing::Delimiter(d)),
            (FramingName::Delimiter, _) => Err(FramingError::DelimiterMissing),
            (name, Some(_)) => Err(FramingError::DelimiterNotApplicable(name)),
            (FramingName::Lf, None) => Ok(Framing::Lf),
            (FramingName::OctetCounting, None) => Ok(Framing::OctetCounting),
            (FramingName::Auto, None) => Ok(Framing::Auto),
        }
    }

    /// The name as `--framing` spells it.
    pub fn name(&self) -> FramingName {
        match self {
            Framing::Lf => FramingName::Lf,
            Framing::Delimiter(_) => FramingName::Delimiter,
            Framing::OctetCounting => FramingName::OctetCounting,
            Framing::Auto => FramingName::Auto,
        }
    }
}

/// The names `--framing` takes; [`Framing::new`] adds the delimiter.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum FramingName {
    /// Each message ends with LF.
    Lf,
    /// Each message ends with --delimiter.
    Delimiter,
    /// RFC 6587 octet counting: MSG-LEN SP MSG.
    OctetCounting,
    /// Decoding only: octet counting when a message starts with a digit, else LF.
    Auto,
}

display_as_flag_value!(FramingName);

/// Why a [`Framing`] cannot be made from a name and a delimiter.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum FramingError {
    #[error(
        "--framing delimiter needs the delimiter: add --delimiter, e.g. --delimiter '\\0' or --delimiter '\\r\\n'"
    )]
    DelimiterMissing,
    #[error(
        "--delimiter only applies to --framing delimiter, not --framing {0}: drop --delimiter or use --framing delimiter"
    )]
    DelimiterNotApplicable(FramingName),
}

/// `lf`, `octet-counting`, `auto`, or `delimiter:ESCAPED` (e.g. `delimiter:\0`); the
/// command line's separate `--delimiter` goes through [`Framing::new`].
impl FromStr for Framing {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "lf" => Ok(Framing::Lf),
            "octet-counting" => Ok(Framing::OctetCounting),
            "auto" => Ok(Framing::Auto),
            _ => match s.strip_prefix("delimiter:") {
                Some(d) => Ok(Framing::Delimiter(parse_delimiter(d)?)),
                None => Err(format!(
                    "unknown framing {s:?}: use lf, delimiter:ESCAPED, octet-counting or auto"
                )),
            },
        }
    }
}

/// The name; a delimiter framing as `delimiter:ESCAPED`, which [`FromStr`] reads back.
impl fmt::Display for Framing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Framing::Delimiter(d) => write!(f, "delimiter:{}", escape_delimiter(d)),
            other => write!(f, "{}", other.name()),
        }
    }
}

/// Reads a delimiter written on the command line: `\0`, `\n`, `\r`, `\t`, `\\` and `\xHH`
/// are escapes, anything else stands for its UTF-8 bytes (`\r\n` is CR LF, `|` a bar).
pub fn parse_delimiter(s: &str) -> Result<Vec<u8>, String> {
    const ACCEPTED: &str = "use \\0, \\n, \\r, \\t, \\\\ or \\xHH (two hex digits)";
    if s.is_empty() {
        return Err(
            "--delimiter \"\": a delimiter needs at least one byte, e.g. '\\0', '\\r\\n' or '\\x1e'"
                .into(),
        );
    }
    let mut out = Vec::with_capacity(s.len());
    let bytes = s.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'\\' {
            out.push(bytes[i]);
            i += 1;
            continue;
        }
        let Some(&escape) = bytes.get(i + 1) else {
            return Err(format!(
                "--delimiter '{s}': a lone \\ at the end; write \\\\ for a backslash, or {ACCEPTED}"
            ));
        };
        let (byte, len) = match escape {
            b'0' => (0, 2),
            b'n' => (b'\n', 2),
            b'r' => (b'\r', 2),
            b't' => (b'\t', 2),
            b'\\' => (b'\\', 2),
            b'x' => {
                let hex = bytes
                    .get(i + 2..i + 4)
                    .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
                    .and_then(|h| std::str::from_utf8(h).ok());
                match hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                    Some(b) => (b, 4),
                    None => {
                        return Err(format!(
                            "--delimiter '{s}': \\x at byte {i} needs two hex digits, e.g. \\x1e"
                        ));
                    }
                }
            }
            _ => {
                let shown: String = s[i + 1..].chars().take(1).collect();
                return Err(format!(
                    "--delimiter '{s}': unknown escape \\{shown} at byte {i}; {ACCEPTED}"
                ));
            }
        };
        out.push(byte);
        i += len;
    }
    Ok(out)
}

/// Writes bytes the way [`parse_delimiter`] reads them: printable ASCII as is (a backslash
/// doubled), `\0 \n \r \t`, anything else as `\xHH`.
pub fn escape_delimiter(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for &b in bytes {
        match b {
            0 => out.push_str("\\0"),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(char::from(b)),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out
}

/// The decoder for any [`Framing`]: what callers hold, whatever the command line chose.
///
/// Over a reader (a file, stdin) or a socket: keep a buffer of unconsumed bytes, hand it to
/// [`for_each`](Self::for_each), drop the consumed bytes, read more behind the rest, and at the
/// end of input call it once more with `eof` (see `ingest::stream`, and [`FrameCodec`], which
/// `listen`'s connections use).
/// A UDP datagram goes through [`decode_datagram`](Self::decode_datagram).
#[derive(Clone, Debug)]
pub struct Decoder {
    inner: Inner,
}

#[derive(Clone, Debug)]
enum Inner {
    Delimited(DelimitedDecoder),
    OctetCounting(OctetCountingDecoder),
}

impl Decoder {
    /// A decoder for `framing` with a maximum message size in bytes (at least 1).
    pub fn new(framing: &Framing, max_len: usize) -> Self {
        let inner = match framing {
            Framing::Lf => Inner::Delimited(DelimitedDecoder::lf(max_len)),
            // Only a hand-built `Framing` can have an empty delimiter (`parse_delimiter` refuses
            // one); LF is the one framing that still makes sense of the stream.
            Framing::Delimiter(d) if d.is_empty() => {
                Inner::Delimited(DelimitedDecoder::lf(max_len))
            }
            Framing::Delimiter(d) => Inner::Delimited(DelimitedDecoder::new(d, max_len)),
            Framing::OctetCounting => Inner::OctetCounting(OctetCountingDecoder::new(max_len)),
            Framing::Auto => Inner::OctetCounting(OctetCountingDecoder::auto(max_len)),
        };
        Decoder { inner }
    }

    pub fn max_len(&self) -> usize {
        match &self.inner {
            Inner::Delimited(d) => d.max_len(),
            Inner::OctetCounting(d) => d.max_len(),
        }
    }

    /// Looks for the next message in `buf` (the unconsumed bytes, which the caller only ever
    /// appends to). Returns the item, if any, and how many bytes of `buf` are consumed; with no
    /// item and nothing consumed, more input is needed.
    #[inline]
    pub fn decode<'b>(&mut self, buf: &'b [u8]) -> (Option<Decoded<'b>>, usize) {
        match &mut self.inner {
            Inner::Delimited(d) => d.decode(buf),
            Inner::OctetCounting(d) => d.decode(buf),
        }
    }

    /// Like [`decode`](Self::decode) once the input has ended; called until `(None, 0)` it
    /// consumes everything, and a last message cut short comes out as [`Decoded::Truncated`].
    pub fn decode_eof<'b>(&mut self, buf: &'b [u8]) -> (Option<Decoded<'b>>, usize) {
        match &mut self.inner {
            Inner::Delimited(d) => d.decode_eof(buf),
            Inner::OctetCounting(d) => d.decode_eof(buf),
        }
    }

    /// Gives up on the unfinished message that `buf` holds after every complete one was
    /// taken (a receiver out of memory or patience): returns its bytes so far, if any, and how
    /// many bytes of `buf` are consumed; the rest of that message is skipped as it arrives,
    /// as for an oversized one, and decoding carries on with the next.
    pub fn cut<'b>(&mut self, buf: &'b [u8]) -> (Option<&'b [u8]>, usize) {
        match &mut self.inner {
            Inner::Delimited(d) => d.cut(buf),
            Inner::OctetCounting(d) => d.cut(buf),
        }
    }

    /// Whether a message has begun in `buf` (the unconsumed bytes) and not ended, counting the
    /// skipped rest of an oversized one.
    pub fn in_message(&self, buf: &[u8]) -> bool {
        match &self.inner {
            Inner::Delimited(d) => d.in_message(buf),
            Inner::OctetCounting(d) => d.in_message(buf),
        }
    }

    /// Every message of `buf` in order, borrowed where it lies, until `each` breaks or `buf`
    /// holds no complete message (at `eof`: until everything is consumed, a last message cut
    /// short coming out as [`Decoded::Truncated`]). Returns how many bytes were consumed (the
    /// caller drops them, or `advance`s past them, once) and the break value, if any. Bytes a
    /// decoder skips (an oversized message, a bad length prefix) count as consumed.
    ///
    /// This is the loop every reader of a byte stream drives: `parse` and `frame --decode`
    /// (`ingest::stream`), `send`'s input, and `listen`'s connections ([`FrameCodec`]).
    #[inline]
    pub fn for_each<B>(
        &mut self,
        buf: &[u8],
        eof: bool,
        mut each: impl FnMut(Decoded<'_>) -> ControlFlow<B>,
    ) -> (usize, Option<B>) {
        let mut consumed = 0;
        loop {
            let rest = &buf[consumed..];
            let (item, used) = if eof {
                self.decode_eof(rest)
            } else {
                self.decode(rest)
            };
            consumed += used;
            match item {
                Some(item) => {
                    if let ControlFlow::Break(b) = each(item) {
                        return (consumed, Some(b));
                    }
                }
                // More input is needed (or, at the end, everything is consumed).
                None if used == 0 => return (consumed, None),
                // Skipped bytes: look again behind them.
                None => {}
            }
        }
    }

    /// One UDP datagram is one message, whatever the framing: see [`datagram`]. With
    /// `octet-counting` or `auto`, a leading `MSG-LEN SP` whose count is exactly the rest of
    /// the datagram is removed too (`logger --octet-count` over UDP sends that).
    pub fn decode_datagram<'b>(&self, payload: &'b [u8]) -> Decoded<'b> {
        let message = match &self.inner {
            Inner::OctetCounting(_) => strip_matching_count(payload),
            Inner::Delimited(_) => payload,
        };
        datagram(message, self.max_len())
    }
}

/// One UDP datagram as one message: a trailing LF (or CR LF) is dropped, and a datagram longer
/// than `max_len` keeps its first `max_len` bytes as [`Decoded::Oversized`].
pub fn datagram(payload: &[u8], max_len: usize) -> Decoded<'_> {
    let message = match payload.strip_suffix(b"\n") {
        Some(m) => m.strip_suffix(b"\r").unwrap_or(m),
        None => payload,
    };
    if message.len() > max_len {
        Decoded::Oversized(&message[..max_len])
    } else {
        Decoded::Frame(message)
    }
}

/// `payload` without a leading `MSG-LEN SP` that counts exactly the rest; else `payload`.
fn strip_matching_count(payload: &[u8]) -> &[u8] {
    let digits = payload.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0
        || digits > 19
        || (digits > 1 && payload[0] == b'0')
        || payload.get(digits) != Some(&b' ')
    {
        return payload;
    }
    let rest = &payload[digits + 1..];
    let count: u64 = std::str::from_utf8(&payload[..digits])
        .ok()
        .and_then(|d| d.parse().ok())
        .unwrap_or(u64::MAX);
    if count == rest.len() as u64 {
        rest
    } else {
        payload
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn framing_names_parse_and_print_back() {
        for name in [
            "lf",
            "octet-counting",
            "auto",
            "delimiter:\\0",
            "delimiter:\\r\\n",
        ] {
            let framing: Framing = name.parse().unwrap();
            assert_eq!(framing.to_string(), name);
        }
        assert_eq!(
            "delimiter:\\x1e".parse(),
            Ok(Framing::Delimiter(vec![0x1e]))
        );
        let e = "octet".parse::<Framing>().unwrap_err();
        assert!(
            e.contains("lf, delimiter:ESCAPED, octet-counting or auto"),
            "{e}"
        );
    }

    #[test]
    fn a_framing_needs_a_delimiter_exactly_when_it_is_delimiter() {
        assert_eq!(
            Framing::new(FramingName::Delimiter, Some(b"\r\n".to_vec())),
            Ok(Framing::Delimiter(b"\r\n".to_vec()))
        );
        assert_eq!(Framing::new(FramingName::Auto, None), Ok(Framing::Auto));
        let e = Framing::new(FramingName::Delimiter, None).unwrap_err();
        assert!(e.to_string().contains("add --delimiter"), "{e}");
        let e = Framing::new(FramingName::Lf, Some(vec![0])).unwrap_err();
        assert!(e.to_string().contains("not --framing lf"), "{e}");
    }

    #[test]
    fn delimiter_escapes() {
        assert_eq!(parse_delimiter("\\0"), Ok(vec![0]));
        assert_eq!(parse_delimiter("\\n"), Ok(vec![b'\n']));
        assert_eq!(parse_delimiter("\\r\\n"), Ok(b"\r\n".to_vec()));
        assert_eq!(parse_delimiter("\\t"), Ok(vec![b'\t']));
        assert_eq!(parse_delimiter("\\\\"), Ok(vec![b'\\']));
        assert_eq!(parse_delimiter("\\x1e"), Ok(vec![0x1e]));
        assert_eq!(parse_delimiter("\\xFF|"), Ok(vec![0xff, b'|']));
        assert_eq!(parse_delimiter("||"), Ok(b"||".to_vec()));
        assert_eq!(parse_delimiter("é"), Ok("é".as_bytes().to_vec()));
        for bytes in [&b"\0"[..], b"\r\n", b"\x1e\\a", b"\xff\t"] {
            assert_eq!(parse_delimiter(&escape_delimiter(bytes)).unwrap(), bytes);
        }
    }

    #[test]
    fn bad_delimiters_say_what_to_type() {
        let e = parse_delimiter("").unwrap_err();
        assert!(e.contains("at least one byte"), "{e}");
        let e = parse_delimiter("a\\q").unwrap_err();
        assert_eq!(
            e,
            "--delimiter 'a\\q': unknown escape \\q at byte 1; use \\0, \\n, \\r, \\t, \\\\ or \\xHH (two hex digits)"
        );
        let e = parse_delimiter("\\x1").unwrap_err();
        assert!(e.contains("needs two hex digits, e.g. \\x1e"), "{e}");
        assert!(parse_delimiter("\\x+1").is_err());
        let e = parse_delimiter("ab\\").unwrap_err();
        assert!(e.contains("lone \\ at the end"), "{e}");
    }

    #[test]
    fn a_datagram_is_one_message_without_its_trailing_line_end() {
        assert_eq!(datagram(b"<13>a\nb\n", 64), Decoded::Frame(b"<13>a\nb"));
        assert_eq!(datagram(b"<13>a\r\n", 64), Decoded::Frame(b"<13>a"));
        assert_eq!(datagram(b"<13>a\r", 64), Decoded::Frame(b"<13>a\r"));
        assert_eq!(datagram(b"", 64), Decoded::Frame(b""));
        assert_eq!(datagram(b"abcdef\n", 4), Decoded::Oversized(b"abcd"));
    }

    #[test]
    fn octet_counted_datagram_loses_its_prefix_only_when_the_count_matches() {
        let auto = Decoder::new(&Framing::Auto, 64);
        assert_eq!(auto.decode_datagram(b"6 <13>a\n"), Decoded::Frame(b"<13>a"));
        assert_eq!(auto.decode_datagram(b"5 <13>a"), Decoded::Frame(b"<13>a"));
        assert_eq!(auto.decode_datagram(b"9 <13>a"), Decoded::Frame(b"9 <13>a"));
        assert_eq!(auto.decode_datagram(b"05 <13>"), Decoded::Frame(b"05 <13>"));
        let lf = Decoder::new(&Framing::Lf, 64);
        assert_eq!(lf.decode_datagram(b"5 <13>a"), Decoded::Frame(b"5 <13>a"));
    }

    #[test]
    fn decoder_follows_the_framing() {
        let input = b"3 abc\n";
        let first = |framing: Framing| {
            let mut d = Decoder::new(&framing, 64);
            d.decode(input).0.map(|d| d.bytes().to_vec())
        };
        assert_eq!(first(Framing::Lf), Some(b"3 abc".to_vec()));
        assert_eq!(
            first(Framing::Delimiter(b" ".to_vec())),
            Some(b"3".to_vec())
        );
        assert_eq!(first(Framing::OctetCounting), Some(b"abc".to_vec()));
        assert_eq!(first(Framing::Auto), Some(b"abc".to_vec()));
    }

    #[test]
    fn error_messages_quote_the_bad_prefix() {
        let e = |bytes: &[u8], reason| Decoded::Invalid { bytes, reason }.error(1024).unwrap();
        assert!(e(b"abc def", InvalidPrefix::NoLength).contains("found \"abc def\""));
        assert!(e(b"012 x", InvalidPrefix::LeadingZero).contains("length \"012\" starts with 0"));
        assert!(e(b"12abc", InvalidPrefix::NoSpace).contains("\"12\" is followed by \"a\""));
        assert!(
            e(b"99999999999 x", InvalidPrefix::CountTooLarge)
                .contains("more than 10 times the maximum message size (1024 bytes)")
        );
        assert_eq!(Decoded::Frame(b"x").error(10), None);
    }

    type Items = Vec<(Vec<u8>, Option<FrameError>)>;

    /// Every item of `buf` (not at the end of the stream) with its defect.
    fn items(d: &mut Decoder, buf: &[u8]) -> (Items, usize) {
        let mut out = Vec::new();
        let (used, _) = d.for_each(buf, false, |item| {
            out.push((item.bytes().to_vec(), item.defect()));
            ControlFlow::<()>::Continue(())
        });
        (out, used)
    }

    #[test]
    fn cut_lf_message_gives_its_part_and_skips_the_rest_up_to_the_lf() {
        let mut d = Decoder::new(&Framing::Lf, 1024);
        assert_eq!(items(&mut d, b"<13>begun"), (vec![], 0));
        assert!(d.in_message(b"<13>begun"));
        assert_eq!(d.cut(b"<13>begun"), (Some(&b"<13>begun"[..]), 9));
        assert!(d.in_message(b""), "the rest is still to skip");
        let (got, used) = items(&mut d, b" and the rest\n<13>next\n");
        assert_eq!(got, vec![(b"<13>next".to_vec(), None)]);
        assert_eq!(used, 23);
        assert!(!d.in_message(b""));
    }

    #[test]
    fn cut_octet_counted_message_skips_the_rest_by_count() {
        let mut d = Decoder::new(&Framing::Auto, 1024);
        assert_eq!(items(&mut d, b"10 abc"), (vec![], 0));
        assert_eq!(d.cut(b"10 abc"), (Some(&b"abc"[..]), 6));
        let (got, used) = items(&mut d, b"defghij5 hello");
        assert_eq!(got, vec![(b"hello".to_vec(), None)]);
        assert_eq!(used, 14);
        // Nothing under way: nothing to cut.
        assert_eq!(d.cut(b""), (None, 0));
        assert!(!d.in_message(b""));
    }
}
