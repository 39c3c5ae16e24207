//! What both header writers share: making a header field safe to send (printable ASCII, bounded
//! length) and writing a time in a zone.

use chrono::{Datelike, NaiveDateTime, Offset, TimeZone, Timelike};

use crate::syslog::timestamp::{Timestamp, Zone};

/// Which bytes a header field may carry as they are; any other character becomes `_`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Charset {
    /// RFC 5424 PRINTUSASCII (`!` to `~`): HOSTNAME, APP-NAME, PROCID, MSGID.
    PrintUsAscii,
    /// RFC 5424 §6.3.2 SD-NAME: PRINTUSASCII except `=`, `]` and `"`.
    SdName,
    /// RFC 3164 HOSTNAME, TAG and PID: PRINTUSASCII except `[` and `]`, which would make the
    /// parser read a PID where there is none (see `rfc3164.rs`).
    Bsd,
}

impl Charset {
    pub fn allows(self, b: u8) -> bool {
        let printable = (0x21..=0x7e).contains(&b);
        match self {
            Charset::PrintUsAscii => printable,
            Charset::SdName => printable && !matches!(b, b'=' | b']' | b'"'),
            Charset::Bsd => printable && !matches!(b, b'[' | b']'),
        }
    }
}

/// RFC 5424 §6: HOSTNAME is at most 255 characters (RFC 3164 takes the same limit here).
pub const MAX_HOSTNAME_LEN: usize = 255;
/// RFC 5424 §6: APP-NAME, 48. Also the RFC 3164 TAG: RFC 3164 §4.1.3 says 32, but rsyslog
/// and our parser take longer tags, and a message converted between the formats keeps its name.
pub const MAX_APPNAME_LEN: usize = 48;
/// RFC 5424 §6: PROCID, 128.
pub const MAX_PROCID_LEN: usize = 128;
/// RFC 5424 §6: MSGID, 32.
pub const MAX_MSGID_LEN: usize = 32;
/// RFC 5424 §6.3.2: SD-ID and PARAM-NAME, 32.
pub const MAX_SD_NAME_LEN: usize = 32;

/// The bytes of `value` as they are sent: each character the charset does not allow (space,
/// control, non-ASCII, an invalid UTF-8 sequence) becomes one `_`, and the result is cut to
/// `max` bytes. Never allocates.
pub fn sanitised(value: &[u8], charset: Charset, max: usize) -> impl Iterator<Item = u8> {
    value
        .utf8_chunks()
        .flat_map(move |chunk| {
            let valid = chunk.valid().chars().map(move |c| match u8::try_from(c) {
                Ok(b) if charset.allows(b) => b,
                _ => b'_',
            });
            valid.chain((!chunk.invalid().is_empty()).then_some(b'_'))
        })
        .take(max)
}

/// Appends `value` sanitised (see [`sanitised`]); returns how many bytes were written.
pub fn write_sanitised(out: &mut Vec<u8>, value: &[u8], charset: Charset, max: usize) -> usize {
    if value.len() <= max && value.iter().all(|&b| charset.allows(b)) {
        out.extend_from_slice(value);
        return value.len();
    }
    let start = out.len();
    out.extend(sanitised(value, charset, max));
    out.len() - start
}

/// Appends `<PRI>`.
pub fn write_pri(out: &mut Vec<u8>, pri: u8) {
    out.push(b'<');
    out.extend_from_slice(itoa::Buffer::new().format(pri).as_bytes());
    out.push(b'>');
}

/// The wall time of `ts` in `zone`, and that zone's offset from UTC in seconds.
pub fn local_time(ts: &Timestamp, zone: &Zone) -> (NaiveDateTime, i32) {
    let utc = ts.utc.naive_utc();
    let offset = match zone {
        Zone::Local => chrono::Local
            .offset_from_utc_datetime(&utc)
            .local_minus_utc(),
        Zone::Fixed(offset) => offset.local_minus_utc(),
        Zone::Named(tz) => tz.offset_from_utc_datetime(&utc).fix().local_minus_utc(),
    };
    (utc + chrono::Duration::seconds(i64::from(offset)), offset)
}

/// Appends an RFC 3339 time in `zone` (RFC 5424 §6.2.3): `YYYY-MM-DDTHH:MM:SS[.f]` and `Z` for
/// offset zero or `±HH:MM`. Keeps the stamp's fraction digits, at most 6 (`TIME-SECFRAC`).
/// Returns false, writing nothing, for a year RFC 3339 cannot write (before 0 or after 9999).
pub fn write_rfc3339(out: &mut Vec<u8>, ts: &Timestamp, zone: &Zone) -> bool {
    let (local, offset) = local_time(ts, zone);
    let Ok(year @ 0..=9999) = u32::try_from(local.year()) else {
        return false;
    };
    push_digits(out, year, 4);
    out.push(b'-');
    push_digits(out, local.month(), 2);
    out.push(b'-');
    push_digits(out, local.day(), 2);
    out.push(b'T');
    push_hms(out, &local);
    let digits = u32::from(ts.frac_digits.min(6));
    if digits > 0 {
        out.push(b'.');
        // A leap second is carried as nanoseconds ≥ 10⁹ on second 59.
        let nanos = local.nanosecond() % 1_000_000_000;
        push_digits(out, nanos / 10u32.pow(9 - digits), digits as usize);
    }
    if offset == 0 {
        out.push(b'Z');
    } else {
        out.push(if offset < 0 { b'-' } else { b'+' });
        let minutes = offset.unsigned_abs() / 60;
        push_digits(out, minutes / 60, 2);
        out.push(b':');
        push_digits(out, minutes % 60, 2);
    }
    true
}

