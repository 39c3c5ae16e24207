//! Delimiter framing: LF (a CR before it dropped, as RFC 6587 §3.4.2 "non-transparent framing"
//! is written in practice) or any other byte string, found with `memchr`.
//!
//! Memory stays bounded by the maximum message size: once a message is longer, its first part
//! is handed out as [`Decoded::Oversized`] and the rest is skipped without being buffered.

use memchr::memmem;

use super::Decoded;

/// Splits a stream on a delimiter.
#[derive(Clone, Debug)]
pub struct DelimitedDecoder {
    delimiter: Vec<u8>,
    /// The delimiter's first byte, the whole of it when `finder` is `None`.
    first: u8,
    finder: Option<memmem::Finder<'static>>,
    /// LF framing also drops a CR before the LF.
    strip_cr: bool,
    max_len: usize,
    /// Skipping the rest of an oversized message.
    discarding: bool,
    /// How far the unconsumed bytes were already searched, so a slow sender's growing message
    /// is not rescanned from the start at every read.
    scanned: usize,
}

impl DelimitedDecoder {
    /// LF framing with a maximum message size in bytes (at least 1).
    pub fn lf(max_len: usize) -> Self {
        let mut decoder = Self::new(b"\n", max_len);
        decoder.strip_cr = true;
        decoder
    }

    /// Any delimiter (`\0`, `\r\n`, `\x1e`…); it must not be empty.
    pub fn new(delimiter: &[u8], max_len: usize) -> Self {
        assert!(!delimiter.is_empty(), "a delimiter has at least one byte");
        DelimitedDecoder {
            delimiter: delimiter.to_vec(),
            first: delimiter[0],
            finder: (delimiter.len() > 1).then(|| memmem::Finder::new(delimiter).into_owned()),
            strip_cr: false,
            max_len: max_len.max(1),
            discarding: false,
            scanned: 0,
        }
    }

    pub fn max_len(&self) -> usize {
        self.max_len
    }

    /// The delimiter this decoder splits on.
    pub fn delimiter(&self) -> &[u8] {
        &self.delimiter
    }

    /// True while the rest of an oversized message is being skipped.
    pub fn is_discarding(&self) -> bool {
        self.discarding
    }

    #[inline]
    fn find(&self, haystack: &[u8]) -> Option<usize> {
        match &self.finder {
            None => memchr::memchr(self.first, haystack),
            Some(finder) => finder.find(haystack),
        }
    }

