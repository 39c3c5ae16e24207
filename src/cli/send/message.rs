//! `send`'s message and framing flags (logger's, mostly): clap's side of
//! [`syslogkit::send::logger::MessageFlags`], which decides what they mean.

use anyhow::anyhow;
use clap::Args;
use syslogkit::egress::message::Rfc5424Snips;
use syslogkit::egress::{FormatOptions, InputKind};
use syslogkit::framing::FramingName;
use syslogkit::send::logger::{self, MessageFlags};
use syslogkit::syslog::format::{OutputFormat, TimestampFormat};
use syslogkit::syslog::timestamp::Zone;
use syslogkit::syslog::{Facility, Severity};

use super::super::args::{parse_size, parse_zone};

#[derive(Debug, Args)]
pub(super) struct MessageArgs {
    // ---- Message.
    /// Priority 'facility.severity' (local0.warning, daemon.err) or a severity alone (user
    /// facility) [default: user.notice].
    #[arg(short = 'p', long, value_name = "PRIORITY", value_parser = parse_priority,
          help_heading = "Message")]
    pub(super) priority: Option<(Option<Facility>, Severity)>,

    /// App name / tag [default: syslogkit].
    #[arg(short = 't', long, value_name = "TAG", help_heading = "Message")]
    pub(super) tag: Option<String>,

    /// Put a PROCID into text messages: '-i' or '--id' this process's id, '--id=PID' the one
    /// given.
    #[arg(short = 'i', long = "id", value_name = "PID", num_args = 0..=1, require_equals = true,
          default_missing_value = "", help_heading = "Message")]
    pub(super) id: Option<String>,

    /// Hostname of text messages [default: this machine's name].
    #[arg(long, value_name = "NAME", help_heading = "Message")]
    pub(super) hostname: Option<String>,

    /// RFC 3164 messages (the default).
    #[arg(long, conflicts_with_all = ["rfc5424", "format"], help_heading = "Message")]
    pub(super) rfc3164: bool,

    /// RFC 5424 messages; '=notime', '=nohost' leave the time or hostname out (comma-combinable,
    /// as logger's; 'notq' is accepted: send writes no timeQuality element).
    #[arg(long, value_name = "SNIP", num_args = 0..=1, require_equals = true,
          default_missing_value = "", conflicts_with = "format", help_heading = "Message")]
    pub(super) rfc5424: Option<Rfc5424Snips>,

    /// Message format.
    #[arg(long, value_name = "FORMAT", help_heading = "Message", value_enum)]
    pub(super) format: Option<OutputFormat>,

    /// RFC 3164 time: 'syslog' (Mmm dd hh:mm:ss) or 'iso8601'.
    #[arg(
        long,
        value_name = "FORMAT",
        default_value = "syslog",
        help_heading = "Message",
        value_enum
    )]
    pub(super) timestamp_format: TimestampFormat,

    /// Zone of the times written: IANA name, offset, UTC or 'local'.
    #[arg(long, value_name = "ZONE", default_value = "local", value_parser = parse_zone,
          help_heading = "Message")]
    pub(super) timezone: Zone,

    /// MSGID of text messages; implies RFC 5424 (an error with --rfc3164).
    #[arg(long, value_name = "MSGID", help_heading = "Message")]
    pub(super) msgid: Option<String>,

    /// An SD-ID for text messages; repeatable, --sd-param adds to the last one. Implies RFC
    /// 5424 (an error with --rfc3164).
    #[arg(long = "sd-id", value_name = "ID", help_heading = "Message")]
    pub(super) sd_id: Vec<String>,

    /// A parameter NAME="VALUE" of the --sd-id before it.
    #[arg(
        long = "sd-param",
        value_name = "NAME=\"VALUE\"",
        help_heading = "Message"
    )]
    pub(super) sd_param: Vec<String>,

    /// How --sd-id (true) and --sd-param (false) interleave on the command line: clap keeps
    /// each flag's values but not their order between flags ([`SendArgs::read_order`]).
    #[arg(skip)]
    pub(super) sd_order: Vec<bool>,

    /// What input lines are: 'auto' (JSON objects are events, other lines text), 'json', 'raw'.
    #[arg(
        long,
        value_name = "KIND",
        default_value = "auto",
        help_heading = "Message",
        value_enum
    )]
    pub(super) input: InputKind,

    /// Skip empty lines.
    #[arg(short = 'e', long, help_heading = "Message")]
    pub(super) skip_empty: bool,

    /// A text line read from the input that starts with <N> (0-191) gets that priority, the
    /// prefix cut; with no facility in N, -p's (as logger).
    #[arg(long, help_heading = "Message")]
    pub(super) prio_prefix: bool,

    /// Longest text message in bytes: longer lines are split into several messages, a longer
    /// argument message is cut (as logger) [default: no limit].
    #[arg(short = 'S', long, value_name = "SIZE", value_parser = parse_size_usize,
          help_heading = "Message")]
    pub(super) size: Option<usize>,

    // ---- Framing.
    /// TCP/TLS framing: 'lf' or 'octet-counting' (RFC 6587).
    #[arg(long, value_enum, value_name = "FRAMING", help_heading = "Framing")]
    pub(super) framing: Option<FramingName>,

    /// Octet counting (logger's --octet-count; also on UDP).
    #[arg(long, conflicts_with = "framing", help_heading = "Framing")]
    pub(super) octet_count: bool,

    /// UDP: longest datagram; longer messages end in '...' and are counted (up to 65507;
    /// above 2048 a warning).
    #[arg(long, value_name = "BYTES", default_value = "1500", value_parser = parse_size_usize,
          help_heading = "Framing")]
    pub(super) max_record_size: usize,
}

