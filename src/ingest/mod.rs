//! One raw message in, one ECS event out: format detection, the parsers, and the rule that
//! nothing is lost (a message that does not parse still becomes an event, with
//! `error.message` and `event.original`). `parse`, `frame --decode` and `listen` all go through
//! [`LineParser`].

pub mod compressed;
#[cfg(test)]
mod netfilter_events;
pub mod stream;

use std::cell::RefCell;

use crate::ecs::{Event, Received};
use crate::framing::Decoded;
use crate::iptables::{self, Netfilter, NetfilterError};
use crate::syslog::timestamp::{TimeContext, Timestamp};
use crate::syslog::{self, Extras, Message, ParseError, rfc3164, rfc5424};

/// `event.dataset` of netfilter events without `--dataset` (Elastic's iptables integration).
pub const NETFILTER_DATASET: &str = "iptables.log";
/// What `listen` sets for TCP (and TLS) messages without `--dataset`.
pub const GENERIC_TCP_DATASET: &str = "tcp.generic";
/// What `listen` sets for UDP messages without `--dataset`.
pub const GENERIC_UDP_DATASET: &str = "udp.generic";

/// Which parser reads a message (`--format` / `--parse`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum InputFormat {
    /// RFC 5424 or RFC 3164 by the line's start, plus netfilter fields when present.
    ///
    /// RFC 5424 when the line starts `<PRI>VERSION `, else RFC 3164; netfilter LOG fields are
    /// added when the message is one, and a bare kernel LOG line is read as one.
    #[default]
    Auto,
    /// RFC 5424 only.
    Rfc5424,
    /// RFC 3164 (BSD) only.
    Rfc3164,
    /// netfilter LOG lines (iptables, nftables, ufw, firewalld), with or without a syslog header.
    Iptables,
    /// No parsing: message = line.
    Raw,
}

display_as_flag_value!(InputFormat);

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
    /// Room for the next RFC 5424 message's STRUCTURED-DATA (issue 16: SD allocated on
    /// every line that had any).
    sd_buffers: RefCell<rfc5424::SdBuffers>,
}

/// What became of one message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    Parsed,
    Failed,
}

impl LineParser {
    pub fn new(options: ParseOptions) -> Self {
        LineParser {
            options,
            sd_buffers: RefCell::default(),
        }
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
        self.write_received(decoded, max_len, None, out)
    }

    /// [`write_decoded`](Self::write_decoded) for a message that came over the network: the
    /// event also carries the sender, the transport, the receive time and TLS (`listen`).
    pub fn write_received(
        &self,
        decoded: &Decoded<'_>,
        max_len: usize,
        received: Option<&Received<'_>>,
        out: &mut Vec<u8>,
    ) -> Outcome {
        match decoded.error(max_len) {
            // Senders that count a trailing LF into an octet-counted frame (rsyslog's omfwd
            // with a template ending in LF, loggen -P) mean it as a terminator: drop one, as
            // rsyslog's parser.DropTrailingLFOnReception does. LF framing has none left.
            None => {
                let bytes = decoded.bytes();
                let bytes = match bytes.strip_suffix(b"\n") {
                    Some(line) => line.strip_suffix(b"\r").unwrap_or(line),
                    None => bytes,
                };
                self.write_line_from(bytes, received, out)
            }
            Some(reason) => self.write_error_from(decoded.bytes(), reason, received, out),
        }
    }

    /// Appends the event for one message (no line terminator in it) and a newline.
    pub fn write_line(&self, line: &[u8], out: &mut Vec<u8>) -> Outcome {
        self.write_line_from(line, None, out)
    }

