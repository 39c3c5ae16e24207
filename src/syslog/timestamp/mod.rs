//! Time in syslog headers: RFC 3339 stamps (RFC 5424 §6.2.3, strict; RFC 3164 bodies, lenient),
//! BSD stamps (`Mmm dd hh:mm:ss`, RFC 3164 §4.1.2, with the variants real senders write), the
//! zone and year a BSD stamp lacks, and writing `@timestamp` as RFC 3339 UTC.
//!
//! - this file: [`Timestamp`], the instant an event carries, and writing it (the hot path of
//!   every JSON line);
//! - [`zone`]: `--timezone` ([`Zone`]) and [`TimeContext`], which turns a stamp's local time
//!   into UTC (the zone's rules, the year a BSD stamp lacks);
//! - [`parse`]: reading RFC 3339 and BSD stamps off the wire, before any zone is applied.

mod parse;
mod zone;

pub use parse::{BsdStamp, Rfc3339Stamp, Strictness, parse_bsd, parse_rfc3339};
pub use zone::{TimeContext, Zone};

use std::cell::Cell;
use std::fmt;

use chrono::{DateTime, Timelike, Utc};

/// An instant plus how many fraction digits its source had, so that `.003` is written back as
/// `.003` and a stamp without fraction gets none.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timestamp {
    pub utc: DateTime<Utc>,
    /// 0 to 9.
    pub frac_digits: u8,
}

impl Timestamp {
    /// The time now, with microseconds (what `@timestamp` gets when a line has no stamp).
    pub fn now() -> Timestamp {
        Timestamp {
            utc: Utc::now(),
            frac_digits: 6,
        }
    }

    /// Appends `YYYY-MM-DDTHH:MM:SS[.f…]Z`.
    ///
    /// The `YYYY-MM-DDTHH:MM:SS` of the last two seconds written on this thread is kept: one
    /// `event.created` serves a whole batch and log lines come in time order, so most stamps
    /// only copy it and write their fraction (issue 16: the calendar arithmetic was 10 % of
    /// `listen`'s user CPU).
    pub fn write_rfc3339_utc(&self, out: &mut Vec<u8>) {
        let t = self.utc;
        let secs = t.timestamp();
        // Not `nanosecond()`, which goes through chrono's local-time offset arithmetic even
        // for UTC (~30 instructions and a call).
        let nanos = t.timestamp_subsec_nanos();
        // A leap second (nanos >= 10⁹) and years beyond four digits take the slow road.
        let stamp = if nanos < 1_000_000_000 {
            SECONDS.with(|cache| {
                let [a, b] = cache.get();
                if a.0 == secs {
                    Some(a.1)
                } else if b.0 == secs {
                    Some(b.1)
                } else {
                    let stamp = date_time(secs)?;
                    // The newest first: batches and time-ordered lines hit it.
                    cache.set([(secs, stamp), a]);
                    Some(stamp)
                }
            })
        } else {
            None
        };
        match stamp {
            Some(stamp) => out.extend_from_slice(&stamp),
            None => self.write_date_time_slow(out),
        }
        if self.frac_digits > 0 {
            // All nine digits, a copy of fixed length (no `memcpy` call), then cut to as many
            // as the source had: cutting digits off is the division by a power of ten (issue
            // 16: `pow` and a loop over the digits were ~60 instructions a stamp).
            let end = out.len() + 1 + usize::from(self.frac_digits.min(9));
            out.extend_from_slice(&nine_digit_fraction(nanos % 1_000_000_000));
            out.truncate(end);
        }
        out.push(b'Z');
    }

    /// `YYYY-MM-DDTHH:MM:SS` without the cache: leap seconds (chrono's nanos >= 10⁹, written as
    /// the next second number, 60), years outside 0 to 9999.
    fn write_date_time_slow(&self, out: &mut Vec<u8>) {
        let t = self.utc;
        match date_time(t.timestamp()) {
            Some(mut stamp) => {
                let second = u32::from(stamp[17] - b'0') * 10 + u32::from(stamp[18] - b'0');
                put_digits(
                    &mut stamp[17..19],
                    second + u32::from(t.nanosecond() >= 1_000_000_000),
                );
                out.extend_from_slice(&stamp);
            }
            None => out.extend_from_slice(t.format("%+05Y-%m-%dT%H:%M:%S").to_string().as_bytes()),
        }
    }
}

