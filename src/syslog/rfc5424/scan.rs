//! Byte scans of the header and STRUCTURED-DATA (RFC 5424 §6.2, §6.3): where a header field
//! ends, where an SD-NAME ends and where a PARAM-VALUE's next `"` or `\` is. SSE2 looks at 16 bytes at a time while 16 are left, the
//! rest goes byte by byte (issue 16: byte loops over SD-IDs, PARAM-NAMEs and values were a
//! third of an RFC 5424 line's parsing).

/// The bytes an SD-NAME may hold (§6.3.2): printable ASCII except `=`, space, `]` and `"`.
pub(super) static SD_NAME_BYTE: [bool; 256] = {
    let mut table = [false; 256];
    let mut b = 0x21;
    while b < 0x7f {
        table[b] = !matches!(b as u8, b'=' | b']' | b'"');
        b += 1;
    }
    table
};

/// Bytes before the first one of `$text` that `$stops`, or all of them: 16 at a time with
/// [`sse2`]'s `$block` (a bit per byte that stops) while 16 are left, the rest one by one.
/// The body of the scans below (it returns from the function it is in): one loop, three
/// predicates.
macro_rules! len_before {
    ($text:expr, $block:ident, $stops:expr) => {{
        let text: &[u8] = $text;
        let mut at = 0;
        #[cfg(target_arch = "x86_64")]
        while let Some(block) = text.get(at..at + 16) {
            let found = sse2::$block(block);
            if found != 0 {
                return at + found.trailing_zeros() as usize;
            }
            at += 16;
        }
        at + text[at..]
            .iter()
            .position(|&b| $stops(b))
            .unwrap_or(text.len() - at)
    }};
}

/// Length of the SD-NAME at the start of `text`: the bytes before the first one that may
/// not be in a name (or all of them).
#[inline]
pub(super) fn sd_name_len(text: &[u8]) -> usize {
    len_before!(text, name_stops, |b| !SD_NAME_BYTE[usize::from(b)])
}

/// Bytes before the first control byte (`0x00..=0x20`, `0x7F`) in `text`, or all of them: a
/// header field runs to that byte, which ends it when it is a space and is an error otherwise
/// (issue 16: two byte loops, for the space and for control bytes before it, were ~11
/// instructions a byte of HOSTNAME, APP-NAME, PROCID and MSGID).
#[inline]
pub(super) fn header_field_len(text: &[u8]) -> usize {
    len_before!(text, control_bytes, |b| b <= 0x20 || b == 0x7f)
}

/// Bytes before the first `"` or `\` in `text` (or all of them): the plain run of a
/// PARAM-VALUE.
#[inline]
pub(super) fn value_run_len(text: &[u8]) -> usize {
    len_before!(text, quote_or_backslash, |b: u8| b == b'"' || b == b'\\')
}