    fn write_line_from(
        &self,
        line: &[u8],
        rx: Option<&Received<'_>>,
        out: &mut Vec<u8>,
    ) -> Outcome {
        let time = &self.options.time;
        let mut sd_buffers = self.sd_buffers.borrow_mut();
        let mut extras = Extras::default();
        let parsed = match self.options.format {
            InputFormat::Raw => {
                let mut event = self.event(Timestamp::now(), rx);
                event.message = Some(line);
                if self.options.keep_original {
                    event.original = Some(line);
                }
                event.write_json(out);
                out.push(b'\n');
                return Outcome::Parsed;
            }
            InputFormat::Rfc5424 => rfc5424::parse_reusing(line, time, &mut sd_buffers),
            InputFormat::Auto | InputFormat::Iptables if syslog::looks_like_rfc5424(line) => {
                rfc5424::parse_lenient_reusing(line, time, &mut sd_buffers).map(|(m, found)| {
                    extras = found;
                    m
                })
            }
            InputFormat::Rfc3164 | InputFormat::Auto | InputFormat::Iptables => {
                rfc3164::parse_with_extras(line, time).map(|(m, found)| {
                    extras = found;
                    m
                })
            }
        };
        let outcome = match (self.options.format, &parsed) {
            (InputFormat::Iptables, Ok(message)) => {
                let mut nf = Netfilter::default();
                match netfilter_in_message(line, message, &mut nf) {
                    Ok(()) => self.write_syslog_event(line, message, extras, Some(&nf), rx, out),
                    Err(e) => match split_netfilter_in_message(message) {
                        Some(nf) => {
                            self.write_syslog_event(line, message, extras, Some(&nf), rx, out)
                        }
                        None => self.write_error_from(line, e.to_string(), rx, out),
                    },
                }
            }
            // A bare, dmesg or `dmesg -T` kernel line has no syslog header.
            (InputFormat::Iptables, Err(_)) if line.is_empty() => {
                self.write_error_from(line, "empty line".into(), rx, out)
            }
            (InputFormat::Iptables, Err(_)) => match self.netfilter_line(line) {
                Ok((timestamp, nf)) => self.write_netfilter_event(line, timestamp, &nf, rx, out),
                Err(e) => self.write_error_from(line, e, rx, out),
            },
            (InputFormat::Auto, Ok(message)) => 'event: {
                // A message that only looks like a LOG line stays a plain syslog event.
                if message.msg.is_some_and(iptables::looks_like_netfilter) {
                    let mut nf = Netfilter::default();
                    if netfilter_in_message(line, message, &mut nf).is_ok() {
                        break 'event self.write_syslog_event(
                            line,
                            message,
                            extras,
                            Some(&nf),
                            rx,
                            out,
                        );
                    }
                }
                let nf = split_netfilter_in_message(message);
                self.write_syslog_event(line, message, extras, nf.as_ref(), rx, out)
            }
            (InputFormat::Auto, Err(e)) if iptables::looks_like_netfilter(line) => {
                match self.netfilter_line(line) {
                    Ok((timestamp, nf)) => {
                        self.write_netfilter_event(line, timestamp, &nf, rx, out)
                    }
                    Err(_) => self.write_parse_error(line, e, rx, out),
                }
            }
            (_, Ok(message)) => self.write_syslog_event(line, message, extras, None, rx, out),
            (_, Err(e)) => self.write_parse_error(line, e, rx, out),
        };
        if let Ok(message) = parsed {
            sd_buffers.recycle(message.structured_data);
        }
        outcome
    }

    /// A whole line read as netfilter LOG text, with its time: a `dmesg -T` stamp read in the
    /// `--timezone` zone, else now.
    fn netfilter_line<'a>(&self, line: &'a [u8]) -> Result<(Timestamp, Netfilter<'a>), String> {
        let nf = iptables::parse(line).map_err(|e| e.to_string())?;
        let timestamp = match nf.wall_time {
            Some(wall) => Timestamp {
                utc: self
                    .options
                    .time
                    .local_to_utc(wall)
                    .map_err(|e| format!("iptables: dmesg -T stamp: {e}"))?,
                frac_digits: 0,
            },
            None => Timestamp::now(),
        };
        Ok((timestamp, nf))
    }

    /// Writes the event of a parsed message. `message` and `netfilter` are borrowed, not
    /// moved: moving them into the event copied several hundred bytes each (issue 16).
    fn write_syslog_event<'a>(
        &self,
        line: &'a [u8],
        message: &Message<'a>,
        extras: Extras,
        netfilter: Option<&Netfilter<'a>>,
        rx: Option<&Received<'_>>,
        out: &mut Vec<u8>,
    ) -> Outcome {
        let mut event = self.event(message.timestamp.unwrap_or_else(Timestamp::now), rx);
        if netfilter.is_some() {
            event.dataset = self.netfilter_dataset();
        }
        event.sequence = extras.sequence;
        event.structured_data_note = extras.sd_note;
        event.message = message.msg;
        if self.options.keep_original {
            event.original = Some(line);
        }
        event.syslog = Some(message);
        event.netfilter = netfilter;
        event.write_json(out);
        out.push(b'\n');
        Outcome::Parsed
    }

    fn write_netfilter_event<'a>(
        &self,
        line: &'a [u8],
        timestamp: Timestamp,
        netfilter: &Netfilter<'a>,
        rx: Option<&Received<'_>>,
        out: &mut Vec<u8>,
    ) -> Outcome {
        let mut event = self.event(timestamp, rx);
        event.dataset = self.netfilter_dataset();
        event.message = Some(netfilter.body);
        if self.options.keep_original {
            event.original = Some(line);
        }
        event.netfilter = Some(netfilter);
        event.write_json(out);
        out.push(b'\n');
        Outcome::Parsed
    }

    fn write_parse_error(
        &self,
        line: &[u8],
        error: &ParseError,
        rx: Option<&Received<'_>>,
        out: &mut Vec<u8>,
    ) -> Outcome {
        let reason = if line.is_empty() {
            "empty line".to_string()
        } else {
            error.to_string()
        };
        self.write_error_from(line, reason, rx, out)
    }

    /// Appends an error event: `message` and `event.original` are the raw bytes.
    pub fn write_error(&self, line: &[u8], reason: String, out: &mut Vec<u8>) -> Outcome {
        self.write_error_from(line, reason, None, out)
    }

    /// [`write_error`](Self::write_error) for a message that came over the network and was
    /// given up on by the receiver (`listen`'s limits): the event carries the sender too.
    pub fn write_received_error(
        &self,
        bytes: &[u8],
        reason: String,
        received: Option<&Received<'_>>,
        out: &mut Vec<u8>,
    ) -> Outcome {
        self.write_error_from(bytes, reason, received, out)
    }

    fn write_error_from(
        &self,
        line: &[u8],
        reason: String,
        rx: Option<&Received<'_>>,
        out: &mut Vec<u8>,
    ) -> Outcome {
        let mut event = self.event(Timestamp::now(), rx);
        event.message = Some(line);
        event.original = Some(line);
        event.error = Some(reason.into());
        event.write_json(out);
        out.push(b'\n');
        Outcome::Failed
    }

    /// `event.dataset` of a netfilter event: `--dataset` when given, else `iptables.log`, the
    /// dataset of Elastic's iptables integration. `listen` fills in `tcp.generic` or
    /// `udp.generic` for an unset `--dataset`; a netfilter event is more specific than those.
    fn netfilter_dataset(&self) -> Option<&str> {
        match self.options.dataset.as_deref() {
            None | Some(GENERIC_TCP_DATASET | GENERIC_UDP_DATASET) => Some(NETFILTER_DATASET),
            given => given,
        }
    }

    fn event<'s>(&'s self, timestamp: Timestamp, rx: Option<&'s Received<'s>>) -> Event<'s> {
        let mut event = Event::new(timestamp);
        event.dataset = self.options.dataset.as_deref();
        event.received = rx;
        event
    }
}

