//! `--timezone` ([`Zone`]) and [`TimeContext`]: the zone and year in which stamps without
//! them are read, and the conversion of a stamp's local time to UTC.

use std::cell::Cell;
use std::str::FromStr;

use chrono::{
    DateTime, Datelike, FixedOffset, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset,
    TimeZone, Timelike, Utc,
};

use super::Timestamp;
use super::parse::{BsdStamp, MONTHS, Rfc3339Stamp};

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
pub(super) fn parse_offset(b: &[u8]) -> Option<(FixedOffset, usize)> {
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

pub(super) fn two_digits(b: &[u8]) -> Option<u32> {
    match b {
        [a @ b'0'..=b'9', c @ b'0'..=b'9'] => Some(u32::from(a - b'0') * 10 + u32::from(c - b'0')),
        _ => None,
    }
}

/// The value of `b` when it is all ASCII digits (and not empty). One pass that checks and
/// adds up each digit (issue 16: a check pass then a sum pass was a tenth of RFC 3339 parsing).
pub(super) fn digits_value(b: &[u8]) -> Option<u32> {
    if b.is_empty() {
        return None;
    }
    let mut n: u32 = 0;
    for &c in b {
        let digit = c.wrapping_sub(b'0');
        if digit > 9 {
            return None;
        }
        n = n.wrapping_mul(10).wrapping_add(u32::from(digit));
    }
    Some(n)
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
    /// The clock's year (UTC) and the seconds since the epoch where it starts and ends, so
    /// that the year guess reads the clock without turning it into a date on every line.
    clock_year: Cell<Option<(i64, i64, i32)>>,
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
            clock_year: Cell::new(None),
        }
    }

    /// Fixes "now" (for tests of the year guess).
    pub fn with_now(mut self, now: DateTime<Utc>) -> Self {
        self.now = Some(now);
        self
    }

    /// Now as seconds and nanoseconds since the epoch, and its year in UTC: what
    /// `Utc::now()` and `.year()` give, without the date arithmetic on every call
    /// (issue 16: that was ~175 instructions a BSD-stamped line).
    fn now_parts(&self) -> (i64, u32, i32) {
        if let Some(now) = self.now {
            return (now.timestamp(), now.timestamp_subsec_nanos(), now.year());
        }
        let (secs, nanos) = wall_clock();
        let year = match self.clock_year.get() {
            Some((start, end, year)) if (start..end).contains(&secs) => year,
            _ => {
                let year = DateTime::from_timestamp(secs, 0)
                    .expect("the clock is within chrono's range")
                    .year();
                let start_of = |year: i32| {
                    NaiveDate::from_ymd_opt(year, 1, 1)
                        .expect("the clock's year is within chrono's range")
                        .and_time(NaiveTime::MIN)
                        .and_utc()
                        .timestamp()
                };
                self.clock_year
                    .set(Some((start_of(year), start_of(year + 1), year)));
                year
            }
        };
        (secs, nanos, year)
    }

    /// Converts wall time in the context's zone to UTC. A wall time that does not exist (in a
    /// DST gap) is an error; an ambiguous one (the repeated hour) takes the earlier instant.
    pub fn local_to_utc(&self, naive: NaiveDateTime) -> Result<DateTime<Utc>, String> {
        // A fixed offset (`--timezone UTC`, `+02:00`) has no transitions: no hour to look up
        // or cache (issue 16: the cache's bookkeeping was ~250 instructions a line when
        // consecutive lines fall in different hours).
        if let Zone::Fixed(offset) = &self.zone {
            return Ok(match offset.local_minus_utc() {
                // UTC itself: chrono's subtraction of zero still goes through its calendar.
                0 => naive.and_utc(),
                secs => DateTime::from_naive_utc_and_offset(
                    naive - chrono::Duration::seconds(i64::from(secs)),
                    Utc,
                ),
            });
        }
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
                let (now_secs, now_nanos, year) = self.now_parts();
                // t <= now + 1 day, as seconds and nanoseconds since the epoch.
                let within_a_day = |t: &DateTime<Utc>| {
                    (t.timestamp(), t.timestamp_subsec_nanos()) <= (now_secs + 86_400, now_nanos)
                };
                match at(year) {
                    Ok(t) if within_a_day(&t) => t,
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

/// The wall clock as seconds and nanoseconds since the epoch. On Linux the coarse clock: the
/// time at the kernel's last tick (a few milliseconds behind at most), read without the TSC,
/// which is all a year guess with a day's margin needs (issue 16: the precise clock was ~2 %
/// of `parse`'s time on BSD-stamped lines, one read a line). Through glibc's vDSO call:
/// rustix's own vDSO reader faults under valgrind.
#[cfg(target_os = "linux")]
fn wall_clock() -> (i64, u32) {
    let mut now = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `now` is a valid timespec to write; CLOCK_REALTIME_COARSE exists since Linux
    // 2.6.32 and cannot fail with a valid pointer.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_REALTIME_COARSE, &mut now) };
    debug_assert_eq!(rc, 0, "clock_gettime(CLOCK_REALTIME_COARSE)");
    (now.tv_sec, now.tv_nsec as u32)
}

#[cfg(not(target_os = "linux"))]
fn wall_clock() -> (i64, u32) {
    use std::time::{SystemTime, UNIX_EPOCH};
    let since = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("system time before Unix epoch");
    (since.as_secs() as i64, since.subsec_nanos())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_year_agrees_with_chrono() {
        let ctx = TimeContext::new("UTC".parse().unwrap(), None);
        for _ in 0..2 {
            // Twice: the second answer comes from the cached year bounds.
            let before = Utc::now();
            let (secs, nanos, year) = ctx.now_parts();
            let after = Utc::now();
            let now = DateTime::from_timestamp(secs, nanos).unwrap();
            // The coarse clock is the time of the kernel's last tick: up to a tick (10 ms at
            // HZ=100) behind the precise one.
            let tick = chrono::Duration::milliseconds(20);
            assert!(
                before - tick <= now && now <= after,
                "{before} {now} {after}"
            );
            assert_eq!(year, now.year());
        }
        let (start, end, year) = ctx.clock_year.get().unwrap();
        assert_eq!(DateTime::from_timestamp(start, 0).unwrap().year(), year);
        assert_eq!(
            DateTime::from_timestamp(start - 1, 0).unwrap().year(),
            year - 1
        );
        assert_eq!(DateTime::from_timestamp(end, 0).unwrap().year(), year + 1);
        assert_eq!(DateTime::from_timestamp(end - 1, 0).unwrap().year(), year);
    }
}