thread_local! {
    /// The two seconds last written by [`Timestamp::write_rfc3339_utc`], newest first.
    static SECONDS: Cell<[(i64, [u8; 19]); 2]> = const { Cell::new([(i64::MIN, [0; 19]); 2]) };
}

/// `YYYY-MM-DDTHH:MM:SS` of a second since the epoch; `None` outside the years 0 to 9999.
fn date_time(secs: i64) -> Option<[u8; 19]> {
    if !(FIRST_SECOND..=LAST_SECOND).contains(&secs) {
        return None;
    }
    // In range, the days and seconds fit u32 once shifted to start at year 0.
    let since_year_0 = (secs - FIRST_SECOND) as u64;
    let (days, second_of_day) = (
        (since_year_0 / 86_400) as u32,
        (since_year_0 % 86_400) as u32,
    );
    let (year, month, day) = civil_from_days_since_year_0(days);
    let pair = |n: u32| DIGIT_PAIRS[n as usize];
    let [y1, y2] = [pair(year / 100), pair(year % 100)];
    let [mo, d] = [pair(month), pair(day)];
    let minutes = second_of_day / 60;
    let [h, mi, se] = [
        pair(minutes / 60),
        pair(minutes % 60),
        pair(second_of_day % 60),
    ];
    Some([
        y1[0], y1[1], y2[0], y2[1], b'-', mo[0], mo[1], b'-', d[0], d[1], b'T', h[0], h[1], b':',
        mi[0], mi[1], b':', se[0], se[1],
    ])
}

/// 0000-01-01T00:00:00Z and 9999-12-31T23:59:59Z as seconds since the epoch.
const FIRST_SECOND: i64 = -DAYS_FROM_YEAR_0_TO_1970 * 86_400;
const LAST_SECOND: i64 = 253_402_300_799;
const DAYS_FROM_YEAR_0_TO_1970: i64 = 719_528;

/// Days since 0000-01-01 (at most 3,652,424: 9999-12-31) to (year, month, day) in the
/// proleptic Gregorian calendar, with Neri and Schneider's 32-bit "Euclidean affine"
/// arithmetic (Software: Practice and Experience 53(4), 2023): multiplications and shifts
/// where Hinnant's `civil_from_days` divides 64-bit signed numbers (issue 16: the calendar
/// was ~150 instructions a line whenever a stamp's second differs from the last two).
fn civil_from_days_since_year_0(days: u32) -> (u32, u32, u32) {
    // Days since -0400-03-01: years counted from March 1st, so that a leap day ends its
    // year, and one 400-year cycle early, so that January and February of year 0 stay above
    // zero.
    let n = days + 146_097 - 60;
    let n1 = 4 * n + 3;
    let century = n1 / 146_097;
    let day_of_century = n1 % 146_097 / 4;
    let n2 = 4 * day_of_century + 3;
    let p2 = 2_939_745u64 * u64::from(n2);
    let year_of_century = (p2 >> 32) as u32;
    let day_of_year = (p2 as u32) / 2_939_745 / 4;
    let n3 = 2_141 * day_of_year + 197_913;
    let month = n3 >> 16;
    let day = (n3 & 0xFFFF) / 2_141 + 1;
    let january_or_february = u32::from(day_of_year >= 306);
    let year = 100 * century + year_of_century + january_or_february - 400;
    (year, month - 12 * january_or_february, day)
}

/// `.NNNNNNNNN`: nanoseconds (below 10⁹) as a fraction of a second, zero-padded.
fn nine_digit_fraction(nanos: u32) -> [u8; 10] {
    let pair = |n: u32| DIGIT_PAIRS[n as usize % 100];
    let (first, rest) = (nanos / 100_000_000, nanos % 100_000_000);
    let [a, b, c, d] = [
        pair(rest / 1_000_000),
        pair(rest / 10_000),
        pair(rest / 100),
        pair(rest),
    ];
    [
        b'.',
        b'0' + first as u8,
        a[0],
        a[1],
        b[0],
        b[1],
        c[0],
        c[1],
        d[0],
        d[1],
    ]
}

/// "00" to "99", so that two digits cost one division (also the JSON writer's numbers).
pub(crate) static DIGIT_PAIRS: [[u8; 2]; 100] = {
    let mut table = [[0u8; 2]; 100];
    let mut i = 0;
    while i < 100 {
        table[i] = [b'0' + (i / 10) as u8, b'0' + (i % 10) as u8];
        i += 1;
    }
    table
};

