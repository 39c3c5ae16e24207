//! RFC 3164 (BSD syslog) parser with the variants real senders write:
//! `[<PRI>][TIMESTAMP SP][HOSTNAME SP][TAG[\[PID\]]: ]MSG`.
//!
//! The rules are those of `shared/reference/syslog-parsing.md` §4, rules 1–2 and 9–15: no PRI is
//! fine (log files), a PRI with no stamp makes the rest the message (FortiGate, Cisco), a
//! stamp-shaped but impossible time is an error, a first token that looks like a tag is not a
//! hostname (glibc and haproxy write none), and a first word without `:` stays in the message.

use super::timestamp::{Strictness, TimeContext, parse_bsd, parse_rfc3339};
use super::{Extras, Message, ParseError, parse_pri};

const FORMAT: &str = "rfc3164";

/// Parses one RFC 3164 message (without framing or line terminator).
pub fn parse<'a>(line: &'a [u8], time: &TimeContext) -> Result<Message<'a>, ParseError> {
    parse_with_extras(line, time).map(|(message, _)| message)
}

/// [`parse`], plus what the header model has no place for (Cisco's sequence number).
pub fn parse_with_extras<'a>(
    line: &'a [u8],
    time: &TimeContext,
) -> Result<(Message<'a>, Extras), ParseError> {
    let mut extras = Extras::default();
    let message = parse_header(line, time, &mut extras)?;
    Ok((message, extras))
}

fn parse_header<'a>(
    line: &'a [u8],
    time: &TimeContext,
    extras: &mut Extras,
) -> Result<Message<'a>, ParseError> {
    let err = |at: usize, reason: String| ParseError::new(FORMAT, at, reason);
    let mut message = Message::default();
    let mut at = 0;
    if let Some((pri, used)) = parse_pri(line, FORMAT)? {
        message.pri = Some(pri);
        at = used;
        while line.get(at) == Some(&b' ') {
            at += 1;
        }
    }
    // Cisco IOS: a sequence number ("104: ", `service sequence-numbers`) and a `*` or `.` (clock
    // not synchronised) may come before the stamp. Taken only when a stamp follows; otherwise
    // the text stays the message, as before.
    if matches!(line.get(at), Some(b'0'..=b'9' | b'*' | b'.')) {
        let (sequence, used) = cisco_prefix(&line[at..]);
        if used > 0 {
            let rest = &line[at + used..];
            if looks_like_rfc3339(rest) || parse_bsd(rest).is_some() {
                extras.sequence = sequence;
                at += used;
            }
        }
    }

    let rest = &line[at..];
    let mut rsyslog_file_format = false;
    let rfc3339 = if looks_like_rfc3339(rest) {
        match parse_rfc3339(rest, Strictness::Lenient) {
            Ok(found) => Some(found),
            // With a space for the T ("2024-05-01 10:00:00,123 INFO …", log4j behind a PRI), a
            // stamp that does not parse is text, as it was before that form was read.
            Err(_) if rest[10] == b' ' => None,
            Err(e) => return Err(err(at, format!("invalid timestamp: {e}"))),
        }
    } else {
        None
    };
    if let Some((stamp, used)) = rfc3339 {
        message.timestamp = Some(time.resolve_rfc3339(&stamp).map_err(|e| err(at, e))?);
        rsyslog_file_format =
            message.pri.is_none() && is_rsyslog_file_format_stamp(&rest[..used], stamp.frac_digits);
        at += used;
    } else {
        match parse_bsd(rest) {
            Some(Ok((stamp, used))) => {
                message.timestamp = Some(time.resolve_bsd(&stamp).map_err(|e| err(at, e))?);
                at += used;
            }
            Some(Err(e)) => return Err(err(at, e)),
            None if message.pri.is_some() => {
                // RFC 3164 §4.3.2: a PRI without a valid TIMESTAMP makes the rest the message.
                message.msg = Some(rest);
                return Ok(message);
            }
            None => {
                return Err(err(
                    0,
                    "not syslog: no PRI and no timestamp at the start of the line".into(),
                ));
            }
        }
    }

    while line.get(at) == Some(&b' ') {
        at += 1;
    }
    if at >= line.len() {
        return Ok(message); // header only: "<14>Aug 30 23:00:06"
    }

    let token = next_token(&line[at..]);
    if token.first() == Some(&b'%') && token.ends_with(b":") {
        // Cisco's "%FACILITY-SEVERITY-MNEMONIC: text" right after the stamp is not a tag: the
        // message starts here, as in Elastic's syslog input.
        message.msg = Some(&line[at..]);
        return Ok(message);
    }
    if !is_tag_token(token) {
        message.hostname = Some(token);
        at += token.len();
        if at >= line.len() {
            return Ok(message); // "<14>Aug 30 23:00:05 probe-77"
        }
        at += 1;
    }

    let rest = &line[at..];
    match split_tag(rest) {
        Some(tag) => {
            if !tag.name.is_empty() {
                message.appname = Some(tag.name);
                message.procid = tag.pid;
            }
            message.msg = Some(&rest[tag.len..]);
        }
        None if rsyslog_file_format => {
            // rsyslog writes its TAG here whatever it is; for a message that came in as RFC
            // 5424 without PROCID the TAG is the bare APP-NAME, with no colon.
            let name = next_token(rest);
            message.appname = (!name.is_empty()).then_some(name);
            message.msg = Some(rest.get(name.len() + 1..).unwrap_or_default());
        }
        None => message.msg = Some(rest),
    }
    Ok(message)
}

