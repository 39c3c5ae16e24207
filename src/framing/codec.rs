//! The framings over a `BytesMut` read buffer. `listen`'s connections (TCP, TLS) read into
//! their own buffer and call [`FrameCodec::decode_in_place`], which hands each message out
//! borrowed where it lies ([`Decoder::for_each`], the same loop `parse`, `frame --decode` and
//! `send`'s input drive). `send` writes with [`super::Encoder`] directly.
//!
//! [`FrameCodec`] is also a `tokio_util::codec` `Decoder`/`Encoder` pair, for a library user who
//! wants `FramedRead`/`FramedWrite` (no command uses it; the tests below drive it). Decoding
//! that way yields an owned [`Frame`] whose bytes are cut out of the read buffer with
//! `split_to().freeze()`: no copy, the `Bytes` shares the buffer's allocation. Hostile input is
//! never an `Err`: a bad prefix, an oversized or a truncated message is a `Frame` with an
//! `error`, so one bad sender cannot end a connection. The only errors are I/O errors.

use std::io;
use std::ops::ControlFlow;

use bytes::{Buf, Bytes, BytesMut};

use super::{Decoded, Decoder, Encoder, Escape, FrameError, Framing};

/// One decoded message, owned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frame {
    /// The message without its delimiter or length prefix (or the part kept, see `error`).
    pub bytes: Bytes,
    /// What is wrong with it; `None` for a whole frame.
    pub error: Option<FrameError>,
}

impl Frame {
    /// The borrowed form, for `ingest::LineParser::write_decoded`.
    pub fn decoded(&self) -> Decoded<'_> {
        Decoded::from_parts(&self.bytes, self.error)
    }
}

/// A `tokio_util::codec::{Decoder, Encoder}` for any [`Framing`].
///
/// ```no_run
/// # async fn f(socket: impl tokio::io::AsyncRead + Unpin) -> std::io::Result<()> {
/// use futures_util::StreamExt;
/// use syslogkit::framing::{FrameCodec, Framing, DEFAULT_MAX_MESSAGE_SIZE};
/// use tokio_util::codec::FramedRead;
///
/// let codec = FrameCodec::new(&Framing::Auto, DEFAULT_MAX_MESSAGE_SIZE);
/// let mut frames = FramedRead::new(socket, codec); // a TcpStream, a TLS stream, stdin…
/// while let Some(frame) = frames.next().await {
///     let frame = frame?; // only I/O errors end the loop
///     // frame.bytes, frame.error: hand frame.decoded() to the parser
/// }
/// # Ok(()) }
/// ```
#[derive(Clone, Debug)]
pub struct FrameCodec {
    decoder: Decoder,
    /// `None` for `auto`, which cannot encode.
    encoder: Option<Encoder>,
}

impl FrameCodec {
    /// A codec for `framing` with a maximum message size in bytes; encoding escapes control
    /// characters (see [`Escape`]).
    pub fn new(framing: &Framing, max_len: usize) -> Self {
        Self::with_escape(framing, max_len, Escape::default())
    }

    pub fn with_escape(framing: &Framing, max_len: usize, escape: Escape) -> Self {
        FrameCodec {
            decoder: Decoder::new(framing, max_len),
            encoder: Encoder::new(framing, escape).ok(),
        }
    }

    pub fn max_len(&self) -> usize {
        self.decoder.max_len()
    }

    /// Decodes the frames of `src` where they lie, for a caller that is done with each one
    /// before the next: `each` sees them in order, borrowed, until it returns `false` or `src`
    /// holds no complete frame (at `eof`: until everything is consumed, a last message cut
    /// short coming out as [`Decoded::Truncated`]). Returns how many bytes were consumed, for
    /// the caller to `advance` past once.
    ///
    /// The trait's `decode` cuts each frame out of the buffer as an owned `Bytes` (two atomic
    /// reference-count updates a frame); this path, which `listen` takes, does neither.
    pub fn decode_in_place(
        &mut self,
        src: &[u8],
        eof: bool,
        mut each: impl FnMut(Decoded<'_>) -> bool,
    ) -> usize {
        let (consumed, _stopped) = self.decoder.for_each(src, eof, |item: Decoded<'_>| {
            if each(item) {
                ControlFlow::Continue(())
            } else {
                ControlFlow::Break(())
            }
        });
        consumed
    }

