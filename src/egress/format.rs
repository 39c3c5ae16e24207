//! [`Formatter`]: what `frame`, `send` and `bench` hold. Built once from [`FormatOptions`], it
//! turns each event (or text line, or header model) into one syslog message the way Cribl
//! Stream's Syslog destination does:
//!
//! - body: `__syslogout` is sent as it is (no header added) > `message` > `_raw`, the latter two
//!   after a header composed from the fields;
//! - header fields: Cribl's internal fields (`__priority`, `__facility`, `__severity`, `__host`,
//!   `__appname`, `__procid`, `__msgid`) > the plain keys Cribl also reads (`facility`,
//!   `severity`, `host`, `appname`, `procid`, `msgid`) > ECS `log.syslog.*` > the options.
//!   `__priority` overrides every facility and severity (Cribl's rule); within ECS, an explicit
//!   facility or severity beats `log.syslog.priority`. A PROCID in brackets (`[42]`) loses them;
//! - time: `@timestamp` > Cribl's `_time` > now.
//!
//! Values that have no sensible reading (facility `locl0`, priority 300, an object as app name)
//! are a [`FormatError`] naming the field and the value. The bytes are written by
//! [`crate::syslog::format`].

use std::fmt;

use serde_json::Value;

use super::event;
use crate::syslog::format::{OutputFormat, TimestampFormat, rfc3164, rfc5424};
use crate::syslog::timestamp::{Timestamp, Zone};
use crate::syslog::{Facility, Message, Pri, Severity};

/// How events become messages: the format, and the header values an event does not carry.
#[derive(Clone, Debug, PartialEq)]
pub struct FormatOptions {
    pub format: OutputFormat,
    /// RFC 3164 only.
    pub timestamp_format: TimestampFormat,
    /// Default `user`.
    pub facility: Facility,
    /// Default `notice`.
    pub severity: Severity,
    /// Default `syslogkit`.
    pub appname: String,
    /// `None`: this machine's name ([`local_hostname`]).
    pub hostname: Option<String>,
    /// The zone times are written in; default the machine's, as logger(1) does.
    pub zone: Zone,
    /// RFC 5424 only: start MSG with a UTF-8 BOM (§6.4).
    pub bom: bool,
}

impl Default for FormatOptions {
    fn default() -> Self {
        FormatOptions {
            format: OutputFormat::default(),
            timestamp_format: TimestampFormat::default(),
            facility: Facility::USER,
            severity: Severity::NOTICE,
            appname: "syslogkit".to_string(),
            hostname: None,
            zone: Zone::Local,
            bom: false,
        }
    }
}

impl FormatOptions {
    /// `--facility`: a keyword (`local0`, `daemon`), Elastic's name (`user-level`) or 0–23.
    pub fn parse_facility(value: &str) -> Result<Facility, FormatError> {
        event::facility_from_str(value).map_err(|reason| FormatError::new("--facility", reason))
    }

    /// `--severity`: a keyword (`warning`, `warn`, `err`), Elastic's name (`Error`) or 0–7.
    pub fn parse_severity(value: &str) -> Result<Severity, FormatError> {
        event::severity_from_str(value).map_err(|reason| FormatError::new("--severity", reason))
    }
}

/// Why an event (or an option) cannot become a syslog message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FormatError {
    /// The event field (`log.syslog.facility.code`) or option (`--facility`) at fault; empty
    /// when it is the event as a whole.
    pub field: &'static str,
    /// What is wrong, with the value, and what would work.
    pub reason: String,
}

impl FormatError {
    pub(super) fn new(field: &'static str, reason: impl Into<String>) -> Self {
        FormatError {
            field,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for FormatError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.field.is_empty() {
            f.write_str(&self.reason)
        } else {
            write!(f, "{}: {}", self.field, self.reason)
        }
    }
}

impl std::error::Error for FormatError {}

/// Writes events, text lines and header models as syslog messages, per [`FormatOptions`].
#[derive(Clone, Debug)]
pub struct Formatter {
    pub(super) options: FormatOptions,
    /// The options' hostname, or this machine's, looked up once.
    pub(super) hostname: String,
}

impl Formatter {
    /// Checks the options and looks up this machine's name when none is given.
    pub fn new(options: FormatOptions) -> Result<Formatter, FormatError> {
        if options.appname.is_empty() {
            return Err(FormatError::new(
                "--appname",
                "must not be empty: give the program name to send, e.g. --appname myapp",
            ));
        }
        let hostname = match &options.hostname {
            Some(h) if h.is_empty() => {
                return Err(FormatError::new(
                    "--hostname",
                    "must not be empty: leave it out to send this machine's name",
                ));
            }
            Some(h) => h.clone(),
            None => local_hostname(),
        };
        Ok(Formatter { options, hostname })
    }

    pub fn options(&self) -> &FormatOptions {
        &self.options
    }

