//! The fast path of [`super::json_check`]: a one-pass scan that says "certainly a JSON object"
//! for the lines events usually are, and "ask serde_json" for everything else.
//!
//! It only ever answers `true` for text that reading a [`serde_json::Value`] accepts as an
//! object; every doubt answers `false` and the caller falls back to serde_json, which decides
//! (and so gives the same verdict, errors included). What it accepts, on text already checked
//! to be UTF-8:
//! - no byte below 0x20 anywhere in the line (so none in a string, and no tab between tokens);
//! - strings with the escapes `\" \\ \/ \b \f \n \r \t` and
//!   `\uXXXX` outside the surrogate range (a pair, or a lone surrogate, which `Value` refuses,
//!   goes to serde_json);
//! - numbers `-?(0|[1-9][0-9]{0,15})(\.[0-9]{1,17})?`, which are always finite (no exponent,
//!   no integer beyond 16 digits: serde_json decides those);
//! - `true`, `false`, `null`, arrays and objects nested at most [`MAX_DEPTH`] deep (serde_json
//!   allows 128);
//! - JSON whitespace between tokens, and nothing after the object.
//!
//! The line is checked for control bytes once, in one vectorisable pass; strings are then
//! scanned for their next quote or backslash, eight bytes a step and then with `memchr2`. That per-byte work, done string by
//! string, made serde_json's scan the largest part of `send --kafka-brokers`'s CPU per event.

/// Deeper than this is left to serde_json.
const MAX_DEPTH: u32 = 64;

/// `true` when `text` (valid UTF-8) is certainly one JSON object; `false`: not known.
pub fn plainly_an_object(text: &[u8]) -> bool {
    // A control byte anywhere (a tab between tokens included: compact JSON has none) is
    // serde_json's to judge; checked once for the whole line, in one pass the compiler
    // vectorises, so that strings need only look for their quote or backslash.
    if text.iter().fold(false, |bad, &c| bad | (c < 0x20)) {
        return false;
    }
    let mut scan = Scan { b: text, i: 0 };
    scan.ws();
    if scan.peek() != Some(b'{') || !scan.object(1) {
        return false;
    }
    scan.ws();
    scan.i == text.len()
}

struct Scan<'a> {
    b: &'a [u8],
    i: usize,
}

impl Scan<'_> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn ws(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.i += 1;
        }
    }

    fn value(&mut self, depth: u32) -> bool {
        self.ws();
        match self.peek() {
            Some(b'{') => self.object(depth + 1),
            Some(b'[') => self.array(depth + 1),
            Some(b'"') => self.string(),
            Some(b't') => self.literal(b"true"),
            Some(b'f') => self.literal(b"false"),
            Some(b'n') => self.literal(b"null"),
            Some(b'-' | b'0'..=b'9') => self.number(),
            _ => false,
        }
    }

    /// At `{`.
    fn object(&mut self, depth: u32) -> bool {
        if depth > MAX_DEPTH {
            return false;
        }
        self.i += 1;
        self.ws();
        if self.peek() == Some(b'}') {
            self.i += 1;
            return true;
        }
        loop {
            self.ws();
            if self.peek() != Some(b'"') || !self.string() {
                return false;
            }
            self.ws();
            if self.peek() != Some(b':') {
                return false;
            }
            self.i += 1;
            if !self.value(depth) {
                return false;
            }
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b'}') => {
                    self.i += 1;
                    return true;
                }
                _ => return false,
            }
        }
    }

    /// At `[`.
    fn array(&mut self, depth: u32) -> bool {
        if depth > MAX_DEPTH {
            return false;
        }
        self.i += 1;
        self.ws();
        if self.peek() == Some(b']') {
            self.i += 1;
            return true;
        }
        loop {
            if !self.value(depth) {
                return false;
            }
            self.ws();
            match self.peek() {
                Some(b',') => self.i += 1,
                Some(b']') => {
                    self.i += 1;
                    return true;
                }
                _ => return false,
            }
        }
    }

    /// At the opening quote.
    fn string(&mut self) -> bool {
        self.i += 1;
        loop {
            let rest = &self.b[self.i..];
            let Some(k) = find_quote_or_backslash(rest) else {
                return false;
            };
            self.i += k;
            if rest[k] == b'"' {
                self.i += 1;
                return true;
            }
            match self.b.get(self.i + 1) {
                Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't') => self.i += 2,
                Some(b'u') => {
                    let Some(code) = self.b.get(self.i + 2..self.i + 6).and_then(hex4) else {
                        return false;
                    };
                    if (0xD800..=0xDFFF).contains(&code) {
                        return false;
                    }
                    self.i += 6;
                }
                _ => return false,
            }
        }
    }

    fn literal(&mut self, word: &[u8]) -> bool {
        if self.b[self.i..].starts_with(word) {
            self.i += word.len();
            true
        } else {
            false
        }
    }

    /// At `-` or a digit.
    fn number(&mut self) -> bool {
        if self.peek() == Some(b'-') {
            self.i += 1;
        }
        let int = self.digits();
        if int == 0 || int > 16 || (int > 1 && self.b[self.i - int] == b'0') {
            return false;
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            let frac = self.digits();
            if frac == 0 || frac > 17 {
                return false;
            }
        }
        // An exponent, or anything else glued on, is serde_json's to judge.
        !matches!(self.peek(), Some(b'e' | b'E' | b'0'..=b'9' | b'.'))
    }

    /// Skips ASCII digits; how many.
    fn digits(&mut self) -> usize {
        let start = self.i;
        while let Some(b'0'..=b'9') = self.peek() {
            self.i += 1;
        }
        self.i - start
    }
}

