//! Compressed input for `parse`: a gzip stream (one member or several, as logrotate and `gzip`
//! write `syslog.2.gz`) or a zstd stream (one frame or several, as `zstd` and `pzstd` write
//! them) is recognised by its magic bytes, not by the file name, and read decompressed.
//! Anything else is read as it is.
//!
//! A stream cut short (a truncated file, a copy still being written) gives everything that
//! could be decompressed before the cut, then a read error that names the format and says the
//! data ends early: the caller writes the events it got and fails.

use std::fmt;
use std::io::{self, BufReader, Cursor, Read};

use flate2::read::MultiGzDecoder;

/// RFC 1952 §2.3.1: ID1 ID2.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// RFC 8878 §3.1.1: the Zstandard frame magic number 0xFD2FB528, little-endian.
const ZSTD_MAGIC: [u8; 4] = [0x28, 0xb5, 0x2f, 0xfd];

/// The bytes read to decide: the longest magic.
const HEAD_BYTES: usize = 4;

/// Compressed data is read in chunks of this size.
const COMPRESSED_BUFFER_BYTES: usize = 64 * 1024;

/// What [`decompressed`] found at the start of the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
    Zstd,
}

impl fmt::Display for Compression {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Compression::None => "uncompressed",
            Compression::Gzip => "gzip",
            Compression::Zstd => "zstd",
        })
    }
}

/// RFC 8878 §3.1.2: a skippable frame's magic is 0x184D2A50 to 0x184D2A5F, little-endian.
/// `pzstd` starts its files with one (it holds the size of the frame that follows).
fn is_zstd_skippable(head: &[u8]) -> bool {
    matches!(head, [low, 0x2a, 0x4d, 0x18] if low & 0xf0 == 0x50)
}