    /// The hostname written when an event has none.
    pub fn hostname(&self) -> &str {
        &self.hostname
    }

    /// Appends the syslog message for one event (a JSON object), without framing or line
    /// terminator. On error nothing is appended.
    pub fn write_event(&self, event: &Value, out: &mut Vec<u8>) -> Result<(), FormatError> {
        let start = out.len();
        let result = event::write(self, event, out);
        if result.is_err() {
            out.truncate(start);
        }
        result
    }

    /// Appends a message whose text is `text` and whose header comes from the options
    /// (`frame --input raw`, `bench`), the time being now.
    pub fn write_text(&self, text: &[u8], out: &mut Vec<u8>) {
        self.write_message(
            &Message {
                msg: Some(text),
                ..Message::default()
            },
            out,
        );
    }

    /// Appends `m` in the options' format, taking PRI, hostname and app name from the options
    /// when `m` has none, and now when it has no time.
    pub fn write_message(&self, m: &Message<'_>, out: &mut Vec<u8>) {
        self.write_message_nil(m, false, false, out);
    }

    /// [`write_message`](Self::write_message), with RFC 5424's TIMESTAMP (`no_time`) or
    /// HOSTNAME (`no_host`) left out, written `-` (logger's `--rfc5424=notime,nohost`).
    pub fn write_message_nil(
        &self,
        m: &Message<'_>,
        no_time: bool,
        no_host: bool,
        out: &mut Vec<u8>,
    ) {
        if self.options.format == OutputFormat::Raw {
            out.extend_from_slice(m.msg.unwrap_or_default());
            return;
        }
        let header = Message {
            pri: Some(m.pri.unwrap_or_else(|| self.default_pri())),
            version: Some(1),
            timestamp: Some(m.timestamp.unwrap_or_else(Timestamp::now)),
            hostname: Some(non_empty(m.hostname).unwrap_or(self.hostname.as_bytes())),
            appname: Some(non_empty(m.appname).unwrap_or(self.options.appname.as_bytes())),
            procid: m.procid,
            msgid: m.msgid,
            structured_data: Vec::new(),
            msg: None,
        };
        match self.options.format {
            OutputFormat::Rfc3164 => {
                rfc3164::write_header(
                    &header,
                    self.options.timestamp_format,
                    &self.options.zone,
                    out,
                );
                if let Some(msg) = m.msg {
                    out.push(b' ');
                    out.extend_from_slice(msg);
                }
            }
            OutputFormat::Rfc5424 => {
                let header = Message {
                    timestamp: header.timestamp.filter(|_| !no_time),
                    hostname: header.hostname.filter(|_| !no_host),
                    ..header
                };
                rfc5424::write_header(&header, &self.options.zone, out);
                rfc5424::write_model_structured_data(&m.structured_data, out);
                rfc5424::write_msg(m.msg, self.options.bom, out);
            }
            OutputFormat::Raw => unreachable!("handled above"),
        }
    }

