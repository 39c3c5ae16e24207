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

mod append;

use crate::syslog::timestamp::DIGIT_PAIRS;

pub(crate) use append::append;

/// Appends `bytes` as a quoted JSON string. Invalid UTF-8 becomes U+FFFD, so the output is
/// always valid JSON whatever the input.
///
/// Short plain strings (host and app names, interfaces, prefixes; up to 32 bytes) take a path
/// of a few instructions with no stack frame to set up; the rest, and a buffer that must grow, go to
/// the escaping writer (issue 16: its prologue and epilogue alone were ~35 instructions a
/// string, seven strings a netfilter line).
pub fn write_str(out: &mut Vec<u8>, bytes: &[u8]) {
    let n = bytes.len();
    if n <= 16 {
        if all_plain_16(bytes) && append::try_append_quoted(out, bytes) {
            return;
        }
    } else if n <= 32 && all_plain_32(bytes) && append::try_append_quoted_32(out, bytes) {
        return;
    }
    write_escaped_str(out, bytes);
}

/// [`all_plain`] for 17 to 32 bytes: two 16-byte blocks that may overlap.
#[inline(always)]
fn all_plain_32(bytes: &[u8]) -> bool {
    debug_assert!((17..=32).contains(&bytes.len()));
    #[cfg(target_arch = "x86_64")]
    return sse2::all_plain_17_to_32(bytes);
    #[cfg(not(target_arch = "x86_64"))]
    return all_plain(bytes);
}

/// [`write_str`] for text that may need escaping.
#[inline(never)]
fn write_escaped_str(out: &mut Vec<u8>, bytes: &[u8]) {
    out.push(b'"');
    write_str_body(out, bytes);
    out.push(b'"');
}

/// Appends `bytes` as a quoted JSON string and returns true when they are ASCII with nothing
/// to escape; otherwise appends nothing and returns false. For callers that would transform
/// other text first (RFC 5424 PARAM-VALUEs, whose backslashes are escapes of their own).
#[inline]
pub fn write_plain_str(out: &mut Vec<u8>, bytes: &[u8]) -> bool {
    if !all_plain(bytes) {
        return false;
    }
    out.push(b'"');
    append(out, bytes);
    out.push(b'"');
    true
}

