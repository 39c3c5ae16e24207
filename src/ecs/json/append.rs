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
    // SAFETY: `reserve(n)` leaves room for `n` bytes after `len`. Every load below reads bytes
    // inside `bytes[..n]` and every store writes bytes inside `len..len + n` of `out`'s buffer
    // (the two halves overlap when `n` is not twice the width); unaligned reads and writes are
    // used throughout. `bytes` cannot point into `out`'s buffer, which is borrowed mutably.
    // After the stores, all of `len..len + n` is written, so the new length covers only
    // initialised bytes.
    unsafe {
        let src = bytes.as_ptr();
        let dst = out.as_mut_ptr().add(len);
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
        out.set_len(len + n);
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
