//! One input line to one syslog message: [`LineEncoder`]; and a whole stream for `frame`
//! ([`encode_stream`]).
//!
//! A line is read by [`InputKind`] (an event, or text that becomes the message), formatted by
//! [`super::Formatter`] and framed by [`crate::framing::Encoder`]. A line that
//! cannot be sent (not JSON, an event the formatter refuses, longer than the maximum) is a
//! [`LineError`] handed to the caller with its line number, and the stream carries on: nothing
//! else is dropped.

use std::io::{Read, Write};

use serde_json::Value;

use super::{FormatError, Formatter};
use crate::framing::{Decoded, Decoder, Encoder, Framing};
use crate::ingest::stream::{StreamError, for_each_line};

/// Output is handed to the writer in pieces of about this size.
const OUTPUT_FLUSH_BYTES: usize = 1 << 20;

/// What the input lines are (`--input`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum InputKind {
    /// A line starting with `{` (after blanks) is a JSON event, anything else is text.
    #[default]
    Auto,
    /// Every line is a JSON object (an event).
    Json,
    /// Every line is text that becomes the message.
    Raw,
}

display_as_flag_value!(InputKind);

/// Why one input line was not sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LineError {
    /// The line is not valid JSON. `auto` is true when the line was only taken for JSON
    /// because it starts with `{`.
    NotJson { reason: String, auto: bool },
    /// Valid JSON, but not an object (`--input json`); `found` names what it is.
    NotAnObject { found: &'static str },
    /// An event the formatter refuses (a facility it does not know, a priority past 191…).
    Format(FormatError),
    /// The line is longer than the maximum message size.
    Oversized { max_len: usize },
}

impl std::fmt::Display for LineError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LineError::NotJson { reason, auto } => {
                write!(f, "not valid JSON: {reason}")?;
                if *auto {
                    f.write_str(
                        "; to send text lines that start with '{' as they are, use --input raw",
                    )?;
                }
                Ok(())
            }
            LineError::NotAnObject { found } => write!(
                f,
                "expected a JSON object (one event), found {found}; use --input auto to send lines that are not objects as text"
            ),
            LineError::Format(e) => write!(f, "{e}"),
            LineError::Oversized { max_len } => write!(
                f,
                "longer than the maximum message size ({max_len} bytes); raise --max-message-size to send it"
            ),
        }
    }
}

impl std::error::Error for LineError {}

impl From<FormatError> for LineError {
    fn from(e: FormatError) -> Self {
        LineError::Format(e)
    }
}

/// Turns input lines into syslog messages (unframed).
#[derive(Clone, Debug)]
pub struct LineEncoder {
    formatter: Formatter,
    input: InputKind,
}

impl LineEncoder {
    pub fn new(formatter: Formatter, input: InputKind) -> Self {
        LineEncoder { formatter, input }
    }

    pub fn formatter(&self) -> &Formatter {
        &self.formatter
    }

    /// True when `line` is sent as text (not read as a JSON event) with this input kind.
    pub fn is_text(&self, line: &[u8]) -> bool {
        match self.input {
            InputKind::Raw => true,
            InputKind::Auto => !starts_like_an_object(line),
            InputKind::Json => false,
        }
    }

    /// Appends the syslog message for one line (without its line terminator). On error nothing
    /// is appended.
    pub fn write_line(&self, line: &[u8], out: &mut Vec<u8>) -> Result<(), LineError> {
        let auto = match self.input {
            InputKind::Raw => {
                self.formatter.write_text(line, out);
                return Ok(());
            }
            InputKind::Auto if !starts_like_an_object(line) => {
                self.formatter.write_text(line, out);
                return Ok(());
            }
            InputKind::Auto => true,
            InputKind::Json => false,
        };
        let event: Value = serde_json::from_slice(line).map_err(|e| LineError::NotJson {
            reason: json_reason(&e),
            auto,
        })?;
        if !event.is_object() {
            return Err(LineError::NotAnObject {
                found: json_kind(&event),
            });
        }
        self.formatter.write_event(&event, out)?;
        Ok(())
    }
}

fn starts_like_an_object(line: &[u8]) -> bool {
    line.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'{')
}

