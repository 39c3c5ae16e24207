//! Compressed input for `parse`: a gzip stream (one member or several, as logrotate and `gzip`
//! write `syslog.2.gz`) is recognised by its magic bytes, not by the file name, and read
//! decompressed. Anything else is read as it is.

use std::io::{self, BufReader, Cursor, Read};

use flate2::read::MultiGzDecoder;

/// RFC 1952 §2.3.1: ID1 ID2.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// What [`decompressed`] found at the start of the input.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    None,
    Gzip,
}

/// `input` decompressed when it starts with a gzip header, else as it is, and which it was.
/// The bytes read to decide are put back in front, so nothing is lost.
pub fn decompressed<'r, R: Read + Send + 'r>(
    mut input: R,
) -> io::Result<(Box<dyn Read + Send + 'r>, Compression)> {
    let mut head = [0u8; GZIP_MAGIC.len()];
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
    let whole = Cursor::new(head).take(got as u64).chain(input);
    if head[..got] == GZIP_MAGIC {
        let gz = MultiGzDecoder::new(BufReader::with_capacity(64 * 1024, whole));
        Ok((Box::new(gz), Compression::Gzip))
    } else {
        Ok((Box::new(whole), Compression::None))
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

    fn read_all(input: &[u8]) -> (Vec<u8>, Compression) {
        let (mut r, found) = decompressed(input).unwrap();
        let mut out = Vec::new();
        r.read_to_end(&mut out).unwrap();
        (out, found)
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
    fn other_input_is_read_as_it_is_even_when_short() {
        for plain in [&b""[..], b"x", b"\x1f", b"<13>Nov 22 10:01:02 h a: plain\n"] {
            assert_eq!(read_all(plain), (plain.to_vec(), Compression::None));
        }
    }
}