const MONTHS: [&[u8; 3]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

/// Appends a BSD stamp in `zone` (RFC 3164 §4.1.2): `Mmm dd hh:mm:ss`, the day padded with a
/// space (`Oct  1`), no year, no fraction, as logger(1) and glibc write it.
pub fn write_bsd(out: &mut Vec<u8>, ts: &Timestamp, zone: &Zone) {
    let (local, _) = local_time(ts, zone);
    out.extend_from_slice(MONTHS[local.month0() as usize]);
    out.push(b' ');
    let day = local.day();
    out.push(if day < 10 {
        b' '
    } else {
        b'0' + (day / 10) as u8
    });
    out.push(b'0' + (day % 10) as u8);
    out.push(b' ');
    push_hms(out, &local);
}

fn push_hms(out: &mut Vec<u8>, t: &NaiveDateTime) {
    push_digits(out, t.hour(), 2);
    out.push(b':');
    push_digits(out, t.minute(), 2);
    out.push(b':');
    push_digits(out, t.second(), 2);
}

fn push_digits(out: &mut Vec<u8>, mut n: u32, width: usize) {
    let start = out.len();
    out.resize(start + width, b'0');
    for slot in out[start..].iter_mut().rev() {
        *slot = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{DateTime, FixedOffset, Utc};

    fn ts(s: &str, frac_digits: u8) -> Timestamp {
        Timestamp {
            utc: s.parse::<DateTime<Utc>>().unwrap(),
            frac_digits,
        }
    }

    fn fixed(seconds: i32) -> Zone {
        Zone::Fixed(FixedOffset::east_opt(seconds).unwrap())
    }

    fn text(f: impl FnOnce(&mut Vec<u8>)) -> String {
        let mut out = Vec::new();
        f(&mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn sanitising_replaces_each_bad_character_with_one_underscore() {
        let s = |v: &[u8], c| text(|o| _ = write_sanitised(o, v, c, 10));
        assert_eq!(s(b"web 01", Charset::PrintUsAscii), "web_01");
        assert_eq!(s("café\t".as_bytes(), Charset::PrintUsAscii), "caf__");
        assert_eq!(s(b"a\xffb", Charset::PrintUsAscii), "a_b");
        assert_eq!(s(b"x=\"y]", Charset::SdName), "x__y_");
        assert_eq!(s(b"app[1]", Charset::Bsd), "app_1_");
        assert_eq!(s(b"0123456789abc", Charset::PrintUsAscii), "0123456789");
        assert_eq!(s("ééééééééééé".as_bytes(), Charset::Bsd), "__________");
    }

    #[test]
    fn rfc3339_keeps_up_to_six_fraction_digits_and_writes_the_offset() {
        let t = ts("2003-08-24T12:14:15.000003Z", 6);
        assert_eq!(
            text(|o| assert!(write_rfc3339(o, &t, &fixed(-7 * 3600)))),
            "2003-08-24T05:14:15.000003-07:00"
        );
        let t = ts("2003-10-11T22:14:15.003Z", 3);
        assert_eq!(
            text(|o| _ = write_rfc3339(o, &t, &fixed(0))),
            "2003-10-11T22:14:15.003Z"
        );
        let t = ts("2026-11-22T10:00:00.123456789Z", 9);
        assert_eq!(
            text(|o| _ = write_rfc3339(o, &t, &fixed(5 * 3600 + 1800))),
            "2026-11-22T15:30:00.123456+05:30"
        );
        let t = ts("2026-11-22T10:00:00Z", 0);
        assert_eq!(
            text(|o| _ = write_rfc3339(o, &t, &"Europe/Berlin".parse().unwrap())),
            "2026-11-22T11:00:00+01:00"
        );
    }

    #[test]
    fn bsd_stamp_pads_the_day_with_a_space_and_uses_the_zone() {
        let t = ts("2026-10-01T22:14:15.5Z", 1);
        assert_eq!(text(|o| write_bsd(o, &t, &fixed(0))), "Oct  1 22:14:15");
        assert_eq!(text(|o| write_bsd(o, &t, &fixed(3600))), "Oct  1 23:14:15");
        assert_eq!(
            text(|o| write_bsd(o, &t, &fixed(2 * 3600))),
            "Oct  2 00:14:15"
        );
        let t = ts("2026-07-01T10:00:00Z", 0);
        assert_eq!(
            text(|o| write_bsd(o, &t, &"America/New_York".parse().unwrap())),
            "Jul  1 06:00:00"
        );
    }
}
