//! One input line to Kafka records: the topic (a template over the event's fields), the key
//! (a field), headers (templates) and the value (the event's JSON as it came, or the syslog
//! message of a text line); and the records' form in the disk queue.
//!
//! Field names are dotted paths into the event: `event.dataset` is `{"event":{"dataset":…}}`,
//! or a top-level key spelled `"event.dataset"` (Cribl style); the first that exists wins.

use serde_json::{Map, Value};

use super::json_check;
use crate::egress::{LineError, MessageEncoder};

/// The longest topic name Kafka accepts.
const MAX_TOPIC_BYTES: usize = 249;
/// Version byte of a record in the disk queue.
const QUEUE_RECORD_VERSION: u8 = 1;

/// Why a line gives no record. The line is skipped and counted as bad, the rest goes on.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    #[error(transparent)]
    Line(#[from] LineError),
    #[error(
        "--kafka-topic {template:?}: the line has no field {field:?} (text lines have no fields); give every event that field, or name a topic for the others with --kafka-topic-fallback TOPIC"
    )]
    MissingField { template: String, field: String },
    #[error(
        "topic {topic:?} (from --kafka-topic {template:?}) is not a Kafka topic name: {reason}; or name a topic for such events with --kafka-topic-fallback TOPIC"
    )]
    BadTopic {
        topic: String,
        template: String,
        reason: &'static str,
    },
}

/// A template: literal text with `{field.path}` parts. `{{` and `}}` are literal braces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Template {
    text: String,
    parts: Vec<Part>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Part {
    Literal(String),
    Field(String),
}

/// A template that cannot be read.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("template {text:?}: {reason}; e.g. 'logs-{{event.dataset}}'")]
pub struct TemplateError {
    pub text: String,
    pub reason: String,
}

impl std::str::FromStr for Template {
    type Err = TemplateError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let err = |reason: String| TemplateError {
            text: text.to_string(),
            reason,
        };
        let mut parts = Vec::new();
        let mut literal = String::new();
        let mut chars = text.char_indices().peekable();
        while let Some((i, c)) = chars.next() {
            match c {
                '{' if chars.peek().map(|&(_, c)| c) == Some('{') => {
                    chars.next();
                    literal.push('{');
                }
                '}' if chars.peek().map(|&(_, c)| c) == Some('}') => {
                    chars.next();
                    literal.push('}');
                }
                '{' => {
                    let rest = &text[i + 1..];
                    let end = rest
                        .find('}')
                        .ok_or_else(|| err(format!("the '{{' at byte {i} is not closed")))?;
                    let field = rest[..end].trim();
                    if field.is_empty() || field.contains('{') {
                        return Err(err(format!("no field name in the braces at byte {i}")));
                    }
                    if !literal.is_empty() {
                        parts.push(Part::Literal(std::mem::take(&mut literal)));
                    }
                    parts.push(Part::Field(field.to_string()));
                    for _ in 0..end + 1 {
                        chars.next();
                    }
                }
                '}' => return Err(err(format!("a '}}' at byte {i} closes nothing"))),
                c => literal.push(c),
            }
        }
        if !literal.is_empty() {
            parts.push(Part::Literal(literal));
        }
        Ok(Template {
            text: text.to_string(),
            parts,
        })
    }
}

impl Template {
    /// The template as given.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// True when it names no field: every record gets the same text.
    pub fn is_literal(&self) -> bool {
        self.parts.iter().all(|p| matches!(p, Part::Literal(_)))
    }

    /// The text every record gets, when the template names no field.
    pub fn literal(&self) -> Option<&str> {
        match &self.parts[..] {
            [] => Some(""),
            [Part::Literal(text)] => Some(text),
            _ => None,
        }
    }

    /// Writes the template for `event` into `out` (cleared first); on a missing field,
    /// returns its name.
    pub fn render<'t>(
        &'t self,
        event: Option<&Map<String, Value>>,
        out: &mut String,
    ) -> Result<(), &'t str> {
        out.clear();
        for part in &self.parts {
            match part {
                Part::Literal(s) => out.push_str(s),
                Part::Field(name) => {
                    let value = event.and_then(|e| lookup(e, name)).ok_or(name.as_str())?;
                    if !push_scalar(value, out) {
                        return Err(name);
                    }
                }
            }
        }
        Ok(())
    }
}