/// Appends the escaped body of a JSON string, without the quotes.
pub fn write_str_body(out: &mut Vec<u8>, bytes: &[u8]) {
    // Most fields are plain ASCII with nothing to escape: one pass finds how much is, and
    // that part is copied as it is.
    let clean = plain_ascii_prefix(bytes);
    append(out, &bytes[..clean]);
    let bytes = &bytes[clean..];
    if bytes.is_empty() {
        return;
    }
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
    while let Some(offset) = find_escape(&bytes[start..]) {
        let i = start + offset;
        out.extend_from_slice(&bytes[start..i]);
        let b = bytes[i];
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

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Bytes of the word that need escaping or are not ASCII, as high bits (zero when none).
#[inline]
fn special_bytes(w: u64) -> u64 {
    let has_zero = |v: u64| v.wrapping_sub(ONES) & !v & HIGHS;
    let below_space = w.wrapping_sub(ONES * 0x20) & !w & HIGHS;
    below_space
        | has_zero(w ^ (ONES * u64::from(b'"')))
        | has_zero(w ^ (ONES * u64::from(b'\\')))
        | (w & HIGHS)
}

/// Whether every byte is ASCII that needs no escaping, without a byte-by-byte loop for any
/// length: whole blocks, then one last block that overlaps the one before (issue 16: most
/// fields are short, hostnames and SD values, and went byte by byte).
#[inline]
fn all_plain(bytes: &[u8]) -> bool {
    if bytes.len() <= 16 {
        return all_plain_16(bytes);
    }
    #[cfg(target_arch = "x86_64")]
    return sse2::all_plain(bytes);
    #[cfg(not(target_arch = "x86_64"))]
    {
        let n = bytes.len();
        let word = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
        let mut at = 0;
        while at + 8 < n {
            if special_bytes(word(at)) != 0 {
                return false;
            }
            at += 8;
        }
        special_bytes(word(n - 8)) == 0
    }
}

/// [`all_plain`] for at most 16 bytes, without a loop: two words that may overlap, two
/// halves, or the first, middle and last byte (issue 16: the loop's constants took three
/// registers more, saved and restored on every short string), tested in one SSE2 register
/// where there is one (issue 16: the word-wise test was ~30 instructions a string, eleven
/// strings a netfilter line).
#[inline(always)]
fn all_plain_16(bytes: &[u8]) -> bool {
    let n = bytes.len();
    debug_assert!(n <= 16);
    let word = |at: usize| u64::from_le_bytes(bytes[at..at + 8].try_into().expect("8 bytes"));
    let half = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().expect("4 bytes"));
    // The rest of a word is letters, which need nothing.
    const LETTERS: u64 = u64::from_le_bytes(*b"aaaaaaaa");
    let (low, high) = match n {
        8.. => (word(0), word(n - 8)),
        4.. => (u64::from(half(0)) | u64::from(half(n - 4)) << 32, LETTERS),
        1.. => {
            let (first, middle, last) = (bytes[0], bytes[n / 2], bytes[n - 1]);
            let three = u64::from_le_bytes([first, middle, last, b'a', b'a', b'a', b'a', b'a']);
            (three, LETTERS)
        }
        0 => return true,
    };
    #[cfg(target_arch = "x86_64")]
    return sse2::all_plain_words(low, high);
    #[cfg(not(target_arch = "x86_64"))]
    return special_bytes(low) | special_bytes(high) == 0;
}

/// Length of the leading part that is ASCII and needs no escaping.
fn plain_ascii_prefix(bytes: &[u8]) -> usize {
    if all_plain(bytes) {
        return bytes.len();
    }
    #[cfg(target_arch = "x86_64")]
    let at = sse2::plain_prefix_16(bytes);
    #[cfg(not(target_arch = "x86_64"))]
    let at = 0;
    let mut at = at;
    for chunk in bytes[at..].chunks_exact(8) {
        if special_bytes(u64::from_le_bytes(chunk.try_into().expect("8 bytes"))) != 0 {
            break;
        }
        at += 8;
    }
    at + bytes[at..]
        .iter()
        .position(|&b| b >= 0x80 || NEEDS_ESCAPE[b as usize])
        .unwrap_or(bytes.len() - at)
}

/// Position of the first byte that needs escaping. Looks at 16 bytes at a time with SSE2, then
/// 8 (most text has nothing to escape): a word has such a byte when one of its bytes is below
/// 0x20, or equals `"` or `\`.
fn find_escape(bytes: &[u8]) -> Option<usize> {
    #[cfg(target_arch = "x86_64")]
    let mut at = sse2::no_escape_prefix_16(bytes);
    #[cfg(not(target_arch = "x86_64"))]
    let mut at = 0;
    let has_zero = |w: u64| w.wrapping_sub(ONES) & !w & HIGHS;
    for chunk in bytes[at..].chunks_exact(8) {
        let w = u64::from_le_bytes(chunk.try_into().expect("8 bytes"));
        // Bytes >= 0x80 (UTF-8) never need escaping; mask them out of the "below 0x20" test.
        let below_space = w.wrapping_sub(ONES * 0x20) & !w & HIGHS;
        let quote = has_zero(w ^ (ONES * u64::from(b'"')));
        let backslash = has_zero(w ^ (ONES * u64::from(b'\\')));
        if below_space | quote | backslash != 0 {
            break;
        }
        at += 8;
    }
    bytes[at..]
        .iter()
        .position(|&b| NEEDS_ESCAPE[b as usize])
        .map(|i| at + i)
}

/// 16-byte scans (SSE2 is part of x86_64, so no runtime check): issue 16's profiles had
/// escaping at 11 % of `listen`'s user CPU with the 8-byte scan.
#[cfg(target_arch = "x86_64")]
mod sse2 {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_cmplt_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_or_si128,
        _mm_set1_epi8,
    };

    /// Bytes before the first 16-byte block holding a byte that is not plain ASCII (below
    /// 0x20, `"`, `\` or 0x80 and above); a multiple of 16, the caller looks at the rest.
    pub(super) fn plain_prefix_16(bytes: &[u8]) -> usize {
        scan(bytes, true)
    }

    /// As [`plain_prefix_16`], but bytes 0x80 and above (UTF-8) pass.
    pub(super) fn no_escape_prefix_16(bytes: &[u8]) -> usize {
        scan(bytes, false)
    }

    /// Whether all of `bytes` (16 or more) is plain ASCII: the blocks, then the last 16 bytes.
    pub(super) fn all_plain(bytes: &[u8]) -> bool {
        debug_assert!(bytes.len() >= 16);
        let at = scan(bytes, true);
        at == bytes.len() || (at + 16 > bytes.len() && scan(&bytes[bytes.len() - 16..], true) == 16)
    }

    /// Whether all of `bytes` (17 to 32) is plain ASCII: the first and the last 16 bytes.
    #[inline(always)]
    pub(super) fn all_plain_17_to_32(bytes: &[u8]) -> bool {
        let n = bytes.len();
        debug_assert!((17..=32).contains(&n));
        // SAFETY: SSE2 is always there on x86_64; both loads read 16 bytes inside `bytes`
        // (`n >= 16`), unaligned loads allowed.
        unsafe {
            let head = _mm_loadu_si128(bytes.as_ptr().cast::<__m128i>());
            let tail = _mm_loadu_si128(bytes.as_ptr().add(n - 16).cast::<__m128i>());
            _mm_movemask_epi8(_mm_or_si128(special(head), special(tail))) == 0
        }
    }

    /// Whether the 16 bytes of the two words are all plain ASCII.
    #[inline(always)]
    pub(super) fn all_plain_words(low: u64, high: u64) -> bool {
        // SAFETY: SSE2 is always there on x86_64; no memory is touched.
        unsafe {
            let v = std::arch::x86_64::_mm_set_epi64x(high as i64, low as i64);
            _mm_movemask_epi8(special(v)) == 0
        }
    }

    /// Lanes that are below 0x20, `"`, `\` or 0x80 and above, all ones.
    #[inline(always)]
    unsafe fn special(v: __m128i) -> __m128i {
        // SAFETY: SSE2 is always there on x86_64; no memory is touched.
        unsafe {
            // Signed compare: below 0x20 and, as negative numbers, 0x80 and above.
            let low = _mm_cmplt_epi8(v, _mm_set1_epi8(0x20));
            let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
            let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
            _mm_or_si128(low, _mm_or_si128(quote, backslash))
        }
    }

    #[inline(always)]
    fn scan(bytes: &[u8], stop_at_non_ascii: bool) -> usize {
        let mut at = 0;
        // SAFETY: SSE2 is always there on x86_64; each load reads 16 bytes inside `bytes`
        // (`at + 16 <= bytes.len()`), unaligned loads allowed.
        unsafe {
            let zero = _mm_set1_epi8(0);
            while at + 16 <= bytes.len() {
                let v = _mm_loadu_si128(bytes.as_ptr().add(at).cast::<__m128i>());
                let mut stops = special(v);
                if !stop_at_non_ascii {
                    // 0x80 and above pass: `"` and `\` are not negative, so only the
                    // lanes below 0x20 that are 0x80 and above go.
                    stops = std::arch::x86_64::_mm_andnot_si128(_mm_cmplt_epi8(v, zero), stops);
                }
                if _mm_movemask_epi8(stops) != 0 {
                    break;
                }
                at += 16;
            }
        }
        at
    }
}

