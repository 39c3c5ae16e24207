//! RFC 5424 (The Syslog Protocol) parser, §6:
//! `<PRI>VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP STRUCTURED-DATA [SP MSG]`.
//!
//! Leniency follows `shared/reference/syslog-parsing.md` §4 rules 3–8: field length limits are
//! not enforced, invalid SD escapes are kept literally, while impossible dates, leap seconds,
//! broken SD and duplicate SD-IDs are errors.

use std::collections::HashSet;

use super::timestamp::{Strictness, TimeContext, parse_rfc3339};
use super::{Extras, Message, ParseError, SdElement, SdParam, parse_pri, repeats};

mod scan;
mod sd_buffers;

pub use sd_buffers::SdBuffers;

const FORMAT: &str = "rfc5424";
const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Parses one RFC 5424 message (without framing or line terminator).
pub fn parse<'a>(line: &'a [u8], time: &TimeContext) -> Result<Message<'a>, ParseError> {
    parse_header(line, time, None, &mut SdBuffers::default())
}

/// [`parse`] into the room `buffers` keeps: hand the message's `structured_data` back with
/// [`SdBuffers::recycle`] once done with it, and the next message's SD need not allocate.
pub fn parse_reusing<'a>(
    line: &'a [u8],
    time: &TimeContext,
    buffers: &mut SdBuffers,
) -> Result<Message<'a>, ParseError> {
    parse_header(line, time, None, buffers)
}

/// [`parse`] as `--format auto` reads: STRUCTURED-DATA in Check Point's form
/// (`[key:"value"; key2:"value2"]`, not RFC 5424) is no error; it stays text at the start of
/// MSG, and [`Extras::sd_note`] says why, as Elastic's syslog reader keeps it in `message`.
/// Any other broken STRUCTURED-DATA is still an error.
pub fn parse_lenient<'a>(
    line: &'a [u8],
    time: &TimeContext,
) -> Result<(Message<'a>, Extras), ParseError> {
    parse_lenient_reusing(line, time, &mut SdBuffers::default())
}

/// [`parse_lenient`] into the room `buffers` keeps, as [`parse_reusing`].
pub fn parse_lenient_reusing<'a>(
    line: &'a [u8],
    time: &TimeContext,
    buffers: &mut SdBuffers,
) -> Result<(Message<'a>, Extras), ParseError> {
    let mut extras = Extras::default();
    let message = parse_header(line, time, Some(&mut extras), buffers)?;
    Ok((message, extras))
}

/// Note for [`Extras::sd_note`].
pub const CHECK_POINT_SD_NOTE: &str =
    "STRUCTURED-DATA in Check Point's [key:\"value\"; …] form is not RFC 5424: kept in message";

fn parse_header<'a>(
    line: &'a [u8],
    time: &TimeContext,
    lenient: Option<&mut Extras>,
    buffers: &mut SdBuffers,
) -> Result<Message<'a>, ParseError> {
    let err = |at: usize, reason: String| ParseError::new(FORMAT, at, reason);
    let (pri, mut at) = parse_pri(line, FORMAT)?
        .ok_or_else(|| ParseError::new(FORMAT, 0, "expected '<' starting the PRI"))?;

    let version_len = line[at..]
        .iter()
        .take(4)
        .take_while(|b| b.is_ascii_digit())
        .count();
    if !(1..=3).contains(&version_len) || line[at] == b'0' {
        return Err(err(
            at,
            "expected VERSION (1 to 3 digits, not starting with 0) after PRI".into(),
        ));
    }
    let version = line[at..at + version_len]
        .iter()
        .fold(0u16, |n, d| n * 10 + u16::from(d - b'0'));
    at += version_len;
    at = expect_space(line, at, "VERSION")?;

    let timestamp = if line.get(at) == Some(&b'-') && matches!(line.get(at + 1), None | Some(b' '))
    {
        at += 1;
        None
    } else {
        let (stamp, used) = parse_rfc3339(&line[at..], Strictness::Rfc5424)
            .map_err(|e| err(at, format!("invalid TIMESTAMP: {e}")))?;
        let ts = time.resolve_rfc3339(&stamp).map_err(|e| err(at, e))?;
        at += used;
        Some(ts)
    };
    at = expect_space(line, at, "TIMESTAMP")?;

    let mut header = [None; 4];
    for (slot, name) in header
        .iter_mut()
        .zip(["HOSTNAME", "APP-NAME", "PROCID", "MSGID"])
    {
        let (value, next) = header_field(line, at, name)?;
        *slot = value;
        at = expect_space(line, next, name)?;
    }
    let [hostname, appname, procid, msgid] = header;

    let (structured_data, next) = match structured_data(line, at, buffers) {
        Ok(found) => found,
        Err(e) => match lenient {
            Some(extras) if looks_like_check_point_sd(&line[at..]) => {
                extras.sd_note = Some(CHECK_POINT_SD_NOTE);
                let msg = Some(&line[at..]);
                return Ok(Message {
                    pri: Some(pri),
                    version: Some(version),
                    timestamp,
                    hostname,
                    appname,
                    procid,
                    msgid,
                    structured_data: Vec::new(),
                    msg,
                });
            }
            _ => return Err(e),
        },
    };
    at = next;
    let msg = match line.get(at) {
        None => None,
        Some(b' ') => {
            let body = &line[at + 1..];
            Some(body.strip_prefix(BOM).unwrap_or(body))
        }
        Some(_) => {
            return Err(err(
                at,
                "expected a space between STRUCTURED-DATA and MSG".into(),
            ));
        }
    };

    Ok(Message {
        pri: Some(pri),
        version: Some(version),
        timestamp,
        hostname,
        appname,
        procid,
        msgid,
        structured_data,
        msg,
    })
}

