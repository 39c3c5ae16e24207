//! Reading stamps off the wire: RFC 3339 (RFC 5424 §6.2.3 strictly, RFC 3164 bodies
//! leniently) and BSD (`Mmm dd hh:mm:ss`, RFC 3164 §4.1.2, with the variants real senders
//! write), before [`super::TimeContext`] applies a zone or a year.

use chrono::{FixedOffset, NaiveDate, NaiveDateTime, NaiveTime};

use super::zone::{digits_value, parse_offset, two_digits};

pub(super) const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Full month names, as some senders write them in BSD stamps.
const MONTH_NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

/// A parsed RFC 3339 stamp before zone resolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rfc3339Stamp {
    pub local: NaiveDateTime,
    pub offset: Option<FixedOffset>,
    pub frac_digits: u8,
}

/// How strictly [`parse_rfc3339`] reads: RFC 5424 wants upper-case `T` and an offset;
/// RFC 3164 bodies (rsyslog file formats, journalctl `short-iso`) may have `+HHMM` or none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Strictness {
    Rfc5424,
    Lenient,
}

/// Parses an RFC 3339 stamp at the start of `b`, up to (not including) the next space.
/// Returns the stamp and the bytes used, or why it is not a valid instant.
pub fn parse_rfc3339(b: &[u8], strictness: Strictness) -> Result<(Rfc3339Stamp, usize), String> {
    let [year, month, day, hour, minute, second] = match date_time_at_once(b, strictness) {
        Some(fields) => fields,
        None => date_time_field_by_field(b, strictness)?,
    };
    let mut at = 19;
    let (nanos, frac_digits) = if b.get(at) == Some(&b'.') {
        let n = b[at + 1..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        if n == 0 || n > 9 {
            return Err(format!(
                "a fraction of a second needs 1 to 9 digits, found {n}"
            ));
        }
        let mut value = digits_value(&b[at + 1..at + 1 + n]).expect("digits");
        value *= 10u32.pow(9 - n as u32);
        at += 1 + n;
        (value, n as u8)
    } else {
        (0, 0)
    };
    let offset = match b.get(at) {
        Some(b'Z') if strictness == Strictness::Lenient => {
            at += 1 + redundant_offset(&b[at + 1..])?;
            Some(FixedOffset::east_opt(0).expect("0 is valid"))
        }
        Some(b'Z') => {
            at += 1;
            Some(FixedOffset::east_opt(0).expect("0 is valid"))
        }
        Some(b'z') if strictness == Strictness::Lenient => {
            at += 1 + redundant_offset(&b[at + 1..])?;
            Some(FixedOffset::east_opt(0).expect("0 is valid"))
        }
        Some(b'+' | b'-') => {
            let (offset, used) = parse_offset(&b[at..])
                .ok_or("invalid UTC offset: expected +HH:MM with hours below 24")?;
            if strictness == Strictness::Rfc5424 && used != 6 {
                return Err("invalid UTC offset: RFC 5424 wants +HH:MM or Z".into());
            }
            at += used;
            Some(offset)
        }
        _ if strictness == Strictness::Rfc5424 => {
            return Err("missing UTC offset: RFC 5424 wants Z or +HH:MM".into());
        }
        _ => None,
    };
    if !matches!(b.get(at), None | Some(b' ')) {
        return Err(format!("unexpected byte after the timestamp at byte {at}"));
    }
    if second == 60 {
        return Err("leap second :60 is not allowed (RFC 5424 §6.2.3)".into());
    }
    let date = NaiveDate::from_ymd_opt(year as i32, month, day)
        .ok_or_else(|| format!("invalid date {year:04}-{month:02}-{day:02}"))?;
    let time = NaiveTime::from_hms_nano_opt(hour, minute, second, nanos)
        .ok_or_else(|| format!("invalid time {hour:02}:{minute:02}:{second:02}"))?;
    Ok((
        Rfc3339Stamp {
            local: date.and_time(time),
            offset,
            frac_digits,
        },
        at,
    ))
}

/// Year, month, day, hour, minute and second of `YYYY-MM-DDTHH:MM:SS` when all 19 bytes are
/// in place, read without a loop; `None` for anything else, which
/// [`date_time_field_by_field`] then reads or explains (issue 16: reading the six fields one
/// by one was ~240 instructions an RFC 5424 stamp).
#[inline]
fn date_time_at_once(b: &[u8], strictness: Strictness) -> Option<[u32; 6]> {
    let s: &[u8; 19] = b.get(..19)?.try_into().ok()?;
    let t = s[10] == b'T' || (strictness == Strictness::Lenient && matches!(s[10], b't' | b' '));
    if !(t && s[4] == b'-' && s[7] == b'-' && s[13] == b':' && s[16] == b':') {
        return None;
    }
    let mut d = [0u32; 14];
    for (digit, at) in d
        .iter_mut()
        .zip([0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18])
    {
        let value = s[at].wrapping_sub(b'0');
        if value > 9 {
            return None;
        }
        *digit = u32::from(value);
    }
    let pair = |i: usize| d[i] * 10 + d[i + 1];
    Some([
        pair(0) * 100 + pair(2),
        pair(4),
        pair(6),
        pair(8),
        pair(10),
        pair(12),
    ])
}

/// [`date_time_at_once`] a field at a time, saying which byte is wrong.
fn date_time_field_by_field(b: &[u8], strictness: Strictness) -> Result<[u32; 6], String> {
    let field = |range: std::ops::Range<usize>, what: &str| -> Result<u32, String> {
        b.get(range.clone())
            .and_then(digits_value)
            .ok_or_else(|| format!("expected {what} at byte {} of the timestamp", range.start))
    };
    let year = field(0..4, "a 4-digit year")?;
    expect(b, 4, b'-')?;
    let month = field(5..7, "a 2-digit month")?;
    expect(b, 7, b'-')?;
    let day = field(8..10, "a 2-digit day")?;
    match (b.get(10), strictness) {
        (Some(b'T'), _) | (Some(b't' | b' '), Strictness::Lenient) => {}
        _ => return Err("expected 'T' between date and time at byte 10 of the timestamp".into()),
    }
    let hour = field(11..13, "a 2-digit hour")?;
    expect(b, 13, b':')?;
    let minute = field(14..16, "2-digit minutes")?;
    expect(b, 16, b':')?;
    let second = field(17..19, "2-digit seconds")?;
    Ok([year, month, day, hour, minute, second])
}

/// After `Z`, some senders repeat the offset (`…Z+0000`, `Z+00:00`, `Z+00`): the bytes of a
/// zero offset there, which adds nothing. Any other offset contradicts the `Z`: an error, since a
/// stamp is never shifted silently.
fn redundant_offset(b: &[u8]) -> Result<usize, String> {
    if !matches!(b.first(), Some(b'+' | b'-')) {
        return Ok(0);
    }
    match parse_offset(b) {
        Some((offset, used)) if offset.local_minus_utc() == 0 => Ok(used),
        Some((offset, _)) => Err(format!(
            "UTC offset {offset} after 'Z' contradicts it: write one or the other"
        )),
        None => Err("invalid UTC offset after 'Z': expected +HH:MM, +HHMM or +HH".into()),
    }
}

fn expect(b: &[u8], at: usize, want: u8) -> Result<(), String> {
    if b.get(at) == Some(&want) {
        Ok(())
    } else {
        Err(format!(
            "expected '{}' at byte {at} of the timestamp",
            want as char
        ))
    }
}

/// A BSD stamp (`Mmm dd [yyyy] hh:mm:ss[.frac]`), values not yet checked against a calendar.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BsdStamp {
    pub month: u32,
    pub day: u32,
    pub year: Option<i32>,
    pub hour: u32,
    pub minute: u32,
    pub second: u32,
    pub nanos: u32,
    pub frac_digits: u8,
}

