//! Hand-written JSON output for the hot path: string escaping that turns invalid UTF-8 into
//! U+FFFD, and [`PathWriter`], which writes dotted ECS paths (`log.syslog.appname`) as nested
//! objects without building a tree first.
//!
//! `serde_json::Value` would cost an allocation per field; the parse benchmark
//! (`benches/parse.rs`) shows the writer is where most of the time goes, so it is written by hand.

/// Bytes that need escaping in a JSON string: control characters, `"` and `\`.
static NEEDS_ESCAPE: [bool; 256] = {
    let mut table = [false; 256];
    let mut i = 0;
    while i < 0x20 {
        table[i] = true;
        i += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

const HEX: &[u8; 16] = b"0123456789abcdef";

/// Appends `bytes` as a quoted JSON string. Invalid UTF-8 becomes U+FFFD, so the output is
/// always valid JSON whatever the input.
pub fn write_str(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'"');
    write_str_body(out, bytes);
    out.push(b'"');
}

/// Appends the escaped body of a JSON string, without the quotes.
pub fn write_str_body(out: &mut Vec<u8>, bytes: &[u8]) {
    if bytes.is_ascii() {
        write_valid_utf8(out, bytes);
        return;
    }
    for chunk in bytes.utf8_chunks() {
        write_valid_utf8(out, chunk.valid().as_bytes());
        if !chunk.invalid().is_empty() {
            out.extend_from_slice("\u{FFFD}".as_bytes());
        }
    }
}

/// Escapes bytes already known to be valid UTF-8.
fn write_valid_utf8(out: &mut Vec<u8>, bytes: &[u8]) {
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if !NEEDS_ESCAPE[b as usize] {
            continue;
        }
        out.extend_from_slice(&bytes[start..i]);
        match b {
            b'"' => out.extend_from_slice(b"\\\""),
            b'\\' => out.extend_from_slice(b"\\\\"),
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.extend_from_slice(b"\\t"),
            _ => out.extend_from_slice(&[
                b'\\',
                b'u',
                b'0',
                b'0',
                HEX[(b >> 4) as usize],
                HEX[(b & 0xf) as usize],
            ]),
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

/// Appends an unsigned integer.
pub fn write_u64(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// Writes one JSON object whose keys are ECS paths. Consecutive fields that share a prefix
/// share the nested objects: `field(&["log", "syslog", "hostname"])` followed by
/// `field(&["log", "syslog", "appname"])` writes `"log":{"syslog":{"hostname":…,"appname":…}}`.
///
/// Fields of one nested object must be written one after the other (the callers keep ECS
/// groups together); the writer only closes and opens objects, it never reorders.
pub struct PathWriter<'o> {
    out: &'o mut Vec<u8>,
    open: [&'static str; 8],
    depth: usize,
    /// Whether the innermost open object already holds a member (so the next needs a comma).
    has_member: bool,
}

impl<'o> PathWriter<'o> {
    /// Starts an object (writes `{`).
    pub fn new(out: &'o mut Vec<u8>) -> Self {
        out.push(b'{');
        PathWriter {
            out,
            open: [""; 8],
            depth: 0,
            has_member: false,
        }
    }

    /// Positions the writer at the value of `path` (writing the key) and returns the buffer, in
    /// which the caller writes exactly one JSON value.
    pub fn key(&mut self, path: &[&'static str]) -> &mut Vec<u8> {
        let (last, parents) = path
            .split_last()
            .expect("an ECS path has at least one part");
        let common = self.open[..self.depth]
            .iter()
            .zip(parents)
            .take_while(|(a, b)| a == b)
            .count();
        while self.depth > common {
            self.out.push(b'}');
            self.depth -= 1;
            self.has_member = true;
        }
        for &part in &parents[common..] {
            self.member_key(part);
            self.out.push(b'{');
            self.open[self.depth] = part;
            self.depth += 1;
            self.has_member = false;
        }
        self.member_key(last);
        self.has_member = true;
        self.out
    }

    fn member_key(&mut self, name: &str) {
        if self.has_member {
            self.out.push(b',');
        }
        self.out.push(b'"');
        self.out.extend_from_slice(name.as_bytes());
        self.out.extend_from_slice(b"\":");
    }

    /// Writes a string field from bytes (lossy UTF-8).
    pub fn str(&mut self, path: &[&'static str], value: &[u8]) {
        write_str(self.key(path), value);
    }

    /// Writes a numeric field.
    pub fn u64(&mut self, path: &[&'static str], value: u64) {
        write_u64(self.key(path), value);
    }

    /// Writes a boolean field.
    pub fn bool(&mut self, path: &[&'static str], value: bool) {
        let out = self.key(path);
        out.extend_from_slice(if value { b"true" } else { b"false" });
    }

    /// Writes an array of strings.
    pub fn str_array<'v>(
        &mut self,
        path: &[&'static str],
        values: impl IntoIterator<Item = &'v [u8]>,
    ) {
        let out = self.key(path);
        out.push(b'[');
        for (i, v) in values.into_iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            write_str(out, v);
        }
        out.push(b']');
    }

    /// Closes every open object, including the outermost one.
    pub fn finish(self) {
        for _ in 0..=self.depth {
            self.out.push(b'}');
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn json(bytes: &[u8]) -> String {
        let mut out = Vec::new();
        write_str(&mut out, bytes);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn escapes_quotes_backslashes_and_control_characters() {
        assert_eq!(json(b"a\"b\\c\n\t\x01"), r#""a\"b\\c\n\t\u0001""#);
    }

    #[test]
    fn invalid_utf8_becomes_replacement_character() {
        // Latin-1 é, a truncated 3-byte sequence, an overlong encoding of '/'.
        let s = json(b"caf\xe9 \xe2\x82 \xc0\xaf!");
        let back: String = serde_json::from_str(&s).unwrap();
        assert_eq!(back, "caf\u{FFFD} \u{FFFD} \u{FFFD}\u{FFFD}!");
    }

    #[test]
    fn valid_multibyte_utf8_is_kept() {
        assert_eq!(json("grüße ✓".as_bytes()), "\"grüße ✓\"");
    }

    #[test]
    fn path_writer_nests_shared_prefixes() {
        let mut out = Vec::new();
        let mut w = PathWriter::new(&mut out);
        w.str(&["message"], b"hi");
        w.u64(&["log", "syslog", "priority"], 13);
        w.str(&["log", "syslog", "hostname"], b"h");
        w.u64(&["log", "syslog", "facility", "code"], 1);
        w.str(&["log", "syslog", "appname"], b"a");
        w.str(&["source", "ip"], b"1.2.3.4");
        w.finish();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"message":"hi","log":{"syslog":{"priority":13,"hostname":"h","facility":{"code":1},"appname":"a"}},"source":{"ip":"1.2.3.4"}}"#
        );
    }

    #[test]
    fn empty_path_writer_is_an_empty_object() {
        let mut out = Vec::new();
        PathWriter::new(&mut out).finish();
        assert_eq!(out, b"{}");
    }
}
