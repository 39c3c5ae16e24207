//! What logger's flags mean, as plain values: the transport `-n`, `-T`, `-d` and `--protocol`
//! choose, the message format `--rfc3164`, `--rfc5424[=notime,notq,nohost]`, `--format` and
//! the RFC 5424-only flags (`--msgid`, `--sd-id`, `--sd-param`) choose, and the
//! [`MessageEncoder`] they all build. `cli/send.rs` fills [`MessageFlags`]; the checks and
//! their messages live here.

use crate::egress::message::Rfc5424Snips;
use crate::egress::{
    FormatError, FormatOptions, Formatter, InputKind, LineEncoder, MessageEncoder, TextFields,
};
use crate::framing::{Encoder, Escape, Framing};
use crate::syslog::format::{OutputFormat, TimestampFormat};
use crate::syslog::timestamp::Zone;
use crate::syslog::{Facility, Severity};
use crate::transport::Protocol;

/// Largest UDP payload over IPv4.
pub const MAX_UDP_RECORD_BYTES: usize = 65_507;

/// An SD-ID and its `(name, value)` parameters.
pub type SdElementArg = (String, Vec<(String, String)>);

/// Why the message flags cannot make an encoder; each says what to give instead.
#[derive(Debug, PartialEq, thiserror::Error)]
pub enum MessageFlagError {
    /// A flag only RFC 5424 carries, with another format asked for.
    #[error(
        "{flag} needs RFC 5424 (RFC 3164 and raw messages have no MSGID or STRUCTURED-DATA) but {by} asks for {format}: drop {by}, or {flag}"
    )]
    NeedsRfc5424 {
        flag: &'static str,
        by: &'static str,
        format: OutputFormat,
    },
    #[error(
        "--max-record-size {0}: must be 1-{MAX_UDP_RECORD_BYTES} (the UDP limit); the default is 1500"
    )]
    MaxRecordSize(usize),
    #[error(transparent)]
    Format(#[from] FormatError),
    /// The framing refused (its own message).
    #[error("{0}")]
    Framing(String),
    #[error("--sd-param {0:?}: expected NAME=\"VALUE\", e.g. --sd-param 'tiger=\"hungry\"'")]
    SdParamSyntax(String),
    #[error(
        "--sd-param {0:?} must follow an --sd-id, e.g. --sd-id zoo@123 --sd-param 'tiger=\"hungry\"'"
    )]
    SdParamWithoutId(String),
}

/// The message flags of `send`, as given.
#[derive(Clone, Debug)]
pub struct MessageFlags {
    /// `--format`.
    pub format: Option<OutputFormat>,
    pub rfc3164: bool,
    /// `--rfc5424[=SNIPS]`.
    pub rfc5424: Option<Rfc5424Snips>,
    pub timestamp_format: TimestampFormat,
    pub zone: Zone,
    /// `-p`: a facility (or none: the default's) and a severity.
    pub priority: Option<(Option<Facility>, Severity)>,
    pub tag: Option<String>,
    /// `-i`/`--id[=PID]`: `Some("")` is this process's id.
    pub id: Option<String>,
    pub hostname: Option<String>,
    pub msgid: Option<String>,
    pub structured_data: Vec<SdElementArg>,
    pub input: InputKind,
    pub skip_empty: bool,
    /// `-S`.
    pub size: Option<usize>,
    /// `--octet-count` or `--framing octet-counting`.
    pub octet_count: bool,
    /// `--max-record-size` (UDP).
    pub max_record_size: usize,
    pub prio_prefix: bool,
    /// `-s`.
    pub echo: bool,
}

impl Default for MessageFlags {
    /// No flag given: RFC 3164, the machine's zone, 1500-byte UDP records.
    fn default() -> Self {
        MessageFlags {
            format: None,
            rfc3164: false,
            rfc5424: None,
            timestamp_format: TimestampFormat::default(),
            zone: Zone::Local,
            priority: None,
            tag: None,
            id: None,
            hostname: None,
            msgid: None,
            structured_data: Vec::new(),
            input: InputKind::default(),
            skip_empty: false,
            size: None,
            octet_count: false,
            max_record_size: 1500,
            prio_prefix: false,
            echo: false,
        }
    }
}

