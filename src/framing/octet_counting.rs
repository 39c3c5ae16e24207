//! Octet counting, RFC 6587 §3.4.1: `SYSLOG-FRAME = MSG-LEN SP SYSLOG-MSG`, with
//! `MSG-LEN = NONZERO-DIGIT *DIGIT` the number of octets of `SYSLOG-MSG`, which may hold any
//! byte. Also `auto`: each message is decided on its own, as rsyslog's imtcp does — a digit
//! starts an octet count, anything else an LF-terminated line — so one connection may mix
//! both.
//!
//! Hostile input never stalls or kills a stream, and memory stays bounded by the maximum
//! message size plus a few bytes of prefix:
//!
//! - A count up to the maximum: the frame is handed out once all of it has arrived. A count of
//!   `0` is outside the RFC's grammar but unambiguous, and it is the only way to write an empty
//!   message, so `0 ` is read as one (and `parse` reports the empty message).
//! - A count past the maximum, up to [`MAX_COUNT_FACTOR`] times it: a real but oversized
//!   message. Its first `max` bytes come out as [`Decoded::Oversized`] and the rest is skipped
//!   by count, without being buffered.
//! - A bad prefix (`abc `, `012 `, `12abc`, or a count beyond that factor such as
//!   `99999999999 `): the count cannot be trusted, so the decoder resynchronises on the next
//!   LF, which most senders put at the end of their messages. With `octet-counting` the bytes
//!   up to that LF become [`Decoded::Invalid`]; with `auto` they are simply an LF-framed
//!   message, as rsyslog falls back to LF framing.
//! - Line ends (CR, LF) between octet-counted frames are skipped: some senders end each frame
//!   with an LF that the count does not cover, and it is not an empty message.
//! - At the end of the stream, a frame whose count was not reached is [`Decoded::Truncated`].

use super::{Decoded, DelimitedDecoder, InvalidPrefix};

/// A count up to this many times the maximum message size is believed (the oversized message
/// is skipped by count); a larger one is garbage, and the decoder resynchronises on LF instead
/// of swallowing that much of the stream.
pub const MAX_COUNT_FACTOR: usize = 10;

/// Splits an octet-counted stream (`octet-counting`), or an octet-counted/LF mix (`auto`).
#[derive(Clone, Debug)]
pub struct OctetCountingDecoder {
    max_len: usize,
    /// Counts above this are garbage, not oversized messages.
    max_count: usize,
    /// `auto`: a frame that does not start with a valid length is an LF line, not an error.
    auto: bool,
    state: State,
    /// Skip CR and LF before the next frame (always with `octet-counting`; with `auto` only
    /// right after an octet-counted frame, since there an empty line is a message).
    skip_line_ends: bool,
    /// Reads the LF-framed lines: `auto` messages, and the resynchronisation after a bad prefix.
    lines: DelimitedDecoder,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum State {
    /// At the start of a frame.
    Start,
    /// Skipping the rest of an oversized octet-counted message: this many bytes are left.
    Skipping(usize),
    /// In an LF-framed line; with a reason, it is the resynchronisation after a bad prefix.
    Line(Option<InvalidPrefix>),
}

/// What the bytes at the start of a frame say.
enum Prefix {
    /// Too few bytes to tell.
    Incomplete,
    /// `count` octets of message follow the `len`-byte prefix (digits and space).
    Count {
        count: usize,
        len: usize,
    },
    Invalid(InvalidPrefix),
}

impl OctetCountingDecoder {
    /// Strict octet counting (`--framing octet-counting`), with a maximum message size in bytes
    /// (at least 1).
    pub fn new(max_len: usize) -> Self {
        let max_len = max_len.max(1);
        OctetCountingDecoder {
            max_len,
            max_count: max_len.saturating_mul(MAX_COUNT_FACTOR),
            auto: false,
            state: State::Start,
            skip_line_ends: true,
            lines: DelimitedDecoder::lf(max_len),
        }
    }

    /// Octet counting or LF, decided per message (`--framing auto`).
    pub fn auto(max_len: usize) -> Self {
        OctetCountingDecoder {
            auto: true,
            skip_line_ends: false,
            ..Self::new(max_len)
        }
    }