/// serde_json's message without its "at line 1 column N" (the input is one line), with the
/// column kept.
fn json_reason(e: &serde_json::Error) -> String {
    let text = e.to_string();
    let position = format!(" at line {} column {}", e.line(), e.column());
    match text.strip_suffix(&position) {
        Some(reason) => format!("{reason} at column {}", e.column()),
        None => text,
    }
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Counts of one [`encode_stream`] run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EncodeStats {
    /// Input lines read.
    pub lines: u64,
    /// Messages written.
    pub messages: u64,
    /// Lines skipped with a [`LineError`].
    pub errors: u64,
    /// Framed bytes written.
    pub bytes: u64,
}

/// Reads `input` line by line (LF, a CR before it dropped; a last line without LF counts),
/// writes each line's message framed by `framing` to `output`, and calls `on_error` with the
/// line number (from 1) of every line skipped. Lines longer than `max_len` are skipped whole.
/// Output is buffered; everything written before a read error still goes out.
pub fn encode_stream<R: Read, W: Write>(
    input: R,
    encoder: &LineEncoder,
    framing: &Encoder,
    max_len: usize,
    output: &mut W,
    mut on_error: impl FnMut(u64, &LineError),
) -> Result<EncodeStats, StreamError> {
    let mut lines = Decoder::new(&Framing::Lf, max_len);
    let mut stats = EncodeStats::default();
    let mut message = Vec::new();
    let mut out = Vec::with_capacity(OUTPUT_FLUSH_BYTES + 4096);
    let mut bytes_read = 0;
    let result = for_each_line(input, &mut lines, &mut bytes_read, |decoded| {
        stats.lines += 1;
        message.clear();
        let written = match decoded {
            Decoded::Frame(line) | Decoded::Truncated(line) => {
                encoder.write_line(line, &mut message)
            }
            Decoded::Oversized(_) | Decoded::Invalid { .. } => {
                Err(LineError::Oversized { max_len })
            }
        };
        match written {
            Ok(()) => {
                let before = out.len();
                framing.encode(&message, &mut out);
                stats.messages += 1;
                stats.bytes += (out.len() - before) as u64;
            }
            Err(e) => {
                stats.errors += 1;
                on_error(stats.lines, &e);
            }
        }
        if out.len() >= OUTPUT_FLUSH_BYTES {
            output.write_all(&out).map_err(StreamError::Write)?;
            out.clear();
        }
        Ok(())
    });
    output.write_all(&out).map_err(StreamError::Write)?;
    result.map(|()| stats)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::egress::FormatOptions;
    use crate::framing::Escape;
    use crate::syslog::format::OutputFormat;
    use crate::syslog::timestamp::Zone;

    fn encoder(format: OutputFormat, input: InputKind) -> LineEncoder {
        let formatter = Formatter::new(FormatOptions {
            format,
            hostname: Some("h".into()),
            zone: "UTC".parse::<Zone>().unwrap(),
            ..FormatOptions::default()
        })
        .unwrap();
        LineEncoder::new(formatter, input)
    }

    fn run(
        input: &str,
        encoder: &LineEncoder,
        framing: &Framing,
        max_len: usize,
    ) -> (String, EncodeStats, Vec<(u64, LineError)>) {
        let framing = Encoder::new(framing, Escape::ControlCharacters).unwrap();
        let mut out = Vec::new();
        let mut errors = Vec::new();
        let stats = encode_stream(
            input.as_bytes(),
            encoder,
            &framing,
            max_len,
            &mut out,
            |n, e| errors.push((n, e.clone())),
        )
        .unwrap();
        (String::from_utf8(out).unwrap(), stats, errors)
    }

    #[test]
    fn auto_input_sends_objects_as_events_and_other_lines_as_text() {
        let e = encoder(OutputFormat::Raw, InputKind::Auto);
        let input =
            "{\"message\":\"from json\"}\nplain text\n[1,2]\n\n  {\"message\":\"indented\"}";
        let (out, stats, errors) = run(input, &e, &Framing::Lf, 1000);
        assert_eq!(out, "from json\nplain text\n[1,2]\n\nindented\n");
        assert_eq!(stats.lines, 5);
        assert_eq!(stats.messages, 5);
        assert!(errors.is_empty());
    }

    #[test]
    fn bad_json_is_reported_with_its_line_number_and_the_rest_still_goes_out() {
        let e = encoder(OutputFormat::Raw, InputKind::Auto);
        let (out, stats, errors) = run("a\n{\"message\": oops}\nb\n", &e, &Framing::Lf, 1000);
        assert_eq!(out, "a\nb\n");
        assert_eq!(stats.errors, 1);
        assert_eq!(errors[0].0, 2);
        let shown = errors[0].1.to_string();
        assert_eq!(
            shown,
            "not valid JSON: expected value at column 13; to send text lines that start with '{' as they are, use --input raw"
        );
    }

    #[test]
    fn json_input_refuses_lines_that_are_not_objects() {
        let e = encoder(OutputFormat::Raw, InputKind::Json);
        let (out, _, errors) = run("\"s\"\ntext\n{\"message\":\"m\"}\n", &e, &Framing::Lf, 1000);
        assert_eq!(out, "m\n");
        assert_eq!(errors[0], (1, LineError::NotAnObject { found: "a string" }));
        assert!(matches!(
            &errors[1],
            (2, LineError::NotJson { auto: false, .. })
        ));
    }

    #[test]
    fn raw_input_sends_json_looking_lines_as_text() {
        let e = encoder(OutputFormat::Raw, InputKind::Raw);
        let (out, _, _) = run("{not json\n", &e, &Framing::OctetCounting, 1000);
        assert_eq!(out, "9 {not json");
    }

    #[test]
    fn events_the_formatter_refuses_are_line_errors_naming_the_field() {
        let e = encoder(OutputFormat::Rfc3164, InputKind::Auto);
        let input = "{\"message\":\"m\",\"log\":{\"syslog\":{\"priority\":300}}}\n";
        let (out, stats, errors) = run(input, &e, &Framing::Lf, 1000);
        assert_eq!(out, "");
        assert_eq!(stats.errors, 1);
        assert!(
            errors[0].1.to_string().starts_with("log.syslog.priority"),
            "{}",
            errors[0].1
        );
    }

    #[test]
    fn oversized_lines_are_skipped_whole_and_counted_once() {
        let e = encoder(OutputFormat::Raw, InputKind::Raw);
        let (out, stats, errors) = run("short\nmuch too long\nok\n", &e, &Framing::Lf, 6);
        assert_eq!(out, "short\nok\n");
        assert_eq!(stats.lines, 3);
        assert_eq!(errors, vec![(2, LineError::Oversized { max_len: 6 })]);
    }

    #[test]
    fn crlf_input_lines_lose_their_cr() {
        let e = encoder(OutputFormat::Raw, InputKind::Raw);
        let (out, _, _) = run("a\r\nb\r\n", &e, &Framing::OctetCounting, 100);
        assert_eq!(out, "1 a1 b");
    }
}