/// `input` decompressed when it starts with a gzip or zstd header, else as it is, and which it
/// was. The bytes read to decide are put back in front, so nothing is lost.
pub fn decompressed<'r, R: Read + Send + 'r>(
    mut input: R,
) -> io::Result<(Box<dyn Read + Send + 'r>, Compression)> {
    let mut head = [0u8; HEAD_BYTES];
    let mut got = 0;
    // A pipe may deliver one byte at a time.
    while got < head.len() {
        match input.read(&mut head[got..]) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let head = &head[..got];
    let whole = Cursor::new(head.to_vec()).chain(input);
    if head.starts_with(&GZIP_MAGIC) {
        let gz = MultiGzDecoder::new(BufReader::with_capacity(COMPRESSED_BUFFER_BYTES, whole));
        Ok((
            Box::new(Named::new(gz, Compression::Gzip)),
            Compression::Gzip,
        ))
    } else if head == ZSTD_MAGIC || is_zstd_skippable(head) {
        // The decoder reads frame after frame (and skips skippable ones) to the end.
        let buffered = BufReader::with_capacity(COMPRESSED_BUFFER_BYTES, whole);
        let zst = zstd::stream::read::Decoder::with_buffer(buffered)?;
        Ok((
            Box::new(Named::new(zst, Compression::Zstd)),
            Compression::Zstd,
        ))
    } else {
        Ok((Box::new(whole), Compression::None))
    }
}

/// A decoder whose errors say which format failed, and that a stream ending inside a member
/// or frame was cut short: the decoders' own words ("unexpected end of file", "incomplete
/// frame") do not say that the file is at fault.
struct Named<R> {
    inner: R,
    format: Compression,
    /// Decompressed bytes handed out so far, for the error message.
    out: u64,
}

impl<R> Named<R> {
    fn new(inner: R, format: Compression) -> Named<R> {
        Named {
            inner,
            format,
            out: 0,
        }
    }
}

impl<R: Read> Read for Named<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self.inner.read(buf) {
            Ok(n) => {
                self.out += n as u64;
                Ok(n)
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => Err(e),
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => Err(io::Error::new(
                e.kind(),
                format!(
                    "{} data ends early, after {} bytes decompressed: the file is truncated \
                     (or still being written); the lines before the cut were read",
                    self.format, self.out
                ),
            )),
            Err(e) => Err(io::Error::new(
                e.kind(),
                format!(
                    "{} data cannot be read after {} bytes decompressed: {e}",
                    self.format, self.out
                ),
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use flate2::Compression as Level;
    use flate2::write::GzEncoder;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut enc = GzEncoder::new(Vec::new(), Level::default());
        enc.write_all(data).unwrap();
        enc.finish().unwrap()
    }

    fn zstd(data: &[u8]) -> Vec<u8> {
        zstd::encode_all(data, 3).unwrap()
    }

    fn read_all(input: &[u8]) -> (Vec<u8>, Compression) {
        let (mut r, found) = decompressed(input).unwrap();
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        (out, found)
    }

    /// Reads until the first error; what came before it, and the error.
    fn read_until_error(input: &[u8]) -> (Vec<u8>, io::Error) {
        let (mut r, _) = decompressed(input).unwrap();
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match r.read(&mut buf) {
                Ok(0) => panic!("no error after {} bytes", out.len()),
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e) => return (out, e),
            }
        }
    }

    #[test]
    fn gzip_is_found_by_its_magic_and_members_are_joined() {
        let mut two = gzip(b"<13>Nov 22 10:01:02 h a: one\n");
        two.extend(gzip(b"<13>Nov 22 10:01:02 h a: two\n"));
        assert_eq!(
            read_all(&two),
            (
                b"<13>Nov 22 10:01:02 h a: one\n<13>Nov 22 10:01:02 h a: two\n".to_vec(),
                Compression::Gzip
            )
        );
    }

    #[test]
    fn zstd_is_found_by_its_magic_and_frames_are_joined() {
        let mut two = zstd(b"<13>Nov 22 10:01:02 h a: one\n");
        two.extend(zstd(b"<13>Nov 22 10:01:02 h a: two\n"));
        assert_eq!(
            read_all(&two),
            (
                b"<13>Nov 22 10:01:02 h a: one\n<13>Nov 22 10:01:02 h a: two\n".to_vec(),
                Compression::Zstd
            )
        );
    }

    #[test]
    fn zstd_starting_with_a_skippable_frame_is_found_and_the_frame_skipped() {
        // RFC 8878 §3.1.2: magic 0x184D2A5?, a 4-byte little-endian size, that many bytes.
        let mut input = vec![0x5a, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, b'x', b'y', b'z'];
        input.extend(zstd(b"after the skippable frame\n"));
        assert_eq!(
            read_all(&input),
            (b"after the skippable frame\n".to_vec(), Compression::Zstd)
        );
    }

    #[test]
    fn other_input_is_read_as_it_is_even_when_short() {
        for plain in [
            &b""[..],
            b"x",
            b"\x1f",
            b"\x28\xb5\x2f",
            b"\x28\xb5\x2f\xfc rest",
            b"<13>Nov 22 10:01:02 h a: plain\n",
        ] {
            assert_eq!(read_all(plain), (plain.to_vec(), Compression::None));
        }
    }

    #[test]
    fn a_cut_stream_gives_what_came_before_the_cut_then_says_it_is_truncated() {
        // Text that does not repeat, so the compressed form is long enough to cut in the middle
        // of a later block.
        let text: String = (0..40_000)
            .map(|i| format!("<13>Nov 22 10:01:02 h a: line {i} {}\n", i * 7919 % 10007))
            .collect();
        for (name, whole) in [
            ("gzip", gzip(text.as_bytes())),
            ("zstd", zstd(text.as_bytes())),
        ] {
            let cut = &whole[..whole.len() * 3 / 4];
            let (before, e) = read_until_error(cut);
            assert!(!before.is_empty(), "{name}: nothing before the cut");
            assert!(text.as_bytes().starts_with(&before), "{name}");
            assert!(before.len() < text.len(), "{name}");
            assert_eq!(e.kind(), io::ErrorKind::UnexpectedEof, "{name}: {e}");
            let message = e.to_string();
            assert!(
                message.starts_with(&format!("{name} data ends early, after ")),
                "{message}"
            );
            assert!(message.contains("truncated"), "{message}");
        }
    }

    #[test]
    fn corrupt_data_is_an_error_that_names_the_format() {
        let mut bad = zstd(b"<13>Nov 22 10:01:02 h a: one\n");
        let last = bad.len() - 1;
        bad[5..last].fill(0xff);
        let (_, e) = read_until_error(&bad);
        assert!(
            e.to_string()
                .starts_with("zstd data cannot be read after 0 bytes"),
            "{e}"
        );
    }
}