/// The netfilter fields of a syslog message's text. Error offsets count from the start of the
/// line. When a syslog parser took the log prefix for a tag (`Jan  8 03:37:09 DENY: IN=…`, where
/// the text starts right at `IN=`), the tag is the prefix again. Fills `nf` (a fresh
/// `Netfilter::default()`) in place, see [`iptables::parse_into`].
fn netfilter_in_message<'a>(
    line: &'a [u8],
    message: &Message<'a>,
    nf: &mut Netfilter<'a>,
) -> Result<(), NetfilterError> {
    let Some(msg) = message.msg else {
        return Err(NetfilterError::new(
            line.len(),
            "no message after the syslog header, so no netfilter LOG text",
        ));
    };
    let msg_at = offset_in(line, msg);
    iptables::parse_into(msg, nf).map_err(|e| e.shifted(msg_at))?;
    if let Some(appname) = message.appname
        && appname != b"kernel"
        && nf.log_prefix.is_none()
        && msg.starts_with(b"IN=")
    {
        nf.set_log_prefix(&line[offset_in(line, appname)..msg_at]);
    }
    Ok(())
}

/// The second half of a kernel LOG line that UniFi OS (UDM) split in two: `HOST kernel:` then
/// `TTL=… ID=… PROTO=… SPT=… DPT=…` with no `IN=`/`SRC=`. Only for a message from `kernel`
/// that starts that way, so plain text never becomes a netfilter event.
fn split_netfilter_in_message<'a>(message: &Message<'a>) -> Option<Netfilter<'a>> {
    let msg = message.msg?;
    // Cheapest test first: this runs for every message in --format auto.
    if !matches!(msg.first(), Some(b'T' | b'L' | b'[' | b'0'..=b'9' | b' '))
        || message.appname != Some(b"kernel")
    {
        return None;
    }
    iptables::parse_split_tail(msg)
}

