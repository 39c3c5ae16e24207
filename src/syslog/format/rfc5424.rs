//! RFC 5424 §6 writer:
//! `<PRI>1 SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP STRUCTURED-DATA [SP MSG]`.
//!
//! Absent fields are NILVALUE `-`. Header fields are sanitised to PRINTUSASCII and cut to the
//! §6 limits; SD-IDs and PARAM-NAMEs to SD-NAME; PARAM-VALUEs are escaped (§6.3.3). So whatever
//! the input, the output is a message our parser (`syslog::rfc5424`) reads back.

use std::borrow::Cow;
use std::convert::Infallible;

use super::DEFAULT_PRI;
use super::field::{
    Charset, MAX_APPNAME_LEN, MAX_HOSTNAME_LEN, MAX_MSGID_LEN, MAX_PROCID_LEN, MAX_SD_NAME_LEN,
    sanitised, write_pri, write_rfc3339, write_sanitised,
};
use crate::syslog::repeats::{self, Repeats};
use crate::syslog::timestamp::Zone;
use crate::syslog::{Message, SdElement};

/// RFC 5424 §6.4: a UTF-8 MSG may start with a BOM, written only when asked for.
pub const BOM: &[u8] = b"\xEF\xBB\xBF";

/// Appends `m` as an RFC 5424 message (no framing, no line terminator), its time written in
/// `zone`. VERSION is always 1; a missing PRI is 13 (user.notice); no BOM.
///
/// Structured data comes from `m.structured_data`, whose values are raw (escaped as on the
/// wire): they are unescaped and escaped again, so a value the parser kept as `C:\d` goes out
/// as `C:\\d` and still reads back as `C:\d`.
pub fn rfc5424(m: &Message<'_>, zone: &Zone, out: &mut Vec<u8>) {
    write_header(m, zone, out);
    write_model_structured_data(&m.structured_data, out);
    write_msg(m.msg, false, out);
}

/// Appends everything up to and including the space before STRUCTURED-DATA.
pub fn write_header(m: &Message<'_>, zone: &Zone, out: &mut Vec<u8>) {
    write_pri(out, m.pri.unwrap_or(DEFAULT_PRI).value());
    out.extend_from_slice(b"1 ");
    // A year RFC 3339 cannot write makes the time unknown rather than the message broken.
    if !m.timestamp.is_some_and(|ts| write_rfc3339(out, &ts, zone)) {
        out.push(b'-');
    }
    for (value, max) in [
        (m.hostname, MAX_HOSTNAME_LEN),
        (m.appname, MAX_APPNAME_LEN),
        (m.procid, MAX_PROCID_LEN),
        (m.msgid, MAX_MSGID_LEN),
    ] {
        out.push(b' ');
        match value {
            Some(v) if !v.is_empty() => {
                write_sanitised(out, v, Charset::PrintUsAscii, max);
            }
            _ => out.push(b'-'),
        }
    }
    out.push(b' ');
}

/// Appends ` MSG` (with the BOM when asked), or nothing when there is no message.
pub fn write_msg(msg: Option<&[u8]>, bom: bool, out: &mut Vec<u8>) {
    if let Some(msg) = msg {
        write_msg_start(bom, out);
        out.extend_from_slice(msg);
    }
}

/// Appends the space before MSG and the BOM when asked; the caller appends the text.
pub fn write_msg_start(bom: bool, out: &mut Vec<u8>) {
    out.push(b' ');
    if bom {
        out.extend_from_slice(BOM);
    }
}