/// Appends an unsigned integer.
///
/// Numbers below 100,000, with room in the buffer, are one computed word and one store, with
/// no call, so the function needs no stack frame; the rest go to a call out of line (issue
/// 16: most netfilter numbers are ports, lengths, TTLs and ids, ten a line, and saving
/// registers and a digit buffer on the stack was ~15 instructions of each). Never inlined:
/// LTO inlines it once it is this small, and inlined into `ecs::netfilter`'s writer it made a
/// netfilter line ~440 instructions dearer (callgrind), not cheaper.
#[inline(never)]
pub fn write_u64(out: &mut Vec<u8>, n: u64) {
    if n < 100_000 {
        let (digits, len) = below_100k_digits(n as u32);
        if append::try_append_word(out, digits, len) {
            return;
        }
    }
    write_u64_out_of_line(out, n);
}

/// [`write_u64`] of 100,000 and more, or into a buffer that must grow.
#[inline(never)]
fn write_u64_out_of_line(out: &mut Vec<u8>, n: u64) {
    out.extend_from_slice(itoa::Buffer::new().format(n).as_bytes());
}

/// The digits of `n` (below 100,000) at the start of a word, and how many there are: all
/// five places from the pair table, then the leading zeros shifted out.
#[inline(always)]
fn below_100k_digits(n: u32) -> ([u8; 8], usize) {
    debug_assert!(n < 100_000);
    let len = match n {
        0..=9 => 1,
        10..=99 => 2,
        100..=999 => 3,
        1000..=9999 => 4,
        _ => 5,
    };
    let pair = |i: u32| u64::from(u16::from_le_bytes(DIGIT_PAIRS[i as usize]));
    let (high, low) = (n / 10_000, n % 10_000);
    let five = u64::from(b'0' + high as u8) | pair(low / 100) << 8 | pair(low % 100) << 24;
    ((five >> (8 * (5 - len))).to_le_bytes(), len)
}

