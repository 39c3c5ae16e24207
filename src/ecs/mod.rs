//! The event schema: Elastic Common Schema field names, nested as JSON objects. This is the one
//! place that spells them.
//!
//! [`Event`] borrows everything from the message it describes and is written straight to
//! bytes ([`Event::write_json`]); absent fields are left out, never `null` or `"-"`.
//! Reading events back (for `frame` and `send`) goes through `serde_json::Value`, so fields
//! other programs added survive a relay untouched; [`read`] finds the syslog fields in one.

pub mod json;
mod netfilter;
pub mod read;

use std::borrow::Cow;
use std::sync::LazyLock;

use crate::iptables::Netfilter;
use crate::syslog::timestamp::Timestamp;
use crate::syslog::{Message, Pri};
use json::PathWriter;

/// One event: a parsed (or unparseable) message plus what is known about how it arrived.
#[derive(Clone, Debug)]
pub struct Event<'a> {
    /// The message's own time, or when it was read.
    pub timestamp: Timestamp,
    /// `message`: the text after the header, or the whole line when parsing failed.
    pub message: Option<&'a [u8]>,
    /// `error.message`: why the line could not be parsed.
    pub error: Option<Cow<'a, str>>,
    /// `event.original`: the raw line.
    pub original: Option<&'a [u8]>,
    /// `event.created`: when syslogkit received the message.
    pub created: Option<Timestamp>,
    /// `event.dataset`.
    pub dataset: Option<&'a str>,
    /// `log.syslog.*`.
    pub syslog: Option<Message<'a>>,
    /// `source.*`, `destination.*`, `network.*`, `observer.*`, `rule.*`, `iptables.*` and the
    /// `event.action`/`kind`/`category`/`type` of a netfilter LOG message.
    pub netfilter: Option<Netfilter<'a>>,
}

impl<'a> Event<'a> {
    /// An event with only a time: fill in what is known.
    pub fn new(timestamp: Timestamp) -> Self {
        Event {
            timestamp,
            message: None,
            error: None,
            original: None,
            created: None,
            dataset: None,
            syslog: None,
            netfilter: None,
        }
    }

    /// Appends the event as one JSON object (no newline).
    pub fn write_json(&self, out: &mut Vec<u8>) {
        let mut w = PathWriter::new(out);
        write_timestamp(&mut w, &["@timestamp"], &self.timestamp);
        if let Some(message) = self.message {
            w.str(&["message"], message);
        }
        if let Some(error) = &self.error {
            w.str(&["error", "message"], error.as_bytes());
        }
        if let Some(original) = self.original {
            w.str(&["event", "original"], original);
        }
        if let Some(created) = &self.created {
            write_timestamp(&mut w, &["event", "created"], created);
        }
        if let Some(dataset) = self.dataset {
            w.str(&["event", "dataset"], dataset.as_bytes());
        }
        if let Some(nf) = &self.netfilter {
            netfilter::write_event_fields(&mut w, nf);
        }
        if let Some(syslog) = &self.syslog {
            write_syslog(&mut w, syslog);
        }
        if let Some(nf) = &self.netfilter {
            netfilter::write_fields(&mut w, nf, self.syslog.as_ref());
        }
        w.finish();
    }
}

/// For each PRI, its members of `log.syslog` written once: `"priority":…,"facility":{…},
/// "severity":{…}`. Five fields a line are then one copy.
static PRI_MEMBERS: LazyLock<Vec<Vec<u8>>> = LazyLock::new(|| {
    (0..=Pri::MAX)
        .map(|value| {
            let pri = Pri::new(value).expect("in range");
            let mut out = Vec::new();
            let mut w = PathWriter::new(&mut out);
            w.u64(&["priority"], u64::from(value));
            w.u64(&["facility", "code"], u64::from(pri.facility().code()));
            w.str(
                &["facility", "name"],
                pri.facility().elastic_name().as_bytes(),
            );
            w.u64(&["severity", "code"], u64::from(pri.severity().code()));
            w.str(
                &["severity", "name"],
                pri.severity().elastic_name().as_bytes(),
            );
            w.finish();
            // Keep the members only, without the enclosing braces.
            out[1..out.len() - 1].to_vec()
        })
        .collect()
});