/// STRUCTURED-DATA from the header model (raw values).
pub fn write_model_structured_data(elements: &[SdElement<'_>], out: &mut Vec<u8>) {
    let written = write_structured_data(
        elements.iter().map(|e| (e.id, e)),
        |element, out| {
            for param in &element.params {
                write_param_name(param.name, out);
                write_raw_param_value(param.raw_value, out);
                out.push(b'"');
            }
            Ok::<(), Infallible>(())
        },
        out,
    );
    match written {
        Ok(()) => {}
        Err(never) => match never {},
    }
}

/// Appends STRUCTURED-DATA: `-` when there are no elements, else one `[SD-ID params]` per
/// element. `write_params` appends an element's ` NAME="value"` parts (see
/// [`write_param_name`], [`write_param_value`]).
///
/// §6.3.2 forbids one SD-ID twice in a message. IDs that are distinct in the input can become
/// equal once sanitised (`a b` and `a_b`, or two long IDs cut to 32 bytes); their parameters are
/// then written into one element, the first, so that nothing is lost and the message stays valid.
pub fn write_structured_data<'e, E, I, Err>(
    elements: I,
    mut write_params: impl FnMut(&E, &mut Vec<u8>) -> Result<(), Err>,
    out: &mut Vec<u8>,
) -> Result<(), Err>
where
    I: Iterator<Item = (&'e [u8], E)> + Clone,
{
    if elements.clone().nth(repeats::SCAN_MAX).is_some() {
        // Many elements (a generated or hostile message): group equal names in one pass.
        let elements: Vec<(&[u8], E)> = elements.collect();
        let repeats = Repeats::new(elements.iter().map(|&(id, _)| sd_name_on_wire(id)));
        for (i, (id, element)) in elements.iter().enumerate() {
            if !repeats.is_first(i) {
                continue; // merged into the earlier element with this ID
            }
            out.push(b'[');
            write_sd_name(id, out);
            write_params(element, out)?;
            for later in repeats.chain(i).skip(1) {
                write_params(&elements[later].1, out)?;
            }
            out.push(b']');
        }
        return Ok(());
    }
    let mut any = false;
    for (i, (id, element)) in elements.clone().enumerate() {
        if elements
            .clone()
            .take(i)
            .any(|(earlier, _)| same_sd_name(earlier, id))
        {
            continue; // merged into the earlier element with this ID
        }
        any = true;
        out.push(b'[');
        write_sd_name(id, out);
        write_params(&element, out)?;
        for (_, later) in elements
            .clone()
            .skip(i + 1)
            .filter(|(later, _)| same_sd_name(id, later))
        {
            write_params(&later, out)?;
        }
        out.push(b']');
    }
    if !any {
        out.push(b'-');
    }
    Ok(())
}

/// An SD-ID as it goes out, borrowed when it is valid as it is.
fn sd_name_on_wire(name: &[u8]) -> Cow<'_, [u8]> {
    if is_valid_sd_name(name) {
        Cow::Borrowed(name)
    } else {
        Cow::Owned(sanitised(non_empty(name), Charset::SdName, MAX_SD_NAME_LEN).collect())
    }
}

fn is_valid_sd_name(name: &[u8]) -> bool {
    (1..=MAX_SD_NAME_LEN).contains(&name.len()) && name.iter().all(|&b| Charset::SdName.allows(b))
}

/// An SD-NAME cannot be empty; an empty ID or PARAM-NAME is sent as `_`.
fn non_empty(name: &[u8]) -> &[u8] {
    if name.is_empty() { b"_" } else { name }
}

fn same_sd_name(a: &[u8], b: &[u8]) -> bool {
    if a == b {
        return true;
    }
    // Names that are valid as they are go out unchanged, so they differ on the wire too. This
    // spares the character-by-character comparison for every pair of elements.
    if is_valid_sd_name(a) && is_valid_sd_name(b) {
        return false;
    }
    sanitised(non_empty(a), Charset::SdName, MAX_SD_NAME_LEN).eq(sanitised(
        non_empty(b),
        Charset::SdName,
        MAX_SD_NAME_LEN,
    ))
}

fn write_sd_name(name: &[u8], out: &mut Vec<u8>) {
    write_sanitised(out, non_empty(name), Charset::SdName, MAX_SD_NAME_LEN);
}

/// Appends ` NAME="`; the caller appends the escaped value and the closing `"`.
pub fn write_param_name(name: &[u8], out: &mut Vec<u8>) {
    out.push(b' ');
    write_sd_name(name, out);
    out.extend_from_slice(b"=\"");
}