/// What carries the messages, as far as framing is concerned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Link {
    /// A network transport (`--protocol`).
    Net(Protocol),
    /// `-u PATH` or `/dev/log`: a unix datagram socket, one message a datagram.
    LocalDatagram,
    /// A unix stream socket: each message ends with a line feed, as logger's.
    LocalStream,
}

/// The transport: `--protocol`, else `-T` (TCP) or `-d` (UDP), else UDP with `-n` (logger)
/// and TCP with `--to` (Cribl).
pub fn protocol(explicit: Option<Protocol>, tcp: bool, udp: bool, server: bool) -> Protocol {
    match (explicit, tcp, udp) {
        (Some(p), _, _) => p,
        (None, true, _) => Protocol::Tcp,
        (None, _, true) => Protocol::Udp,
        (None, false, false) if server => Protocol::Udp,
        _ => Protocol::Tcp,
    }
}

impl MessageFlags {
    /// The format: the one asked for, else RFC 5424 when a flag that only RFC 5424 carries
    /// is given (logger's `--msgid`, `--sd-id`, `--sd-param`), else RFC 3164 (as Cribl).
    /// Asking for another format together with such a flag is an error, not a flag that
    /// silently vanishes.
    pub fn output_format(&self) -> Result<OutputFormat, MessageFlagError> {
        let (explicit, by) = match (self.format, self.rfc3164, self.rfc5424) {
            (Some(f), _, _) => (Some(f), "--format"),
            (None, true, _) => (Some(OutputFormat::Rfc3164), "--rfc3164"),
            (None, false, Some(_)) => (Some(OutputFormat::Rfc5424), "--rfc5424"),
            (None, false, None) => (None, ""),
        };
        let needs = if self.msgid.is_some() {
            Some("--msgid")
        } else if !self.structured_data.is_empty() {
            Some("--sd-id")
        } else {
            None
        };
        match (explicit, needs) {
            (Some(f), Some(flag)) if f != OutputFormat::Rfc5424 => {
                Err(MessageFlagError::NeedsRfc5424 {
                    flag,
                    by,
                    format: f,
                })
            }
            (Some(f), _) => Ok(f),
            (None, Some(_)) => Ok(OutputFormat::Rfc5424),
            (None, None) => Ok(OutputFormat::Rfc3164),
        }
    }

    /// The encoder for `link`: format and header defaults, logger's text fields, framing,
    /// UDP's record size.
    pub fn encoder(&self, link: Link) -> Result<MessageEncoder, MessageFlagError> {
        let format = self.output_format()?;
        let defaults = FormatOptions::default();
        let (facility, severity) = match self.priority {
            Some((f, s)) => (f.unwrap_or(defaults.facility), s),
            None => (defaults.facility, defaults.severity),
        };
        let formatter = Formatter::new(FormatOptions {
            format,
            timestamp_format: self.timestamp_format,
            facility,
            severity,
            appname: self.tag.clone().unwrap_or(defaults.appname),
            hostname: self.hostname.clone(),
            zone: self.zone.clone(),
            bom: false,
        })?;
        let framing = match (link, self.octet_count) {
            (_, true) => Some(Framing::OctetCounting),
            (Link::Net(Protocol::Udp) | Link::LocalDatagram, false) => None,
            (Link::Net(_), false) => Some(Framing::Lf),
            (Link::LocalStream, false) => Some(Framing::Lf),
        };
        let framing = match framing {
            // RELP's DATALEN frames each message.
            _ if matches!(link, Link::Net(p) if p.is_relp()) => None,
            Some(Framing::OctetCounting) => Some(
                Encoder::new(&Framing::OctetCounting, Escape::Raw)
                    .map_err(MessageFlagError::Framing)?,
            ),
            Some(f) => Some(
                Encoder::new(&f, Escape::ControlCharacters).map_err(MessageFlagError::Framing)?,
            ),
            None => None,
        };
        let max_record_size = if link == Link::Net(Protocol::Udp) {
            if self.max_record_size == 0 || self.max_record_size > MAX_UDP_RECORD_BYTES {
                return Err(MessageFlagError::MaxRecordSize(self.max_record_size));
            }
            Some(self.max_record_size)
        } else {
            None
        };
        let text = TextFields {
            procid: self.id.as_ref().map(|id| {
                if id.is_empty() {
                    std::process::id().to_string()
                } else {
                    id.clone()
                }
            }),
            msgid: self.msgid.clone(),
            structured_data: self.structured_data.clone(),
        };
        let mut encoder = MessageEncoder::new(
            LineEncoder::new(formatter, self.input),
            text,
            framing,
            max_record_size,
            self.size,
            self.skip_empty,
        );
        encoder.prio_prefix = self.prio_prefix;
        encoder.snips = self.rfc5424.unwrap_or_default();
        encoder.echo = self.echo;
        Ok(encoder)
    }
}

