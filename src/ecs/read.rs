//! Reading events back (`frame`, `send`): where an event keeps what a syslog header needs.
//!
//! Two families of fields are looked at. ECS `log.syslog.*` is what `parse` and `listen` write
//! and what Elastic's syslog processor writes. Cribl Stream's internal fields (`__priority`,
//! `__appname`, …) are what a Cribl pipeline sets for its Syslog destination. This module only
//! finds the values; what they mean, which family wins and what a bad value is, is decided by
//! [`crate::syslog::format`].
//!
//! Everything borrows from the `serde_json::Value`; nothing is copied.

use serde_json::{Map, Value};

/// Cribl's body that is sent as it is, with no header added.
pub const SYSLOGOUT: &str = "__syslogout";
/// The ECS message, sent after a header composed from the fields.
pub const MESSAGE: &str = "message";
/// Cribl's raw event text, sent after a header composed from the fields.
pub const RAW: &str = "_raw";
/// ECS event time, an RFC 3339 string (or epoch milliseconds, Elasticsearch's other default).
pub const TIMESTAMP: &str = "@timestamp";
/// Cribl's event time: epoch seconds, fractional.
pub const CRIBL_TIME: &str = "_time";
/// `log.syslog.structured_data`: `{"SD-ID": {"PARAM": "value"}}`, values unescaped.
pub const STRUCTURED_DATA: &str = "log.syslog.structured_data";

/// A value found in an event, and the field it came from (to name in error messages).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Found<'v> {
    pub field: &'static str,
    pub value: &'v Value,
}

/// The header values as one family of fields spells them; `None` when the field is missing,
/// `null` or an empty string.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct HeaderFields<'v> {
    pub priority: Option<Found<'v>>,
    /// ECS: `facility.code`, else `facility.name`.
    pub facility: Option<Found<'v>>,
    /// ECS: `severity.code`, else `severity.name`.
    pub severity: Option<Found<'v>>,
    pub hostname: Option<Found<'v>>,
    pub appname: Option<Found<'v>>,
    pub procid: Option<Found<'v>>,
    pub msgid: Option<Found<'v>>,
}

/// Which field carries the text to send.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Body<'v> {
    /// `__syslogout`: the whole message, sent verbatim.
    SyslogOut(Found<'v>),
    /// `message` or `_raw`: the text after the header.
    Text(Found<'v>),
}

/// What an event says about the syslog message it becomes.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SyslogFields<'v> {
    /// Cribl's `__priority`, `__facility`, `__severity`, `__host`, `__appname`, `__procid`,
    /// `__msgid`.
    pub cribl: HeaderFields<'v>,
    /// ECS `log.syslog.*`.
    pub ecs: HeaderFields<'v>,
    /// `@timestamp`, else `_time`.
    pub time: Option<Found<'v>>,
    /// `log.syslog.structured_data`.
    pub structured_data: Option<Found<'v>>,
    /// `__syslogout`, else `message`, else `_raw`; `None` when the event has none of them.
    pub body: Option<Body<'v>>,
    /// Whether the event has a `log.syslog` object: a syslog message without MSG (a valid
    /// RFC 5424 line may have none) still has one.
    pub has_syslog: bool,
}

