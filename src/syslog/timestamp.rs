//! Time in syslog headers: RFC 3339 stamps (RFC 5424 §6.2.3, strict; RFC 3164 bodies, lenient),
//! BSD stamps (`Mmm dd hh:mm:ss`, RFC 3164 §4.1.2, with the variants real senders write), the
//! zone and year a BSD stamp lacks, and writing `@timestamp` as RFC 3339 UTC.

use std::cell::Cell;
use std::fmt;
use std::str::FromStr;

use chrono::{
    DateTime, Datelike, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset,
    TimeZone, Timelike, Utc,
};

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
        let nanos = t.nanosecond();
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
            let digits = usize::from(self.frac_digits.min(9));
            let mut fraction = *b".000000000";
            put_digits(
                &mut fraction[1..=digits],
                (nanos % 1_000_000_000) / 10u32.pow(9 - digits as u32),
            );
            out.extend_from_slice(&fraction[..=digits]);
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
    let (days, second_of_day) = (secs.div_euclid(86_400), secs.rem_euclid(86_400) as u32);
    let (year, month, day) = civil_from_days(days);
    if !(0..=9999).contains(&year) {
        return None;
    }
    let mut stamp = *b"0000-00-00T00:00:00";
    put_digits(&mut stamp[0..4], year as u32);
    put_digits(&mut stamp[5..7], month);
    put_digits(&mut stamp[8..10], day);
    put_digits(&mut stamp[11..13], second_of_day / 3600);
    put_digits(&mut stamp[14..16], second_of_day / 60 % 60);
    put_digits(&mut stamp[17..19], second_of_day % 60);
    Some(stamp)
}

/// Days since 1970-01-01 to (year, month, day) in the proleptic Gregorian calendar
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// "00" to "99", so that two digits cost one division.
static PAIRS: [[u8; 2]; 100] = {
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
        slot[end - 2..end].copy_from_slice(&PAIRS[(n % 100) as usize]);
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

/// The zone in which stamps without an offset are read (`--timezone`).
#[derive(Clone, Debug, PartialEq)]
pub enum Zone {
    /// The machine's zone (`TZ` honoured).
    Local,
    Fixed(FixedOffset),
    Named(chrono_tz::Tz),
}

impl FromStr for Zone {
    type Err = String;

    /// `local`, `UTC`, `Z`, `+02:00`, `-0530`, or an IANA name such as `Europe/Berlin`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "local" | "Local" => return Ok(Zone::Local),
            "UTC" | "utc" | "Z" => {
                return Ok(Zone::Fixed(FixedOffset::east_opt(0).expect("0 is valid")));
            }
            _ => {}
        }
        if s.starts_with(['+', '-']) {
            return parse_offset(s.as_bytes())
                .filter(|&(_, used)| used == s.len())
                .map(|(offset, _)| Zone::Fixed(offset))
                .ok_or_else(|| {
                    format!("invalid zone offset {s:?}: write it as +HH:MM or -HHMM, e.g. +02:00")
                });
        }
        s.parse::<chrono_tz::Tz>().map(Zone::Named).map_err(|_| {
            format!("unknown time zone {s:?}: use an IANA name such as Europe/Berlin, an offset such as +02:00, UTC or local")
        })
    }
}

/// Parses `Z`-less offsets: `+HH:MM`, `+HHMM` or `+HH`. Returns the offset and bytes used.
fn parse_offset(b: &[u8]) -> Option<(FixedOffset, usize)> {
    let sign = match b.first()? {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let hours = two_digits(b.get(1..3)?)?;
    let (minutes, used) = match b.get(3) {
        Some(b':') => (two_digits(b.get(4..6)?)?, 6),
        Some(c) if c.is_ascii_digit() => (two_digits(b.get(3..5)?)?, 5),
        _ => (0, 3),
    };
    if hours > 23 || minutes > 59 {
        return None;
    }
    FixedOffset::east_opt(sign * (hours as i32 * 3600 + minutes as i32 * 60)).map(|o| (o, used))
}

fn two_digits(b: &[u8]) -> Option<u32> {
    match b {
        [a @ b'0'..=b'9', c @ b'0'..=b'9'] => Some(u32::from(a - b'0') * 10 + u32::from(c - b'0')),
        _ => None,
    }
}

fn digits_value(b: &[u8]) -> Option<u32> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
}

/// What the zone and year of BSD stamps are, and "now" for the year guess.
#[derive(Clone, Debug)]
pub struct TimeContext {
    zone: Zone,
    year: Option<i32>,
    now: Option<DateTime<Utc>>,
    /// Last local hour converted and its offset, valid when no transition falls in that hour:
    /// converting through chrono-tz per line would otherwise dominate RFC 3164 parsing.
    hour_cache: Cell<Option<(NaiveDateTime, i32)>>,
}

impl Default for TimeContext {
    fn default() -> Self {
        TimeContext::new(Zone::Local, None)
    }
}