/// Reads a BSD stamp at the start of `b`.
///
/// `None`: nothing stamp-shaped is there (the caller treats the rest as message).
/// `Some(Err)`: it has the shape `Xxx d[d] [yyyy] h[h]:mm:ss` but is no real time (month `Foo`,
/// day 32, hour 25). `Some(Ok)`: the stamp and the bytes used, including a `:` glued to it.
pub fn parse_bsd(b: &[u8]) -> Option<Result<(BsdStamp, usize), String>> {
    match bsd_at_once(b) {
        Some(found) => Some(Ok(found)),
        None => bsd_field_by_field(b),
    }
}

/// The common `Mmm dd hh:mm:ss` (or `Mmm  d hh:mm:ss`) followed by a space or nothing, valid,
/// read without a loop; `None` for anything else, which [`bsd_field_by_field`] then reads or
/// explains (issue 16: ~250 instructions a stamp field by field, and every RFC 3164 line has
/// one).
#[inline]
fn bsd_at_once(b: &[u8]) -> Option<(BsdStamp, usize)> {
    let s: &[u8; 15] = b.get(..15)?.try_into().ok()?;
    if !matches!(b.get(15), None | Some(b' '))
        || s[3] != b' '
        || s[6] != b' '
        || s[9] != b':'
        || s[12] != b':'
    {
        return None;
    }
    let digit = |at: usize| {
        let d = s[at].wrapping_sub(b'0');
        (d <= 9).then_some(u32::from(d))
    };
    let pair = |at: usize| Some(digit(at)? * 10 + digit(at + 1)?);
    let day = match s[4] {
        b' ' => digit(5)?,
        _ => pair(4)?,
    };
    let (hour, minute, second) = (pair(7)?, pair(10)?, pair(13)?);
    let month = month_number([s[0], s[1], s[2]])?;
    if !(1..=31).contains(&day) || hour > 23 || minute > 59 || second > 59 {
        return None;
    }
    Some((
        BsdStamp {
            month,
            day,
            year: None,
            hour,
            minute,
            second,
            nanos: 0,
            frac_digits: 0,
        },
        15,
    ))
}