/// After the field ending at `at`, a single space must follow; returns the position after it.
fn expect_space(line: &[u8], at: usize, after: &str) -> Result<usize, ParseError> {
    match line.get(at) {
        Some(b' ') => Ok(at + 1),
        None => Err(ParseError::new(
            FORMAT,
            at,
            format!("message ends after {after}: the header is cut short"),
        )),
        Some(_) => Err(ParseError::new(
            FORMAT,
            at,
            format!("expected a space after {after}"),
        )),
    }
}

/// A header field: printable bytes up to the next space; `-` is NILVALUE (absent).
fn header_field<'a>(
    line: &'a [u8],
    at: usize,
    name: &str,
) -> Result<(Option<&'a [u8]>, usize), ParseError> {
    let rest = &line[at..];
    // The field ends at its first control byte: a space, or an error.
    let len = scan::header_field_len(rest);
    if rest.get(len).is_some_and(|&b| b != b' ') {
        return Err(ParseError::new(
            FORMAT,
            at + len,
            format!("control character in {name}"),
        ));
    }
    let value = &rest[..len];
    if value.is_empty() {
        return Err(ParseError::new(
            FORMAT,
            at,
            format!("empty {name} (use '-' for none)"),
        ));
    }
    Ok(((value != b"-").then_some(value), at + len))
}

/// STRUCTURED-DATA: `-` or one or more SD-ELEMENTs (§6.3). Returns the elements and the position
/// after them.
fn structured_data<'a>(
    line: &'a [u8],
    mut at: usize,
    buffers: &mut SdBuffers,
) -> Result<(Vec<SdElement<'a>>, usize), ParseError> {
    let err = |at: usize, reason: &str| {
        ParseError::new(FORMAT, at, format!("invalid STRUCTURED-DATA: {reason}"))
    };
    match line.get(at) {
        Some(b'-') => return Ok((Vec::new(), at + 1)),
        Some(b'[') => {}
        None => return Err(err(at, "missing (use '-' for none)")),
        Some(_) => return Err(err(at, "expected '-' or '['")),
    }
    let mut elements: Vec<SdElement<'_>> = buffers.elements();
    // Duplicate SD-IDs: a scan of the few elements a message usually has, a set once there are
    // many, so that a message with a million elements takes linear time, not hours.
    let mut ids: Option<HashSet<&[u8]>> = None;
    while line.get(at) == Some(&b'[') {
        at += 1;
        let (id, next) = sd_name(line, at);
        if id.is_empty() {
            return Err(err(at, "empty SD-ID"));
        }
        let duplicate = match &mut ids {
            Some(ids) => !ids.insert(id),
            None if elements.len() < repeats::SCAN_MAX => elements.iter().any(|e| e.id == id),
            None => {
                let mut set: HashSet<&[u8]> = elements.iter().map(|e| e.id).collect();
                let duplicate = !set.insert(id);
                ids = Some(set);
                duplicate
            }
        };
        if duplicate {
            return Err(err(
                at,
                &format!(
                    "duplicate SD-ID {:?} (RFC 5424 §6.3.2)",
                    String::from_utf8_lossy(id)
                ),
            ));
        }
        at = next;
        let mut params = buffers.params();
        loop {
            match line.get(at) {
                Some(b']') => {
                    at += 1;
                    break;
                }
                Some(b' ') => at += 1,
                None => return Err(err(at, "unterminated SD-ELEMENT (missing ']')")),
                Some(_) => return Err(err(at, "expected ' ' or ']' after SD-ID or parameter")),
            }
            let (name, next) = sd_name(line, at);
            if name.is_empty() {
                return Err(err(at, "empty PARAM-NAME"));
            }
            at = next;
            if line.get(at) != Some(&b'=') || line.get(at + 1) != Some(&b'"') {
                return Err(err(at, "expected '=\"' after PARAM-NAME"));
            }
            at += 2;
            let start = at;
            // The value runs to the first '"' not escaped by a backslash.
            loop {
                // Past a backslash at the very end, `at` is beyond the line: unterminated.
                if let Some(rest) = line.get(at..) {
                    at += scan::value_run_len(rest);
                }
                match line.get(at) {
                    None => return Err(err(start, "unterminated PARAM-VALUE (missing '\"')")),
                    Some(b'\\') => at += 2,
                    _ => break, // '"'
                }
            }
            params.push(SdParam {
                name,
                raw_value: &line[start..at],
            });
            at += 1;
            match line.get(at) {
                Some(b' ' | b']') => {}
                None => return Err(err(at, "unterminated SD-ELEMENT (missing ']')")),
                Some(_) => {
                    return Err(err(
                        at,
                        "expected ' ' or ']' after PARAM-VALUE (unescaped '\"' in a value?)",
                    ));
                }
            }
        }
        elements.push(SdElement { id, params });
    }
    Ok((elements, at))
}

