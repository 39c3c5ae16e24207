//! RFC 3164 (BSD syslog) writer: `<PRI>TIMESTAMP SP HOSTNAME SP TAG[PID]: SP MSG`, the form
//! logger(1), glibc and rsyslog's forward format send.
//!
//! Header fields are sanitised so that our parser (`syslog::rfc3164`, rules 12–13 of
//! `shared/reference/syslog-parsing.md` §4) reads them back as the same fields: no spaces or
//! control characters anywhere, no `[`/`]` (they would start a PID), and no `:` at the end of
//! the hostname (it would make the hostname a tag).

use super::TimestampFormat;
use super::field::{
    Charset, MAX_APPNAME_LEN, MAX_HOSTNAME_LEN, MAX_PROCID_LEN, write_bsd, write_pri,
    write_rfc3339, write_sanitised,
};
use crate::syslog::Message;
use crate::syslog::timestamp::{Timestamp, Zone};

/// Appends `m` as an RFC 3164 message (no framing, no line terminator), its time written as
/// `stamp` in `zone`.
///
/// RFC 3164 carries PRI, time, hostname, tag (app name), PID and message; MSGID and structured
/// data have no place and are left out. A missing PRI is 13 (user.notice, RFC 3164 §4.3.3), a
/// missing time is now (a relay adds one, §4.3.2). A missing hostname or tag is left out, as
/// glibc does locally; a message without a tag whose first word ends in `:` then reads back as
/// a tag, so callers that need a round trip (the [`super::Formatter`]) always give both.
pub fn rfc3164(m: &Message<'_>, stamp: TimestampFormat, zone: &Zone, out: &mut Vec<u8>) {
    write_header(m, stamp, zone, out);
    if let Some(msg) = m.msg {
        out.push(b' ');
        out.extend_from_slice(msg);
    }
}

/// Appends everything before the space that precedes MSG.
pub fn write_header(m: &Message<'_>, stamp: TimestampFormat, zone: &Zone, out: &mut Vec<u8>) {
    write_pri(out, m.pri.unwrap_or(super::DEFAULT_PRI).value());
    let now;
    let ts = match &m.timestamp {
        Some(ts) => ts,
        None => {
            now = Timestamp::now();
            &now
        }
    };
    // A year RFC 3339 cannot write falls back to the BSD stamp, which has no year.
    if stamp == TimestampFormat::Syslog || !write_rfc3339(out, ts, zone) {
        write_bsd(out, ts, zone);
    }
    if let Some(host) = m.hostname.filter(|h| !h.is_empty()) {
        out.push(b' ');
        write_sanitised(out, host, Charset::Bsd, MAX_HOSTNAME_LEN);
        // A hostname ends in an alphanumeric (rsyslog's rule, and our parser's): one ending in
        // ':' would be read as a tag.
        if let Some(last @ b':') = out.last_mut() {
            *last = b'_';
        }
    }
    if let Some(tag) = m.appname.filter(|a| !a.is_empty()) {
        out.push(b' ');
        write_sanitised(out, tag, Charset::Bsd, MAX_APPNAME_LEN);
        if let Some(pid) = m.procid.filter(|p| !p.is_empty()) {
            out.push(b'[');
            write_sanitised(out, pid, Charset::Bsd, MAX_PROCID_LEN);
            out.push(b']');
        }
        out.push(b':');
    }
}

#[cfg(test)]
mod tests {
    use super::super::strategies;
    use super::*;
    use crate::syslog::timestamp::TimeContext;
    use crate::syslog::{Pri, rfc3164 as parse3164};
    use chrono::{DateTime, Datelike, FixedOffset, SubsecRound, Utc};
    use proptest::prelude::*;

    fn utc() -> Zone {
        Zone::Fixed(FixedOffset::east_opt(0).unwrap())
    }

    fn ts(s: &str) -> Option<Timestamp> {
        Some(Timestamp {
            utc: s.parse::<DateTime<Utc>>().unwrap(),
            frac_digits: 3,
        })
    }