/// The month of a three-letter name in any case (`Jan`, `JAN`), 1 to 12.
fn month_number(name: [u8; 3]) -> Option<u32> {
    if !name.iter().all(u8::is_ascii_alphabetic) {
        return None;
    }
    // `| 0x20` lower-cases letters, and one match replaces twelve case-insensitive compares
    // (issue 16: 3 % of listen).
    match [name[0] | 0x20, name[1] | 0x20, name[2] | 0x20] {
        [b'j', b'a', b'n'] => Some(1),
        [b'f', b'e', b'b'] => Some(2),
        [b'm', b'a', b'r'] => Some(3),
        [b'a', b'p', b'r'] => Some(4),
        [b'm', b'a', b'y'] => Some(5),
        [b'j', b'u', b'n'] => Some(6),
        [b'j', b'u', b'l'] => Some(7),
        [b'a', b'u', b'g'] => Some(8),
        [b's', b'e', b'p'] => Some(9),
        [b'o', b'c', b't'] => Some(10),
        [b'n', b'o', b'v'] => Some(11),
        [b'd', b'e', b'c'] => Some(12),
        _ => None,
    }
}

/// [`parse_bsd`] a field at a time: every form it takes, and its errors.
fn bsd_field_by_field(b: &[u8]) -> Option<Result<(BsdStamp, usize), String>> {
    // Shape first: three letters (or a full month name), spaces, 1–2 digits, a space.
    if b.len() < 14 || !b[..3].iter().all(u8::is_ascii_alphabetic) {
        return None;
    }
    let month_len = if b[3] == b' ' {
        3
    } else {
        // "March 7 04:05:06" (Elastic's readers take full names too): only a whole month
        // name, in any case; another word is text, not a stamp.
        let len = b
            .iter()
            .take(10)
            .take_while(|c| c.is_ascii_alphabetic())
            .count();
        let full = MONTH_NAMES
            .iter()
            .any(|name| name.len() == len && name.as_bytes().eq_ignore_ascii_case(&b[..len]));
        if !full || b.get(len) != Some(&b' ') || b.len() < len + 11 {
            return None;
        }
        len
    };
    let mut at = month_len + 1;
    if b[at] == b' ' {
        at += 1; // "Nov  2"
    }
    let day_len = b[at..]
        .iter()
        .take(3)
        .take_while(|c| c.is_ascii_digit())
        .count();
    if !(1..=2).contains(&day_len) || b.get(at + day_len) != Some(&b' ') {
        return None;
    }
    let day = digits_value(&b[at..at + day_len])?;
    at += day_len + 1;
    // Optional year (Cisco ASA "Nov 22 2026 10:01:02").
    let mut year = None;
    if b.len() >= at + 5 && b[at..at + 4].iter().all(u8::is_ascii_digit) && b[at + 4] == b' ' {
        year = Some(digits_value(&b[at..at + 4])? as i32);
        at += 5;
    }
    let hour_len = b[at..]
        .iter()
        .take(3)
        .take_while(|c| c.is_ascii_digit())
        .count();
    if !(1..=2).contains(&hour_len) || b.get(at + hour_len) != Some(&b':') {
        return None;
    }
    let hour = digits_value(&b[at..at + hour_len])?;
    at += hour_len + 1;
    let minute = two_digits(b.get(at..at + 2)?)?;
    if b.get(at + 2) != Some(&b':') {
        return None;
    }
    let second = two_digits(b.get(at + 3..at + 5)?)?;
    at += 5;
    // The shape holds from here on: anything wrong is an error, never a silent shift.
    let mut nanos = 0;
    let mut frac_digits = 0;
    if b.get(at) == Some(&b'.') {
        let n = b[at + 1..]
            .iter()
            .take_while(|c| c.is_ascii_digit())
            .count();
        if n == 0 || n > 9 {
            return Some(Err(format!(
                "a fraction of a second needs 1 to 9 digits, found {n}"
            )));
        }
        nanos = digits_value(&b[at + 1..at + 1 + n])? * 10u32.pow(9 - n as u32);
        frac_digits = n as u8;
        at += 1 + n;
    }
    if b.get(at) == Some(&b':') {
        at += 1; // "…19:06:53:" as some Cisco gear writes it
    }
    if !matches!(b.get(at), None | Some(b' ')) {
        return None;
    }
    let month = month_number([b[0], b[1], b[2]]);
    debug_assert_eq!(
        month,
        MONTHS
            .iter()
            .position(|m| m.as_bytes().eq_ignore_ascii_case(&b[..3]))
            .map(|i| i as u32 + 1)
    );
    let Some(month) = month else {
        return Some(Err(format!(
            "unknown month {:?} in the timestamp",
            String::from_utf8_lossy(&b[..3])
        )));
    };
    if !(1..=31).contains(&day) {
        return Some(Err(format!("invalid day {day} in the timestamp")));
    }
    if hour > 23 || minute > 59 || second > 59 {
        return Some(Err(format!(
            "invalid time {hour:02}:{minute:02}:{second:02} in the timestamp"
        )));
    }
    Some(Ok((
        BsdStamp {
            month,
            day,
            year,
            hour,
            minute,
            second,
            nanos,
            frac_digits,
        },
        at,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bsd_stamps_read_at_once_are_those_read_field_by_field() {
        // Every byte replaced by every byte value, with text after the stamp and without.
        for stamp in [
            &b"Nov 22 10:20:39 host"[..],
            b"Nov  2 10:20:39",
            b"dec 31 23:59:59 x",
        ] {
            let want = bsd_field_by_field(stamp).unwrap().unwrap();
            assert_eq!(bsd_at_once(stamp), Some(want), "{stamp:?}");
            for at in 0..stamp.len() {
                for byte in 0..=255u8 {
                    let mut b = stamp.to_vec();
                    b[at] = byte;
                    let fast = bsd_at_once(&b);
                    if let Some(found) = fast {
                        assert_eq!(bsd_field_by_field(&b), Some(Ok(found)), "{at} {byte}");
                    }
                    assert_eq!(parse_bsd(&b), bsd_field_by_field(&b), "{at} {byte}");
                }
            }
        }
    }

    #[test]
    fn the_date_and_time_read_at_once_are_those_read_field_by_field() {
        // Every byte of a stamp replaced by every byte value, in both strictnesses: the
        // reader without a loop must give what the field-by-field one gives, or nothing.
        let stamp = *b"2026-12-02T10:20:39";
        for strictness in [Strictness::Rfc5424, Strictness::Lenient] {
            assert_eq!(
                date_time_at_once(&stamp, strictness),
                Some([2026, 12, 2, 10, 20, 39])
            );
            for at in 0..stamp.len() {
                for byte in 0..=255u8 {
                    let mut b = stamp;
                    b[at] = byte;
                    let slow = date_time_field_by_field(&b, strictness).ok();
                    assert_eq!(date_time_at_once(&b, strictness), slow, "{at} {byte}");
                }
            }
            // Shorter than a whole stamp: only the field-by-field reader says what is missing.
            for len in 0..stamp.len() {
                assert_eq!(date_time_at_once(&stamp[..len], strictness), None);
                assert!(date_time_field_by_field(&stamp[..len], strictness).is_err());
            }
        }
    }
}