/// Writes `n` zero-padded into `slot` (its length is the width).
fn put_digits(slot: &mut [u8], mut n: u32) {
    let mut end = slot.len();
    while end >= 2 {
        slot[end - 2..end].copy_from_slice(&DIGIT_PAIRS[(n % 100) as usize]);
        n /= 100;
        end -= 2;
    }
    if end == 1 {
        slot[0] = b'0' + (n % 10) as u8;
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut out = Vec::with_capacity(32);
        self.write_rfc3339_utc(&mut out);
        f.write_str(std::str::from_utf8(&out).expect("ASCII"))
    }
}
#[cfg(test)]
mod tests {
    #[test]
    fn every_day_of_years_0_to_9999_is_chronos_date() {
        use chrono::{Datelike, NaiveDate};
        let mut date = NaiveDate::from_ymd_opt(0, 1, 1).unwrap();
        for days in 0..=3_652_424u32 {
            let want = (date.year() as u32, date.month(), date.day());
            assert_eq!(
                super::civil_from_days_since_year_0(days),
                want,
                "day {days}"
            );
            if days < 3_652_424 {
                date = date.succ_opt().unwrap();
            }
        }
        assert_eq!(date, NaiveDate::from_ymd_opt(9999, 12, 31).unwrap());
    }

    #[test]
    fn fractions_keep_their_leading_zeros() {
        for (nanos, want) in [
            (0, ".000000000"),
            (1, ".000000001"),
            (5_000_000, ".005000000"),
            (123_456_789, ".123456789"),
            (999_999_999, ".999999999"),
        ] {
            assert_eq!(
                &super::nine_digit_fraction(nanos),
                want.as_bytes(),
                "{nanos}"
            );
        }
    }

    #[test]
    fn date_time_writes_the_first_and_last_seconds_and_refuses_beyond() {
        let text = |secs| super::date_time(secs).map(|s| String::from_utf8(s.to_vec()).unwrap());
        // Seconds checked with `date -u -d @…`.
        for (secs, want) in [
            (-62_167_219_200, "0000-01-01T00:00:00"),
            (-62_162_035_201, "0000-02-29T23:59:59"),
            (0, "1970-01-01T00:00:00"),
            (951_782_400, "2000-02-29T00:00:00"),
            (1_798_761_599, "2026-12-31T23:59:59"),
            (253_402_300_799, "9999-12-31T23:59:59"),
        ] {
            assert_eq!(text(secs).as_deref(), Some(want), "{secs}");
        }
        assert_eq!(text(-62_167_219_201), None);
        assert_eq!(text(253_402_300_800), None);
    }

    use super::parse::*;
    use super::zone::*;
    use super::*;
    use chrono::FixedOffset;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn written(ts: Timestamp) -> String {
        ts.to_string()
    }

    #[test]
    fn rfc5424_examples_parse_with_their_offsets() {
        // RFC 5424 §6.2.3.1 examples 1, 2, 4, 5.
        let cases = [
            ("1985-04-12T23:20:50.52Z", "1985-04-12T23:20:50.52Z"),
            ("1985-04-12T19:20:50.52-04:00", "1985-04-12T23:20:50.52Z"),
            ("2003-10-11T22:14:15.003Z", "2003-10-11T22:14:15.003Z"),
            (
                "2003-08-24T05:14:15.000003-07:00",
                "2003-08-24T12:14:15.000003Z",
            ),
        ];
        for (input, want) in cases {
            let (stamp, used) = parse_rfc3339(input.as_bytes(), Strictness::Rfc5424).unwrap();
            assert_eq!(used, input.len());
            let ts = TimeContext::default().resolve_rfc3339(&stamp).unwrap();
            assert_eq!(written(ts), want);
        }
    }

    #[test]
    fn rfc5424_invalid_examples_are_errors() {
        // RFC 5424 §6.2.3.2: lower-case T/Z and more than 6 digits are invalid there; we accept
        // up to 9 digits (Windows senders) but not the rest.
        for bad in [
            "2003-08-24T05:14:15.000000003-07:00x",
            "2003-10-11t22:14:15.003Z",
            "2003-10-11T22:14:15.003z",
            "2026-02-30T10:00:00Z",
            "2026-13-01T10:00:00Z",
            "2026-06-30T23:59:60Z",
            "2026-06-30T10:00:00+24:00",
            "2026-06-30T10:00:00",
            "2026-06-30T10:00:00+0200",
            "2026-06-30T10:00:00.1234567890Z",
        ] {
            assert!(
                parse_rfc3339(bad.as_bytes(), Strictness::Rfc5424).is_err(),
                "{bad}"
            );
        }
    }