/// `--sd-id`/`--sd-param` in command-line order (`order`: true for an `--sd-id`, false for an
/// `--sd-param`, as they came): each parameter belongs to the SD-ID before it.
pub fn structured_data(
    ids: &[String],
    params: &[String],
    order: &[bool],
) -> Result<Vec<SdElementArg>, MessageFlagError> {
    if params.is_empty() {
        return Ok(ids.iter().map(|id| (id.clone(), Vec::new())).collect());
    }
    let (mut ids, mut params) = (ids.iter(), params.iter());
    let mut out: Vec<SdElementArg> = Vec::new();
    for &is_id in order {
        if is_id {
            if let Some(id) = ids.next() {
                out.push((id.clone(), Vec::new()));
            }
            continue;
        }
        let Some(param) = params.next() else { continue };
        let (name, value) = param
            .split_once('=')
            .ok_or_else(|| MessageFlagError::SdParamSyntax(param.clone()))?;
        let value = value
            .strip_prefix('"')
            .and_then(|v| v.strip_suffix('"'))
            .unwrap_or(value);
        let Some(last) = out.last_mut() else {
            return Err(MessageFlagError::SdParamWithoutId(param.clone()));
        };
        last.1.push((name.to_string(), value.to_string()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags() -> MessageFlags {
        MessageFlags::default()
    }

    // See: #15
    #[test]
    fn issue_15_rfc5424_only_flags_switch_the_format_or_refuse_another() {
        let msgid = MessageFlags {
            msgid: Some("M".into()),
            ..flags()
        };
        assert_eq!(msgid.output_format(), Ok(OutputFormat::Rfc5424));
        let sd = MessageFlags {
            structured_data: vec![("x@1".into(), vec![])],
            ..flags()
        };
        assert_eq!(sd.output_format(), Ok(OutputFormat::Rfc5424));
        let clash = MessageFlags {
            rfc3164: true,
            ..msgid.clone()
        };
        assert_eq!(
            clash.output_format().unwrap_err().to_string(),
            "--msgid needs RFC 5424 (RFC 3164 and raw messages have no MSGID or STRUCTURED-DATA) but --rfc3164 asks for rfc3164: drop --rfc3164, or --msgid"
        );
        let raw = MessageFlags {
            format: Some(OutputFormat::Raw),
            ..sd
        };
        assert!(
            raw.output_format()
                .unwrap_err()
                .to_string()
                .starts_with("--sd-id needs RFC 5424")
        );
        assert_eq!(flags().output_format(), Ok(OutputFormat::Rfc3164));
    }

    #[test]
    fn sd_params_belong_to_the_sd_id_before_them() {
        let ids = ["a@1".to_string(), "b@2".to_string()];
        let params = ["x=\"1\"".to_string(), "y=2".to_string()];
        assert_eq!(
            structured_data(&ids, &params, &[true, false, true, false]),
            Ok(vec![
                ("a@1".into(), vec![("x".into(), "1".into())]),
                ("b@2".into(), vec![("y".into(), "2".into())]),
            ])
        );
        assert!(
            structured_data(&ids, &params, &[false, true, true, false])
                .unwrap_err()
                .to_string()
                .contains("must follow an --sd-id")
        );
    }
}
