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

    fn find(&self, haystack: &[u8]) -> Option<usize> {
        match &self.finder {
            None => memchr::memchr(self.delimiter[0], haystack),
            Some(finder) => finder.find(haystack),
        }
    }

    /// Looks for the next message in `buf` (the unconsumed bytes, which the caller only ever
    /// appends to). Returns the item, if any, and how many bytes of `buf` are consumed; with no
    /// item and nothing consumed, more input is needed.
    pub fn decode<'b>(&mut self, buf: &'b [u8]) -> (Option<Decoded<'b>>, usize) {
        let dlen = self.delimiter.len();
        // Start the search where the last one stopped, backing up for a delimiter that may
        // straddle the old end.
        let from = self.scanned.saturating_sub(dlen - 1).min(buf.len());
        let found = self.find(&buf[from..]).map(|i| from + i);
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
            None if buf.len() > self.max_len => {
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

    /// Like [`decode`](Self::decode) once the stream has ended: a last message without its
    /// delimiter comes out as [`Decoded::Truncated`] — except with LF framing, where a missing
    /// final LF is ordinary (files, `printf`), so it is a whole frame.
    pub fn decode_eof<'b>(&mut self, buf: &'b [u8]) -> (Option<Decoded<'b>>, usize) {
        match self.decode(buf) {
            (None, 0) if !buf.is_empty() && !self.discarding => {
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

    /// Feeds `input` in pieces of `chunk` bytes, as a socket would, and collects the items.
    fn run(decoder: &mut DelimitedDecoder, input: &[u8], chunk: usize) -> Vec<(String, Vec<u8>)> {
        let mut buf = Vec::new();
        let mut out = Vec::new();
        let label = |d: &Decoded<'_>| match d {
            Decoded::Frame(_) => "frame",
            Decoded::Oversized(_) => "oversized",
            Decoded::Truncated(_) => "truncated",
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
}