/// Where the first `"` or `\\` is in `s`. Most strings of an event (keys, addresses, names)
/// end within a few bytes, sooner than a `memchr2` call pays for its setup (that call was most
/// of the scan's time): the first [`SHORT`] bytes are looked at eight a step in a `u64`, and
/// only a longer string (a message) goes on to `memchr2`.
fn find_quote_or_backslash(s: &[u8]) -> Option<usize> {
    const SHORT: usize = 16;
    const ONES: u64 = u64::from_le_bytes([0x01; 8]);
    const HIGHS: u64 = u64::from_le_bytes([0x80; 8]);
    /// The high bit of each zero byte of `v`. Only bytes above a zero byte can be marked
    /// wrongly (by its borrow), so the lowest mark is always a true zero.
    fn zero_bytes(v: u64) -> u64 {
        v.wrapping_sub(ONES) & !v & HIGHS
    }
    let mut at = 0;
    while let Some(word) = s.get(at..at + 8).filter(|_| at < SHORT) {
        let mut bytes = [0u8; 8];
        bytes.copy_from_slice(word);
        let v = u64::from_le_bytes(bytes);
        let marks =
            zero_bytes(v ^ (ONES * u64::from(b'"'))) | zero_bytes(v ^ (ONES * u64::from(b'\\')));
        if marks != 0 {
            return Some(at + (marks.trailing_zeros() / 8) as usize);
        }
        at += 8;
    }
    memchr::memchr2(b'"', b'\\', &s[at..]).map(|k| at + k)
}

fn hex4(digits: &[u8]) -> Option<u32> {
    digits.iter().try_fold(0u32, |code, &d| {
        let v = (d as char).to_digit(16)?;
        Some(code << 4 | v)
    })
}

#[cfg(test)]
mod tests {
    use super::{find_quote_or_backslash, plainly_an_object};

    #[test]
    fn finds_the_first_quote_or_backslash_at_every_offset() {
        for len in 0..40 {
            for at in 0..=len {
                for mark in [b'"', b'\\'] {
                    // Bytes that differ from the marks by one bit or by a borrow.
                    let mut s: Vec<u8> = (0..len)
                        .map(|i| [b'#', b'!', b'[', b'^', 0xa2, 0xdc][i % 6])
                        .collect();
                    let want = (at < len).then(|| {
                        s[at] = mark;
                        at
                    });
                    if at + 1 < len {
                        s[at + 1] = b'"';
                    }
                    let got = find_quote_or_backslash(&s);
                    let first = s.iter().position(|&c| c == b'"' || c == b'\\');
                    assert_eq!(got, first, "{s:?}");
                    if let Some(want) = want {
                        assert_eq!(got, Some(want), "{s:?}");
                    }
                }
            }
        }
    }

    #[test]
    fn takes_the_objects_events_are() {
        for line in [
            &br#"{}"#[..],
            br#" { "a" : 1 } "#,
            br#"{"@timestamp":"2026-12-02T10:00:00.123Z","message":"a \"quoted\" \\ path\/x\n","log":{"syslog":{"priority":13,"facility":{"code":1}}},"n":-0.5,"t":true,"f":false,"z":null,"l":[1,[2],{}],"e":"\u00e9 caf\u00e9"}"#,
            "{\"h\":\"caf\u{e9} \u{1f600}\"}".as_bytes(),
            br#"{"big":1234567890123456,"frac":0.12345678901234567}"#,
        ] {
            assert!(plainly_an_object(line), "{}", String::from_utf8_lossy(line));
        }
    }

    #[test]
    fn leaves_every_doubt_to_serde_json() {
        let deep = format!("{{\"a\":{}1{}}}", "[".repeat(64), "]".repeat(64));
        for line in [
            &br#"[]"#[..],
            br#""x""#,
            br#"{"a":1e3}"#,
            br#"{"a":12345678901234567}"#,
            br#"{"a":01}"#,
            br#"{"a":1.}"#,
            br#"{"a":-}"#,
            br#"{"s":"\ud83d\ude00"}"#,
            br#"{"s":"\ud800"}"#,
            br#"{"s":"\u12"}"#,
            br#"{"s":"\x"}"#,
            b"{\"s\":\"a\tb\"}",
            br#"{"a":1,}"#,
            br#"{"a":1}x"#,
            br#"{"a":tru}"#,
            br#"{"a""#,
            deep.as_bytes(),
        ] {
            assert!(
                !plainly_an_object(line),
                "{}",
                String::from_utf8_lossy(line)
            );
        }
    }
}