/// Finds the syslog-related fields of one event.
pub fn syslog_fields(event: &Map<String, Value>) -> SyslogFields<'_> {
    let top = |name: &'static str| found(name, event.get(name));
    let cribl = HeaderFields {
        priority: top("__priority"),
        facility: top("__facility"),
        severity: top("__severity"),
        hostname: top("__host"),
        appname: top("__appname"),
        procid: top("__procid"),
        msgid: top("__msgid"),
    };

    let syslog = event
        .get("log")
        .and_then(|log| log.get("syslog"))
        .and_then(Value::as_object);
    let ecs = match syslog {
        None => HeaderFields::default(),
        Some(s) => {
            let field = |name: &'static str, key: &str| found(name, s.get(key));
            let nested = |name: &'static str, key: &str, inner: &str| {
                found(name, s.get(key).and_then(|v| v.get(inner)))
            };
            HeaderFields {
                priority: field("log.syslog.priority", "priority"),
                facility: nested("log.syslog.facility.code", "facility", "code")
                    .or_else(|| nested("log.syslog.facility.name", "facility", "name")),
                severity: nested("log.syslog.severity.code", "severity", "code")
                    .or_else(|| nested("log.syslog.severity.name", "severity", "name")),
                hostname: field("log.syslog.hostname", "hostname"),
                appname: field("log.syslog.appname", "appname"),
                procid: field("log.syslog.procid", "procid"),
                msgid: field("log.syslog.msgid", "msgid"),
            }
        }
    };

    // The body keeps an empty string: `<13>1 - h a - - - ` has an empty MSG, which must survive.
    let body_field = |name: &'static str| {
        event
            .get(name)
            .filter(|v| !v.is_null())
            .map(|value| Found { field: name, value })
    };
    let body = body_field(SYSLOGOUT)
        .map(Body::SyslogOut)
        .or_else(|| body_field(MESSAGE).map(Body::Text))
        .or_else(|| body_field(RAW).map(Body::Text));

    SyslogFields {
        cribl,
        ecs,
        time: top(TIMESTAMP).or_else(|| top(CRIBL_TIME)),
        structured_data: found(
            STRUCTURED_DATA,
            syslog.and_then(|s| s.get("structured_data")),
        ),
        body,
        has_syslog: syslog.is_some(),
    }
}

/// A header value counts as present unless it is `null` or `""` (both mean "not set" in the
/// events people build with jq or Cribl's Eval).
fn found<'v>(field: &'static str, value: Option<&'v Value>) -> Option<Found<'v>> {
    value
        .filter(|v| !v.is_null() && v.as_str() != Some(""))
        .map(|value| Found { field, value })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fields(event: &Value) -> SyslogFields<'_> {
        syslog_fields(event.as_object().unwrap())
    }

    #[test]
    fn ecs_fields_are_found_with_their_paths() {
        let event = json!({"log": {"syslog": {"priority": 165, "facility": {"code": 20, "name": "local4"},
            "severity": {"name": "Notice"}, "hostname": "h", "appname": "a", "procid": 12, "msgid": "m",
            "structured_data": {"x@1": {"k": "v"}}}}, "message": "hi", "@timestamp": "2026-11-22T10:00:00Z"});
        let f = fields(&event);
        assert_eq!(f.ecs.priority.unwrap().value, 165);
        assert_eq!(f.ecs.facility.unwrap().field, "log.syslog.facility.code");
        assert_eq!(f.ecs.severity.unwrap().field, "log.syslog.severity.name");
        assert_eq!(f.ecs.procid.unwrap().value, 12);
        assert_eq!(f.structured_data.unwrap().field, STRUCTURED_DATA);
        assert_eq!(f.time.unwrap().field, TIMESTAMP);
        assert_eq!(
            f.body,
            Some(Body::Text(Found {
                field: MESSAGE,
                value: &json!("hi")
            }))
        );
        assert_eq!(f.cribl, HeaderFields::default());
    }

    #[test]
    fn cribl_fields_are_found() {
        let event = json!({"__priority": "13", "__facility": "local0", "__severity": 4, "__host": "h",
            "__appname": "a", "__procid": "1", "__msgid": "m", "_time": 1.5, "_raw": "r"});
        let f = fields(&event);
        assert_eq!(f.cribl.facility.unwrap().value, "local0");
        assert_eq!(f.cribl.hostname.unwrap().field, "__host");
        assert_eq!(f.time.unwrap().field, CRIBL_TIME);
        assert!(matches!(f.body, Some(Body::Text(Found { field: RAW, .. }))));
    }

    #[test]
    fn body_precedence_is_syslogout_then_message_then_raw() {
        let all = json!({"__syslogout": "a", "message": "b", "_raw": "c"});
        assert!(matches!(fields(&all).body, Some(Body::SyslogOut(_))));
        let two = json!({"message": "", "_raw": "c"});
        assert!(matches!(
            fields(&two).body,
            Some(Body::Text(Found { field: MESSAGE, .. }))
        ));
        let none = json!({"message": null});
        assert_eq!(fields(&none).body, None);
    }

    #[test]
    fn null_and_empty_header_values_count_as_absent() {
        let event = json!({"__appname": "", "__host": null, "log": {"syslog": {"appname": ""}}});
        let f = fields(&event);
        assert_eq!(
            (f.cribl.appname, f.cribl.hostname, f.ecs.appname),
            (None, None, None)
        );
    }
}