    /// Looks for the next message in `buf` (the unconsumed bytes, which the caller only ever
    /// appends to). Returns the item, if any, and how many bytes of `buf` are consumed; with no
    /// item and nothing consumed, more input is needed.
    #[inline]
    pub fn decode<'b>(&mut self, buf: &'b [u8]) -> (Option<Decoded<'b>>, usize) {
        let dlen = self.delimiter.len();
        // Start the search where the last one stopped, backing up for a delimiter that may
        // straddle the old end. Outside a discard, a delimiter that matters ends by
        // `max_len + dlen`: searching further would only rescan a hostile sender's bytes.
        let from = self.scanned.saturating_sub(dlen - 1).min(buf.len());
        let to = if self.discarding {
            buf.len()
        } else {
            buf.len().min(self.max_len.saturating_add(dlen))
        };
        let found = self.find(&buf[from..to.max(from)]).map(|i| from + i);
        if self.discarding {
            // Skip the rest of an oversized message without buffering it.
            return match found {
                Some(end) => {
                    self.discarding = false;
                    self.scanned = 0;
                    (None, end + dlen)
                }
                None => {
                    // Keep a possible partial delimiter at the end.
                    let keep = (dlen - 1).min(buf.len());
                    self.scanned = keep;
                    (None, buf.len() - keep)
                }
            };
        }
        match found {
            Some(end) if end <= self.max_len => {
                self.scanned = 0;
                (Some(Decoded::Frame(self.strip(&buf[..end]))), end + dlen)
            }
            Some(end) => {
                // Complete but too long: keep the head, drop the whole message.
                self.scanned = 0;
                (Some(Decoded::Oversized(&buf[..self.max_len])), end + dlen)
            }
            // Longer than the maximum for sure only once a delimiter could no longer end at
            // `max_len`: a partial multi-byte delimiter may sit at the end of `buf`, and cutting
            // here would make the result depend on where a read split.
            None if buf.len() > self.max_len + dlen - 1 => {
                self.discarding = true;
                self.scanned = 0;
                (Some(Decoded::Oversized(&buf[..self.max_len])), self.max_len)
            }
            None => {
                self.scanned = buf.len();
                (None, 0)
            }
        }
    }

    /// Gives up on the unfinished message that `buf` holds (the caller has taken every
    /// complete one): returns its bytes so far and how many of `buf` are consumed, and skips the
    /// rest of it, as for an oversized message. `None` when no message is under way.
    pub fn cut<'b>(&mut self, buf: &'b [u8]) -> (Option<&'b [u8]>, usize) {
        if self.discarding || buf.is_empty() {
            return (None, 0);
        }
        // A partial delimiter at the end stays, so that the skip still finds it whole.
        let keep = buf.len() - (self.delimiter.len() - 1).min(buf.len());
        self.discarding = true;
        self.scanned = 0;
        (Some(&buf[..keep]), keep)
    }

    /// Whether a message has begun and not ended: bytes held, or the rest of an oversized one
    /// being skipped.
    pub fn in_message(&self, buf: &[u8]) -> bool {
        self.discarding || !buf.is_empty()
    }

    /// Like [`decode`](Self::decode) once the stream has ended: a last message without its
    /// delimiter comes out as [`Decoded::Truncated`] — except with LF framing, where a missing
    /// final LF is ordinary (files, `printf`), so it is a whole frame.
    pub fn decode_eof<'b>(&mut self, buf: &'b [u8]) -> (Option<Decoded<'b>>, usize) {
        match self.decode(buf) {
            (None, 0) if self.discarding => {
                // The stream ended inside the skipped rest of an oversized message (whose head
                // was already handed out): what is left cannot start a message.
                self.discarding = false;
                self.scanned = 0;
                (None, buf.len())
            }
            (None, 0) if !buf.is_empty() => {
                self.scanned = 0;
                let item = if self.strip_cr {
                    Decoded::Frame(self.strip(buf))
                } else {
                    Decoded::Truncated(buf)
                };
                (Some(item), buf.len())
            }
            other => other,
        }
    }

    fn strip<'b>(&self, frame: &'b [u8]) -> &'b [u8] {
        if self.strip_cr {
            frame.strip_suffix(b"\r").unwrap_or(frame)
        } else {
            frame
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Feeds `input` in pieces of `chunk` bytes, as a socket would, and collects the items.
    fn run(decoder: &mut DelimitedDecoder, input: &[u8], chunk: usize) -> Vec<(String, Vec<u8>)> {
        let mut buf = Vec::new();
        let mut out = Vec::new();
        let label = |d: &Decoded<'_>| match d {
            Decoded::Frame(_) => "frame",
            Decoded::Oversized(_) => "oversized",
            Decoded::Truncated(_) => "truncated",
            Decoded::Invalid { .. } => "invalid",
        };
        for piece in input.chunks(chunk.max(1)) {
            buf.extend_from_slice(piece);
            loop {
                let (item, used) = decoder.decode(&buf);
                if let Some(d) = &item {
                    out.push((label(d).to_string(), d.bytes().to_vec()));
                }
                let done = item.is_none() && used == 0;
                buf.drain(..used);
                if done {
                    break;
                }
            }
        }
        loop {
            let (item, used) = decoder.decode_eof(&buf);
            if let Some(d) = &item {
                out.push((label(d).to_string(), d.bytes().to_vec()));
            }
            let done = item.is_none() && used == 0;
            buf.drain(..used);
            if done {
                break;
            }
        }
        out
    }

    fn frames(items: &[(&str, &[u8])]) -> Vec<(String, Vec<u8>)> {
        items
            .iter()
            .map(|(l, b)| (l.to_string(), b.to_vec()))
            .collect()
    }

    #[test]
    fn lf_drops_cr_and_keeps_empty_lines() {
        let got = run(&mut DelimitedDecoder::lf(100), b"a\r\n\nb\rc\nlast", 1000);
        assert_eq!(
            got,
            frames(&[
                ("frame", b"a"),
                ("frame", b""),
                ("frame", b"b\rc"),
                ("frame", b"last")
            ])
        );
    }

    #[test]
    fn lf_split_at_every_point_gives_the_same_frames() {
        let input = b"<13>one\r\n<14>two\nthree-is-longer-than-ten\nfour";
        let whole = run(&mut DelimitedDecoder::lf(10), input, input.len());
        for chunk in 1..input.len() {
            assert_eq!(
                run(&mut DelimitedDecoder::lf(10), input, chunk),
                whole,
                "chunk {chunk}"
            );
        }
    }

    #[test]
    fn oversized_line_keeps_its_head_and_the_next_line_survives() {
        let got = run(&mut DelimitedDecoder::lf(4), b"abcdefgh\nok\n", 3);
        assert_eq!(got, frames(&[("oversized", b"abcd"), ("frame", b"ok")]));
        let got = run(&mut DelimitedDecoder::lf(4), b"abcdefgh\nok\n", 100);
        assert_eq!(got, frames(&[("oversized", b"abcd"), ("frame", b"ok")]));
    }

    #[test]
    fn line_of_exactly_max_len_is_whole() {
        assert_eq!(
            run(&mut DelimitedDecoder::lf(4), b"abcd\n", 1),
            frames(&[("frame", b"abcd")])
        );
    }

    #[test]
    fn multi_byte_delimiter_straddling_reads() {
        let got = run(&mut DelimitedDecoder::new(b"\r\n", 100), b"a\r\nb\r\nc", 1);
        assert_eq!(
            got,
            frames(&[("frame", b"a"), ("frame", b"b"), ("truncated", b"c")])
        );
    }

    #[test]
    fn nul_delimiter() {
        let got = run(&mut DelimitedDecoder::new(b"\0", 100), b"a\nb\0c\0", 2);
        assert_eq!(got, frames(&[("frame", b"a\nb"), ("frame", b"c")]));
    }

    #[test]
    fn discarding_bounds_the_buffer() {
        // 1 MiB without a newline against a 16-byte limit: the decoder never asks to keep more
        // than the limit.
        let mut decoder = DelimitedDecoder::lf(16);
        let mut kept = 0usize;
        let mut max_kept = 0;
        for _ in 0..1024 {
            kept += 1024;
            let mut buf = vec![b'x'; kept];
            loop {
                let (item, used) = decoder.decode(&buf);
                let done = item.is_none() && used == 0;
                buf.drain(..used);
                if done {
                    break;
                }
            }
            kept = buf.len();
            max_kept = max_kept.max(kept);
        }
        assert!(max_kept <= 16, "kept {max_kept} bytes");
    }

    #[test]
    fn multi_byte_delimiter_at_exactly_max_len_is_whole_wherever_the_read_splits() {
        // "abcd\r" may be followed by "\n": it is not oversized yet.
        let input = b"abcd\r\nabcde\r\nok";
        let want = frames(&[
            ("frame", b"abcd"),
            ("oversized", b"abcd"),
            ("truncated", b"ok"),
        ]);
        for chunk in 1..=input.len() {
            assert_eq!(
                run(&mut DelimitedDecoder::new(b"\r\n", 4), input, chunk),
                want,
                "chunk {chunk}"
            );
        }
    }

    #[test]
    fn every_split_of_a_crlf_and_nul_stream_gives_the_same_frames() {
        for (delimiter, input) in [
            (&b"\r\n"[..], &b"a\r\n\r\nb\rc\r\r\nlong-line\r\nx\r"[..]),
            (&b"\0"[..], &b"a\0\0b\nc\0long-line\0x"[..]),
            (&b"\x1e"[..], &b"a\x1e\x1eb\x1elong-line\x1ex"[..]),
        ] {
            let whole = run(&mut DelimitedDecoder::new(delimiter, 6), input, input.len());
            for split in 1..input.len() {
                let mut decoder = DelimitedDecoder::new(delimiter, 6);
                let mut got = Vec::new();
                let mut buf = Vec::new();
                for (piece, eof) in [(&input[..split], false), (&input[split..], true)] {
                    buf.extend_from_slice(piece);
                    loop {
                        let (item, used) = if eof {
                            decoder.decode_eof(&buf)
                        } else {
                            decoder.decode(&buf)
                        };
                        if let Some(d) = &item {
                            got.push(d.bytes().to_vec());
                        }
                        let done = item.is_none() && used == 0;
                        buf.drain(..used);
                        if done {
                            break;
                        }
                    }
                }
                let want: Vec<Vec<u8>> = whole.iter().map(|(_, b)| b.clone()).collect();
                assert_eq!(got, want, "{delimiter:?} split at {split}");
            }
        }
    }

    #[test]
    fn stream_ending_while_skipping_leaves_nothing_behind() {
        let got = run(&mut DelimitedDecoder::new(b"\r\n", 2), b"abcdef\r", 3);
        assert_eq!(got, frames(&[("oversized", b"ab")]));
    }

    /// The reference: `split` on the delimiter, each piece cut to the maximum.
    fn naive(input: &[u8], delimiter: u8, max: usize) -> Vec<(String, Vec<u8>)> {
        let mut pieces: Vec<&[u8]> = input.split(|&b| b == delimiter).collect();
        let last = pieces.pop().unwrap_or_default();
        let label = |p: &[u8]| if p.len() > max { "oversized" } else { "frame" };
        let mut out: Vec<(String, Vec<u8>)> = pieces
            .iter()
            .map(|p| (label(p).to_string(), p[..p.len().min(max)].to_vec()))
            .collect();
        if !last.is_empty() {
            let l = if last.len() > max {
                "oversized"
            } else {
                "truncated"
            };
            out.push((l.to_string(), last[..last.len().min(max)].to_vec()));
        }
        out
    }

    fn stream() -> impl Strategy<Value = Vec<u8>> {
        prop::collection::vec(
            prop_oneof![
                Just(b'\n'),
                Just(b'\0'),
                Just(b'\r'),
                Just(b'x'),
                any::<u8>()
            ],
            0..300,
        )
    }

    proptest! {
        #[test]
        fn chunking_does_not_matter(input in stream(), chunk in 1usize..50, max in 1usize..40) {
            for make in [DelimitedDecoder::lf as fn(usize) -> DelimitedDecoder, |m| DelimitedDecoder::new(b"\r\n", m)] {
                prop_assert_eq!(run(&mut make(max), &input, chunk), run(&mut make(max), &input, input.len().max(1)));
            }
        }

        #[test]
        fn memchr_framer_agrees_with_a_naive_split(input in stream(), chunk in 1usize..50, max in 1usize..40) {
            prop_assert_eq!(run(&mut DelimitedDecoder::new(b"\0", max), &input, chunk), naive(&input, 0, max));
        }

        #[test]
        fn arbitrary_bytes_keep_the_buffer_bounded(input in stream(), chunk in 1usize..200, max in 1usize..40) {
            let mut decoder = DelimitedDecoder::new(b"\r\n", max);
            let mut buf = Vec::new();
            for piece in input.chunks(chunk) {
                buf.extend_from_slice(piece);
                loop {
                    let (item, used) = decoder.decode(&buf);
                    let done = item.is_none() && used == 0;
                    buf.drain(..used);
                    if done {
                        break;
                    }
                }
                // The maximum, plus a delimiter's worth that may be a partial delimiter.
                prop_assert!(buf.len() <= max + 1, "holding {} bytes", buf.len());
            }
        }
    }
}