/// RSYSLOG_FileFormat's stamp, `%TIMESTAMP:::date-rfc3339%` of a high-precision time:
/// microseconds and a `±hh:mm` offset (`2026-11-23T18:36:45.102645+00:00`). journald writes
/// `+0100` and syslog-ng no fraction by default, so the shape tells rsyslog's files apart, where
/// the word after the host is always the TAG.
fn is_rsyslog_file_format_stamp(stamp: &[u8], frac_digits: u8) -> bool {
    frac_digits == 6 && stamp.len() == 32 && matches!(stamp[26], b'+' | b'-') && stamp[29] == b':'
}

/// `YYYY-MM-DDT` (rsyslog file and forward formats) or `YYYY-MM-DD hh:`: the start of an
/// RFC 3339 stamp.
fn looks_like_rfc3339(b: &[u8]) -> bool {
    b.len() >= 19
        && b[..4].iter().all(u8::is_ascii_digit)
        && b[4] == b'-'
        && b[7] == b'-'
        && (matches!(b[10], b'T' | b't') || (b[10] == b' ' && b[13] == b':'))
}

/// Cisco IOS's `SEQ: ` and `*`/`.` before a stamp: the sequence number (when it fits a u64)
/// and the bytes both use; 0 when neither is there.
fn cisco_prefix(b: &[u8]) -> (Option<u64>, usize) {
    let digits = b.iter().take(21).take_while(|c| c.is_ascii_digit()).count();
    let mut sequence = None;
    let mut at = 0;
    if digits > 0 && b.get(digits) == Some(&b':') && b.get(digits + 1) == Some(&b' ') {
        sequence = std::str::from_utf8(&b[..digits])
            .ok()
            .and_then(|d| d.parse().ok());
        if sequence.is_none() {
            return (None, 0);
        }
        at = digits + 2;
        while b.get(at) == Some(&b' ') {
            at += 1;
        }
    }
    if matches!(b.get(at), Some(b'*' | b'.')) {
        at += 1;
    }
    (sequence, at)
}

fn next_token(b: &[u8]) -> &[u8] {
    // Tokens here are short (host names, tags): a plain loop beats memchr's setup.
    &b[..b.iter().position(|&c| c == b' ').unwrap_or(b.len())]
}

/// A token that can only be a tag, never a hostname: it ends with `:`, is `name[digits]`, or is
/// `name[pid]:` with the text glued on. A hostname ends in an alphanumeric (rsyslog's rule);
/// an IPv6 host such as `2001:db8::7` contains `:` but does not end with one.
fn is_tag_token(token: &[u8]) -> bool {
    (token.ends_with(b":") && !is_ipv6_ending_in_colons(token))
        || bracketed_pid(token).is_some_and(|(_, end)| end == token.len() || token[end] == b':')
}