/// `"name":` as bytes, for [`PathWriter::lit`] and [`Members::lit`]: a key whose length the
/// compiler knows is a few moves, where a key by name is a `memcpy` call and four pushes
/// (issue 16: writing keys was a fifth of `listen`'s instructions).
macro_rules! qkey {
    ($name:literal) => {
        concat!("\"", $name, "\":").as_bytes()
    };
}
pub(crate) use qkey;

/// `,"name":` as bytes: a member key with the comma before it, for [`Group`] and
/// [`PathWriter::comma_members`], where every member starts with a comma.
macro_rules! ckey {
    ($name:literal) => {
        concat!(",\"", $name, "\":").as_bytes()
    };
}
pub(crate) use ckey;

/// `,"a":{"b":{"name":` as bytes: a member key with the objects of its path opened from the
/// top level after another member, for [`PathWriter::lit_from_top`].
macro_rules! okey {
    ($($parent:literal),+ ; $name:literal) => {
        concat!(",", $("\"", $parent, "\":{",)+ "\"", $name, "\":").as_bytes()
    };
}
pub(crate) use okey;

/// A nested object whose members are written with a leading comma each (`ckey!`), so that a
/// member costs its key and value and no test for "first?". Opening writes `,"name":`;
/// closing turns the first member's comma into `{` and adds `}`, or takes the key back when
/// no member came (no empty objects, as with [`PathWriter`]).
#[must_use = "a group must be closed"]
pub struct Group {
    key_at: usize,
    body_at: usize,
}

impl Group {
    /// Writes `key` (`ckey!("name")`) and starts the object's members after it.
    #[inline]
    pub fn open(out: &mut Vec<u8>, key: &'static [u8]) -> Group {
        let key_at = out.len();
        out.extend_from_slice(key);
        Group {
            key_at,
            body_at: out.len(),
        }
    }

    /// Ends the object (or removes it when empty).
    #[inline]
    pub fn close(self, out: &mut Vec<u8>) {
        if out.len() == self.body_at {
            out.truncate(self.key_at);
        } else {
            debug_assert_eq!(out[self.body_at], b',');
            out[self.body_at] = b'{';
            out.push(b'}');
        }
    }
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

    /// Starts an object with `opening`: `{` and the start of its first member (`{"@timestamp":"`),
    /// one copy where `new` and a key are two or three (issue 16: every line starts this way).
    /// The caller writes the rest of that member.
    #[inline]
    pub fn starting_with(out: &'o mut Vec<u8>, opening: &'static [u8]) -> Self {
        debug_assert!(opening.starts_with(b"{\""));
        out.extend_from_slice(opening);
        PathWriter {
            out,
            open: [""; 8],
            depth: 0,
            has_member: true,
        }
    }

