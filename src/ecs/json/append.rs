//! Appending a short byte string to the output without a call to `memcpy`. Most of what an
//! event writes is short (hostnames, app names, SD values, keys): a `memcpy` call for each
//! cost ~20 instructions, 9 to 11 times a line (issue 16). Up to 16 bytes are copied here
//! with two loads and two stores that may overlap; longer strings still go to `memcpy`.

/// Appends `bytes` to `out`, as `out.extend_from_slice(bytes)` does.
#[inline(always)]
pub(crate) fn append(out: &mut Vec<u8>, bytes: &[u8]) {
    let n = bytes.len();
    if n > 16 {
        out.extend_from_slice(bytes);
        return;
    }
    out.reserve(n);
    let len = out.len();
    // SAFETY: `reserve(n)` leaves room for `n` bytes after `len`, where `copy_short` writes
    // them all. `bytes` cannot point into `out`'s buffer, which is borrowed mutably. After
    // the copy, all of `len..len + n` is written, so the new length covers only initialised
    // bytes.
    unsafe {
        copy_short(bytes.as_ptr(), out.as_mut_ptr().add(len), n);
        out.set_len(len + n);
    }
}

/// Appends `bytes` (at most 16) in quotes when `out` has room for them as it is, and returns
/// whether it did; appends nothing otherwise. No call to grow the buffer, so that a caller
/// whose other path is a tail call needs no stack frame (issue 16: saving registers for the
/// growth call was ~16 instructions a string).
#[inline(always)]
pub(crate) fn try_append_quoted(out: &mut Vec<u8>, bytes: &[u8]) -> bool {
    let n = bytes.len();
    let len = out.len();
    // The length is checked, not assumed: a safe function must be sound for any input (the
    // callers' own checks make this one free).
    if n > 16 || out.capacity() - len < n + 2 {
        return false;
    }
    // SAFETY: the test above leaves room for `n + 2` bytes after `len`: the quote at `len`,
    // the `n` bytes `copy_short` writes at `len + 1` and the quote at `len + 1 + n`. `bytes`
    // cannot point into `out`'s buffer, which is borrowed mutably. All of `len..len + n + 2`
    // is written before the length covers it.
    unsafe {
        let dst = out.as_mut_ptr().add(len);
        *dst = b'"';
        copy_short(bytes.as_ptr(), dst.add(1), n);
        *dst.add(1 + n) = b'"';
        out.set_len(len + n + 2);
    }
    true
}

/// [`try_append_quoted`] for 17 to 32 bytes: two 16-byte copies that may overlap (issue 16:
/// hostnames such as `db-02.example.com`, netfilter prefixes such as `iptables-dropped:` and
/// SD-IDs such as `exampleSDID@32473` are just longer than 16 and took the escaping writer).
#[inline(always)]
pub(crate) fn try_append_quoted_32(out: &mut Vec<u8>, bytes: &[u8]) -> bool {
    let n = bytes.len();
    let len = out.len();
    // Checked, not assumed, as in `try_append_quoted`.
    if !(17..=32).contains(&n) || out.capacity() - len < n + 2 {
        return false;
    }
    // SAFETY: the test above leaves room for `n + 2` bytes after `len`: the quote at `len`,
    // the `n` bytes at `len + 1` (the two 16-byte stores cover `len + 1 .. len + 1 + n`
    // exactly, overlapping when `n < 32`, and both loads read inside `bytes` as `n >= 16`)
    // and the quote at `len + 1 + n`. `bytes` cannot point into `out`'s buffer, which is
    // borrowed mutably. All of `len..len + n + 2` is written before the length covers it.
    unsafe {
        let dst = out.as_mut_ptr().add(len);
        let src = bytes.as_ptr();
        let head = src.cast::<[u8; 16]>().read_unaligned();
        let tail = src.add(n - 16).cast::<[u8; 16]>().read_unaligned();
        *dst = b'"';
        dst.add(1).cast::<[u8; 16]>().write_unaligned(head);
        dst.add(1 + n - 16).cast::<[u8; 16]>().write_unaligned(tail);
        *dst.add(1 + n) = b'"';
        out.set_len(len + n + 2);
    }
    true
}

/// Appends the first `len` (at most 8) bytes of `word`, in memory order, when `out` has room
/// for all eight as it is, and returns whether it did; appends nothing otherwise. One store
/// and no call to grow, as [`try_append_quoted`].
#[inline(always)]
pub(crate) fn try_append_word(out: &mut Vec<u8>, word: [u8; 8], len: usize) -> bool {
    let at = out.len();
    // Checked, not assumed, as in `try_append_quoted`.
    if len > 8 || out.capacity() - at < 8 {
        return false;
    }
    // SAFETY: the test above leaves room for 8 bytes after `at`, all written by the one
    // unaligned store; the new length covers `len <= 8` of them.
    unsafe {
        out.as_mut_ptr()
            .add(at)
            .cast::<[u8; 8]>()
            .write_unaligned(word);
        out.set_len(at + len);
    }
    true
}