    fn default_pri(&self) -> Pri {
        Pri::from_parts(self.options.facility, self.options.severity)
    }
}

fn non_empty(v: Option<&[u8]>) -> Option<&[u8]> {
    v.filter(|v| !v.is_empty())
}

/// This machine's name, as `gethostname(2)` gives it (what logger(1) sends); `localhost` when
/// it cannot be read.
pub fn local_hostname() -> String {
    #[cfg(unix)]
    {
        let mut buf = [0u8; 256];
        // SAFETY: the pointer and length describe `buf`, which outlives the call.
        let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
        if rc == 0 {
            let len = memchr::memchr(0, &buf).unwrap_or(buf.len());
            if len > 0 {
                return String::from_utf8_lossy(&buf[..len]).into_owned();
            }
        }
    }
    "localhost".to_string()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::syslog::rfc5424 as parse5424;
    use crate::syslog::timestamp::TimeContext;
    use chrono::FixedOffset;
    use serde_json::json;

    pub(crate) fn options(format: OutputFormat) -> FormatOptions {
        FormatOptions {
            format,
            hostname: Some("default-host".into()),
            zone: Zone::Fixed(FixedOffset::east_opt(0).unwrap()),
            ..FormatOptions::default()
        }
    }

    pub(crate) fn formatter(format: OutputFormat) -> Formatter {
        Formatter::new(options(format)).unwrap()
    }

    pub(crate) fn send(f: &Formatter, event: &Value) -> String {
        let mut out = Vec::new();
        f.write_event(event, &mut out)
            .unwrap_or_else(|e| panic!("{event}: {e}"));
        String::from_utf8(out).unwrap()
    }

    pub(crate) fn fail(f: &Formatter, event: &Value) -> String {
        let mut out = b"kept".to_vec();
        let err = f.write_event(event, &mut out).unwrap_err();
        assert_eq!(out, b"kept", "nothing appended on error");
        err.to_string()
    }

    #[test]
    fn missing_header_fields_come_from_the_options() {
        let event = json!({"@timestamp": "2026-11-02T10:00:00Z", "message": "hi"});
        assert_eq!(
            send(&formatter(OutputFormat::Rfc3164), &event),
            "<13>Nov  2 10:00:00 default-host syslogkit: hi"
        );
        assert_eq!(
            send(&formatter(OutputFormat::Rfc5424), &event),
            "<13>1 2026-11-02T10:00:00Z default-host syslogkit - - - hi"
        );
        let f = Formatter::new(FormatOptions {
            facility: FormatOptions::parse_facility("local7").unwrap(),
            severity: FormatOptions::parse_severity("debug").unwrap(),
            appname: "backup".into(),
            ..options(OutputFormat::Rfc3164)
        })
        .unwrap();
        assert_eq!(
            send(&f, &event),
            "<191>Nov  2 10:00:00 default-host backup: hi"
        );
    }

    #[test]
    fn formatter_can_be_shared_between_threads() {
        fn shared<T: Send + Sync>() {}
        shared::<Formatter>();
    }

    #[test]
    fn default_hostname_is_this_machine() {
        let f = Formatter::new(FormatOptions::default()).unwrap();
        assert_eq!(f.hostname(), local_hostname());
        assert!(!f.hostname().is_empty());
    }

    #[test]
    fn raw_format_sends_the_body_alone() {
        let f = formatter(OutputFormat::Raw);
        assert_eq!(
            send(&f, &crate::ecs::tests::elastic_example()),
            "this is the message"
        );
        assert_eq!(send(&f, &json!({"_raw": "r"})), "r");
        let mut out = Vec::new();
        f.write_text(b"a line", &mut out);
        assert_eq!(out, b"a line");
    }

    #[test]
    fn text_lines_get_a_logger_like_header() {
        let f = formatter(OutputFormat::Rfc3164);
        let mut out = Vec::new();
        f.write_text(b"backup done", &mut out);
        let out = String::from_utf8(out).unwrap();
        // "<13>Nov 22 10:01:02 default-host syslogkit: backup done"
        assert!(out.starts_with("<13>"), "{out}");
        assert_eq!(out.as_bytes()[7], b' ');
        assert!(
            out.ends_with(" default-host syslogkit: backup done"),
            "{out}"
        );
    }

    #[test]
    fn write_message_fills_what_the_model_lacks_and_keeps_the_rest() {
        let f = formatter(OutputFormat::Rfc5424);
        let m = parse5424::parse(
            br#"<165>1 2003-10-11T22:14:15.003Z - - 8710 - [x@1 a="C:\d"] hi"#,
            &TimeContext::default(),
        )
        .unwrap();
        let mut out = Vec::new();
        f.write_message(&m, &mut out);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            r#"<165>1 2003-10-11T22:14:15.003Z default-host syslogkit 8710 - [x@1 a="C:\\d"] hi"#
        );
        let bom = Formatter::new(FormatOptions {
            bom: true,
            ..options(OutputFormat::Rfc5424)
        })
        .unwrap();
        let mut out = Vec::new();
        bom.write_message(&m, &mut out);
        assert!(out.ends_with(b"] \xEF\xBB\xBFhi"));
    }

    #[test]
    fn bad_options_are_errors_naming_the_option() {
        assert_eq!(
            FormatOptions::parse_facility("locl0")
                .unwrap_err()
                .to_string(),
            format!(
                "--facility: unknown facility \"locl0\": use a number 0 to 23 or one of {}",
                "kern, user, mail, daemon, auth, syslog, lpr, news, uucp, cron, authpriv, ftp, ntp, security, console, solaris-cron, local0, local1, local2, local3, local4, local5, local6, local7"
            )
        );
        assert!(
            FormatOptions::parse_severity("9")
                .unwrap_err()
                .to_string()
                .starts_with("--severity: severity \"9\" is out of range")
        );
        let empty_app = FormatOptions {
            appname: String::new(),
            ..FormatOptions::default()
        };
        assert!(
            Formatter::new(empty_app)
                .unwrap_err()
                .to_string()
                .starts_with("--appname: must not be empty")
        );
        let empty_host = FormatOptions {
            hostname: Some(String::new()),
            ..FormatOptions::default()
        };
        assert_eq!(Formatter::new(empty_host).unwrap_err().field, "--hostname");
    }

    #[test]
    fn format_names_are_the_flag_values_and_print_back() {
        use clap::ValueEnum;
        for f in OutputFormat::value_variants() {
            assert_eq!(OutputFormat::from_str(&f.to_string(), false), Ok(*f));
        }
        assert_eq!(OutputFormat::Rfc5424.to_string(), "rfc5424");
        assert_eq!(TimestampFormat::Iso8601.to_string(), "iso8601");
        assert!(OutputFormat::from_str("json", false).is_err());
    }
}