/// An IPv6 address whose last group is zero compressed (`2001:db8::`) ends in `::` and is a
/// hostname, not a tag `2001:db8:`.
fn is_ipv6_ending_in_colons(token: &[u8]) -> bool {
    token.ends_with(b"::")
        && std::str::from_utf8(token).is_ok_and(|t| t.parse::<std::net::Ipv6Addr>().is_ok())
}

/// For `name[pid]…`, the pid and the position after `]`; `None` when the token has no such part.
/// Tokens are short: plain loops, as in [`next_token`].
fn bracketed_pid(token: &[u8]) -> Option<(&[u8], usize)> {
    let open = token.iter().position(|&c| c == b'[')?;
    if open == 0 {
        return None;
    }
    let close = open + 1 + token[open + 1..].iter().position(|&c| c == b']')?;
    let pid = &token[open + 1..close];
    (!pid.is_empty()).then_some((pid, close + 1))
}

struct Tag<'a> {
    name: &'a [u8],
    pid: Option<&'a [u8]>,
    /// Bytes used by the tag, its colon and the one space after it.
    len: usize,
}

/// Rule 13, first match wins: `name[pid]:` (optional space after), `name:` followed by a space or
/// the end, `name[digits]` followed by a space. Anything else is no tag.
fn split_tag(rest: &[u8]) -> Option<Tag<'_>> {
    let token = next_token(rest);
    let skip_space = |at: usize| {
        if rest.get(at) == Some(&b' ') {
            at + 1
        } else {
            at
        }
    };
    if let Some((pid, end)) = bracketed_pid(token) {
        let name = &token[..token.iter().position(|&c| c == b'[').expect("bracketed")];
        if token.get(end) == Some(&b':') {
            return Some(Tag {
                name,
                pid: Some(pid),
                len: skip_space(end + 1),
            });
        }
        if end == token.len() && pid.iter().all(u8::is_ascii_digit) {
            return Some(Tag {
                name,
                pid: Some(pid),
                len: skip_space(end),
            });
        }
    }
    if let Some(name) = token.strip_suffix(b":") {
        return Some(Tag {
            name,
            pid: None,
            len: skip_space(token.len()),
        });
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syslog::timestamp::Zone;
    use chrono::{DateTime, FixedOffset, Utc};

    fn ctx() -> TimeContext {
        TimeContext::new(Zone::Fixed(FixedOffset::east_opt(0).unwrap()), Some(2026))
    }

    fn ok(line: &str) -> Message<'_> {
        parse(line.as_bytes(), &ctx()).unwrap_or_else(|e| panic!("{line}: {e}"))
    }

    fn s(b: Option<&[u8]>) -> Option<&str> {
        b.map(|b| std::str::from_utf8(b).unwrap())
    }

    fn fields<'a>(
        m: &Message<'a>,
    ) -> (
        Option<&'a str>,
        Option<&'a str>,
        Option<&'a str>,
        Option<&'a str>,
    ) {
        (s(m.hostname), s(m.appname), s(m.procid), s(m.msg))
    }

    #[test]
    fn rfc3164_example_1() {
        // RFC 3164 §5.4 example 1.
        let m = ok("<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8");
        assert_eq!(m.pri.unwrap().value(), 34);
        assert_eq!(
            m.timestamp.unwrap().utc,
            "2026-10-11T22:14:15Z".parse::<DateTime<Utc>>().unwrap()
        );
        assert_eq!(
            fields(&m),
            (
                Some("mymachine"),
                Some("su"),
                None,
                Some("'su root' failed for lonvick on /dev/pts/8")
            )
        );
    }

    #[test]
    fn rfc3164_example_2_no_stamp_makes_the_rest_the_message() {
        // RFC 3164 §5.4 example 2: "Use the BFG!" with no timestamp or hostname.
        let m = ok("<13>Use the BFG!");
        assert_eq!(m.timestamp, None);
        assert_eq!(fields(&m), (None, None, None, Some("Use the BFG!")));
    }

    #[test]
    fn rfc3164_example_3_and_4() {
        let m = ok(
            "<165>Aug 24 05:34:00 CST 1987 mymachine myproc[10]: %% It's time to make the do-nuts.  %%  Ingredients: Mix=OK, Jelly=OK #",
        );
        // "CST" is taken as the hostname: RFC 3164 itself says relays would see it that way.
        assert_eq!(s(m.hostname), Some("CST"));
        let m = ok(
            "<0>Oct 22 10:52:12 scapegoat 1990 Oct 22 10:52:01 TZ-6 scapegoat.dmz.example.org 10.1.2.3 sched[0]: That's All Folks!",
        );
        assert_eq!(s(m.hostname), Some("scapegoat"));
        assert_eq!(m.appname, None);
    }

    #[test]
    fn var_log_syslog_line_without_pri() {
        let m = ok("Nov 22 10:01:02 web01 CRON[4021]: (root) CMD (run-parts /etc/cron.hourly)");
        assert_eq!(m.pri, None);
        assert_eq!(
            fields(&m),
            (
                Some("web01"),
                Some("CRON"),
                Some("4021"),
                Some("(root) CMD (run-parts /etc/cron.hourly)")
            )
        );
    }

    #[test]
    fn glibc_local_logging_has_no_hostname() {
        let m = ok("<38>Nov 22 10:01:02 sshd[812]: Accepted publickey for root");
        assert_eq!(
            fields(&m),
            (
                None,
                Some("sshd"),
                Some("812"),
                Some("Accepted publickey for root")
            )
        );
        let m = ok("<38>Nov 22 10:01:02 backup.sh: done");
        assert_eq!(fields(&m), (None, Some("backup.sh"), None, Some("done")));
    }

    #[test]
    fn tag_forms() {
        assert_eq!(
            fields(&ok("<13>Nov 22 10:01:02 h app[123] text")),
            (Some("h"), Some("app"), Some("123"), Some("text"))
        );
        assert_eq!(
            fields(&ok("<13>Nov 22 10:01:02 h app[123]:text")),
            (Some("h"), Some("app"), Some("123"), Some("text"))
        );
        assert_eq!(
            fields(&ok("<13>Nov 22 10:01:02 h app[abc-1]: text")),
            (Some("h"), Some("app"), Some("abc-1"), Some("text"))
        );
        assert_eq!(
            fields(&ok("<13>Nov 22 10:01:02 h app:")),
            (Some("h"), Some("app"), None, Some(""))
        );
        let long_tag = "t".repeat(60);
        let line = format!("<13>Nov 22 10:01:02 h {long_tag}: x");
        assert_eq!(s(ok(&line).appname), Some(long_tag.as_str()));
    }

    #[test]
    fn first_word_without_colon_stays_in_the_message() {
        assert_eq!(
            fields(&ok("<13>Nov 22 10:01:02 h -- MARK --")),
            (Some("h"), None, None, Some("-- MARK --"))
        );
        assert_eq!(
            fields(&ok("<13>Nov 22 10:01:02 sw1 Port 17 link down")),
            (Some("sw1"), None, None, Some("Port 17 link down"))
        );
    }

    #[test]
    fn cisco_asa_lone_colon_is_an_empty_tag() {
        let m = ok("<166>Nov 22 2026 10:01:02 fw01 : %ASA-6-302013: Built outbound TCP connection");
        assert_eq!(
            fields(&m),
            (
                Some("fw01"),
                None,
                None,
                Some("%ASA-6-302013: Built outbound TCP connection")
            )
        );
        assert_eq!(m.timestamp.unwrap().to_string(), "2026-11-22T10:01:02Z");
    }

    #[test]
    fn ipv6_hostname_is_a_hostname() {
        assert_eq!(
            s(ok("<13>Nov 22 10:01:02 2001:db8::7 app: x").hostname),
            Some("2001:db8::7")
        );
    }

    #[test]
    fn pri_without_stamp_keeps_everything_as_message() {
        assert_eq!(
            s(ok("<189>date=2026-11-22 time=10:01:02 devname=FGT").msg),
            Some("date=2026-11-22 time=10:01:02 devname=FGT")
        );
        assert_eq!(
            s(ok("<189>2231: not a stamp").msg),
            Some("2231: not a stamp")
        );
    }

    #[test]
    fn issue_15_cisco_sequence_number_and_unsynchronised_clock_markers() {
        // See: #15. IOS `service sequence-numbers` and `service timestamps log datetime msec`;
        // `*` and `.` mark a clock that is not (or no longer) synchronised.
        for (line, seq) in [
            (
                "<189>104: Mar  1 00:12:31.123: %LINK-3-UPDOWN: Interface Gi0/1, changed state to up",
                Some(104),
            ),
            (
                "<189>104: *Mar  1 00:12:31.123: %LINK-3-UPDOWN: Interface Gi0/1, changed state to up",
                Some(104),
            ),
            (
                "<189>104: .Mar  1 00:12:31.123: %LINK-3-UPDOWN: Interface Gi0/1, changed state to up",
                Some(104),
            ),
            (
                "<189>*Mar  1 00:12:31.123: %LINK-3-UPDOWN: Interface Gi0/1, changed state to up",
                None,
            ),
        ] {
            let (m, extras) = parse_with_extras(line.as_bytes(), &ctx()).unwrap();
            assert_eq!(extras.sequence, seq, "{line}");
            assert_eq!(m.timestamp.unwrap().to_string(), "2026-03-01T00:12:31.123Z");
            assert_eq!(
                fields(&m),
                (
                    None,
                    None,
                    None,
                    Some("%LINK-3-UPDOWN: Interface Gi0/1, changed state to up")
                ),
                "{line}"
            );
        }
        let (m, extras) = parse_with_extras(
            b"<189>2231: *Mar  1 18:46:11.117: %SYS-5-CONFIG_I: Configured from console by vty0",
            &ctx(),
        )
        .unwrap();
        assert_eq!(
            (extras.sequence, s(m.msg)),
            (
                Some(2231),
                Some("%SYS-5-CONFIG_I: Configured from console by vty0")
            )
        );
    }

    #[test]
    fn issue_15_rsyslog_file_format_of_rfc_5424_input_has_a_tag_without_colon() {
        // See: #15. rsyslog 8 RSYSLOG_FileFormat of `logger --rfc5424 -t backup 'nightly done'`
        // (no PROCID, so TAG is the bare APP-NAME), and of the same with `-i` (TAG app[pid]).
        let m = ok("2026-11-23T18:36:45.102645+00:00 vm backup nightly done");
        assert_eq!(
            fields(&m),
            (Some("vm"), Some("backup"), None, Some("nightly done"))
        );
        let m = ok("2026-11-23T18:36:45.102645+00:00 vm backup[42] nightly done");
        assert_eq!(
            fields(&m),
            (Some("vm"), Some("backup"), Some("42"), Some("nightly done"))
        );
        // Other writers' shapes keep the rule that a first word without ':' is message text:
        // a PRI (forwarding formats), no fraction (syslog-ng ISODATE), journald's +0100,
        // a BSD stamp (RSYSLOG_TraditionalFileFormat cannot be told from any other BSD line).
        for line in [
            "<13>2026-11-23T18:36:45.102645+00:00 vm Port 17 link down",
            "2026-11-23T18:36:45+00:00 vm Port 17 link down",
            "2026-11-23T18:36:45.102645+0000 vm Port 17 link down",
            "Nov 23 18:36:45 vm Port 17 link down",
        ] {
            assert_eq!(
                fields(&ok(line)),
                (Some("vm"), None, None, Some("Port 17 link down")),
                "{line}"
            );
        }
    }

    #[test]
    fn issue_15_space_separated_text_that_is_no_stamp_stays_text() {
        // A log4j line behind a PRI kept its whole text before the space-separated stamp form
        // was read; it still does.
        assert_eq!(
            fields(&ok("<13>2024-05-01 10:00:00,123 INFO app started")),
            (
                None,
                None,
                None,
                Some("2024-05-01 10:00:00,123 INFO app started")
            )
        );
        let e = parse(b"2024-05-01 10:00:00,123 INFO app started", &ctx()).unwrap_err();
        assert!(e.to_string().contains("not syslog"), "{e}");
        // With a T it is stamp-shaped, so a bad one is an error, as before.
        assert!(parse(b"<13>2024-05-01T10:00:00,123 x", &ctx()).is_err());
    }

    #[test]
    fn issue_15_ipv6_hostname_ending_in_double_colon() {
        // See: #15. It used to be read as the tag "2001:db8:".
        assert_eq!(
            fields(&ok("<13>Jun  2 08:00:00 2001:db8:: text")),
            (Some("2001:db8::"), None, None, Some("text"))
        );
        assert_eq!(
            fields(&ok("<13>Jun  2 08:00:00 :: sshd[1]: x")),
            (Some("::"), Some("sshd"), Some("1"), Some("x"))
        );
        // A tag that happens to end in "::" is still a tag.
        assert_eq!(
            fields(&ok("<13>Jun  2 08:00:00 h app:: x")),
            (Some("h"), Some("app:"), None, Some("x"))
        );
    }

    #[test]
    fn issue_15_full_month_and_space_separated_iso_stamps() {
        // See: #15.
        let m = ok("<30>March 7 04:05:06 fw01 app: up");
        assert_eq!(m.timestamp.unwrap().to_string(), "2026-03-07T04:05:06Z");
        assert_eq!(fields(&m), (Some("fw01"), Some("app"), None, Some("up")));
        let m = ok("<30>2024-05-01 10:00:00 fw01 app: up");
        assert_eq!(m.timestamp.unwrap().to_string(), "2024-05-01T10:00:00Z");
        assert_eq!(fields(&m), (Some("fw01"), Some("app"), None, Some("up")));
        let m = ok("<30>2024-05-01T10:00:00.5Z+0000 fw01 app: up");
        assert_eq!(m.timestamp.unwrap().to_string(), "2024-05-01T10:00:00.5Z");
        assert_eq!(s(m.hostname), Some("fw01"));
    }

    #[test]
    fn header_only_lines_are_fine() {
        let m = ok("<14>Aug 30 23:00:05 probe-77");
        assert_eq!(fields(&m), (Some("probe-77"), None, None, None));
        let m = ok("<14>Aug 30 23:00:06");
        assert_eq!(fields(&m), (None, None, None, None));
    }

    #[test]
    fn rfc3339_stamp_in_a_bsd_header() {
        let m = ok("<86>2026-11-22T10:01:02.123456+01:00 web01 sshd[99]: hello");
        assert_eq!(
            m.timestamp.unwrap().to_string(),
            "2026-11-22T09:01:02.123456Z"
        );
        assert_eq!(
            fields(&m),
            (Some("web01"), Some("sshd"), Some("99"), Some("hello"))
        );
    }

    #[test]
    fn fractional_bsd_stamp_and_glued_colon() {
        let m = ok("<134>Nov 22 10:01:02.317 lb haproxy[1]: GET /");
        assert_eq!(m.timestamp.unwrap().to_string(), "2026-11-22T10:01:02.317Z");
        let m = ok("<189>Nov 22 10:01:02: %LINK-3-UPDOWN: Interface up");
        assert_eq!(
            fields(&m),
            (None, None, None, Some("%LINK-3-UPDOWN: Interface up"))
        );
    }

    #[test]
    fn space_after_pri_is_tolerated() {
        assert_eq!(s(ok("<13> Nov 22 10:01:02 h a: x").hostname), Some("h"));
    }

    #[test]
    fn not_syslog_and_impossible_stamps_are_errors() {
        for (line, reason) in [
            ("hello world", "no PRI and no timestamp"),
            ("", "no PRI and no timestamp"),
            ("<13>Mar 32 10:00:00 h a: x", "invalid day"),
            ("<13>Mar 11 25:15:02 h a: x", "invalid time"),
            ("<13>Foo 11 10:00:00 h a: x", "unknown month"),
            ("<13>Feb 29 10:00:00 h a: x", "does not exist"),
            ("<13>2026-02-30T10:00:00Z h a: x", "invalid date"),
            ("<abc>Nov 22 10:01:02 h a: x", "invalid PRI"),
        ] {
            let e = parse(line.as_bytes(), &ctx()).unwrap_err();
            assert!(e.to_string().contains(reason), "{line}: {e}");
        }
    }
}