/// Appends a string, number or boolean as text; false for null, objects and arrays.
fn push_scalar(value: &Value, out: &mut String) -> bool {
    match value {
        Value::String(s) => out.push_str(s),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        _ => return false,
    }
    true
}

/// The value at a dotted path: nested objects, or a key that holds dots itself.
pub fn lookup<'v>(event: &'v Map<String, Value>, path: &str) -> Option<&'v Value> {
    if let Some(v) = event.get(path) {
        return Some(v);
    }
    for (i, _) in path.match_indices('.') {
        if let Some(Value::Object(inner)) = event.get(&path[..i])
            && let Some(v) = lookup(inner, &path[i + 1..])
        {
            return Some(v);
        }
    }
    None
}

/// Why a topic name is not one Kafka takes.
fn topic_problem(topic: &str) -> Option<&'static str> {
    if topic.is_empty() {
        Some("it is empty")
    } else if topic.len() > MAX_TOPIC_BYTES {
        Some("it is longer than 249 bytes")
    } else if topic == "." || topic == ".." {
        Some("'.' and '..' are not allowed")
    } else if !topic
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
    {
        Some("only ASCII letters, digits, '.', '_' and '-' are allowed")
    } else {
        None
    }
}

/// One Kafka record, owned.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Record {
    pub topic: String,
    pub key: Option<Vec<u8>>,
    pub headers: Vec<(String, Vec<u8>)>,
    pub value: Vec<u8>,
}

/// One Kafka record, borrowed: from the input line and the builder where it can be, so that
/// the common record (a JSON line to a fixed topic) costs no allocation and no copy before
/// the client's own.
#[derive(Clone, Copy, Debug)]
pub struct RecordRef<'a> {
    pub topic: &'a str,
    pub key: Option<&'a [u8]>,
    pub headers: &'a [(String, Vec<u8>)],
    pub value: &'a [u8],
}

impl Record {
    pub fn borrowed(&self) -> RecordRef<'_> {
        RecordRef {
            topic: &self.topic,
            key: self.key.as_deref(),
            headers: &self.headers,
            value: &self.value,
        }
    }

    /// Reads what [`RecordRef::encode`] wrote; `None` when it is not such a record.
    pub fn decode(bytes: &[u8]) -> Option<Record> {
        let mut r = Reader(bytes);
        if r.take(1)? != [QUEUE_RECORD_VERSION] {
            return None;
        }
        let topic_len = r.u16()? as usize;
        let topic = String::from_utf8(r.take(topic_len)?.to_vec()).ok()?;
        let key = match r.u32()? {
            0 => None,
            n => Some(r.take(n as usize - 1)?.to_vec()),
        };
        let count = r.u16()?;
        let mut headers = Vec::with_capacity(count as usize);
        for _ in 0..count {
            let len = r.u16()? as usize;
            let name = String::from_utf8(r.take(len)?.to_vec()).ok()?;
            let len = r.u32()? as usize;
            headers.push((name, r.take(len)?.to_vec()));
        }
        Some(Record {
            topic,
            key,
            headers,
            value: r.0.to_vec(),
        })
    }
}

impl RecordRef<'_> {
    /// Appends the record as the disk queue keeps it: a version byte, the topic (u16 length),
    /// the key (u32 length + 1, 0 for none), the headers (u16 count; u16 name length, name,
    /// u32 value length, value), then the value to the end. Lengths little-endian.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.push(QUEUE_RECORD_VERSION);
        out.extend_from_slice(&(self.topic.len() as u16).to_le_bytes());
        out.extend_from_slice(self.topic.as_bytes());
        match self.key {
            Some(k) => {
                out.extend_from_slice(&(k.len() as u32 + 1).to_le_bytes());
                out.extend_from_slice(k);
            }
            None => out.extend_from_slice(&0u32.to_le_bytes()),
        }
        out.extend_from_slice(&(self.headers.len() as u16).to_le_bytes());
        for (name, value) in self.headers {
            out.extend_from_slice(&(name.len() as u16).to_le_bytes());
            out.extend_from_slice(name.as_bytes());
            out.extend_from_slice(&(value.len() as u32).to_le_bytes());
            out.extend_from_slice(value);
        }
        out.extend_from_slice(self.value);
    }

    pub fn owned(&self) -> Record {
        Record {
            topic: self.topic.to_string(),
            key: self.key.map(<[u8]>::to_vec),
            headers: self.headers.to_vec(),
            value: self.value.to_vec(),
        }
    }
}

struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        if self.0.len() < n {
            return None;
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Some(head)
    }

    fn u16(&mut self) -> Option<u16> {
        Some(u16::from_le_bytes(self.take(2)?.try_into().ok()?))
    }

    fn u32(&mut self) -> Option<u32> {
        Some(u32::from_le_bytes(self.take(4)?.try_into().ok()?))
    }
}

/// What makes a record of a line: `--kafka-topic`, `--kafka-topic-fallback`, `--kafka-key`,
/// `--kafka-header`, and the encoder that makes the syslog message of a text line (unframed).
pub struct RecordBuilder {
    pub topic: Template,
    /// The topic of events that miss a field of `topic` (or whose value is no topic name).
    pub fallback_topic: Option<String>,
    /// A field whose value is the key; missing or null: no key.
    pub key: Option<String>,
    /// Header name and value template; a header whose field is missing is left out.
    pub headers: Vec<(String, Template)>,
    /// For text lines (`framing` and `max_record_size` are not used); also decides what is
    /// text (`--input`).
    pub encoder: MessageEncoder,
}

/// A fallback topic that Kafka would refuse.
#[derive(Debug, thiserror::Error)]
#[error("--kafka-topic-fallback {topic:?}: {reason}")]
pub struct BadFallback {
    pub topic: String,
    pub reason: &'static str,
}

impl RecordBuilder {
    /// Checks what can be checked before any line: a literal topic, the fallback.
    pub fn check(&self) -> Result<(), RecordError> {
        let mut topic = String::new();
        if self.topic.is_literal() {
            let _ = self.topic.render(None, &mut topic);
            if let Some(reason) = topic_problem(&topic) {
                return Err(RecordError::BadTopic {
                    topic,
                    template: self.topic.text.clone(),
                    reason,
                });
            }
        }
        if let Some(fallback) = &self.fallback_topic
            && let Some(reason) = topic_problem(fallback)
        {
            return Err(RecordError::BadTopic {
                topic: fallback.clone(),
                template: format!("--kafka-topic-fallback {fallback}"),
                reason,
            });
        }
        Ok(())
    }