/// Copies `n` (at most 16) bytes with two loads and two stores that may overlap.
///
/// # Safety
///
/// `src` must be valid for reading `n` bytes and `dst` for writing `n` bytes, and the two
/// ranges must not overlap. Unaligned pointers are fine.
#[inline(always)]
unsafe fn copy_short(src: *const u8, dst: *mut u8, n: usize) {
    debug_assert!(n <= 16);
    // SAFETY: every load below reads bytes inside `src[..n]` and every store writes bytes
    // inside `dst[..n]` (the two halves overlap when `n` is not twice the width), as the
    // caller promises; unaligned reads and writes are used throughout.
    unsafe {
        if n >= 8 {
            let head = src.cast::<u64>().read_unaligned();
            let tail = src.add(n - 8).cast::<u64>().read_unaligned();
            dst.cast::<u64>().write_unaligned(head);
            dst.add(n - 8).cast::<u64>().write_unaligned(tail);
        } else if n >= 4 {
            let head = src.cast::<u32>().read_unaligned();
            let tail = src.add(n - 4).cast::<u32>().read_unaligned();
            dst.cast::<u32>().write_unaligned(head);
            dst.add(n - 4).cast::<u32>().write_unaligned(tail);
        } else if n > 0 {
            // 1 to 3 bytes: the first, the middle and the last (some the same byte).
            *dst = *src;
            *dst.add(n / 2) = *src.add(n / 2);
            *dst.add(n - 1) = *src.add(n - 1);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_length_to_40_appends_exactly_those_bytes() {
        let source: Vec<u8> = (b'a'..=b'z').chain(b'A'..=b'Z').collect();
        for n in 0..=40 {
            for start in [0, 1, 7] {
                let bytes = &source[start..start + n];
                // An output with room to spare and one without, so both paths of reserve run.
                for mut out in [b"x{".to_vec(), Vec::with_capacity(64)] {
                    let before = out.clone();
                    append(&mut out, bytes);
                    assert_eq!(&out[..before.len()], &before[..], "n {n}");
                    assert_eq!(&out[before.len()..], bytes, "n {n}");
                }
            }
        }
    }

    #[test]
    fn quoted_strings_to_16_bytes_go_in_when_there_is_room() {
        let source: Vec<u8> = (b'a'..=b'z').collect();
        for n in 0..=16 {
            let bytes = &source[..n];
            let mut out = Vec::with_capacity(n + 3);
            out.push(b'x');
            assert!(try_append_quoted(&mut out, bytes), "n {n}");
            assert_eq!(out, [&b"x\""[..], bytes, b"\""].concat(), "n {n}");
            // Full: one byte short of the room it needs.
            let mut full = Vec::with_capacity(n + 1);
            full.push(b'x');
            full.resize(full.capacity() - n - 1, b'y');
            let before = full.clone();
            assert!(!try_append_quoted(&mut full, bytes), "n {n}");
            assert_eq!(full, before);
        }
    }

    #[test]
    fn quoted_strings_of_17_to_32_bytes_go_in_when_there_is_room() {
        let source: Vec<u8> = (b'A'..=b'Z').chain(b'a'..=b'z').collect();
        for n in 17..=32 {
            let bytes = &source[3..3 + n];
            let mut out = Vec::with_capacity(n + 3);
            out.push(b'x');
            assert!(try_append_quoted_32(&mut out, bytes), "n {n}");
            let mut want = b"x\"".to_vec();
            want.extend_from_slice(bytes);
            want.push(b'"');
            assert_eq!(out, want, "n {n}");
            // Full: one byte short of the room it needs.
            let mut full = Vec::with_capacity(n + 1);
            full.push(b'x');
            full.resize(full.capacity() - n - 1, b'y');
            let before = full.clone();
            assert!(!try_append_quoted_32(&mut full, bytes), "n {n}");
            assert_eq!(full, before);
        }
        let mut out = Vec::with_capacity(64);
        assert!(try_append_quoted_32(&mut out, b"iptables-dropped:"));
        assert_eq!(out, b"\"iptables-dropped:\"");
    }

    #[test]
    fn lengths_out_of_range_append_nothing() {
        let mut out = Vec::with_capacity(128);
        assert!(!try_append_quoted(&mut out, &[b'a'; 17]));
        assert!(!try_append_quoted_32(&mut out, &[b'a'; 16]));
        assert!(!try_append_quoted_32(&mut out, &[b'a'; 33]));
        assert!(!try_append_word(&mut out, *b"abcdefgh", 9));
        assert!(out.is_empty());
    }

    #[test]
    fn a_word_appends_its_first_bytes_when_there_is_room() {
        for len in 0..=8 {
            let mut out = Vec::with_capacity(16);
            out.push(b'x');
            assert!(try_append_word(&mut out, *b"abcdefgh", len));
            assert_eq!(out, [&b"x"[..], &b"abcdefgh"[..len]].concat());
            // Room for seven bytes only.
            let mut full = Vec::with_capacity(9);
            full.resize(full.capacity() - 7, b'x');
            let before = full.clone();
            assert!(!try_append_word(&mut full, *b"abcdefgh", len));
            assert_eq!(full, before);
        }
    }

    #[test]
    fn three_bytes_keep_their_order() {
        let mut out = b"<".to_vec();
        append(&mut out, b"abc");
        append(&mut out, b"de");
        append(&mut out, b"f");
        append(&mut out, b"");
        append(&mut out, b"ghij");
        append(&mut out, b"klmnopqrstu");
        assert_eq!(out, b"<abcdefghijklmnopqrstu");
    }
}