impl TimeContext {
    /// `year`: the `--year` given, or `None` to guess (the current year, or the previous one for
    /// a stamp that would lie more than a day in the future).
    pub fn new(zone: Zone, year: Option<i32>) -> Self {
        TimeContext {
            zone,
            year,
            now: None,
            hour_cache: Cell::new(None),
        }
    }

    /// Fixes "now" (for tests of the year guess).
    pub fn with_now(mut self, now: DateTime<Utc>) -> Self {
        self.now = Some(now);
        self
    }

    fn now(&self) -> DateTime<Utc> {
        self.now.unwrap_or_else(Utc::now)
    }

    /// Converts wall time in the context's zone to UTC. A wall time that does not exist (in a
    /// DST gap) is an error; an ambiguous one (the repeated hour) takes the earlier instant.
    pub fn local_to_utc(&self, naive: NaiveDateTime) -> Result<DateTime<Utc>, String> {
        let hour = naive
            .with_minute(0)
            .and_then(|t| t.with_second(0))
            .and_then(|t| t.with_nanosecond(0))
            .expect("zero is a valid minute, second and nanosecond");
        if let Some((cached_hour, offset)) = self.hour_cache.get()
            && cached_hour == hour
        {
            return Ok(DateTime::from_naive_utc_and_offset(
                naive - chrono::Duration::seconds(i64::from(offset)),
                Utc,
            ));
        }
        let offset_at = |t: NaiveDateTime| -> LocalResult<i32> {
            match &self.zone {
                Zone::Local => chrono::Local
                    .offset_from_local_datetime(&t)
                    .map(|o| o.fix().local_minus_utc()),
                Zone::Fixed(o) => LocalResult::Single(o.local_minus_utc()),
                Zone::Named(tz) => tz
                    .offset_from_local_datetime(&t)
                    .map(|o| o.fix().local_minus_utc()),
            }
        };
        let offset = match offset_at(naive) {
            LocalResult::Single(o) => o,
            LocalResult::Ambiguous(earlier, _) => earlier,
            LocalResult::None => {
                return Err(format!(
                    "local time {naive} does not exist in zone {} (a DST gap)",
                    self.zone_name()
                ));
            }
        };
        let hour_end = hour + chrono::Duration::seconds(3599);
        if offset_at(hour) == LocalResult::Single(offset)
            && offset_at(hour_end) == LocalResult::Single(offset)
        {
            self.hour_cache.set(Some((hour, offset)));
        }
        Ok(DateTime::from_naive_utc_and_offset(
            naive - chrono::Duration::seconds(i64::from(offset)),
            Utc,
        ))
    }

    fn zone_name(&self) -> String {
        match &self.zone {
            Zone::Local => "local".into(),
            Zone::Fixed(o) => o.to_string(),
            Zone::Named(tz) => tz.name().into(),
        }
    }

    /// Resolves a BSD stamp: its own year if it has one, else `--year`, else the guess.
    pub fn resolve_bsd(&self, stamp: &BsdStamp) -> Result<Timestamp, String> {
        let time =
            NaiveTime::from_hms_nano_opt(stamp.hour, stamp.minute, stamp.second, stamp.nanos)
                .ok_or_else(|| {
                    format!(
                        "invalid time of day {:02}:{:02}:{:02}",
                        stamp.hour, stamp.minute, stamp.second
                    )
                })?;
        let at = |year: i32| -> Result<DateTime<Utc>, String> {
            let date = NaiveDate::from_ymd_opt(year, stamp.month, stamp.day).ok_or_else(|| {
                format!(
                    "invalid date: {} {} does not exist in {year}",
                    MONTHS[stamp.month as usize - 1],
                    stamp.day
                )
            })?;
            self.local_to_utc(date.and_time(time))
        };
        let utc = match stamp.year.or(self.year) {
            Some(year) => at(year)?,
            None => {
                let now = self.now();
                let year = now.year();
                match at(year) {
                    Ok(t) if t <= now + chrono::Duration::days(1) => t,
                    // More than a day ahead (or Feb 29 of a common year): last year's.
                    first => at(year - 1).or(first)?,
                }
            }
        };
        Ok(Timestamp {
            utc,
            frac_digits: stamp.frac_digits,
        })
    }

    /// Resolves an RFC 3339 stamp: its own offset if it has one, else the context's zone.
    pub fn resolve_rfc3339(&self, stamp: &Rfc3339Stamp) -> Result<Timestamp, String> {
        let utc = match stamp.offset {
            Some(offset) => DateTime::from_naive_utc_and_offset(
                stamp.local - chrono::Duration::seconds(i64::from(offset.local_minus_utc())),
                Utc,
            ),
            None => self.local_to_utc(stamp.local)?,
        };
        Ok(Timestamp {
            utc,
            frac_digits: stamp.frac_digits,
        })
    }
}

const MONTHS: [&str; 12] = [
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
    // The first three bytes are letters (checked above): `| 0x20` lower-cases them, and one
    // match replaces twelve case-insensitive compares (issue 16: 3 % of listen).
    let month = match [b[0] | 0x20, b[1] | 0x20, b[2] | 0x20] {
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
    };
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