    /// Hands the record(s) of one line to `emit`, borrowed from the line where they can be:
    /// a JSON line is its record's value as it came (no re-serialising, so the consumer gets
    /// the producer's bytes). Every check comes first, so on error nothing was emitted.
    pub fn for_each_record(
        &self,
        line: &[u8],
        split: bool,
        scratch: &mut Vec<Vec<u8>>,
        mut emit: impl FnMut(RecordRef<'_>),
    ) -> Result<(), RecordError> {
        let lines = &self.encoder.lines;
        if lines.is_text(line) {
            scratch.clear();
            let mut buf = Vec::new();
            self.encoder.encode(line, split, &mut buf, scratch)?;
            if scratch.is_empty() {
                return Ok(()); // an empty line with -e
            }
            let topic = self.topic_for(None)?;
            let headers = self.headers_for(None);
            for value in scratch.iter() {
                emit(RecordRef {
                    topic: &topic,
                    key: None,
                    headers: &headers,
                    value,
                });
            }
            return Ok(());
        }
        if self.encoder.skip_empty && line.iter().all(u8::is_ascii_whitespace) {
            return Ok(());
        }
        // `--input auto` takes a line for JSON only when it starts with '{', and then its error
        // says how to send such lines as text; `auto` is the kind that reads "x" as text.
        if !self.needs_fields() {
            // Only the proof that the line is an object: not the event (issue 17).
            if !matches!(json_check::is_object(line), Ok(true)) {
                parse_event(line, lines.is_text(b"x"))?;
            }
            let headers = self.headers_for(None);
            let rendered;
            let topic = match self.topic.literal() {
                Some(topic) if topic_problem(topic).is_none() => topic,
                _ => {
                    rendered = self.topic_for(None)?;
                    &rendered
                }
            };
            emit(RecordRef {
                topic,
                key: None,
                headers: &headers,
                value: line,
            });
            return Ok(());
        }
        let event = parse_event(line, lines.is_text(b"x"))?;
        let topic = self.topic_for(Some(&event))?;
        let key = self
            .key
            .as_deref()
            .and_then(|k| lookup(&event, k))
            .and_then(|v| match v {
                Value::Null => None,
                Value::String(s) => Some(s.as_bytes().to_vec()),
                other => Some(other.to_string().into_bytes()),
            });
        emit(RecordRef {
            topic: &topic,
            key: key.as_deref(),
            headers: &self.headers_for(Some(&event)),
            value: line,
        });
        Ok(())
    }

    /// The topic of a JSON line's record when that record is the line and nothing else: a
    /// topic that names no field (and that Kafka takes), no key, no header.
    pub fn plain_topic(&self) -> Option<&str> {
        if self.key.is_some() || !self.headers.is_empty() {
            return None;
        }
        self.topic.literal().filter(|t| topic_problem(t).is_none())
    }

    /// Whether the topic, the key or a header reads a field of the event.
    fn needs_fields(&self) -> bool {
        !self.topic.is_literal()
            || self.key.is_some()
            || self.headers.iter().any(|(_, t)| !t.is_literal())
    }

    fn topic_for(&self, event: Option<&Map<String, Value>>) -> Result<String, RecordError> {
        let mut topic = String::new();
        let problem = match self.topic.render(event, &mut topic) {
            Err(field) => Err(RecordError::MissingField {
                template: self.topic.text.clone(),
                field: field.to_string(),
            }),
            Ok(()) => match topic_problem(&topic) {
                Some(reason) => Err(RecordError::BadTopic {
                    topic,
                    template: self.topic.text.clone(),
                    reason,
                }),
                None => return Ok(topic),
            },
        };
        match &self.fallback_topic {
            Some(fallback) => Ok(fallback.clone()),
            None => problem,
        }
    }

    fn headers_for(&self, event: Option<&Map<String, Value>>) -> Vec<(String, Vec<u8>)> {
        let mut value = String::new();
        self.headers
            .iter()
            .filter_map(|(name, template)| {
                template
                    .render(event, &mut value)
                    .ok()
                    .map(|()| (name.clone(), value.as_bytes().to_vec()))
            })
            .collect()
    }
}

/// The line as a JSON object.
fn parse_event(line: &[u8], auto: bool) -> Result<Map<String, Value>, LineError> {
    match serde_json::from_slice::<Value>(line) {
        Ok(Value::Object(map)) => Ok(map),
        Ok(other) => Err(LineError::NotAnObject {
            found: match other {
                Value::Null => "null",
                Value::Bool(_) => "a boolean",
                Value::Number(_) => "a number",
                Value::String(_) => "a string",
                _ => "an array",
            },
        }),
        Err(e) => Err(LineError::NotJson {
            reason: e.to_string(),
            auto,
        }),
    }
}

/// A builder for tests: raw text messages, the topic and key given, no header.
#[cfg(test)]
pub(crate) fn test_builder(
    topic: &str,
    key: Option<&str>,
    input: crate::egress::InputKind,
) -> RecordBuilder {
    use crate::egress::{FormatOptions, Formatter, LineEncoder, TextFields};
    let formatter = Formatter::new(FormatOptions {
        format: crate::syslog::format::OutputFormat::Raw,
        hostname: Some("h".into()),
        zone: "UTC".parse().unwrap(),
        ..FormatOptions::default()
    })
    .unwrap();
    RecordBuilder {
        topic: topic.parse().unwrap(),
        fallback_topic: None,
        key: key.map(str::to_string),
        headers: Vec::new(),
        encoder: MessageEncoder::new(
            LineEncoder::new(formatter, input),
            TextFields::default(),
            None,
            None,
            None,
            false,
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::egress::InputKind;

    fn builder(topic: &str, key: Option<&str>, input: InputKind) -> RecordBuilder {
        RecordBuilder {
            headers: vec![("dataset".into(), "{event.dataset}".parse().unwrap())],
            ..test_builder(topic, key, input)
        }
    }

    fn build(b: &RecordBuilder, line: &str) -> Result<Vec<Record>, RecordError> {
        let mut out = Vec::new();
        b.for_each_record(line.as_bytes(), true, &mut Vec::new(), |r| {
            out.push(r.owned())
        })
        .map(|()| out)
    }

    #[test]
    fn topic_key_and_headers_come_from_nested_or_dotted_fields_and_the_value_is_the_line() {
        let b = builder("logs-{event.dataset}", Some("source.ip"), InputKind::Auto);
        let line = r#"{"event":{"dataset":"fw"},"source": {"ip":"10.0.0.1"},"n":1.50}"#;
        let r = &build(&b, line).unwrap()[0];
        assert_eq!(r.topic, "logs-fw");
        assert_eq!(r.key.as_deref(), Some(&b"10.0.0.1"[..]));
        assert_eq!(r.headers, vec![("dataset".to_string(), b"fw".to_vec())]);
        assert_eq!(
            r.value,
            line.as_bytes(),
            "passed through, spacing and 1.50 kept"
        );
        let r = &build(&b, r#"{"event.dataset":"dns","source.ip":7}"#).unwrap()[0];
        assert_eq!(
            (r.topic.as_str(), r.key.as_deref()),
            ("logs-dns", Some(&b"7"[..]))
        );
    }

    #[test]
    fn a_missing_field_is_an_error_naming_it_unless_there_is_a_fallback() {
        let mut b = builder("logs-{event.dataset}", None, InputKind::Auto);
        let e = build(&b, r#"{"message":"x"}"#).unwrap_err();
        assert!(e.to_string().contains("no field \"event.dataset\""), "{e}");
        let e = build(&b, "plain text").unwrap_err();
        assert!(e.to_string().contains("text lines have no fields"), "{e}");
        let e = build(&b, r#"{"event":{"dataset":"a b"}}"#).unwrap_err();
        assert!(e.to_string().contains("\"logs-a b\""), "{e}");
        b.fallback_topic = Some("logs-other".into());
        let r = build(&b, r#"{"message":"x"}"#).unwrap();
        assert_eq!(r[0].topic, "logs-other");
        assert!(
            r[0].headers.is_empty(),
            "a header with a missing field is left out"
        );
    }

    #[test]
    fn text_lines_become_the_formatted_message_without_key() {
        let b = builder("syslog", Some("source.ip"), InputKind::Auto);
        let r = build(&b, "hello world").unwrap();
        assert_eq!(r[0].value, b"hello world");
        assert_eq!((r[0].topic.as_str(), r[0].key.clone()), ("syslog", None));
    }

    #[test]
    fn a_non_json_line_with_json_input_is_refused() {
        let b = builder("syslog", None, InputKind::Json);
        let e = build(&b, "not json").unwrap_err();
        assert!(
            matches!(e, RecordError::Line(LineError::NotJson { .. })),
            "{e}"
        );
        let e = build(&b, "[1]").unwrap_err();
        assert!(e.to_string().contains("found an array"), "{e}");
    }

    #[test]
    fn templates_refuse_unclosed_braces_and_keep_doubled_ones() {
        assert!("logs-{a".parse::<Template>().is_err());
        assert!("logs-}".parse::<Template>().is_err());
        assert!("logs-{}".parse::<Template>().is_err());
        let t: Template = "{{x}}-{a}".parse().unwrap();
        let mut out = String::new();
        let event: Map<String, Value> = serde_json::from_str(r#"{"a":true}"#).unwrap();
        t.render(Some(&event), &mut out).unwrap();
        assert_eq!(out, "{x}-true");
    }

    #[test]
    fn records_survive_the_queue_encoding() {
        let r = Record {
            topic: "t".into(),
            key: Some(Vec::new()),
            headers: vec![("h".into(), b"v".to_vec())],
            value: b"{\"a\":1}".to_vec(),
        };
        let mut bytes = Vec::new();
        r.borrowed().encode(&mut bytes);
        assert_eq!(Record::decode(&bytes), Some(r.clone()));
        let r = Record { key: None, ..r };
        bytes.clear();
        r.borrowed().encode(&mut bytes);
        assert_eq!(Record::decode(&bytes), Some(r));
        assert_eq!(Record::decode(b"<13>a syslog line"), None);
    }
}