/// Appends an unescaped PARAM-VALUE escaped (§6.3.3): `"`, `\` and `]` get a backslash.
pub fn write_param_value(value: &[u8], out: &mut Vec<u8>) {
    let mut start = 0;
    for at in memchr::memchr3_iter(b'"', b'\\', b']', value) {
        out.extend_from_slice(&value[start..at]);
        out.push(b'\\');
        start = at; // the special byte itself goes out with the next run
    }
    out.extend_from_slice(&value[start..]);
}

/// Appends a raw PARAM-VALUE (as the parser keeps it) in canonical escaped form: an escape the
/// parser honours (`\"`, `\\`, `\]`) stays; a backslash it keeps literally (`\d`) becomes `\\`;
/// a bare `"` or `]` gets its backslash. Unescaping the output gives what unescaping the input
/// gave.
fn write_raw_param_value(raw: &[u8], out: &mut Vec<u8>) {
    if memchr::memchr3(b'"', b'\\', b']', raw).is_none() {
        out.extend_from_slice(raw);
        return;
    }
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'\\' if matches!(raw.get(i + 1), Some(b'"' | b'\\' | b']')) => {
                out.extend_from_slice(&raw[i..i + 2]);
                i += 2;
                continue;
            }
            b @ (b'\\' | b'"' | b']') => out.extend_from_slice(&[b'\\', b]),
            b => out.push(b),
        }
        i += 1;
    }
}

#[cfg(test)]
mod tests {
    use super::super::strategies;
    use super::*;
    use crate::syslog::timestamp::{TimeContext, Timestamp};
    use crate::syslog::{Pri, SdParam, rfc5424 as parse5424};
    use chrono::{DateTime, FixedOffset, TimeZone, Utc};
    use proptest::prelude::*;

    fn utc() -> Zone {
        Zone::Fixed(FixedOffset::east_opt(0).unwrap())
    }

    fn ts(s: &str, frac_digits: u8) -> Option<Timestamp> {
        Some(Timestamp {
            utc: s.parse::<DateTime<Utc>>().unwrap(),
            frac_digits,
        })
    }

    fn formatted(m: &Message<'_>, zone: &Zone) -> Vec<u8> {
        let mut out = Vec::new();
        rfc5424(m, zone, &mut out);
        out
    }

    fn param<'a>(name: &'a str, raw_value: &'a str) -> SdParam<'a> {
        SdParam {
            name: name.as_bytes(),
            raw_value: raw_value.as_bytes(),
        }
    }

    #[test]
    fn rfc5424_example_1_from_its_fields() {
        // RFC 5424 §6.5 example 1, whose MSG starts with a BOM: here the BOM is part of the
        // message bytes, as the RFC writes it.
        let m = Message {
            pri: Pri::new(34),
            version: Some(1),
            timestamp: ts("2003-10-11T22:14:15.003Z", 3),
            hostname: Some(b"mymachine.example.com"),
            appname: Some(b"su"),
            msgid: Some(b"ID47"),
            msg: Some(b"\xEF\xBB\xBF'su root' failed for lonvick on /dev/pts/8"),
            ..Message::default()
        };
        assert_eq!(
            formatted(&m, &utc()),
            b"<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - \xEF\xBB\xBF'su root' failed for lonvick on /dev/pts/8"
        );
    }

    #[test]
    fn rfc5424_example_2_with_its_offset() {
        // RFC 5424 §6.5 example 2: written in the sender's zone, -07:00.
        let m = Message {
            pri: Pri::new(165),
            timestamp: ts("2003-08-24T12:14:15.000003Z", 6),
            hostname: Some(b"192.0.2.1"),
            appname: Some(b"myproc"),
            procid: Some(b"8710"),
            msg: Some(b"%% It's time to make the do-nuts."),
            ..Message::default()
        };
        let zone = Zone::Fixed(FixedOffset::west_opt(7 * 3600).unwrap());
        assert_eq!(
            String::from_utf8(formatted(&m, &zone)).unwrap(),
            "<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts."
        );
    }