    /// See [`Decoder::cut`].
    pub fn cut<'b>(&mut self, src: &'b [u8]) -> (Option<&'b [u8]>, usize) {
        self.decoder.cut(src)
    }

    /// See [`Decoder::in_message`].
    pub fn in_message(&self, src: &[u8]) -> bool {
        self.decoder.in_message(src)
    }

    /// Runs the slice decoder over `src` until it yields an item or needs more input, dropping
    /// skipped bytes as it goes.
    fn next(&mut self, src: &mut BytesMut, eof: bool) -> Option<Frame> {
        // Where the first item's bytes sit inside the consumed part, so they can be cut out of
        // the buffer instead of copied.
        let base = src.as_ptr() as usize;
        let (used, found) = self.decoder.for_each(src, eof, |item| {
            let start = item.bytes().as_ptr() as usize - base;
            ControlFlow::Break((start, start + item.bytes().len(), item.defect()))
        });
        let Some((start, end, error)) = found else {
            // Skipped bytes (an oversized message, a bad prefix) are dropped as they go.
            src.advance(used);
            return None;
        };
        let mut taken = src.split_to(used);
        taken.truncate(end);
        taken.advance(start);
        Some(Frame {
            bytes: taken.freeze(),
            error,
        })
    }
}

impl tokio_util::codec::Decoder for FrameCodec {
    type Item = Frame;
    type Error = io::Error;

    fn decode(&mut self, src: &mut BytesMut) -> io::Result<Option<Frame>> {
        Ok(self.next(src, false))
    }

    /// At the end of the stream a last message cut short is a [`Frame`] with
    /// [`FrameError::Truncated`], never an error and never lost.
    fn decode_eof(&mut self, src: &mut BytesMut) -> io::Result<Option<Frame>> {
        let frame = self.next(src, true);
        if frame.is_none() {
            // The slice decoders consume everything at the end; make sure of it, since
            // `FramedRead` reports any leftover as an error.
            src.clear();
        }
        Ok(frame)
    }
}

impl<T: AsRef<[u8]>> tokio_util::codec::Encoder<T> for FrameCodec {
    type Error = io::Error;

