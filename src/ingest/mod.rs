//! One raw message in, one ECS event out: format detection, the parsers, and the rule that
//! nothing is lost (a message that does not parse still becomes an event, with
//! `error.message` and `event.original`). `parse`, `frame --decode` and `listen` all go through
//! [`LineParser`].

pub mod stream;

use std::fmt;
use std::str::FromStr;

use crate::ecs::Event;
use crate::framing::Decoded;
use crate::syslog::timestamp::{TimeContext, Timestamp};
use crate::syslog::{self, ParseError, rfc3164, rfc5424};

/// Which parser reads a message (`--format` / `--parse`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum InputFormat {
    /// RFC 5424 when the line starts `<PRI>VERSION `, else RFC 3164.
    #[default]
    Auto,
    Rfc5424,
    Rfc3164,
    /// No parsing: the message is the line.
    Raw,
}

impl InputFormat {
    pub const NAMES: [&'static str; 4] = ["auto", "rfc5424", "rfc3164", "raw"];
}

impl FromStr for InputFormat {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "auto" => Ok(InputFormat::Auto),
            "rfc5424" => Ok(InputFormat::Rfc5424),
            "rfc3164" => Ok(InputFormat::Rfc3164),
            "raw" => Ok(InputFormat::Raw),
            _ => Err(format!(
                "unknown format {s:?}: use one of {}",
                InputFormat::NAMES.join(", ")
            )),
        }
    }
}

impl fmt::Display for InputFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            InputFormat::Auto => "auto",
            InputFormat::Rfc5424 => "rfc5424",
            InputFormat::Rfc3164 => "rfc3164",
            InputFormat::Raw => "raw",
        };
        f.write_str(name)
    }
}

/// Checks an `event.dataset` name by Elastic's rule (no `-`, which separates the parts of a
/// data stream name) and that it is not empty.
pub fn validate_dataset(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("--dataset must not be empty: use a name such as syslog.generic".into());
    }
    if name.contains('-') {
        return Err(format!(
            "--dataset {name:?} contains '-', which Elastic does not allow in a dataset name: use '_' instead, e.g. {:?}",
            name.replace('-', "_")
        ));
    }
    if let Some(c) = name
        .chars()
        .find(|c| c.is_whitespace() || "\\/*?\"<>|,#:".contains(*c) || c.is_uppercase())
    {
        return Err(format!(
            "--dataset {name:?} contains {c:?}: use lower-case letters, digits, '_' and '.'"
        ));
    }
    Ok(())
}

/// How messages become events.
#[derive(Clone, Debug, Default)]
pub struct ParseOptions {
    pub format: InputFormat,
    pub time: TimeContext,
    /// Add `event.original` to events that parsed (failed ones always have it).
    pub keep_original: bool,
    pub dataset: Option<String>,
}

/// Turns messages into JSON event lines.
#[derive(Clone, Debug)]
pub struct LineParser {
    options: ParseOptions,
}

/// What became of one message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Parsed,
    Failed,
}

impl LineParser {
    pub fn new(options: ParseOptions) -> Self {
        LineParser { options }
    }

    pub fn options(&self) -> &ParseOptions {
        &self.options
    }

    /// Appends the event for one decoded frame, and a newline. An oversized, truncated or
    /// invalid frame (a bad octet-count prefix) becomes an error event that keeps the bytes
    /// received in `message` and `event.original`, with the reason in `error.message`.
    pub fn write_decoded(
        &self,
        decoded: &Decoded<'_>,
        max_len: usize,
        out: &mut Vec<u8>,
    ) -> Outcome {
        match decoded.error(max_len) {
            None => self.write_line(decoded.bytes(), out),
            Some(reason) => self.write_error(decoded.bytes(), reason, out),
        }
    }

    /// Appends the event for one message (no line terminator in it) and a newline.
    pub fn write_line(&self, line: &[u8], out: &mut Vec<u8>) -> Outcome {
        let parsed = match self.options.format {
            InputFormat::Raw => {
                let mut event = self.event(Timestamp::now());
                event.message = Some(line);
                if self.options.keep_original {
                    event.original = Some(line);
                }
                event.write_json(out);
                out.push(b'\n');
                return Outcome::Parsed;
            }
            InputFormat::Rfc5424 => rfc5424::parse(line, &self.options.time),
            InputFormat::Rfc3164 => rfc3164::parse(line, &self.options.time),
            InputFormat::Auto if syslog::looks_like_rfc5424(line) => {
                rfc5424::parse(line, &self.options.time)
            }
            InputFormat::Auto => rfc3164::parse(line, &self.options.time),
        };
        match parsed {
            Ok(message) => {
                let mut event = self.event(message.timestamp.unwrap_or_else(Timestamp::now));
                event.message = message.msg;
                if self.options.keep_original {
                    event.original = Some(line);
                }
                event.syslog = Some(message);
                event.write_json(out);
                out.push(b'\n');
                Outcome::Parsed
            }
            Err(e) => self.write_parse_error(line, &e, out),
        }
    }