/// `[name:"`: Check Point's `[key:"value"; …]` in the place of STRUCTURED-DATA.
fn looks_like_check_point_sd(b: &[u8]) -> bool {
    let Some(rest) = b.strip_prefix(b"[") else {
        return false;
    };
    let (name, next) = sd_name(rest, 0);
    name.len() > 1 && name.ends_with(b":") && rest.get(next) == Some(&b'"')
}

/// SD-NAME: printable ASCII except `=`, space, `]`, `"` (§6.3.2). The 32-byte limit is not
/// enforced (leniency rule 5).
fn sd_name(line: &[u8], at: usize) -> (&[u8], usize) {
    let len = scan::sd_name_len(&line[at..]);
    (&line[at..at + len], at + len)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syslog::timestamp::Zone;

    fn ctx() -> TimeContext {
        TimeContext::new(Zone::Fixed(chrono::FixedOffset::east_opt(0).unwrap()), None)
    }

    fn ok(line: &str) -> Message<'_> {
        parse(line.as_bytes(), &ctx()).unwrap_or_else(|e| panic!("{line}: {e}"))
    }

    fn s(b: Option<&[u8]>) -> Option<&str> {
        b.map(|b| std::str::from_utf8(b).unwrap())
    }

    #[test]
    fn rfc5424_example_1_no_structured_data() {
        // RFC 5424 §6.5 example 1 (the BOM is written as bytes in the RFC).
        let line = b"<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \xEF\xBB\xBF'su root' failed for lonvick on /dev/pts/8";
        let m = parse(line, &ctx()).unwrap();
        assert_eq!(m.pri.unwrap().value(), 34);
        assert_eq!(m.version, Some(1));
        assert_eq!(m.timestamp.unwrap().to_string(), "2003-10-11T22:14:15.003Z");
        assert_eq!(s(m.hostname), Some("mymachine.example.com"));
        assert_eq!(s(m.appname), Some("su"));
        assert_eq!(m.procid, None);
        assert_eq!(s(m.msgid), Some("ID47"));
        assert!(m.structured_data.is_empty());
        assert_eq!(s(m.msg), Some("'su root' failed for lonvick on /dev/pts/8"));
    }

    #[test]
    fn rfc5424_example_2_offset_and_no_bom() {
        let m = ok(
            "<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts.",
        );
        assert_eq!(
            m.timestamp.unwrap().to_string(),
            "2003-08-24T12:14:15.000003Z"
        );
        assert_eq!(s(m.hostname), Some("192.0.2.1"));
        assert_eq!(s(m.procid), Some("8710"));
        assert_eq!(m.msgid, None);
        assert_eq!(s(m.msg), Some("%% It's time to make the do-nuts."));
    }

    #[test]
    fn rfc5424_example_3_structured_data_and_message() {
        let m = ok(
            r#"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] An application event log entry..."#,
        );
        assert_eq!(m.structured_data.len(), 1);
        let sd = &m.structured_data[0];
        assert_eq!(sd.id, b"exampleSDID@32473");
        let params: Vec<_> = sd
            .params
            .iter()
            .map(|p| (s(Some(p.name)).unwrap(), s(Some(p.raw_value)).unwrap()))
            .collect();
        assert_eq!(
            params,
            [
                ("iut", "3"),
                ("eventSource", "Application"),
                ("eventID", "1011")
            ]
        );
        assert_eq!(s(m.msg), Some("An application event log entry..."));
    }

    #[test]
    fn rfc5424_example_4_two_sd_elements_no_message() {
        let m = ok(
            r#"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"]"#,
        );
        assert_eq!(m.structured_data.len(), 2);
        assert_eq!(m.structured_data[1].id, b"examplePriority@32473");
        assert_eq!(m.msg, None);
    }

    #[test]
    fn all_nil_values_are_absent() {
        let m = ok("<13>1 - - - - - -");
        assert_eq!(
            (m.timestamp, m.hostname, m.appname, m.procid, m.msgid, m.msg),
            (None, None, None, None, None, None)
        );
    }

    #[test]
    fn escaped_sd_values_and_id_without_params() {
        let m = ok(r#"<13>1 - h a - - [x@1 a="q\"b\\c\]d" e="" f="C:\d"][origin] msg"#);
        let p = &m.structured_data[0].params;
        assert_eq!(&*p[0].value(), b"q\"b\\c]d");
        assert_eq!(&*p[1].value(), b"");
        assert_eq!(&*p[2].value(), br"C:\d");
        assert!(m.structured_data[1].params.is_empty());
    }

    #[test]
    fn sd_looking_message_after_nil_sd_stays_message() {
        let m = ok("<4>1 2026-11-22T10:01:02Z host kernel - - - [UFW BLOCK] IN=eth0");
        assert!(m.structured_data.is_empty());
        assert_eq!(s(m.msg), Some("[UFW BLOCK] IN=eth0"));
        let m = ok(r#"<13>1 - h a - - [a b="c"] [not sd]"#);
        assert_eq!(m.structured_data.len(), 1);
        assert_eq!(s(m.msg), Some("[not sd]"));
    }

    #[test]
    fn long_fields_and_colons_are_kept() {
        let app = "a".repeat(49);
        let line = format!("<13>1 - h {app} - 01230456:1: -");
        let m = ok(&line);
        assert_eq!(s(m.appname), Some(app.as_str()));
        assert_eq!(s(m.msgid), Some("01230456:1:"));
        let m = ok("<13>1 - h lsys:rpd - - -");
        assert_eq!(s(m.appname), Some("lsys:rpd"));
    }

    #[test]
    fn malformed_lines_are_errors_with_reasons() {
        for (line, reason) in [
            ("<13>1 2026-03-04T10:00:00Z", "cut short"),
            ("<13>1 2026-03-04T10:00:00Z h a p m", "cut short"),
            ("<13>1  h a p m -", "TIMESTAMP"),
            ("<13>1 - h  p m -", "empty APP-NAME"),
            ("<13>1 - h a p m [x a=\"1\"][x b=\"2\"]", "duplicate SD-ID"),
            ("<13>1 - h a p m []", "empty SD-ID"),
            ("<13>1 - h a p m [x a=\"1\"", "unterminated"),
            ("<13>1 - h a p m [x a=\"1\" b=\"un\"quoted\"]", "unescaped"),
            ("<13>1 - h a p m x", "expected '-' or '['"),
            ("<13>1 - h a p m [x a=\"1\"]x", "space between"),
            ("<13>1 2026-02-30T10:00:00Z h a p m -", "invalid date"),
            ("<13>1 2026-06-30T23:59:60Z h a p m -", "leap second"),
            ("<192>1 - h a p m -", "out of range"),
        ] {
            let e = parse(line.as_bytes(), &ctx()).unwrap_err();
            assert!(e.to_string().contains(reason), "{line}: {e}");
        }
    }

    #[test]
    fn nine_digit_fraction_from_windows_senders_is_accepted() {
        let m = ok("<13>1 2026-11-22T10:01:02.123456789+01:00 h a - - - x");
        assert_eq!(
            m.timestamp.unwrap().to_string(),
            "2026-11-22T09:01:02.123456789Z"
        );
    }

    /// `[id0][id1]…` with `n` SD-IDs, then ` msg`.
    fn many_sd_ids(n: usize) -> String {
        let mut line = String::from("<13>1 - h a - - ");
        for i in 0..n {
            line.push_str(&format!("[id{i}]"));
        }
        line.push_str(" msg");
        line
    }

    #[test]
    fn issue_14_a_million_sd_ids_are_checked_for_duplicates_in_linear_time() {
        // See: #14. The pairwise check took over a minute for a million distinct SD-IDs; it
        // would not finish here in debug builds.
        let n = 1_000_000;
        let mut line = many_sd_ids(n);
        let m = ok(&line);
        assert_eq!(m.structured_data.len(), n);
        assert_eq!(
            m.structured_data[n - 1].id,
            format!("id{}", n - 1).as_bytes()
        );
        assert_eq!(s(m.msg), Some("msg"));
        // A duplicate is still found, however far apart the two are.
        line.insert_str(line.len() - 4, "[id0 x=\"1\"]");
        let e = parse(line.as_bytes(), &ctx()).unwrap_err();
        assert!(e.to_string().contains("duplicate SD-ID \"id0\""), "{e}");
    }

    #[test]
    fn issue_15_check_point_sd_stays_in_the_message_when_lenient() {
        // See: #15. Elastic's own test line ("non-compliant-sd-with-msg" in Beats'
        // rfc5424_test.go), shortened.
        let line = r#"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [action:"Drop"; flags:"278528"; ifdir:"inbound"; __policy_id_tag:"product=VPN-1 & FireWall-1[db_tag={F6212FB3};mgmt=cp-m\]"; src:"81.2.69.144"] This is a test message"#;
        let e = parse(line.as_bytes(), &ctx()).unwrap_err();
        assert!(e.to_string().contains("STRUCTURED-DATA"), "{e}");
        let (m, extras) = parse_lenient(line.as_bytes(), &ctx()).unwrap();
        assert_eq!(extras.sd_note, Some(CHECK_POINT_SD_NOTE));
        assert_eq!(s(m.appname), Some("evntslog"));
        assert!(m.structured_data.is_empty());
        let msg = s(m.msg).unwrap();
        assert!(
            msg.starts_with("[action:\"Drop\"; flags:")
                && msg.ends_with("] This is a test message")
        );
        // Other broken structured data, and duplicate SD-IDs, stay errors.
        for bad in [
            "<13>1 - h a - - [x a=\"1\"][x b=\"2\"] m",
            "<13>1 - h a - - [x a=\"1\" m",
            "<13>1 - h a - - [:\"1\"] m",
        ] {
            assert!(parse_lenient(bad.as_bytes(), &ctx()).is_err(), "{bad}");
        }
        // Valid structured data gives no note.
        let (_, extras) = parse_lenient(br#"<13>1 - h a - - [x a="1"] m"#, &ctx()).unwrap();
        assert_eq!(extras, Extras::default());
    }

    #[test]
    fn empty_message_after_space_is_empty() {
        let m = ok("<13>1 - h a - - - ");
        assert_eq!(m.msg, Some(&b""[..]));
    }

    #[test]
    fn parsing_into_recycled_buffers_gives_the_same_messages() {
        // Fewer, equal and more elements and parameters than the message before left room for.
        let lines: [&[u8]; 5] = [
            br#"<13>1 - h a - - [x@1 a="1" b="2" c="3" d="4" e="5"][y@1 k="v"] m"#,
            b"<13>1 - h a - - - m",
            br#"<13>1 - h a - - [z@1 q="\"w\""] m"#,
            br#"<13>1 - h a - - [p@1][q@1 r="s"][t@1 u="" v="w"] m"#,
            br#"<13>1 - h a - - [dup@1][dup@1] m"#,
        ];
        let mut buffers = SdBuffers::default();
        for line in lines {
            let fresh = parse(line, &ctx());
            let reused = parse_reusing(line, &ctx(), &mut buffers);
            assert_eq!(reused, fresh, "{}", line.escape_ascii());
            if let Ok(m) = reused {
                buffers.recycle(m.structured_data);
            }
        }
        let m = parse_reusing(lines[3], &ctx(), &mut buffers).unwrap();
        let ids: Vec<&[u8]> = m.structured_data.iter().map(|e| e.id).collect();
        assert_eq!(ids, [&b"p@1"[..], b"q@1", b"t@1"]);
        assert_eq!(m.structured_data[2].params[1].name, b"v");
        assert_eq!(m.structured_data[2].params[1].raw_value, b"w");
        assert!(m.structured_data[0].params.is_empty());
    }
}