    fn encode(&mut self, message: T, dst: &mut BytesMut) -> io::Result<()> {
        let Some(encoder) = &self.encoder else {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "--framing auto only applies to decoding: to send, pick lf, octet-counting or delimiter",
            ));
        };
        let message = message.as_ref();
        dst.reserve(message.len() + 24);
        encoder.encode(message, dst);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framing::InvalidPrefix;
    use futures_util::StreamExt;
    use std::pin::Pin;
    use std::task::{Context, Poll};
    use tokio::io::{AsyncRead, ReadBuf};
    use tokio_util::codec::{Decoder as _, Encoder as _, FramedRead};

    fn frame(bytes: &[u8], error: Option<FrameError>) -> Frame {
        Frame {
            bytes: Bytes::copy_from_slice(bytes),
            error,
        }
    }

    /// Feeds `input` to the codec `chunk` bytes at a time, as `FramedRead` would.
    fn run(codec: &mut FrameCodec, input: &[u8], chunk: usize) -> Vec<Frame> {
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        for piece in input.chunks(chunk.max(1)) {
            buf.extend_from_slice(piece);
            while let Some(f) = codec.decode(&mut buf).unwrap() {
                out.push(f);
            }
        }
        while let Some(f) = codec.decode_eof(&mut buf).unwrap() {
            out.push(f);
        }
        assert!(buf.is_empty());
        out
    }

    #[test]
    fn codec_yields_owned_frames_split_at_every_point() {
        let input = b"<13>lf\r\n9 <14>octet12 abc\n";
        let want = vec![
            frame(b"<13>lf", None),
            frame(b"<14>octet", None),
            frame(b"abc\n", Some(FrameError::Truncated)),
        ];
        for chunk in 1..=input.len() {
            let mut codec = FrameCodec::new(&Framing::Auto, 64);
            assert_eq!(run(&mut codec, input, chunk), want, "chunk {chunk}");
        }
    }

    /// Feeds `input` `chunk` bytes at a time through `decode_in_place`, taking at most `take`
    /// frames a call, as `listen` does when its batch fills.
    fn run_in_place(codec: &mut FrameCodec, input: &[u8], chunk: usize, take: usize) -> Vec<Frame> {
        let mut buf = BytesMut::new();
        let mut out = Vec::new();
        let mut drain = |buf: &mut BytesMut, eof: bool| loop {
            let mut taken = 0;
            let used = codec.decode_in_place(buf, eof, |item| {
                out.push(frame(item.bytes(), item.defect()));
                taken += 1;
                taken < take
            });
            buf.advance(used);
            if taken < take {
                break;
            }
        };
        for piece in input.chunks(chunk.max(1)) {
            buf.extend_from_slice(piece);
            drain(&mut buf, false);
        }
        drain(&mut buf, true);
        assert!(buf.is_empty());
        out
    }

    #[test]
    fn decoding_in_place_gives_the_codec_frames_at_every_split_and_stop() {
        let input = b"<13>lf\r\n9 <14>octet12 abc \nx 99999999999 y\n7 <1>two\n\n3 abc";
        for framing in [Framing::Auto, Framing::Lf, Framing::OctetCounting] {
            for chunk in 1..=input.len() {
                let want = run(&mut FrameCodec::new(&framing, 8), input, chunk);
                for take in [1, 2, usize::MAX] {
                    let mut codec = FrameCodec::new(&framing, 8);
                    let got = run_in_place(&mut codec, input, chunk, take);
                    assert_eq!(got, want, "{framing:?} chunk {chunk} take {take}");
                }
            }
        }
    }

    #[test]
    fn codec_frames_share_the_read_buffer() {
        let mut codec = FrameCodec::new(&Framing::Lf, 64);
        let mut buf = BytesMut::from(&b"first\nsecond\n"[..]);
        let base = buf.as_ptr() as usize;
        let first = codec.decode(&mut buf).unwrap().unwrap();
        let second = codec.decode(&mut buf).unwrap().unwrap();
        assert_eq!(first.bytes.as_ptr() as usize, base);
        assert_eq!(second.bytes.as_ptr() as usize, base + 6);
    }

    #[test]
    fn codec_reports_hostile_prefixes_as_frames_and_goes_on() {
        let mut codec = FrameCodec::new(&Framing::OctetCounting, 64);
        let got = run(&mut codec, b"abc \n3 abc", 4);
        assert_eq!(
            got,
            vec![
                frame(b"abc ", Some(FrameError::Invalid(InvalidPrefix::NoLength))),
                frame(b"abc", None),
            ]
        );
        assert!(got[0].decoded().error(64).unwrap().contains("\"abc \""));
    }

    #[test]
    fn codec_encodes_and_refuses_to_encode_auto() {
        let mut dst = BytesMut::new();
        let mut codec = FrameCodec::new(&Framing::OctetCounting, 64);
        codec.encode(&b"a\nb"[..], &mut dst).unwrap();
        codec.encode("c", &mut dst).unwrap();
        assert_eq!(&dst[..], b"3 a\nb1 c");
        let mut auto = FrameCodec::new(&Framing::Auto, 64);
        assert!(auto.encode("x", &mut dst).is_err());
    }

    /// A reader that hands out at most `step` bytes per read, like a slow socket.
    struct Trickle<'a> {
        data: &'a [u8],
        step: usize,
    }

    impl AsyncRead for Trickle<'_> {
        fn poll_read(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
            buf: &mut ReadBuf<'_>,
        ) -> Poll<io::Result<()>> {
            let n = self.step.min(self.data.len()).min(buf.remaining());
            buf.put_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Poll::Ready(Ok(()))
        }
    }

    #[tokio::test(flavor = "current_thread")]
    async fn framed_read_over_a_trickling_reader_truncates_the_last_frame() {
        let data = b"2 ab<13>line\n4 cd";
        let mut frames = FramedRead::new(
            Trickle { data, step: 3 },
            FrameCodec::new(&Framing::Auto, 64),
        );
        let mut got = Vec::new();
        while let Some(f) = frames.next().await {
            got.push(f.unwrap());
        }
        assert_eq!(
            got,
            vec![
                frame(b"ab", None),
                frame(b"<13>line", None),
                frame(b"cd", Some(FrameError::Truncated)),
            ]
        );
    }
}
