//! proptest generators for the round-trip tests: valid header models, in the shapes the
//! parsers can give back. Shared by the RFC 5424, RFC 3164 and event tests.

use chrono::{DateTime, FixedOffset};
use proptest::prelude::*;

use super::rfc5424::BOM;
use crate::syslog::timestamp::{Timestamp, Zone};
use crate::syslog::{Message, Pri, SdElement, SdParam, unescape_param_value};

/// Valid RFC 5424 header text: PRINTUSASCII, within the limit, never the NILVALUE `-` alone
/// (the parser reads `-` as "absent", so `Some("-")` can't come back).
pub fn header_text(max: usize) -> impl Strategy<Value = String> {
    proptest::string::string_regex(&format!("[!-~]{{1,{max}}}"))
        .unwrap()
        .prop_filter("NILVALUE", |s| s != "-")
}

/// SD-NAME: PRINTUSASCII except `=`, `]`, `"`, 1 to 32 characters.
fn sd_name() -> impl Strategy<Value = String> {
    proptest::string::string_regex(r#"[!-~&&[^=\]"]]{1,32}"#).unwrap()
}

/// PARAM-VALUEs rich in the bytes that need escaping, plus any other printable characters.
fn sd_value() -> impl Strategy<Value = String> {
    proptest::string::string_regex(r#"([\\"\]\[= ]|\PC){0,12}"#).unwrap()
}

/// A time with 0 to 6 fraction digits (RFC 5424 TIME-SECFRAC), so that it is written exactly,
/// up to the last day of 9999, so that no offset pushes the wall time past year 9999.
pub fn timestamp() -> impl Strategy<Value = Timestamp> {
    (0i64..253_402_214_400, 0u32..1_000_000, 0u8..=6).prop_map(|(secs, micros, digits)| {
        let keep = 10u32.pow(6 - u32::from(digits));
        let nanos = micros / keep * keep * 1000;
        Timestamp {
            utc: DateTime::from_timestamp(secs, nanos).unwrap(),
            frac_digits: digits,
        }
    })
}

/// Fixed offsets only, any whole minute below 24 h (see the RFC 3164 round trip for why).
pub fn zone() -> impl Strategy<Value = Zone> {
    (-(23 * 60 + 59)..=(23 * 60 + 59))
        .prop_map(|minutes: i32| Zone::Fixed(FixedOffset::east_opt(minutes * 60).unwrap()))
}

/// MSG bytes: anything but LF (framing's business).
pub fn msg_bytes() -> impl Strategy<Value = Vec<u8>> {
    proptest::collection::vec(any::<u8>().prop_filter("LF", |&b| b != b'\n'), 0..60)
}

/// An SD element list: unique IDs (RFC 5424 §6.3.2), values unescaped.
pub type Sd = Vec<(String, Vec<(String, String)>)>;

fn structured_data() -> impl Strategy<Value = Sd> {
    proptest::collection::btree_map(
        sd_name(),
        proptest::collection::vec((sd_name(), sd_value()), 0..4),
        0..4,
    )
    .prop_map(|map| map.into_iter().collect())
}

/// An owned RFC 5424 header model; [`Generated::message`] borrows it as a [`Message`].
#[derive(Debug, Clone)]
pub struct Generated {
    pub pri: u8,
    pub timestamp: Option<Timestamp>,
    pub hostname: Option<String>,
    pub appname: Option<String>,
    pub procid: Option<String>,
    pub msgid: Option<String>,
    pub sd: Sd,
    /// Never starts with a BOM, which the parser strips (RFC 5424 §6.4: a marker, not text).
    pub msg: Option<Vec<u8>>,
    /// The SD values escaped, as [`SdParam::raw_value`] holds them.
    escaped: Vec<Vec<Vec<u8>>>,
}

pub fn rfc5424_message() -> impl Strategy<Value = Generated> {
    (
        0u8..=191,
        proptest::option::of(timestamp()),
        proptest::option::of(header_text(255)),
        proptest::option::of(header_text(48)),
        proptest::option::of(header_text(128)),
        proptest::option::of(header_text(32)),
        structured_data(),
        proptest::option::of(msg_bytes().prop_filter("leading BOM", |m| !m.starts_with(BOM))),
        any::<bool>(),
    )
        .prop_map(
            |(pri, timestamp, hostname, appname, procid, msgid, sd, msg, lenient)| {
                let escaped = sd
                    .iter()
                    .map(|(_, params)| {
                        params
                            .iter()
                            .map(|(_, v)| escape(v, lenient).into_bytes())
                            .collect()
                    })
                    .collect();
                Generated {
                    pri,
                    timestamp,
                    hostname,
                    appname,
                    procid,
                    msgid,
                    sd,
                    msg,
                    escaped,
                }
            },
        )
}

impl Generated {
    /// The model as the parser would give it (SD values escaped, VERSION 1).
    pub fn message(&self) -> Message<'_> {
        Message {
            pri: Pri::new(self.pri),
            version: Some(1),
            timestamp: self.timestamp,
            hostname: self.hostname.as_deref().map(str::as_bytes),
            appname: self.appname.as_deref().map(str::as_bytes),
            procid: self.procid.as_deref().map(str::as_bytes),
            msgid: self.msgid.as_deref().map(str::as_bytes),
            structured_data: self
                .sd
                .iter()
                .zip(&self.escaped)
                .map(|((id, params), values)| SdElement {
                    id: id.as_bytes(),
                    params: params
                        .iter()
                        .zip(values)
                        .map(|((name, _), raw)| SdParam {
                            name: name.as_bytes(),
                            raw_value: raw,
                        })
                        .collect(),
                })
                .collect(),
            msg: self.msg.as_deref(),
        }
    }
}

/// A PARAM-VALUE as a sender may have escaped it: every `"`, `\` and `]` (RFC 5424 §6.3.3),
/// or, `lenient`, only what our parser needs (`"`, and a `\` it would otherwise pair with the
/// next byte), as some senders do; the parser keeps a bare `]` and `\d` as they are. Written
/// independently of the writer under test, as its oracle.
fn escape(value: &str, lenient: bool) -> String {
    let mut raw = String::new();
    let mut chars = value.chars().peekable();
    while let Some(c) = chars.next() {
        let needed = match c {
            '"' => true,
            '\\' => !lenient || matches!(chars.peek(), None | Some('"' | '\\' | ']')),
            ']' => !lenient,
            _ => false,
        };
        if needed {
            raw.push('\\');
        }
        raw.push(c);
    }
    raw
}

/// A message's SD with values unescaped, to compare.
pub type SdValues = Vec<(Vec<u8>, Vec<(Vec<u8>, Vec<u8>)>)>;

pub fn sd_values(m: &Message<'_>) -> SdValues {
    m.structured_data
        .iter()
        .map(|e| {
            let params = e
                .params
                .iter()
                .map(|p| (p.name.to_vec(), unescape_param_value(p.raw_value).to_vec()))
                .collect();
            (e.id.to_vec(), params)
        })
        .collect()
}
