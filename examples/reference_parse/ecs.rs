//! The reference's mapping: a line parsed by `syslog_loose` (Vector's parser) into the nested
//! ECS fields `syslogkit parse` writes, as serde-derived structs written by `serde_json`.
//! Shared by `examples/reference_parse` (timed end to end by `scripts/bench-parse.sh`) and
//! `benches/parse.rs`.

use std::collections::BTreeMap;

use serde::Serialize;
use syslog_loose::{Protocol, Variant, parse_message};

#[derive(Serialize)]
struct Event<'a> {
    #[serde(rename = "@timestamp", skip_serializing_if = "Option::is_none")]
    timestamp: Option<String>,
    message: &'a str,
    log: Log<'a>,
}

#[derive(Serialize)]
struct Log<'a> {
    syslog: Syslog<'a>,
}

#[derive(Serialize)]
struct Code {
    code: u8,
    name: &'static str,
}

#[derive(Serialize)]
struct Syslog<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    priority: Option<u8>,
    #[serde(skip_serializing_if = "Option::is_none")]
    facility: Option<Code>,
    #[serde(skip_serializing_if = "Option::is_none")]
    severity: Option<Code>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hostname: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    appname: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    procid: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    msgid: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    version: Option<u32>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    structured_data: BTreeMap<&'a str, BTreeMap<&'a str, String>>,
}

/// Parses `text` and writes its JSON event (no newline) straight into `out`.
pub fn write_event(text: &str, out: &mut impl std::io::Write) -> serde_json::Result<()> {
    let msg = parse_message(text, Variant::Either);
    let pri = match (msg.facility, msg.severity) {
        (Some(f), Some(s)) => Some(f as u8 * 8 + s as u8),
        _ => None,
    };
    let event = Event {
        timestamp: msg.timestamp.map(|t| {
            t.to_utc()
                .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
        }),
        message: msg.msg,
        log: Log {
            syslog: Syslog {
                priority: pri,
                facility: msg.facility.map(|f| Code {
                    code: f as u8,
                    name: f.as_str(),
                }),
                severity: msg.severity.map(|s| Code {
                    code: s as u8,
                    name: s.as_str(),
                }),
                hostname: msg.hostname,
                appname: msg.appname,
                procid: msg.procid.map(|p| p.to_string()),
                msgid: msg.msgid,
                version: match msg.protocol {
                    Protocol::RFC5424(v) => Some(v),
                    Protocol::RFC3164 => None,
                },
                structured_data: msg
                    .structured_data
                    .iter()
                    .map(|sd| {
                        (
                            sd.id,
                            sd.params.iter().map(|(k, v)| (*k, v.to_string())).collect(),
                        )
                    })
                    .collect(),
            },
        },
    };
    serde_json::to_writer(out, &event)
}