    fn write_parse_error(&self, line: &[u8], error: &ParseError, out: &mut Vec<u8>) -> Outcome {
        let reason = if line.is_empty() {
            "empty line".to_string()
        } else {
            error.to_string()
        };
        self.write_error(line, reason, out)
    }

    /// Appends an error event: `message` and `event.original` are the raw bytes.
    pub fn write_error(&self, line: &[u8], reason: String, out: &mut Vec<u8>) -> Outcome {
        let mut event = self.event(Timestamp::now());
        event.message = Some(line);
        event.original = Some(line);
        event.error = Some(reason.into());
        event.write_json(out);
        out.push(b'\n');
        Outcome::Failed
    }

    fn event(&self, timestamp: Timestamp) -> Event<'_> {
        let mut event = Event::new(timestamp);
        event.dataset = self.options.dataset.as_deref();
        event
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syslog::timestamp::Zone;
    use serde_json::Value;

    fn parser(format: InputFormat) -> LineParser {
        LineParser::new(ParseOptions {
            format,
            time: TimeContext::new(
                Zone::Fixed(chrono::FixedOffset::east_opt(0).unwrap()),
                Some(2026),
            ),
            ..ParseOptions::default()
        })
    }

    fn event(p: &LineParser, line: &[u8]) -> (Value, Outcome) {
        let mut out = Vec::new();
        let outcome = p.write_line(line, &mut out);
        assert_eq!(out.last(), Some(&b'\n'));
        assert_eq!(
            out.iter().filter(|&&b| b == b'\n').count(),
            1,
            "one line per event"
        );
        (serde_json::from_slice(&out).unwrap(), outcome)
    }

    #[test]
    fn auto_picks_rfc5424_by_version() {
        let (v, outcome) = event(
            &parser(InputFormat::Auto),
            b"<34>1 2003-10-11T22:14:15.003Z host su - ID47 - hi",
        );
        assert_eq!(outcome, Outcome::Parsed);
        assert_eq!(v["log"]["syslog"]["version"], 1);
        assert_eq!(v["message"], "hi");
        assert!(
            v.get("event").is_none(),
            "no event.original without --keep-original"
        );
    }

    #[test]
    fn failure_keeps_the_raw_line_in_message_and_original() {
        let (v, outcome) = event(&parser(InputFormat::Auto), b"not syslog \xff");
        assert_eq!(outcome, Outcome::Failed);
        assert_eq!(v["message"], "not syslog \u{FFFD}");
        assert_eq!(v["event"]["original"], "not syslog \u{FFFD}");
        assert!(v["error"]["message"].as_str().unwrap().contains("no PRI"));
        assert!(v["@timestamp"].as_str().unwrap().ends_with('Z'));
    }

    #[test]
    fn forced_rfc5424_on_a_bsd_line_is_an_error() {
        let (v, outcome) = event(
            &parser(InputFormat::Rfc5424),
            b"<34>Oct 11 22:14:15 mymachine su: x",
        );
        assert_eq!(outcome, Outcome::Failed);
        assert!(
            v["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with("rfc5424: ")
        );
    }

    #[test]
    fn empty_line_is_an_error_event() {
        let (v, _) = event(&parser(InputFormat::Auto), b"");
        assert_eq!(v["error"]["message"], "empty line");
        assert_eq!(v["event"]["original"], "");
    }

    #[test]
    fn raw_keeps_the_line_as_message() {
        let (v, outcome) = event(&parser(InputFormat::Raw), b"<13>Oct 11 22:14:15 h a: x");
        assert_eq!(outcome, Outcome::Parsed);
        assert_eq!(v["message"], "<13>Oct 11 22:14:15 h a: x");
        assert!(v.get("log").is_none());
    }

    #[test]
    fn dataset_rule() {
        assert!(validate_dataset("syslog.generic").is_ok());
        assert!(validate_dataset("my-data").unwrap_err().contains("my_data"));
        assert!(validate_dataset("").is_err());
    }
}