impl MessageArgs {
    /// The flags as [`logger::MessageFlags`] (`-s` is the caller's).
    pub(super) fn flags(&self) -> anyhow::Result<MessageFlags> {
        Ok(MessageFlags {
            format: self.format,
            rfc3164: self.rfc3164,
            rfc5424: self.rfc5424,
            timestamp_format: self.timestamp_format,
            zone: self.timezone.clone(),
            priority: self.priority,
            tag: self.tag.clone(),
            id: self.id.clone(),
            hostname: self.hostname.clone(),
            msgid: self.msgid.clone(),
            structured_data: logger::structured_data(&self.sd_id, &self.sd_param, &self.sd_order)
                .map_err(|e| anyhow!(e))?,
            input: self.input,
            skip_empty: self.skip_empty,
            size: self.size,
            octet_count: self.octet_count || self.framing == Some(FramingName::OctetCounting),
            max_record_size: self.max_record_size,
            prio_prefix: self.prio_prefix,
            echo: false,
        })
    }

    /// Reads what derived arguments lose from the matches they were made from: the order of
    /// `--sd-id` and `--sd-param`.
    pub(super) fn read_order(&mut self, matches: &clap::ArgMatches) {
        let at = |id: &str, is_id: bool| {
            matches
                .indices_of(id)
                .into_iter()
                .flatten()
                .map(move |i| (i, is_id))
        };
        let mut order: Vec<(usize, bool)> =
            at("sd_id", true).chain(at("sd_param", false)).collect();
        order.sort_unstable();
        self.sd_order = order.into_iter().map(|(_, is_id)| is_id).collect();
    }
}

fn parse_size_usize(s: &str) -> Result<usize, String> {
    parse_size(s).map(|n| n as usize)
}

fn parse_priority(s: &str) -> Result<(Option<Facility>, Severity), String> {
    let (facility, severity) = match s.split_once('.') {
        Some((f, sev)) => (
            Some(FormatOptions::parse_facility(f).map_err(|e| e.reason)?),
            sev,
        ),
        None => (None, s),
    };
    let severity = FormatOptions::parse_severity(severity).map_err(|e| e.reason)?;
    Ok((facility, severity))
}