    fn formatted(m: &Message<'_>, stamp: TimestampFormat, zone: &Zone) -> String {
        let mut out = Vec::new();
        rfc3164(m, stamp, zone, &mut out);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn rfc3164_example_1_from_its_fields() {
        // RFC 3164 §5.4 example 1.
        let m = Message {
            pri: Pri::new(34),
            timestamp: ts("2026-10-11T22:14:15Z"),
            hostname: Some(b"mymachine"),
            appname: Some(b"su"),
            msg: Some(b"'su root' failed for lonvick on /dev/pts/8"),
            ..Message::default()
        };
        assert_eq!(
            formatted(&m, TimestampFormat::Syslog, &utc()),
            "<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8"
        );
    }

    #[test]
    fn logger_like_output_with_pid_and_a_padded_day() {
        // What `logger -n host --rfc3164 -t app -i` sends (util-linux 2.38): a space-padded
        // day, the PID in brackets, local time.
        let m = Message {
            pri: Pri::new(13),
            timestamp: ts("2026-11-02T09:05:07.250Z"),
            hostname: Some(b"web01"),
            appname: Some(b"app"),
            procid: Some(b"4021"),
            msg: Some(b"hello world"),
            ..Message::default()
        };
        let berlin = "Europe/Berlin".parse().unwrap();
        assert_eq!(
            formatted(&m, TimestampFormat::Syslog, &berlin),
            "<13>Nov  2 10:05:07 web01 app[4021]: hello world"
        );
        assert_eq!(
            formatted(&m, TimestampFormat::Iso8601, &berlin),
            "<13>2026-11-02T10:05:07.250+01:00 web01 app[4021]: hello world"
        );
    }

    #[test]
    fn msgid_and_structured_data_are_left_out() {
        let sd = vec![crate::syslog::SdElement {
            id: b"x@1",
            params: vec![],
        }];
        let m = Message {
            pri: Pri::new(14),
            timestamp: ts("2026-01-05T00:00:00Z"),
            hostname: Some(b"h"),
            appname: Some(b"a"),
            msgid: Some(b"ID47"),
            structured_data: sd,
            msg: Some(b"m"),
            ..Message::default()
        };
        assert_eq!(
            formatted(&m, TimestampFormat::Syslog, &utc()),
            "<14>Jan  5 00:00:00 h a: m"
        );
    }

    #[test]
    fn hostname_tag_and_pid_are_sanitised_so_they_parse_back() {
        let m = Message {
            pri: Pri::new(13),
            timestamp: ts("2026-11-22T10:01:02Z"),
            hostname: Some(b"my host[1]:"),
            appname: Some("my app[x]é".as_bytes()),
            procid: Some(b"12 ]3"),
            msg: Some(b"text"),
            ..Message::default()
        };
        let out = formatted(&m, TimestampFormat::Syslog, &utc());
        assert_eq!(
            out,
            "<13>Nov 22 10:01:02 my_host_1__ my_app_x__[12__3]: text"
        );
        let back = parse3164::parse(out.as_bytes(), &TimeContext::new(utc(), Some(2026))).unwrap();
        assert_eq!(back.hostname, Some(&b"my_host_1__"[..]));
        assert_eq!(back.appname, Some(&b"my_app_x__"[..]));
        assert_eq!(back.procid, Some(&b"12__3"[..]));
        assert_eq!(back.msg, Some(&b"text"[..]));

        let long = "t".repeat(60);
        let m = Message {
            appname: Some(long.as_bytes()),
            ..m
        };
        let out = formatted(&m, TimestampFormat::Syslog, &utc());
        assert!(
            out.contains(&format!(" {}[12__3]: ", "t".repeat(48))),
            "{out}"
        );
    }

    #[test]
    fn without_hostname_the_tag_follows_the_stamp_as_glibc_writes_it() {
        let m = Message {
            pri: Pri::new(38),
            timestamp: ts("2026-11-22T10:01:02Z"),
            appname: Some(b"sshd"),
            procid: Some(b"812"),
            msg: Some(b"Accepted publickey for root"),
            ..Message::default()
        };
        let out = formatted(&m, TimestampFormat::Syslog, &utc());
        assert_eq!(
            out,
            "<38>Nov 22 10:01:02 sshd[812]: Accepted publickey for root"
        );
        let back = parse3164::parse(out.as_bytes(), &TimeContext::new(utc(), Some(2026))).unwrap();
        assert_eq!((back.hostname, back.appname), (None, Some(&b"sshd"[..])));
    }

    // ---- Round trip: rfc3164::parse(format::rfc3164(m)) == m for what RFC 3164 carries ----
    //
    // The generator is narrower than the RFC 5424 one, because the RFC 3164 parser decides field
    // boundaries by shape (syslog-parsing.md §4 rules 12–13), and some values are ambiguous
    // there; the writer sanitises them, so they can't round-trip as they were:
    // - hostname, tag and PID never contain `[` or `]` (a bracket starts a PID), and the
    //   hostname never ends in `:` (a token ending in `:` is a tag, rule 12);
    // - hostname and tag are always present: without a tag, a message whose first word ends in
    //   `:` reads back as a tag, and without both, the first word reads back as a hostname;
    // - MSG is always present (an absent MSG after `tag:` reads back as empty) and has no LF;
    // - times are compared to the second for the BSD stamp (it has no fraction), in fixed
    //   offsets only: in a zone with DST, a wall time in the repeated autumn hour reads back as
    //   its earlier instant; the year is given to the parser, as `parse --year` does, because the
    //   stamp has none.

    fn bsd_text(max: usize) -> impl Strategy<Value = String> {
        proptest::string::string_regex(&format!(r"[!-~&&[^\[\]]]{{1,{max}}}")).unwrap()
    }

    fn hostname() -> impl Strategy<Value = String> {
        bsd_text(255).prop_filter("ends in ':'", |h| !h.ends_with(':'))
    }

    fn generated() -> impl Strategy<Value = (u8, Timestamp, String, String, Option<String>, Vec<u8>)>
    {
        (
            0u8..=191,
            strategies::timestamp(),
            hostname(),
            bsd_text(48),
            proptest::option::of(bsd_text(128)),
            strategies::msg_bytes(),
        )
    }

    fn round_trip(
        (pri, timestamp, hostname, appname, procid, msg): &(
            u8,
            Timestamp,
            String,
            String,
            Option<String>,
            Vec<u8>,
        ),
        stamp: TimestampFormat,
        zone: &Zone,
    ) -> Result<(), TestCaseError> {
        let m = Message {
            pri: Pri::new(*pri),
            timestamp: Some(*timestamp),
            hostname: Some(hostname.as_bytes()),
            appname: Some(appname.as_bytes()),
            procid: procid.as_deref().map(str::as_bytes),
            msg: Some(msg),
            ..Message::default()
        };
        let mut out = Vec::new();
        rfc3164(&m, stamp, zone, &mut out);
        let (local, _) = super::super::field::local_time(timestamp, zone);
        let ctx = TimeContext::new(zone.clone(), Some(local.year()));
        let back = parse3164::parse(&out, &ctx)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out)));
        prop_assert_eq!(back.pri, m.pri);
        let want = match stamp {
            TimestampFormat::Syslog => Timestamp {
                utc: timestamp.utc.trunc_subsecs(0),
                frac_digits: 0,
            },
            TimestampFormat::Iso8601 => *timestamp,
        };
        prop_assert_eq!(back.timestamp, Some(want));
        prop_assert_eq!(back.hostname, m.hostname);
        prop_assert_eq!(back.appname, m.appname);
        prop_assert_eq!(back.procid, m.procid);
        prop_assert_eq!(back.msg, m.msg);
        Ok(())
    }

    proptest! {
        #[test]
        fn bsd_stamp_round_trips_pri_time_to_the_second_and_fields(
            g in generated(),
            zone in strategies::zone(),
        ) {
            round_trip(&g, TimestampFormat::Syslog, &zone)?;
        }

        #[test]
        fn iso8601_stamp_round_trips_with_the_fraction(
            g in generated(),
            zone in strategies::zone(),
        ) {
            round_trip(&g, TimestampFormat::Iso8601, &zone)?;
        }
    }
}