    /// Positions the writer at the value of `path` (writing the key) and returns the buffer, in
    /// which the caller writes exactly one JSON value.
    pub fn key(&mut self, path: &[&'static str]) -> &mut Vec<u8> {
        let (last, parents) = path
            .split_last()
            .expect("an ECS path has at least one part");
        self.enter(parents);
        self.member_key(last);
        self.has_member = true;
        self.out
    }

    /// As [`key`](Self::key) for the member `key` (`qkey!("name")`, quotes and colon
    /// included) of the object at `parents`.
    #[inline]
    pub fn lit(&mut self, parents: &[&'static str], key: &'static [u8]) -> &mut Vec<u8> {
        self.enter(parents);
        if self.has_member {
            self.out.push(b',');
        }
        self.out.extend_from_slice(key);
        self.has_member = true;
        self.out
    }

    /// The buffer, to go on with the value of the member being written (after
    /// [`starting_with`](Self::starting_with), or a `lit` whose value has several parts).
    #[inline]
    pub fn lit_value(&mut self) -> &mut Vec<u8> {
        self.out
    }

    /// As [`lit`](Self::lit), with `opening` the same member written from the top level after
    /// another member (`,"event":{"dataset":`, from `okey!`): at the top level it is one copy
    /// where `lit` opens each object by name (issue 16: ~100 instructions a netfilter line).
    #[inline]
    pub fn lit_from_top(
        &mut self,
        parents: &[&'static str],
        opening: &'static [u8],
        key: &'static [u8],
    ) -> &mut Vec<u8> {
        debug_assert!(opening.ends_with(key) && opening.len() > key.len());
        if !self.open_from_top(parents, opening) {
            return self.lit(parents, key);
        }
        self.out
    }

    /// At the top level, writes `text` (the objects of `parents` opened after another member,
    /// `,"a":{"b":{`, and what follows), without its comma for the first member, and stands
    /// in the innermost of those objects. False, with nothing written, below the top level.
    #[inline]
    fn open_from_top(&mut self, parents: &[&'static str], text: &[u8]) -> bool {
        if self.depth != 0 || parents.len() > self.open.len() {
            return false;
        }
        let skip = usize::from(!self.has_member);
        self.out.extend_from_slice(&text[skip..]);
        self.open[..parents.len()].copy_from_slice(parents);
        self.depth = parents.len();
        self.has_member = true;
        true
    }

    /// Appends members written elsewhere (`"key":value,…`, no leading comma) to the object at
    /// `parents`, opening it as `key` does.
    pub fn raw_members(&mut self, parents: &[&'static str], members: &[u8]) {
        self.enter(parents);
        if self.has_member {
            self.out.push(b',');
        }
        self.out.extend_from_slice(members);
        self.has_member = true;
    }

    /// Appends members that `write` puts in the buffer with a leading comma each
    /// (`,"key":value`, see [`Group`]) to the object at `parents`, opening it as `key` does.
    pub fn comma_members(&mut self, parents: &[&'static str], write: impl FnOnce(&mut Vec<u8>)) {
        self.enter(parents);
        let start = self.out.len();
        write(self.out);
        if self.out.len() > start {
            debug_assert_eq!(self.out[start], b',');
            if !self.has_member {
                // The object was empty: its first member takes no comma.
                self.out.remove(start);
            }
            self.has_member = true;
        }
    }

    /// Opens the object at `parents` once for several members written in a row, so that each
    /// member costs its key and value only.
    pub fn members(&mut self, parents: &[&'static str]) -> Members<'_> {
        self.enter(parents);
        Members {
            out: self.out,
            has_member: &mut self.has_member,
        }
    }

    /// As [`members`](Self::members), followed by members written elsewhere, for the common
    /// case of objects opened from the top level: `text` is `opening` (`,"log":{"syslog":{`,
    /// the objects of `parents` as `members` would open them after another member) and then
    /// the members (`"priority":…`), one copy (issue 16: opening `log.syslog` by path was ~200
    /// instructions a line). Elsewhere in the object tree the path is followed as usual.
    pub fn members_from_top(
        &mut self,
        parents: &[&'static str],
        opening: &'static [u8],
        text: &[u8],
    ) -> Members<'_> {
        debug_assert!(text.starts_with(opening) && text.len() > opening.len());
        if !self.open_from_top(parents, text) {
            self.enter(parents);
            if self.has_member {
                self.out.push(b',');
            }
            self.out.extend_from_slice(&text[opening.len()..]);
            self.has_member = true;
        }
        Members {
            out: self.out,
            has_member: &mut self.has_member,
        }
    }

    /// Closes the open objects that are not on `parents` and opens the missing ones.
    #[inline]
    fn enter(&mut self, parents: &[&'static str]) {
        // Back to the top level: only closing braces (issue 16: ~60 instructions a netfilter
        // line through `enter_other`).
        if parents.is_empty() {
            self.close_to_top();
            return;
        }
        // Most fields go to the object the last one went to.
        if parents.len() == self.depth
            && parents
                .iter()
                .zip(&self.open)
                .all(|(a, b)| std::ptr::eq(*a, *b))
        {
            return;
        }
        self.enter_other(parents);
    }

    /// Closes every object below the top level.
    #[inline]
    fn close_to_top(&mut self) {
        if self.depth > 0 {
            self.out.extend_from_slice(&CLOSING_BRACES[..self.depth]);
            self.depth = 0;
            self.has_member = true;
        }
    }

    fn enter_other(&mut self, parents: &[&'static str]) {
        let common = self.open[..self.depth]
            .iter()
            .zip(parents)
            // ECS paths are static strings: the same segment is usually the same pointer.
            .take_while(|(a, b)| std::ptr::eq(**a, **b) || a == b)
            .count();
        if self.depth > common {
            // One copy for all the closing braces.
            self.out
                .extend_from_slice(&CLOSING_BRACES[..self.depth - common]);
            self.depth = common;
            self.has_member = true;
        }
        for &part in &parents[common..] {
            self.member_key(part);
            self.out.push(b'{');
            self.open[self.depth] = part;
            self.depth += 1;
            self.has_member = false;
        }
    }

    fn member_key(&mut self, name: &str) {
        if self.has_member {
            self.out.push(b',');
        }
        self.out.push(b'"');
        append(self.out, name.as_bytes());
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
        self.out.extend_from_slice(&CLOSING_BRACES[..=self.depth]);
    }
}

/// `}` for each object a [`PathWriter`] can have open, and the outermost one.
const CLOSING_BRACES: [u8; 9] = [b'}'; 9];

/// Members of one open object (see [`PathWriter::members`]).
pub struct Members<'w> {
    out: &'w mut Vec<u8>,
    has_member: &'w mut bool,
}

impl Members<'_> {
    /// Writes `"name":` and returns the buffer for exactly one value.
    pub fn key(&mut self, name: &str) -> &mut Vec<u8> {
        if *self.has_member {
            self.out.push(b',');
        }
        *self.has_member = true;
        self.out.push(b'"');
        append(self.out, name.as_bytes());
        self.out.extend_from_slice(b"\":");
        self.out
    }

    /// Writes `key` (`qkey!("name")`) and returns the buffer for exactly one value.
    #[inline]
    pub fn lit(&mut self, key: &'static [u8]) -> &mut Vec<u8> {
        if *self.has_member {
            self.out.push(b',');
        }
        *self.has_member = true;
        self.out.extend_from_slice(key);
        self.out
    }

    /// Appends pre-written members (`"key":value,…`).
    pub fn raw(&mut self, members: &[u8]) {
        if *self.has_member {
            self.out.push(b',');
        }
        *self.has_member = true;
        self.out.extend_from_slice(members);
    }

    pub fn str(&mut self, name: &str, value: &[u8]) {
        write_str(self.key(name), value);
    }

    pub fn u64(&mut self, name: &str, value: u64) {
        write_u64(self.key(name), value);
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::collections::HashSet;

    use super::*;

    /// Fails when any object in `json` has a key twice (serde_json would keep the last one).
    pub(crate) fn assert_no_duplicate_keys(json: &[u8]) {
        let text = std::str::from_utf8(json).unwrap();
        let mut objects: Vec<Option<HashSet<String>>> = Vec::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' => objects.push(Some(HashSet::new())),
                '[' => objects.push(None),
                '}' | ']' => {
                    objects.pop();
                }
                '"' => {
                    let mut s = String::new();
                    while let Some(c) = chars.next() {
                        match c {
                            '\\' => s.push(chars.next().unwrap()),
                            '"' => break,
                            c => s.push(c),
                        }
                    }
                    if chars.peek() == Some(&':')
                        && let Some(Some(keys)) = objects.last_mut()
                    {
                        assert!(keys.insert(s.clone()), "duplicate key {s:?} in {text}");
                    }
                }
                _ => {}
            }
        }
    }

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

    proptest::proptest! {
        #[test]
        fn escaping_agrees_with_serde_json(s in ".*", raw in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
            let mut out = Vec::new();
            write_str(&mut out, s.as_bytes());
            proptest::prop_assert_eq!(serde_json::from_slice::<String>(&out).unwrap(), s);
            let mut out = Vec::new();
            write_str(&mut out, &raw);
            proptest::prop_assert_eq!(serde_json::from_slice::<String>(&out).unwrap(), String::from_utf8_lossy(&raw));
        }
    }

    #[test]
    fn plain_test_to_32_bytes_agrees_with_the_long_one() {
        for len in 17..=32 {
            let plain = vec![b'a'; len];
            assert!(all_plain_32(&plain), "{len}");
            for at in 0..len {
                for special in [b'"', b'\\', b'\n', 0x01, 0x1f, 0x80, 0xe9, 0xff] {
                    let mut bytes = plain.clone();
                    bytes[at] = special;
                    assert!(!all_plain_32(&bytes), "{len} {at} {special}");
                    assert!(!all_plain(&bytes), "{len} {at} {special}");
                }
            }
        }
        assert!(all_plain_32(b"iptables-dropped: ~ !#$%&'()*+,/"));
    }

    #[test]
    fn short_plain_test_agrees_with_a_byte_by_byte_one() {
        // `all_plain` itself goes to `all_plain_16` up to 16 bytes: the reference is the
        // plain definition, every byte value at every position.
        let naive = |bytes: &[u8]| bytes.iter().all(|&b| b < 0x80 && !NEEDS_ESCAPE[b as usize]);
        for len in 0..=16 {
            let plain = vec![b'a'; len];
            assert!(all_plain_16(&plain), "{len}");
            for at in 0..len {
                for byte in 0..=255u8 {
                    let mut bytes = plain.clone();
                    bytes[at] = byte;
                    assert_eq!(all_plain_16(&bytes), naive(&bytes), "{len} {at} {byte}");
                }
            }
        }
    }

    #[test]
    fn one_special_byte_is_found_at_every_position_of_every_length() {
        // The block scans read words and 16-byte blocks that overlap at the end.
        for len in 1..=70 {
            for at in 0..len {
                for special in [b'"', b'\\', b'\n', 0x01, 0x7f, 0xe9] {
                    let mut bytes = vec![b'a'; len];
                    bytes[at] = special;
                    let mut out = Vec::new();
                    write_str(&mut out, &bytes);
                    let back: String = serde_json::from_slice(&out).unwrap();
                    assert_eq!(
                        back,
                        String::from_utf8_lossy(&bytes),
                        "{len} {at} {special}"
                    );
                }
            }
        }
    }

    #[test]
    fn raw_members_join_the_open_object() {
        let mut out = Vec::new();
        let mut w = PathWriter::new(&mut out);
        w.str(&["log", "syslog", "hostname"], b"h");
        w.raw_members(&["log", "syslog"], br#""priority":13"#);
        w.raw_members(&["other"], br#""a":1"#);
        w.finish();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"{"log":{"syslog":{"hostname":"h","priority":13}},"other":{"a":1}}"#
        );
    }

    #[test]
    fn plain_strings_are_written_and_others_left_alone() {
        let mut out = b"x".to_vec();
        assert!(write_plain_str(&mut out, b"Application"));
        assert!(write_plain_str(&mut out, b""));
        assert_eq!(out, b"x\"Application\"\"\"");
        for other in [
            &b"a\\b"[..],
            b"say \"hi\"",
            b"tab\there",
            b"caf\xc3\xa9",
            b"0123456789abcdef\\",
        ] {
            let mut out = b"x".to_vec();
            assert!(
                !write_plain_str(&mut out, other),
                "{}",
                other.escape_ascii()
            );
            assert_eq!(out, b"x");
        }
    }

    #[test]
    fn numbers_are_written_as_std_formats_them() {
        for n in (0..100_200).chain([u64::from(u32::MAX), u64::MAX]) {
            let mut out = b"x".to_vec();
            write_u64(&mut out, n);
            assert_eq!(&out[1..], n.to_string().as_bytes());
        }
    }

    #[test]
    fn numbers_are_written_as_std_formats_them_into_a_buffer_with_room() {
        // The word-store path; the test above, with no room, takes the path out of line.
        let mut out = Vec::with_capacity(16);
        for n in (0..100_200).chain([u64::from(u32::MAX), u64::MAX]) {
            out.clear();
            out.push(b'x');
            write_u64(&mut out, n);
            assert_eq!(&out[1..], n.to_string().as_bytes());
        }
    }

    #[test]
    fn a_writer_can_start_with_its_first_member() {
        let mut out = Vec::new();
        let mut w = PathWriter::starting_with(&mut out, br#"{"@timestamp":""#);
        w.lit_value().extend_from_slice(b"T\"");
        w.str(&["message"], b"m");
        w.finish();
        assert_eq!(out, br#"{"@timestamp":"T","message":"m"}"#);
    }

    #[test]
    fn members_from_top_open_their_objects_in_one_copy() {
        const OPENING: &[u8] = br#","log":{"syslog":{"#;
        const TEXT: &[u8] = br#","log":{"syslog":{"priority":13"#;
        // After another member, as the first member, and below an object already open.
        let mut out = Vec::new();
        let mut w = PathWriter::new(&mut out);
        w.str(&["message"], b"m");
        w.members_from_top(&["log", "syslog"], OPENING, TEXT)
            .str("appname", b"a");
        w.str(&["log", "syslog", "procid"], b"1");
        w.str(&["log", "x"], b"2");
        w.finish();
        assert_eq!(
            out,
            br#"{"message":"m","log":{"syslog":{"priority":13,"appname":"a","procid":"1"},"x":"2"}}"#
        );

        let mut out = Vec::new();
        let mut w = PathWriter::new(&mut out);
        w.members_from_top(&["log", "syslog"], OPENING, TEXT);
        w.finish();
        assert_eq!(out, br#"{"log":{"syslog":{"priority":13}}}"#);

        let mut out = Vec::new();
        let mut w = PathWriter::new(&mut out);
        w.str(&["log", "source", "ip"], b"192.0.2.1");
        w.members_from_top(&["log", "syslog"], OPENING, TEXT);
        w.finish();
        assert_eq!(
            out,
            br#"{"log":{"source":{"ip":"192.0.2.1"},"syslog":{"priority":13}}}"#
        );
    }

    #[test]
    fn okey_opens_each_parent() {
        assert_eq!(okey!("event"; "dataset"), br#","event":{"dataset":"#);
        assert_eq!(
            okey!("log", "syslog"; "appname"),
            br#","log":{"syslog":{"appname":"#
        );
    }

    #[test]
    fn lit_from_top_writes_the_same_as_lit() {
        const EVENT: &[&str] = &["event"];
        let mut out = Vec::new();
        let mut w = PathWriter::new(&mut out);
        write_u64(w.lit_from_top(EVENT, okey!("event"; "a"), qkey!("a")), 1);
        write_u64(w.lit_from_top(EVENT, okey!("event"; "b"), qkey!("b")), 2);
        write_u64(w.lit(&[], qkey!("c")), 3);
        write_u64(w.lit_from_top(EVENT, okey!("event"; "d"), qkey!("d")), 4);
        write_u64(w.lit(&["x", "y"], qkey!("e")), 5);
        write_u64(w.lit_from_top(&["x"], okey!("x"; "f"), qkey!("f")), 6);
        w.finish();
        // A second "event" object: PathWriter never reorders, its callers keep groups together.
        assert_eq!(
            out,
            br#"{"event":{"a":1,"b":2},"c":3,"event":{"d":4},"x":{"y":{"e":5},"f":6}}"#
        );
    }

    #[test]
    fn leaving_deep_objects_closes_each_of_them() {
        let mut out = Vec::new();
        let mut w = PathWriter::new(&mut out);
        w.u64(&["a", "b", "c", "d", "e"], 1);
        w.u64(&["f"], 2);
        w.u64(&["g", "h"], 3);
        w.finish();
        assert_eq!(out, br#"{"a":{"b":{"c":{"d":{"e":1}}}},"f":2,"g":{"h":3}}"#);
    }

    #[test]
    fn empty_path_writer_is_an_empty_object() {
        let mut out = Vec::new();
        PathWriter::new(&mut out).finish();
        assert_eq!(out, b"{}");
    }
}