    #[test]
    fn rfc5424_examples_3_and_4_with_structured_data() {
        // RFC 5424 §6.5 examples 3 and 4.
        let example_sd = SdElement {
            id: b"exampleSDID@32473",
            params: vec![
                param("iut", "3"),
                param("eventSource", "Application"),
                param("eventID", "1011"),
            ],
        };
        let mut m = Message {
            pri: Pri::new(165),
            timestamp: ts("2003-10-11T22:14:15.003Z", 3),
            hostname: Some(b"mymachine.example.com"),
            appname: Some(b"evntslog"),
            msgid: Some(b"ID47"),
            structured_data: vec![example_sd.clone()],
            msg: Some(b"\xEF\xBB\xBFAn application event log entry..."),
            ..Message::default()
        };
        assert_eq!(
            formatted(&m, &utc()),
            b"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut=\"3\" eventSource=\"Application\" eventID=\"1011\"] \xEF\xBB\xBFAn application event log entry..."
        );
        m.structured_data.push(SdElement {
            id: b"examplePriority@32473",
            params: vec![param("class", "high")],
        });
        m.msg = None;
        assert_eq!(
            String::from_utf8(formatted(&m, &utc())).unwrap(),
            r#"<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"]"#
        );
    }

    #[test]
    fn an_empty_model_is_all_nilvalues_with_the_default_pri() {
        assert_eq!(formatted(&Message::default(), &utc()), b"<13>1 - - - - - -");
        let m = Message {
            msg: Some(b""),
            ..Message::default()
        };
        assert_eq!(formatted(&m, &utc()), b"<13>1 - - - - - - ");
    }

    #[test]
    fn header_fields_are_sanitised_and_cut_to_their_limits() {
        let long = "h".repeat(300);
        let m = Message {
            hostname: Some(long.as_bytes()),
            appname: Some("my app\u{e9}".as_bytes()),
            procid: Some(b""),
            msgid: Some(b"ID 47\n0123456789012345678901234567890123"),
            ..Message::default()
        };
        let out = String::from_utf8(formatted(&m, &utc())).unwrap();
        let want = format!(
            "<13>1 - {} my_app_ - ID_47_01234567890123456789012345 -",
            "h".repeat(255)
        );
        assert_eq!(out, want);
        let back = parse5424::parse(out.as_bytes(), &TimeContext::default()).unwrap();
        assert_eq!(back.msgid.unwrap().len(), 32);
    }