    #[test]
    fn written_stamps_agree_with_chrono_over_four_centuries() {
        // Every 7 days 13 hours from 1800 to 2200, plus the edges of the fast path.
        let mut t = utc("1800-01-01T00:00:00Z");
        let end = utc("2200-01-01T00:00:00Z");
        while t < end {
            let ts = Timestamp {
                utc: t,
                frac_digits: 0,
            };
            assert_eq!(ts.to_string(), t.format("%Y-%m-%dT%H:%M:%SZ").to_string());
            t += chrono::Duration::seconds(7 * 86_400 + 13 * 3600 + 17);
        }
        for s in [
            "0000-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
            "2024-02-29T12:00:00Z",
            "1969-12-31T23:59:59Z",
        ] {
            assert_eq!(
                Timestamp {
                    utc: utc(s),
                    frac_digits: 0
                }
                .to_string(),
                s
            );
        }
    }

    #[test]
    fn digits_value_reads_only_all_digit_text() {
        assert_eq!(digits_value(b"0"), Some(0));
        assert_eq!(digits_value(b"07"), Some(7));
        assert_eq!(digits_value(b"2026"), Some(2026));
        assert_eq!(digits_value(b"123456789"), Some(123_456_789));
        // '/' and ':' are the bytes either side of the digits.
        for bad in [&b""[..], b"/", b":", b"1a", b" 1", b"1 ", b"-1", b"\xd9"] {
            assert_eq!(digits_value(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn fixed_zones_shift_by_their_offset_on_both_sides_of_dst_dates() {
        // The fixed-offset shortcut must agree with chrono's own conversion at any date.
        let naive = |s: &str| s.parse::<chrono::NaiveDateTime>().unwrap();
        for (zone, local, want) in [
            ("UTC", "2026-03-29T02:30:00", "2026-03-29T02:30:00Z"),
            ("+02:00", "2026-10-25T02:30:00", "2026-10-25T00:30:00Z"),
            ("-0530", "2026-12-31T23:59:59", "2027-01-01T05:29:59Z"),
        ] {
            let ctx = TimeContext::new(zone.parse().unwrap(), None);
            let got = ctx.local_to_utc(naive(local)).unwrap();
            assert_eq!(got, utc(want), "{zone} {local}");
            // Twice: the same answer whatever was converted before.
            assert_eq!(ctx.local_to_utc(naive(local)).unwrap(), got);
        }
    }

    #[test]
    fn nine_fraction_digits_are_kept() {
        let (stamp, _) =
            parse_rfc3339(b"2026-06-30T10:00:00.123456789Z", Strictness::Rfc5424).unwrap();
        let ts = TimeContext::default().resolve_rfc3339(&stamp).unwrap();
        assert_eq!(written(ts), "2026-06-30T10:00:00.123456789Z");
    }

    #[test]
    fn lenient_rfc3339_takes_compact_offsets_and_no_offset() {
        let (stamp, _) =
            parse_rfc3339(b"2026-11-22T10:01:02+0100 host", Strictness::Lenient).unwrap();
        assert_eq!(stamp.offset.unwrap().local_minus_utc(), 3600);
        let ctx = TimeContext::new("Europe/Berlin".parse().unwrap(), None);
        let (stamp, used) =
            parse_rfc3339(b"2026-07-01T12:00:00 host", Strictness::Lenient).unwrap();
        assert_eq!(used, 19);
        assert_eq!(
            ctx.resolve_rfc3339(&stamp).unwrap().utc,
            utc("2026-07-01T10:00:00Z")
        );
    }

    #[test]
    fn issue_15_redundant_offset_after_z_and_a_space_before_the_time() {
        // See: #15. Elastic's syslog input reads both.
        for input in [
            "2024-05-01T10:00:00.5Z+0000 host",
            "2024-05-01T10:00:00.5Z+00:00 host",
            "2024-05-01T10:00:00.5z-00 host",
        ] {
            let (stamp, used) = parse_rfc3339(input.as_bytes(), Strictness::Lenient).unwrap();
            assert_eq!(&input[used..], " host", "{input}");
            let ts = TimeContext::default().resolve_rfc3339(&stamp).unwrap();
            assert_eq!(written(ts), "2024-05-01T10:00:00.5Z");
        }
        let e = parse_rfc3339(b"2024-05-01T10:00:00Z+01:00", Strictness::Lenient).unwrap_err();
        assert!(e.contains("contradicts"), "{e}");
        // RFC 5424 stays strict.
        assert!(parse_rfc3339(b"2024-05-01T10:00:00Z+00:00", Strictness::Rfc5424).is_err());
        assert!(parse_rfc3339(b"2024-05-01 10:00:00Z", Strictness::Rfc5424).is_err());
        let (stamp, used) =
            parse_rfc3339(b"2024-05-01 10:00:00 host", Strictness::Lenient).unwrap();
        assert_eq!(used, 19);
        assert_eq!(stamp.local.to_string(), "2024-05-01 10:00:00");
    }

    #[test]
    fn issue_15_full_month_names_in_any_case() {
        // See: #15.
        for (input, month, day, used) in [
            ("March 7 04:05:06 fw01", 3, 7, 16),
            ("MARCH  7 04:05:06 fw01", 3, 7, 17),
            ("september 30 04:05:06 h", 9, 30, 21),
            ("May 7 04:05:06 h", 5, 7, 14),
        ] {
            let (stamp, n) = parse_bsd(input.as_bytes()).unwrap().unwrap();
            assert_eq!((stamp.month, stamp.day, n), (month, day, used), "{input}");
        }
        // Other words are text, as before: no stamp and no error.
        assert!(parse_bsd(b"Marchy 7 04:05:06 h").is_none());
        assert!(parse_bsd(b"Sept 7 04:05:06 h").is_none());
    }

    #[test]
    fn bsd_stamp_variants() {
        for (input, month, day, year, frac) in [
            ("Oct 11 22:14:15 host", 10, 11, None, 0),
            ("Nov  2 01:02:03 host", 11, 2, None, 0),
            ("Nov 2 01:02:03 host", 11, 2, None, 0),
            ("Sep 01 01:02:03 host", 9, 1, None, 0),
            ("OCT 11 22:14:15 host", 10, 11, None, 0),
            ("Oct 11 22:14:15.317 host", 10, 11, None, 3),
            ("Oct 11 2025 22:14:15 host", 10, 11, Some(2025), 0),
            ("Oct 11 22:14:15: host", 10, 11, None, 0),
            ("Oct 11 22:14:15", 10, 11, None, 0),
        ] {
            let (stamp, _) = parse_bsd(input.as_bytes()).unwrap().unwrap();
            assert_eq!(
                (stamp.month, stamp.day, stamp.year, stamp.frac_digits),
                (month, day, year, frac),
                "{input}"
            );
        }
    }

    #[test]
    fn stamp_shaped_nonsense_is_an_error_and_other_text_is_not_a_stamp() {
        for bad in [
            "Foo 11 22:14:15 h",
            "Mar 32 22:14:15 h",
            "Mar 11 25:15:02 h",
            "Mar 11 22:61:02 h",
        ] {
            assert!(parse_bsd(bad.as_bytes()).unwrap().is_err(), "{bad}");
        }
        for not_stamp in [
            "date=2026-11-22 time=10:00:00",
            "backup finished ok",
            "2231: *Mar 1 18:46:11",
        ] {
            assert!(parse_bsd(not_stamp.as_bytes()).is_none(), "{not_stamp}");
        }
    }

    #[test]
    fn bsd_year_is_guessed_back_across_new_year() {
        let now = utc("2027-01-01T00:30:00Z");
        let ctx =
            TimeContext::new(Zone::Fixed(FixedOffset::east_opt(0).unwrap()), None).with_now(now);
        let (dec, _) = parse_bsd(b"Dec 31 23:59:00").unwrap().unwrap();
        assert_eq!(
            ctx.resolve_bsd(&dec).unwrap().utc,
            utc("2026-12-31T23:59:00Z")
        );
        let (jan, _) = parse_bsd(b"Jan  1 00:10:00").unwrap().unwrap();
        assert_eq!(
            ctx.resolve_bsd(&jan).unwrap().utc,
            utc("2027-01-01T00:10:00Z")
        );
        // Within one day ahead stays in this year (clock skew).
        let (soon, _) = parse_bsd(b"Jan  1 20:00:00").unwrap().unwrap();
        assert_eq!(
            ctx.resolve_bsd(&soon).unwrap().utc,
            utc("2027-01-01T20:00:00Z")
        );
    }

    #[test]
    fn bsd_year_guess_takes_exactly_one_day_ahead_as_this_year() {
        // now + 1 day is 2026-06-02T00:00:00.5Z: a stamp up to it stays in 2026.
        let now = utc("2026-06-01T00:00:00.5Z");
        let ctx = TimeContext::new("UTC".parse().unwrap(), None).with_now(now);
        for (stamp, want) in [
            (&b"Jun  2 00:00:00"[..], "2026-06-02T00:00:00Z"),
            (b"Jun  2 00:00:00.5", "2026-06-02T00:00:00.5Z"),
            (
                b"Jun  2 00:00:00.500000001",
                "2025-06-02T00:00:00.500000001Z",
            ),
            (b"Jun  2 00:00:01", "2025-06-02T00:00:01Z"),
            (b"May 31 23:59:59", "2026-05-31T23:59:59Z"),
        ] {
            let (bsd, _) = parse_bsd(stamp).unwrap().unwrap();
            assert_eq!(
                ctx.resolve_bsd(&bsd).unwrap().utc,
                utc(want),
                "{}",
                stamp.escape_ascii()
            );
        }
    }

    #[test]
    fn explicit_year_wins_and_feb_29_of_a_common_year_is_an_error() {
        let ctx = TimeContext::new(Zone::Fixed(FixedOffset::east_opt(0).unwrap()), Some(2025));
        let (feb29, _) = parse_bsd(b"Feb 29 10:00:00").unwrap().unwrap();
        assert!(
            ctx.resolve_bsd(&feb29)
                .unwrap_err()
                .contains("does not exist")
        );
        let ctx = TimeContext::new(Zone::Fixed(FixedOffset::east_opt(0).unwrap()), Some(2024));
        assert_eq!(
            ctx.resolve_bsd(&feb29).unwrap().utc,
            utc("2024-02-29T10:00:00Z")
        );
    }

    #[test]
    fn europe_berlin_dst_is_applied_and_the_gap_is_an_error() {
        let ctx = TimeContext::new("Europe/Berlin".parse().unwrap(), Some(2026));
        let at = |s: &str| ctx.resolve_bsd(&parse_bsd(s.as_bytes()).unwrap().unwrap().0);
        assert_eq!(
            at("Mar 29 01:30:00").unwrap().utc,
            utc("2026-03-29T00:30:00Z")
        );
        assert!(at("Mar 29 02:30:00").unwrap_err().contains("DST gap"));
        assert_eq!(
            at("Mar 29 03:30:00").unwrap().utc,
            utc("2026-03-29T01:30:00Z")
        );
        // 25 Oct 2026 02:30 happens twice: the earlier (summer time) instant is taken.
        assert_eq!(
            at("Oct 25 02:30:00").unwrap().utc,
            utc("2026-10-25T00:30:00Z")
        );
        assert_eq!(
            at("Oct 25 03:30:00").unwrap().utc,
            utc("2026-10-25T02:30:00Z")
        );
        // Same hour twice goes through the cache and must give the same answer.
        assert_eq!(
            at("Jul  1 12:00:00").unwrap().utc,
            utc("2026-07-01T10:00:00Z")
        );
        assert_eq!(
            at("Jul  1 12:59:59").unwrap().utc,
            utc("2026-07-01T10:59:59Z")
        );
    }

    #[test]
    fn new_york_dst_boundaries() {
        let ctx = TimeContext::new("America/New_York".parse().unwrap(), Some(2026));
        let at = |s: &str| {
            ctx.resolve_bsd(&parse_bsd(s.as_bytes()).unwrap().unwrap().0)
                .unwrap()
                .utc
        };
        assert_eq!(at("Mar  8 01:59:59"), utc("2026-03-08T06:59:59Z"));
        assert_eq!(at("Mar  8 03:00:00"), utc("2026-03-08T07:00:00Z"));
        assert_eq!(at("Nov  1 00:59:59"), utc("2026-11-01T04:59:59Z"));
    }

    #[test]
    fn zone_parsing_names_what_is_accepted() {
        assert_eq!(
            "+02:00".parse::<Zone>().unwrap(),
            Zone::Fixed(FixedOffset::east_opt(7200).unwrap())
        );
        assert_eq!(
            "-0530".parse::<Zone>().unwrap(),
            Zone::Fixed(FixedOffset::west_opt(19800).unwrap())
        );
        assert!("Mars/Olympus".parse::<Zone>().unwrap_err().contains("IANA"));
        assert!("+25:00".parse::<Zone>().unwrap_err().contains("+HH:MM"));
    }
}