/// `log.syslog.*` from a parsed header.
fn write_syslog(w: &mut PathWriter<'_>, m: &Message<'_>) {
    let header = [m.hostname, m.appname, m.procid, m.msgid];
    if m.pri.is_none()
        && header.iter().all(Option::is_none)
        && m.version.is_none()
        && m.structured_data.is_empty()
    {
        return; // no empty "syslog": {} object
    }
    let mut members = w.members(&["log", "syslog"]);
    if let Some(pri) = m.pri {
        members.raw(&PRI_MEMBERS[usize::from(pri.value())]);
    }
    for (name, value) in ["hostname", "appname", "procid", "msgid"]
        .into_iter()
        .zip(header)
    {
        if let Some(value) = value {
            members.str(name, value);
        }
    }
    if let Some(version) = m.version {
        members.u64("version", u64::from(version));
    }
    if !m.structured_data.is_empty() {
        let out = members.key("structured_data");
        out.push(b'{');
        for (i, element) in m.structured_data.iter().enumerate() {
            if i > 0 {
                out.push(b',');
            }
            json::write_str(out, element.id);
            out.extend_from_slice(b":{");
            for (j, param) in element.params.iter().enumerate() {
                if j > 0 {
                    out.push(b',');
                }
                json::write_str(out, param.name);
                out.push(b':');
                json::write_str(out, &param.value());
            }
            out.push(b'}');
        }
        out.push(b'}');
    }
}

/// Writes a timestamp field as an RFC 3339 UTC string.
fn write_timestamp(w: &mut PathWriter<'_>, path: &[&'static str], ts: &Timestamp) {
    let out = w.key(path);
    out.push(b'"');
    ts.write_rfc3339_utc(out);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syslog::rfc5424;
    use crate::syslog::timestamp::TimeContext;
    use serde_json::json;

    fn to_value(event: &Event<'_>) -> serde_json::Value {
        let mut out = Vec::new();
        event.write_json(&mut out);
        serde_json::from_slice(&out).expect("valid JSON")
    }

    #[test]
    fn rfc5424_event_matches_elastic_shape() {
        // The example Elastic's syslog processor documents, field for field (version as number).
        let line = br#"<165>1 2022-01-11T22:14:15.003Z mymachine.example.com eventslog 1024 ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"][examplePriority@32473 class="high"] this is the message"#;
        let message = rfc5424::parse(line, &TimeContext::default()).unwrap();
        let mut event = Event::new(message.timestamp.unwrap());
        event.message = message.msg;
        event.syslog = Some(message);
        assert_eq!(
            to_value(&event),
            json!({"@timestamp": "2022-01-11T22:14:15.003Z",
                   "message": "this is the message",
                   "log": {"syslog": {"priority": 165,
                     "facility": {"code": 20, "name": "local4"}, "severity": {"code": 5, "name": "Notice"},
                     "hostname": "mymachine.example.com", "appname": "eventslog", "procid": "1024", "msgid": "ID47",
                     "version": 1,
                     "structured_data": {"exampleSDID@32473": {"iut": "3", "eventSource": "Application", "eventID": "1011"},
                                         "examplePriority@32473": {"class": "high"}}}}})
        );
    }

    #[test]
    fn error_event_keeps_the_original() {
        let mut event = Event::new(
            "2026-11-22T10:00:00Z"
                .parse::<chrono::DateTime<chrono::Utc>>()
                .map(|utc| Timestamp {
                    utc,
                    frac_digits: 0,
                })
                .unwrap(),
        );
        event.message = Some(b"garbage \xff");
        event.original = Some(b"garbage \xff");
        event.error = Some("rfc3164: nope".into());
        event.dataset = Some("tcp.generic");
        assert_eq!(
            to_value(&event),
            json!({"@timestamp": "2026-11-22T10:00:00Z", "message": "garbage \u{FFFD}",
                   "error": {"message": "rfc3164: nope"},
                   "event": {"original": "garbage \u{FFFD}", "dataset": "tcp.generic"}})
        );
    }
}