    #[test]
    fn sd_values_are_escaped_and_raw_escapes_normalised() {
        let m = Message {
            structured_data: vec![SdElement {
                id: b"x@1",
                params: vec![
                    param("a", r#"q\"b\\c\]d"#),
                    param("b", r"C:\d"),
                    param("c", ""),
                ],
            }],
            ..Message::default()
        };
        let out = formatted(&m, &utc());
        assert_eq!(
            String::from_utf8_lossy(&out),
            r#"<13>1 - - - - - [x@1 a="q\"b\\c\]d" b="C:\\d" c=""]"#
        );
        let back = parse5424::parse(&out, &TimeContext::default()).unwrap();
        let values: Vec<_> = back.structured_data[0]
            .params
            .iter()
            .map(|p| p.value().into_owned())
            .collect();
        assert_eq!(values, [&b"q\"b\\c]d"[..], br"C:\d", b""]);

        let mut escaped = Vec::new();
        write_param_value(br#"say "hi" [x] \o/"#, &mut escaped);
        assert_eq!(escaped, br#"say \"hi\" [x\] \\o/"#);

        // A hand-built model may hold a bare '"' or ']': escaped, never sent broken.
        let mut raw = Vec::new();
        write_raw_param_value(br#"a"b]c\"#, &mut raw);
        assert_eq!(raw, br#"a\"b\]c\\"#);
    }

    #[test]
    fn sd_names_are_sanitised_and_ids_equal_after_it_are_merged() {
        let m = Message {
            structured_data: vec![
                SdElement {
                    id: b"a b",
                    params: vec![param("k=1", "x")],
                },
                SdElement {
                    id: b"other",
                    params: vec![],
                },
                SdElement {
                    id: b"a_b",
                    params: vec![param("", "y")],
                },
            ],
            ..Message::default()
        };
        let out = formatted(&m, &utc());
        assert_eq!(
            String::from_utf8_lossy(&out),
            r#"<13>1 - - - - - [a_b k_1="x" _="y"][other]"#
        );
        assert!(parse5424::parse(&out, &TimeContext::default()).is_ok());
    }

    #[test]
    fn issue_14_a_million_sd_ids_are_written_in_linear_time() {
        // See: #14. Merging equal SD-IDs pairwise took 6.75 s for 20,000 IDs. Every thousandth
        // ID here becomes "dup_" once sanitised, so those merge into one element.
        let n = 1_000_000;
        let ids: Vec<String> = (0..n)
            .map(|i| {
                if i % 1000 == 0 {
                    "dup ".to_string()
                } else {
                    format!("id{i}")
                }
            })
            .collect();
        let m = Message {
            structured_data: ids
                .iter()
                .enumerate()
                .map(|(i, id)| SdElement {
                    id: id.as_bytes(),
                    params: if i % 1000 == 0 {
                        vec![param("k", "v")]
                    } else {
                        vec![]
                    },
                })
                .collect(),
            ..Message::default()
        };
        let out = formatted(&m, &utc());
        let back = parse5424::parse(&out, &TimeContext::default()).unwrap();
        assert_eq!(back.structured_data.len(), n - n / 1000 + 1);
        let dup = &back.structured_data[0];
        assert_eq!((dup.id, dup.params.len()), (&b"dup_"[..], n / 1000));
        assert_eq!(back.structured_data[1].id, b"id1");
        assert_eq!(back.structured_data.last().unwrap().id, b"id999999");
    }

    #[test]
    fn many_sd_ids_merge_like_few() {
        // The same merge rule on both sides of the switch from pairwise scan to hash map.
        for n in [repeats::SCAN_MAX, repeats::SCAN_MAX + 1, 40] {
            let ids: Vec<String> = (0..n).map(|i| format!("a b{}", i % 5)).collect();
            let m = Message {
                structured_data: ids
                    .iter()
                    .map(|id| SdElement {
                        id: id.as_bytes(),
                        params: vec![param("k", "v")],
                    })
                    .collect(),
                ..Message::default()
            };
            let back_bytes = formatted(&m, &utc());
            let back = parse5424::parse(&back_bytes, &TimeContext::default()).unwrap();
            let ids: Vec<&[u8]> = back.structured_data.iter().map(|e| e.id).collect();
            assert_eq!(
                ids,
                [&b"a_b0"[..], b"a_b1", b"a_b2", b"a_b3", b"a_b4"],
                "{n}"
            );
            let counts: Vec<usize> = back
                .structured_data
                .iter()
                .map(|e| e.params.len())
                .collect();
            let want: Vec<usize> = (0..5).map(|k| (n + 4 - k) / 5).collect();
            assert_eq!(counts, want, "{n}");
        }
    }

    #[test]
    fn a_year_rfc3339_cannot_write_becomes_nilvalue() {
        let m = Message {
            timestamp: Some(Timestamp {
                utc: Utc.with_ymd_and_hms(10000, 1, 1, 0, 0, 0).unwrap(),
                frac_digits: 0,
            }),
            ..Message::default()
        };
        assert_eq!(formatted(&m, &utc()), b"<13>1 - - - - - -");
    }

    // Round trip: rfc5424::parse(format::rfc5424(m)) == m, for every valid header model.
    proptest! {
        #[test]
        fn formatting_then_parsing_gives_the_message_back(
            g in strategies::rfc5424_message(),
            zone in strategies::zone(),
        ) {
            let m = g.message();
            let mut out = Vec::new();
            rfc5424(&m, &zone, &mut out);
            let back = parse5424::parse(&out, &TimeContext::default())
                .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out)));
            prop_assert_eq!(back.pri, m.pri);
            prop_assert_eq!(back.version, Some(1));
            prop_assert_eq!(back.timestamp, m.timestamp);
            prop_assert_eq!(back.hostname, m.hostname);
            prop_assert_eq!(back.appname, m.appname);
            prop_assert_eq!(back.procid, m.procid);
            prop_assert_eq!(back.msgid, m.msgid);
            prop_assert_eq!(strategies::sd_values(&back), strategies::sd_values(&m));
            prop_assert_eq!(back.msg, m.msg);
        }
    }
}