#[cfg(target_arch = "x86_64")]
mod sse2 {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_cmplt_epi8, _mm_loadu_si128, _mm_min_epu8, _mm_movemask_epi8,
        _mm_or_si128, _mm_set1_epi8,
    };

    /// One bit per byte of the 16-byte `block` that is `0x00..=0x20` or `0x7F`.
    #[inline(always)]
    pub(super) fn control_bytes(block: &[u8]) -> u32 {
        assert_eq!(block.len(), 16);
        // SAFETY: as in `name_stops`.
        unsafe {
            let v = _mm_loadu_si128(block.as_ptr().cast::<__m128i>());
            // Unsigned: v <= 0x20 exactly when min(v, 0x20) == v (bytes >= 0x80 are not).
            let low = _mm_cmpeq_epi8(_mm_min_epu8(v, _mm_set1_epi8(0x20)), v);
            let delete = _mm_cmpeq_epi8(v, _mm_set1_epi8(0x7f));
            _mm_movemask_epi8(_mm_or_si128(low, delete)) as u32
        }
    }

    /// One bit per byte of the 16-byte `block` that cannot be in an SD-NAME.
    #[inline(always)]
    pub(super) fn name_stops(block: &[u8]) -> u32 {
        assert_eq!(block.len(), 16);
        // SAFETY: SSE2 is always there on x86_64; the load reads the 16 bytes of `block`.
        unsafe {
            let v = _mm_loadu_si128(block.as_ptr().cast::<__m128i>());
            let eq = |c: u8| _mm_cmpeq_epi8(v, _mm_set1_epi8(c as i8));
            // Signed compare: 0x00..=0x20 and, as negative numbers, 0x80..=0xFF.
            let outside = _mm_or_si128(_mm_cmplt_epi8(v, _mm_set1_epi8(0x21)), eq(0x7f));
            let special = _mm_or_si128(eq(b'='), _mm_or_si128(eq(b']'), eq(b'"')));
            _mm_movemask_epi8(_mm_or_si128(outside, special)) as u32
        }
    }

    /// One bit per `"` or `\` in the 16-byte `block`.
    #[inline(always)]
    pub(super) fn quote_or_backslash(block: &[u8]) -> u32 {
        assert_eq!(block.len(), 16);
        // SAFETY: as in `name_stops`.
        unsafe {
            let v = _mm_loadu_si128(block.as_ptr().cast::<__m128i>());
            let quote = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'"' as i8));
            let backslash = _mm_cmpeq_epi8(v, _mm_set1_epi8(b'\\' as i8));
            _mm_movemask_epi8(_mm_or_si128(quote, backslash)) as u32
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn naive_name_len(text: &[u8]) -> usize {
        text.iter()
            .take_while(|&&b| b > 0x20 && b < 0x7f && !matches!(b, b'=' | b']' | b'"'))
            .count()
    }

    fn naive_header_field_len(text: &[u8]) -> usize {
        text.iter().take_while(|&&b| b > 0x20 && b != 0x7f).count()
    }

    fn naive_run_len(text: &[u8]) -> usize {
        text.iter()
            .take_while(|&&b| b != b'"' && b != b'\\')
            .count()
    }

    #[test]
    fn name_table_is_printable_ascii_but_equals_bracket_quote_and_space() {
        // RFC 5424 §6.3.2: SD-NAME = 1*32PRINTUSASCII except '=', SP, ']', '"'.
        for b in 0..=255u8 {
            let want = (0x21..0x7f).contains(&b) && !matches!(b, b'=' | b']' | b'"');
            assert_eq!(SD_NAME_BYTE[usize::from(b)], want, "{b:#04x}");
        }
    }

    #[test]
    fn every_stop_byte_is_found_at_every_position_of_every_length() {
        // The block scan reads 16 bytes while 16 are left: lengths around 16 and 32 matter.
        for len in 0..=40 {
            assert_eq!(sd_name_len(&vec![b'a'; len]), len);
            assert_eq!(value_run_len(&vec![b'a'; len]), len);
            assert_eq!(header_field_len(&vec![0xC3; len]), len);
            for at in 0..len {
                for stop in 0..=255u8 {
                    let mut text = vec![b'a'; len];
                    text[at] = stop;
                    assert_eq!(
                        sd_name_len(&text),
                        naive_name_len(&text),
                        "{len} {at} {stop}"
                    );
                    assert_eq!(
                        value_run_len(&text),
                        naive_run_len(&text),
                        "{len} {at} {stop}"
                    );
                    assert_eq!(
                        header_field_len(&text),
                        naive_header_field_len(&text),
                        "{len} {at} {stop}"
                    );
                }
            }
        }
    }

    #[test]
    fn examples_from_rfc_5424() {
        // §6.5 example 3's SD-ELEMENT.
        let sd = br#"exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"]"#;
        assert_eq!(sd_name_len(sd), 17);
        assert_eq!(sd_name_len(&sd[18..]), 3);
        assert_eq!(value_run_len(&sd[23..]), 1);
        assert_eq!(value_run_len(br#"a\"b""#), 1);
    }

    proptest::proptest! {
        #[test]
        fn scans_agree_with_byte_loops(text in proptest::collection::vec(proptest::num::u8::ANY, 0..80)) {
            proptest::prop_assert_eq!(sd_name_len(&text), naive_name_len(&text));
            proptest::prop_assert_eq!(value_run_len(&text), naive_run_len(&text));
        }
    }
}