    pub fn max_len(&self) -> usize {
        self.max_len
    }

    /// Looks for the next message in `buf` (the unconsumed bytes, which the caller only ever
    /// appends to). Returns the item, if any, and how many bytes of `buf` are consumed; with no
    /// item and nothing consumed, more input is needed.
    #[inline]
    pub fn decode<'b>(&mut self, buf: &'b [u8]) -> (Option<Decoded<'b>>, usize) {
        match self.state {
            State::Skipping(left) => {
                // The rest of an oversized message: drop it as it arrives, never buffer it.
                let take = left.min(buf.len());
                self.state = if take == left {
                    State::Start
                } else {
                    State::Skipping(left - take)
                };
                (None, take)
            }
            State::Line(reason) => self.line(buf, reason, false),
            State::Start => self.start(buf),
        }
    }

    /// Like [`decode`](Self::decode) once the stream has ended: a frame whose count was not
    /// reached comes out as [`Decoded::Truncated`] (an unfinished length prefix too, as its raw
    /// bytes); with `auto`, a last line without its LF is a whole frame, as with LF framing.
    pub fn decode_eof<'b>(&mut self, buf: &'b [u8]) -> (Option<Decoded<'b>>, usize) {
        let (item, used) = self.decode(buf);
        if item.is_some() || used > 0 {
            return (item, used);
        }
        match self.state {
            State::Line(reason) => self.line(buf, reason, true),
            // Stream ended inside the skipped part of an oversized message: nothing to add.
            State::Skipping(_) => {
                self.state = State::Start;
                (None, buf.len())
            }
            State::Start if buf.is_empty() => (None, 0),
            State::Start => match self.prefix(buf) {
                Prefix::Count { len, .. } => (Some(Decoded::Truncated(&buf[len..])), buf.len()),
                Prefix::Incomplete if !self.auto => (Some(Decoded::Truncated(buf)), buf.len()),
                // A last line such as "12" is an ordinary LF line to `auto`.
                Prefix::Incomplete => {
                    self.state = State::Line(None);
                    self.line(buf, None, true)
                }
                // Not reached (decode moves to a line on a bad prefix), but harmless.
                Prefix::Invalid(reason) => {
                    let reason = (!self.auto).then_some(reason);
                    self.state = State::Line(reason);
                    self.line(buf, reason, true)
                }
            },
        }
    }

    /// Gives up on the unfinished message that `buf` holds (the caller has taken every
    /// complete one): returns its bytes so far (without the length prefix) and how many of
    /// `buf` are consumed, and skips the rest of it by count or up to its LF. `None` when no
    /// message is under way, or only a length prefix has arrived.
    pub fn cut<'b>(&mut self, buf: &'b [u8]) -> (Option<&'b [u8]>, usize) {
        match self.state {
            State::Skipping(_) => (None, 0),
            State::Line(_) => self.lines.cut(buf),
            State::Start if buf.is_empty() => (None, 0),
            State::Start => match self.prefix(buf) {
                Prefix::Count { count, len } if buf.len() < len + count => {
                    self.state = State::Skipping(len + count - buf.len());
                    self.skip_line_ends = true;
                    (Some(&buf[len..]), buf.len())
                }
                _ => (None, 0),
            },
        }
    }

    /// Whether a message has begun and not ended: bytes held, or the rest of one being
    /// skipped.
    pub fn in_message(&self, buf: &[u8]) -> bool {
        !buf.is_empty() || self.state != State::Start || self.lines.in_message(&[])
    }

    fn start<'b>(&mut self, buf: &'b [u8]) -> (Option<Decoded<'b>>, usize) {
        let Some(&first) = buf.first() else {
            return (None, 0);
        };
        if self.skip_line_ends && (first == b'\n' || first == b'\r') {
            // A line end between octet-counted frames is not a message.
            let run = buf
                .iter()
                .take_while(|&&b| b == b'\n' || b == b'\r')
                .count();
            return (None, run);
        }
        self.skip_line_ends = !self.auto;
        if self.auto && !first.is_ascii_digit() {
            // The common `auto` case, an LF line: straight to the line decoder, staying in a
            // line only while it waits for the LF or skips the rest of an oversized line.
            let (item, used) = self.lines.decode(buf);
            if item.is_none() || self.lines.is_discarding() {
                self.state = State::Line(None);
            }
            return (item, used);
        }
        let invalid = match self.prefix(buf) {
            Prefix::Incomplete => return (None, 0),
            Prefix::Count { count, len } if count <= self.max_len => {
                let end = len + count;
                if buf.len() < end {
                    return (None, 0);
                }
                self.skip_line_ends = true;
                return (Some(Decoded::Frame(&buf[len..end])), end);
            }
            Prefix::Count { count, len } => {
                // Believable but too long: hand out the head as soon as it is here, then skip
                // the rest by count.
                let end = len + self.max_len;
                if buf.len() < end {
                    return (None, 0);
                }
                self.skip_line_ends = true;
                self.state = State::Skipping(count - self.max_len);
                return (Some(Decoded::Oversized(&buf[len..end])), end);
            }
            Prefix::Invalid(reason) => reason,
        };
        // Not an octet count: an LF line for `auto`, a bad prefix to resynchronise after for
        // `octet-counting`. Either way the next LF ends it.
        let reason = (!self.auto).then_some(invalid);
        self.state = State::Line(reason);
        self.line(buf, reason, false)
    }

    /// Reads the bytes of `buf` as one LF-terminated line, labelled invalid with a `reason`.
    fn line<'b>(
        &mut self,
        buf: &'b [u8],
        reason: Option<InvalidPrefix>,
        eof: bool,
    ) -> (Option<Decoded<'b>>, usize) {
        let (item, used) = if eof {
            self.lines.decode_eof(buf)
        } else {
            self.lines.decode(buf)
        };
        // The line is over once it has been handed out or skipped to its LF, unless the
        // LF decoder is still skipping the rest of an oversized one.
        if !self.lines.is_discarding() && (item.is_some() || used > 0) {
            self.state = State::Start;
        }
        let item = match (item, reason) {
            (Some(item), Some(reason)) => Some(Decoded::Invalid {
                bytes: item.bytes(),
                reason,
            }),
            (item, _) => item,
        };
        (item, used)
    }

    /// Reads `MSG-LEN SP` at the start of `buf` (which is not empty).
    fn prefix(&self, buf: &[u8]) -> Prefix {
        if !buf[0].is_ascii_digit() {
            return Prefix::Invalid(InvalidPrefix::NoLength);
        }
        let mut count: usize = 0;
        for (i, &b) in buf.iter().enumerate() {
            match b {
                // "0 " alone is an empty message (see the module doc); "012" is refused.
                b'0'..=b'9' if i > 0 && count == 0 => {
                    return Prefix::Invalid(InvalidPrefix::LeadingZero);
                }
                b'0'..=b'9' => {
                    // Stop reading digits as soon as the count is past belief, so a run of
                    // digits never makes the decoder wait.
                    count = match count
                        .checked_mul(10)
                        .and_then(|c| c.checked_add(usize::from(b - b'0')))
                    {
                        Some(c) if c <= self.max_count => c,
                        _ => return Prefix::Invalid(InvalidPrefix::CountTooLarge),
                    };
                }
                b' ' => return Prefix::Count { count, len: i + 1 },
                _ => return Prefix::Invalid(InvalidPrefix::NoSpace),
            }
        }
        Prefix::Incomplete
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framing::encode;
    use proptest::prelude::*;

    type Items = Vec<(String, Vec<u8>)>;

    fn label(d: &Decoded<'_>) -> String {
        match d {
            Decoded::Frame(_) => "frame".into(),
            Decoded::Oversized(_) => "oversized".into(),
            Decoded::Truncated(_) => "truncated".into(),
            Decoded::Invalid { reason, .. } => format!("invalid {reason:?}"),
        }
    }

    /// Feeds `input` in pieces of `chunk` bytes, as a socket would, and collects the items.
    /// Also checks that the decoder never holds more than the maximum plus a short prefix.
    fn run(mut decoder: OctetCountingDecoder, input: &[u8], chunk: usize) -> Items {
        let bound = decoder.max_len() + 24;
        let mut buf = Vec::new();
        let mut out = Vec::new();
        let pieces = input.chunks(chunk.max(1)).map(Some).chain([None]);
        for piece in pieces {
            let eof = piece.is_none();
            buf.extend_from_slice(piece.unwrap_or_default());
            loop {
                let (item, used) = if eof {
                    decoder.decode_eof(&buf)
                } else {
                    decoder.decode(&buf)
                };
                if let Some(d) = &item {
                    out.push((label(d), d.bytes().to_vec()));
                }
                let done = item.is_none() && used == 0;
                buf.drain(..used);
                if done {
                    break;
                }
            }
            assert!(buf.len() <= bound, "holding {} bytes", buf.len());
        }
        assert!(buf.is_empty(), "{} bytes left at the end", buf.len());
        out
    }

    /// `run` at every possible split into two reads, and one byte at a time, all agreeing.
    fn run_every_split(make: impl Fn() -> OctetCountingDecoder, input: &[u8]) -> Items {
        let whole = run(make(), input, input.len().max(1));
        assert_eq!(run(make(), input, 1), whole, "one byte at a time");
        for split in 1..input.len() {
            let mut decoder = make();
            let mut got = Vec::new();
            let mut buf = Vec::new();
            for (piece, eof) in [
                (&input[..split], false),
                (&input[split..], false),
                (&[][..], true),
            ] {
                buf.extend_from_slice(piece);
                loop {
                    let (item, used) = if eof {
                        decoder.decode_eof(&buf)
                    } else {
                        decoder.decode(&buf)
                    };
                    if let Some(d) = &item {
                        got.push((label(d), d.bytes().to_vec()));
                    }
                    let done = item.is_none() && used == 0;
                    buf.drain(..used);
                    if done {
                        break;
                    }
                }
            }
            assert_eq!(got, whole, "split at {split}");
        }
        whole
    }

    fn items(list: &[(&str, &[u8])]) -> Items {
        list.iter()
            .map(|(l, b)| (l.to_string(), b.to_vec()))
            .collect()
    }

    fn framed(messages: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for m in messages {
            encode::octet_counted(m, &mut out);
        }
        out
    }

    // RFC 5424 §6.5 examples 1 and 3, framed as RFC 6587 §3.4.1 says: MSG-LEN SP SYSLOG-MSG.
    const RFC5424_EXAMPLE_1: &[u8] = b"<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \xEF\xBB\xBF'su root' failed for lonvick on /dev/pts/8";
    const RFC5424_EXAMPLE_3: &[u8] = b"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"] \xEF\xBB\xBFAn application event log entry...";

    #[test]
    fn rfc_6587_octet_counted_frames_split_at_every_point() {
        let input = framed(&[RFC5424_EXAMPLE_1, RFC5424_EXAMPLE_3]);
        assert!(input.starts_with(b"110 <34>1 "));
        let got = run_every_split(|| OctetCountingDecoder::new(1024), &input);
        assert_eq!(
            got,
            items(&[("frame", RFC5424_EXAMPLE_1), ("frame", RFC5424_EXAMPLE_3)])
        );
    }

    #[test]
    fn octet_counted_frame_carries_lf_nul_and_any_byte() {
        let input = b"10 a\nb\0c\r\n\xff\xfe\x7f3 end";
        let got = run_every_split(|| OctetCountingDecoder::new(100), input);
        assert_eq!(
            got,
            items(&[("frame", b"a\nb\0c\r\n\xff\xfe\x7f"), ("frame", b"end")])
        );
    }

    #[test]
    fn count_of_exactly_max_len_is_whole() {
        let got = run_every_split(|| OctetCountingDecoder::new(4), b"4 abcd4 efgh");
        assert_eq!(got, items(&[("frame", b"abcd"), ("frame", b"efgh")]));
    }

    #[test]
    fn count_past_the_maximum_keeps_the_head_and_skips_by_count() {
        // "10 0123456789" against a maximum of 4: the next frame survives.
        let got = run_every_split(|| OctetCountingDecoder::new(4), b"10 0123456789\n2 ok");
        assert_eq!(got, items(&[("oversized", b"0123"), ("frame", b"ok")]));
    }

    #[test]
    fn skipping_an_oversized_message_buffers_nothing() {
        // A 1 MiB message against a 16-byte limit, fed in 1 KiB reads (run checks the bound).
        let mut input = b"1048576 ".to_vec();
        input.resize(input.len() + (1 << 20), b'x');
        input.extend_from_slice(b"4 next");
        let mut decoder = OctetCountingDecoder::new(16);
        decoder.max_count = 1 << 21; // believe the count despite the tiny maximum
        let got = run(decoder, &input, 1024);
        assert_eq!(
            got,
            items(&[("oversized", b"xxxxxxxxxxxxxxxx"), ("frame", b"next")])
        );
    }

    #[test]
    fn hostile_prefixes_give_errors_and_the_stream_goes_on() {
        let input: &[u8] = b"abc def\n\
            99999999999 <13>huge\n\
            012 <13>zero\n\
            00 \n\
            12abc\n\
            <13>no count\n\
            5 hello";
        let got = run_every_split(|| OctetCountingDecoder::new(64), input);
        assert_eq!(
            got,
            items(&[
                ("invalid NoLength", b"abc def"),
                ("invalid CountTooLarge", b"99999999999 <13>huge"),
                ("invalid LeadingZero", b"012 <13>zero"),
                ("invalid LeadingZero", b"00 "),
                ("invalid NoSpace", b"12abc"),
                ("invalid NoLength", b"<13>no count"),
                ("frame", b"hello"),
            ])
        );
    }

    #[test]
    fn a_count_just_past_belief_is_garbage() {
        // Maximum 10, so counts up to 100 are believed: 101 is not.
        let got = run_every_split(|| OctetCountingDecoder::new(10), b"101 x\n100 y");
        assert_eq!(
            got,
            items(&[
                ("invalid CountTooLarge", b"101 x"),
                ("truncated", b"y"), // 100 is believed, and the stream ends first
            ])
        );
    }

    #[test]
    fn a_garbage_run_longer_than_the_maximum_is_cut_and_skipped_to_lf() {
        let got = run_every_split(|| OctetCountingDecoder::new(4), b"abcdefgh\n2 ok");
        assert_eq!(
            got,
            items(&[("invalid NoLength", b"abcd"), ("frame", b"ok")])
        );
    }

    #[test]
    fn line_ends_between_octet_frames_are_skipped() {
        let got = run_every_split(|| OctetCountingDecoder::new(64), b"\r\n2 ab\n2 cd\r\n\n");
        assert_eq!(got, items(&[("frame", b"ab"), ("frame", b"cd")]));
    }

    #[test]
    fn stream_ending_inside_a_frame_is_truncated_not_lost() {
        let got = run_every_split(|| OctetCountingDecoder::new(64), b"3 abc10 <13>pa");
        assert_eq!(got, items(&[("frame", b"abc"), ("truncated", b"<13>pa")]));
        let got = run_every_split(|| OctetCountingDecoder::new(64), b"3 abc12");
        assert_eq!(got, items(&[("frame", b"abc"), ("truncated", b"12")]));
    }

    #[test]
    fn stream_ending_inside_a_skipped_oversized_message_adds_nothing() {
        let got = run_every_split(|| OctetCountingDecoder::new(4), b"20 abcdefgh");
        assert_eq!(got, items(&[("oversized", b"abcd")]));
    }

    #[test]
    fn auto_mixes_octet_counted_and_lf_frames_on_one_stream() {
        let input: &[u8] = b"<13>lf one\r\n\
            15 <14>octet\nline\n\
            <15>lf two\n\
            \n\
            2024-11-22 no pri\n\
            7 <13>end";
        let got = run_every_split(|| OctetCountingDecoder::auto(64), input);
        assert_eq!(
            got,
            items(&[
                ("frame", b"<13>lf one"),
                ("frame", b"<14>octet\nline\n"),
                ("frame", b"<15>lf two"),
                ("frame", b""),
                ("frame", b"2024-11-22 no pri"),
                ("frame", b"<13>end"),
            ])
        );
    }

    #[test]
    fn auto_skips_the_lf_after_an_octet_frame_but_keeps_other_empty_lines() {
        let got = run_every_split(|| OctetCountingDecoder::auto(64), b"2 ab\n\nx\n\n");
        assert_eq!(
            got,
            items(&[("frame", b"ab"), ("frame", b"x"), ("frame", b"")])
        );
    }

    #[test]
    fn auto_falls_back_to_lf_on_a_bad_prefix() {
        let got = run_every_split(
            || OctetCountingDecoder::auto(8),
            b"99999999999 huge\n012 zero\n12abc\nabcdefghijkl\n3 end",
        );
        assert_eq!(
            got,
            items(&[
                ("oversized", b"99999999"),
                ("frame", b"012 zero"),
                ("frame", b"12abc"),
                ("oversized", b"abcdefgh"),
                ("frame", b"end"),
            ])
        );
    }

    #[test]
    fn auto_last_line_without_lf_is_whole_even_if_it_starts_with_digits() {
        let got = run_every_split(|| OctetCountingDecoder::auto(64), b"a\n2024\n12");
        assert_eq!(
            got,
            items(&[("frame", b"a"), ("frame", b"2024"), ("frame", b"12")])
        );
    }

    #[test]
    fn auto_oversized_octet_frame_is_skipped_by_count() {
        let got = run_every_split(|| OctetCountingDecoder::auto(5), b"10 0123\n56789<13>x\n");
        assert_eq!(got, items(&[("oversized", b"0123\n"), ("frame", b"<13>x")]));
    }

    #[test]
    fn zero_count_is_an_empty_message_in_both_modes() {
        for make in [OctetCountingDecoder::new, OctetCountingDecoder::auto] {
            let got = run_every_split(|| make(8), b"0 0 2 ab");
            assert_eq!(
                got,
                items(&[("frame", b""), ("frame", b""), ("frame", b"ab")])
            );
        }
    }

    fn messages() -> impl Strategy<Value = Vec<Vec<u8>>> {
        prop::collection::vec(prop::collection::vec(any::<u8>(), 0..40), 0..8)
    }

    proptest! {
        #[test]
        fn chunking_does_not_matter(
            input in prop::collection::vec(
                prop_oneof![Just(b'1'), Just(b'0'), Just(b' '), Just(b'\n'), Just(b'a'), any::<u8>()],
                0..200,
            ),
            chunk in 1usize..40,
            auto in any::<bool>(),
        ) {
            let make = || if auto { OctetCountingDecoder::auto(16) } else { OctetCountingDecoder::new(16) };
            prop_assert_eq!(run(make(), &input, chunk), run(make(), &input, input.len().max(1)));
        }

        #[test]
        fn encode_then_decode_gives_back_any_messages(msgs in messages(), chunk in 1usize..64) {
            let mut input = Vec::new();
            for m in &msgs {
                encode::octet_counted(m, &mut input);
            }
            let want: Items = msgs.iter().map(|m| ("frame".to_string(), m.clone())).collect();
            prop_assert_eq!(&run(OctetCountingDecoder::new(64), &input, chunk), &want);
            prop_assert_eq!(&run(OctetCountingDecoder::auto(64), &input, chunk), &want);
        }

        #[test]
        fn arbitrary_bytes_never_panic_and_stay_bounded(
            input in prop::collection::vec(any::<u8>(), 0..600),
            chunk in 1usize..100,
            max in 1usize..32,
            auto in any::<bool>(),
        ) {
            // `run` asserts the bound and that everything is consumed at the end.
            let decoder = if auto { OctetCountingDecoder::auto(max) } else { OctetCountingDecoder::new(max) };
            run(decoder, &input, chunk);
        }
    }
}
