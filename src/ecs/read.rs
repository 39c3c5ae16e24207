//! Reading events back (`frame`, `send`): where an event keeps what a syslog header needs.
//!
//! Three families of fields are looked at. ECS `log.syslog.*` is what `parse` and `listen` write
//! and what Elastic's syslog processor writes. Cribl Stream's internal fields (`__priority`,
//! `__appname`, …) are what a Cribl pipeline sets for its Syslog destination, and the plain keys
//! (`host`, `appname`, `facility`, …) are what Cribl's Syslog source writes and its destination
//! reads when the `__` ones are absent. This module only
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
    /// The plain keys Cribl's Syslog destination reads when the `__` ones are absent, and that
    /// Cribl's Syslog source writes: `facility`, `severity`, `host`, `appname`, `procid`,
    /// `msgid` (no `priority`). Only a string or a number counts: ECS's `host` is an object,
    /// and is not a hostname.
    pub plain: HeaderFields<'v>,
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
///
/// One pass over the keys of the event and of `log.syslog`, matching names, instead of a hash
/// lookup per field: an event has a handful of top-level keys and we look for thirteen, so the
/// lookups would cost more than everything else the formatter does.
pub fn syslog_fields(event: &Map<String, Value>) -> SyslogFields<'_> {
    let mut fields = SyslogFields::default();
    let (mut syslogout, mut message, mut raw) = (None, None, None);
    let (mut timestamp, mut cribl_time) = (None, None);
    let mut syslog = None;
    let cribl = &mut fields.cribl;
    let plain = &mut fields.plain;
    for (key, value) in event {
        match key.as_str() {
            "facility" => plain.facility = scalar("facility", value),
            "severity" => plain.severity = scalar("severity", value),
            "host" => plain.hostname = scalar("host", value),
            "appname" => plain.appname = scalar("appname", value),
            "procid" => plain.procid = scalar("procid", value),
            "msgid" => plain.msgid = scalar("msgid", value),
            "__priority" => cribl.priority = found("__priority", value),
            "__facility" => cribl.facility = found("__facility", value),
            "__severity" => cribl.severity = found("__severity", value),
            "__host" => cribl.hostname = found("__host", value),
            "__appname" => cribl.appname = found("__appname", value),
            "__procid" => cribl.procid = found("__procid", value),
            "__msgid" => cribl.msgid = found("__msgid", value),
            TIMESTAMP => timestamp = found(TIMESTAMP, value),
            CRIBL_TIME => cribl_time = found(CRIBL_TIME, value),
            SYSLOGOUT => syslogout = body(SYSLOGOUT, value),
            MESSAGE => message = body(MESSAGE, value),
            RAW => raw = body(RAW, value),
            "log" => syslog = value.get("syslog").and_then(Value::as_object),
            _ => {}
        }
    }
    fields.time = timestamp.or(cribl_time);
    fields.body = syslogout
        .map(Body::SyslogOut)
        .or(message.map(Body::Text))
        .or(raw.map(Body::Text));

    let Some(syslog) = syslog else {
        return fields;
    };
    fields.has_syslog = true;
    let ecs = &mut fields.ecs;
    for (key, value) in syslog {
        match key.as_str() {
            "priority" => ecs.priority = found("log.syslog.priority", value),
            "facility" => {
                ecs.facility = code_or_name(
                    value,
                    "log.syslog.facility.code",
                    "log.syslog.facility.name",
                );
            }
            "severity" => {
                ecs.severity = code_or_name(
                    value,
                    "log.syslog.severity.code",
                    "log.syslog.severity.name",
                );
            }
            "hostname" => ecs.hostname = found("log.syslog.hostname", value),
            "appname" => ecs.appname = found("log.syslog.appname", value),
            "procid" => ecs.procid = found("log.syslog.procid", value),
            "msgid" => ecs.msgid = found("log.syslog.msgid", value),
            "structured_data" => fields.structured_data = found(STRUCTURED_DATA, value),
            _ => {}
        }
    }
    fields
}

/// `{"code": 20, "name": "local4"}`: the code when there is one, else the name.
fn code_or_name<'v>(
    value: &'v Value,
    code_field: &'static str,
    name_field: &'static str,
) -> Option<Found<'v>> {
    let (mut code, mut name) = (None, None);
    for (key, value) in value.as_object()? {
        match key.as_str() {
            "code" => code = found(code_field, value),
            "name" => name = found(name_field, value),
            _ => {}
        }
    }
    code.or(name)
}

/// A header value counts as present unless it is `null` or `""` (both mean "not set" in the
/// events people build with jq or Cribl's Eval).
fn found<'v>(field: &'static str, value: &'v Value) -> Option<Found<'v>> {
    (!value.is_null() && value.as_str() != Some("")).then_some(Found { field, value })
}

/// A plain key counts when it is a non-empty string or a number: an object or array under
/// the same name is some other schema's (ECS `host` is an object).
fn scalar<'v>(field: &'static str, value: &'v Value) -> Option<Found<'v>> {
    (value.is_string() || value.is_number())
        .then(|| found(field, value))
        .flatten()
}

/// A body counts as present unless it is `null`: `<13>1 - h a - - - ` has an empty MSG, and it
/// must survive.
fn body<'v>(field: &'static str, value: &'v Value) -> Option<Found<'v>> {
    (!value.is_null()).then_some(Found { field, value })
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

    // See: #15
    #[test]
    fn issue_15_plain_cribl_keys_are_found_but_not_ecs_objects() {
        let event = json!({"host": "testbox", "facility": 3, "severity": "1", "appname": "a",
            "procid": 42, "msgid": "M", "message": "m"});
        let f = fields(&event);
        assert_eq!(f.plain.hostname.unwrap().value, "testbox");
        assert_eq!(f.plain.facility.unwrap().field, "facility");
        assert_eq!(f.plain.severity.unwrap().value, "1");
        assert_eq!(f.plain.procid.unwrap().value, 42);
        assert_eq!(f.cribl, HeaderFields::default());
        let ecs = json!({"host": {"name": "h"}, "severity": [1], "message": "m"});
        assert_eq!(fields(&ecs).plain, HeaderFields::default());
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