/// Where `part`, a slice of `line`, starts in it.
fn offset_in(line: &[u8], part: &[u8]) -> usize {
    let at = (part.as_ptr() as usize).wrapping_sub(line.as_ptr() as usize);
    debug_assert!(at <= line.len(), "part must be a slice of line");
    at.min(line.len())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::syslog::timestamp::Zone;
    use proptest::strategy::Strategy;
    use serde_json::Value;

    /// A parser for tests: stamps in UTC, BSD years 2026.
    pub(crate) fn parser(format: InputFormat) -> LineParser {
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
        assert_eq!(v["log"]["syslog"]["version"], "1");
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
    fn one_trailing_lf_inside_a_counted_frame_is_dropped() {
        // rsyslog omfwd with RSYSLOG_SyslogProtocol23Format sends "<len> <msg>\n" with the LF
        // counted; loggen -P does the same.
        let p = parser(InputFormat::Auto);
        let mut out = Vec::new();
        p.write_decoded(
            &Decoded::Frame(b"<13>1 - h a - - - text\r\n"),
            100,
            &mut out,
        );
        p.write_decoded(&Decoded::Frame(b"<13>1 - h a - - - two\n\n"), 100, &mut out);
        p.write_decoded(&Decoded::Frame(b"<13>1 - h a - - - cr\r"), 100, &mut out);
        let events: Vec<Value> = out
            .split(|&b| b == b'\n')
            .filter(|l| !l.is_empty())
            .map(|l| serde_json::from_slice(l).unwrap())
            .collect();
        assert_eq!(events[0]["message"], "text");
        assert_eq!(events[1]["message"], "two\n");
        assert_eq!(events[2]["message"], "cr\r");
    }

    #[test]
    fn empty_line_is_an_error_event() {
        for format in [InputFormat::Auto, InputFormat::Iptables] {
            let (v, _) = event(&parser(format), b"");
            assert_eq!(v["error"]["message"], "empty line");
            assert_eq!(v["event"]["original"], "");
        }
    }

    #[test]
    fn raw_keeps_the_line_as_message() {
        let (v, outcome) = event(&parser(InputFormat::Raw), b"<13>Oct 11 22:14:15 h a: x");
        assert_eq!(outcome, Outcome::Parsed);
        assert_eq!(v["message"], "<13>Oct 11 22:14:15 h a: x");
        assert!(v.get("log").is_none());
    }

    const KERNEL_LINE: &[u8] = b"<4>Nov 22 10:01:02 fw01 kernel: [UFW BLOCK] IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:ab:cd:ef:08:00 SRC=203.0.113.7 DST=192.0.2.10 LEN=60 TOS=0x00 PREC=0x00 TTL=50 ID=54321 DF PROTO=TCP SPT=51234 DPT=22 WINDOW=64240 RES=0x00 SYN URGP=0 ";

    #[test]
    fn auto_adds_netfilter_fields_to_a_kernel_log_line() {
        let (auto, outcome) = event(&parser(InputFormat::Auto), KERNEL_LINE);
        assert_eq!(outcome, Outcome::Parsed);
        assert_eq!(auto["log"]["syslog"]["appname"], "kernel");
        assert_eq!(auto["source"]["ip"], "203.0.113.7");
        assert_eq!(auto["event"]["action"], "block");
        let (iptables, _) = event(&parser(InputFormat::Iptables), KERNEL_LINE);
        assert_eq!(auto, iptables);
    }

    #[test]
    fn explicit_syslog_formats_do_not_add_netfilter_fields() {
        let (v, outcome) = event(&parser(InputFormat::Rfc3164), KERNEL_LINE);
        assert_eq!(outcome, Outcome::Parsed);
        assert!(v.get("iptables").is_none() && v.get("source").is_none());
        assert!(v.get("event").is_none());
    }

    #[test]
    fn auto_keeps_a_message_that_only_looks_like_a_log_line_plain() {
        let (v, outcome) = event(
            &parser(InputFormat::Auto),
            b"<13>Nov 22 10:01:02 h app: set IN=1 OUT=2 now",
        );
        assert_eq!(outcome, Outcome::Parsed);
        assert_eq!(v["message"], "set IN=1 OUT=2 now");
        assert!(v.get("error").is_none() && v.get("iptables").is_none());
    }

    #[test]
    fn auto_reads_a_bare_kernel_log_line_without_error() {
        let line = b"[ 8123.456789] IN=eth0 OUT= MAC= SRC=10.8.0.2 DST=10.8.0.1 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=7 DF PROTO=TCP SPT=40000 DPT=22 WINDOW=64860 RES=0x00 SYN URGP=0 ";
        let (v, outcome) = event(&parser(InputFormat::Auto), line);
        assert_eq!(outcome, Outcome::Parsed);
        assert!(v.get("error").is_none());
        assert_eq!(
            v["message"],
            "IN=eth0 OUT= MAC= SRC=10.8.0.2 DST=10.8.0.1 LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=7 DF PROTO=TCP SPT=40000 DPT=22 WINDOW=64860 RES=0x00 SYN URGP=0 "
        );
        assert_eq!(v["iptables"]["uptime"], 8123.456789);
        // A bare line that is neither keeps the syslog parser's reason.
        let (v, outcome) = event(&parser(InputFormat::Auto), b"IN=eth0 OUT= nothing else");
        assert_eq!(outcome, Outcome::Failed);
        assert!(
            v["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with("rfc3164: ")
        );
    }

    #[test]
    fn iptables_format_makes_other_lines_errors() {
        let (v, outcome) = event(
            &parser(InputFormat::Iptables),
            b"<34>1 2003-10-11T22:14:15.003Z host su - ID47 - hi",
        );
        assert_eq!(outcome, Outcome::Failed);
        assert_eq!(
            v["error"]["message"],
            "iptables: no \"IN=<device> OUT=<device> \" found: not a netfilter LOG message at byte 48"
        );
        assert_eq!(
            v["event"]["original"],
            "<34>1 2003-10-11T22:14:15.003Z host su - ID47 - hi"
        );
        let (v, _) = event(
            &parser(InputFormat::Iptables),
            b"<34>1 2003-10-11T22:14:15.003Z host su - ID47 -",
        );
        assert_eq!(
            v["error"]["message"],
            "iptables: no message after the syslog header, so no netfilter LOG text at byte 47"
        );
    }

    #[test]
    fn keep_original_applies_to_netfilter_events() {
        let p = LineParser::new(ParseOptions {
            keep_original: true,
            ..parser(InputFormat::Iptables).options().clone()
        });
        let (v, _) = event(&p, KERNEL_LINE);
        assert_eq!(
            v["event"]["original"],
            String::from_utf8_lossy(KERNEL_LINE).as_ref()
        );
        assert_eq!(v["event"]["kind"], "event");
    }

    #[test]
    fn format_names_round_trip() {
        use clap::ValueEnum;
        for format in InputFormat::value_variants() {
            assert_eq!(
                InputFormat::from_str(&format.to_string(), false),
                Ok(*format)
            );
        }
        assert_eq!(InputFormat::Iptables.to_string(), "iptables");
        assert!(InputFormat::from_str("ulog", false).is_err());
    }

    proptest::proptest! {
            #[test]
            fn any_line_gives_one_json_event_that_keeps_a_failed_line(
                line in proptest::prop_oneof![
                    proptest::collection::vec(proptest::prelude::any::<u8>(), 0..300),
                    (0..KERNEL_LINE.len(), proptest::collection::vec(proptest::prelude::any::<u8>(), 0..8))
                        .prop_map(|(at, junk)| {
                            let mut line = KERNEL_LINE.to_vec();
                            line.splice(at..at, junk);
                            line.retain(|&b| b != b'\n');
                            line
                        }),
                ],
                iptables in proptest::prelude::any::<bool>(),
            ) {
                let format = if iptables { InputFormat::Iptables } else { InputFormat::Auto };
                let (v, outcome) = event(&parser(format), &line);
                if outcome == Outcome::Failed {
    let original = String::from_utf8_lossy(&line);
                    proptest::prop_assert_eq!(v["event"]["original"].as_str(), Some(original.as_ref()));
                }
            }
        }

    #[test]
    fn dataset_rule() {
        assert!(validate_dataset("syslog.generic").is_ok());
        assert!(validate_dataset("my-data").unwrap_err().contains("my_data"));
        assert!(validate_dataset("").is_err());
    }
}
