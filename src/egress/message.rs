//! One input line of `send` (or its arguments) to framed messages, as logger makes them:
//! the [`LineEncoder`] for the message, logger's `-i`/`--msgid`/`--sd-id` fields on text
//! lines, `--prio-prefix`, `--rfc5424=notime|nohost`, `-S` splitting, UDP truncation, framing
//! and `-s` (a copy on stderr).

use std::io::Write;

use super::{LineEncoder, LineError};
use crate::framing::{Encoder, encode};
use crate::syslog::{Facility, Message, Pri, SdElement, SdParam};

/// logger's `--rfc5424=notime,notq,nohost`: header fields left out (written as `-`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Rfc5424Snips {
    /// `notime`: no TIMESTAMP (logger: it implies `notq`).
    pub no_time: bool,
    /// `nohost`: no HOSTNAME.
    pub no_host: bool,
    /// `notq`: no `timeQuality` element. `send` never writes one (it cannot vouch for the
    /// clock's synchronisation), so this is accepted for logger's command lines and changes
    /// nothing.
    pub no_tq: bool,
}

impl std::str::FromStr for Rfc5424Snips {
    type Err = String;

    /// A comma-separated list, as logger takes it: `notq,nohost`; empty: nothing left out.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut snips = Rfc5424Snips::default();
        for item in s.split(',').filter(|i| !i.is_empty()) {
            match item {
                "notime" => {
                    snips.no_time = true;
                    snips.no_tq = true;
                }
                "nohost" => snips.no_host = true,
                "notq" => snips.no_tq = true,
                _ => {
                    return Err(format!(
                        "{item:?}: expected notime, notq or nohost, comma-separated (as logger's --rfc5424=notq,nohost)"
                    ));
                }
            }
        }
        Ok(snips)
    }
}

/// logger's `--prio-prefix`: the PRI of a line that starts with `<N>` (0 to 191, then the
/// prefix is cut), the default facility added when N has none, as logger does (`<3>` with
/// `-p local0.notice` is `<131>`). `None`: no valid prefix, the line is sent as it is.
pub fn prio_prefix(line: &[u8], default_facility: Facility) -> Option<(Pri, &[u8])> {
    let (mut pri, used) = crate::syslog::parse_pri(line, "prio-prefix").ok()??;
    if pri.facility().code() == 0 {
        pri = Pri::from_parts(default_facility, pri.severity());
    }
    Some((pri, &line[used..]))
}

/// Header values logger's `-i`, `--msgid`, `--sd-id`/`--sd-param` put on text messages
/// (events keep their own).
#[derive(Clone, Debug, Default)]
pub struct TextFields {
    pub procid: Option<String>,
    pub msgid: Option<String>,
    /// SD-IDs with their `(name, value)` parameters, values unescaped.
    pub structured_data: Vec<(String, Vec<(String, String)>)>,
}

/// A line (or argument) to framed bytes: [`LineEncoder`], the text fields, `-S`, UDP
/// truncation and framing.
pub struct MessageEncoder {
    pub lines: LineEncoder,
    pub text: TextFields,
    /// `None` for UDP without octet counting: a datagram carries the message as it is.
    pub framing: Option<Encoder>,
    /// UDP: messages longer are cut, ending in `...`.
    pub max_record_size: Option<usize>,
    /// `-S`: text longer than this is split into several messages (stdin) or cut (arguments).
    pub max_text_size: Option<usize>,
    pub skip_empty: bool,
    /// `--prio-prefix`: a leading `<N>` on a text line read from the input sets its PRI.
    pub prio_prefix: bool,
    /// `--rfc5424=notime,nohost`.
    pub snips: Rfc5424Snips,
    /// `-s`: each framed message also goes to stderr, with a line feed when it has none (as
    /// logger writes it there).
    pub echo: bool,
    /// The SD elements, ready for [`SdElement`].
    sd_escaped: Vec<(String, Vec<(String, String)>)>,
}

impl MessageEncoder {
    pub fn new(
        lines: LineEncoder,
        text: TextFields,
        framing: Option<Encoder>,
        max_record_size: Option<usize>,
        max_text_size: Option<usize>,
        skip_empty: bool,
    ) -> MessageEncoder {
        let sd_escaped = text
            .structured_data
            .iter()
            .map(|(id, params)| {
                // The formatter escapes '"', '\\' and ']' in values (RFC 5424 §6.3.3).
                let params = params.clone();
                (id.clone(), params)
            })
            .collect();
        MessageEncoder {
            lines,
            text,
            framing,
            max_record_size,
            max_text_size,
            skip_empty,
            prio_prefix: false,
            snips: Rfc5424Snips::default(),
            echo: false,
            sd_escaped,
        }
    }

    /// Appends the framed message(s) for one input line to `out`; returns how many messages
    /// and how many were truncated for UDP. Nothing is appended on error.
    pub fn encode(
        &self,
        line: &[u8],
        split: bool,
        scratch: &mut Vec<u8>,
        out: &mut Vec<Vec<u8>>,
    ) -> Result<u64, LineError> {
        let mut truncated = 0;
        if self.skip_empty && line.iter().all(u8::is_ascii_whitespace) {
            return Ok(0);
        }
        let text = self.lines.is_text(line);
        // logger looks for the prefix on lines read from stdin, not in its arguments, and
        // before -S splits them.
        let prefixed = if text && split && self.prio_prefix {
            prio_prefix(line, self.default_facility())
        } else {
            None
        };
        let (pri, line) = match prefixed {
            Some((pri, rest)) => (Some(pri), rest),
            None => (None, line),
        };
        let pieces: Vec<&[u8]> = match self.max_text_size {
            Some(size) if text && line.len() > size && size > 0 => {
                if split {
                    line.chunks(size).collect()
                } else {
                    vec![&line[..size]]
                }
            }
            _ => vec![line],
        };
        for piece in pieces {
            scratch.clear();
            if text
                && (pri.is_some()
                    || self.snips != Rfc5424Snips::default()
                    || self.text.procid.is_some()
                    || self.text.msgid.is_some()
                    || !self.sd_escaped.is_empty())
            {
                let sd = self
                    .sd_escaped
                    .iter()
                    .map(|(id, params)| SdElement {
                        id: id.as_bytes(),
                        params: params
                            .iter()
                            .map(|(n, v)| SdParam {
                                name: n.as_bytes(),
                                raw_value: v.as_bytes(),
                            })
                            .collect(),
                    })
                    .collect();
                let m = Message {
                    pri,
                    procid: self.text.procid.as_deref().map(str::as_bytes),
                    msgid: self.text.msgid.as_deref().map(str::as_bytes),
                    structured_data: sd,
                    msg: Some(piece),
                    ..Message::default()
                };
                self.lines.formatter().write_message_nil(
                    &m,
                    self.snips.no_time,
                    self.snips.no_host,
                    scratch,
                );
            } else {
                self.lines.write_line(piece, scratch)?;
            }
            let mut framed = Vec::with_capacity(scratch.len() + 8);
            let message: &[u8] = match self.max_record_size {
                Some(size) => {
                    let mut cut = Vec::with_capacity(size);
                    if encode::truncate_for_datagram(scratch, size, &mut cut) {
                        truncated += 1;
                    }
                    *scratch = cut;
                    scratch
                }
                None => scratch,
            };
            match &self.framing {
                Some(f) => f.encode(message, &mut framed),
                None => framed.extend_from_slice(message),
            }
            if self.echo {
                echo(&framed);
            }
            out.push(framed);
        }
        Ok(truncated)
    }

    fn default_facility(&self) -> Facility {
        self.lines.formatter().options().facility
    }
}

/// `-s`: one message on stderr as logger writes it there (the bytes sent, then a line feed
/// unless they end with one). A closed stderr is not worth failing the send for.
fn echo(framed: &[u8]) {
    let mut err = std::io::stderr().lock();
    let _ = err.write_all(framed);
    if framed.last() != Some(&b'\n') {
        let _ = err.write_all(b"\n");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // See: #15
    #[test]
    fn issue_15_prio_prefix_reads_as_logger_does() {
        // Each case checked against logger 2.38.1 `--prio-prefix -p local0.notice`.
        fn pri(line: &str) -> Option<(u8, &[u8])> {
            let local0 = Facility::from_code(16).unwrap();
            prio_prefix(line.as_bytes(), local0).map(|(p, rest)| (p.value(), rest))
        }
        assert_eq!(pri("<3>x"), Some((131, &b"x"[..])));
        assert_eq!(pri("<0>y"), Some((128, &b"y"[..])));
        assert_eq!(pri("<191>z"), Some((191, &b"z"[..])));
        assert_eq!(pri("<03>u"), Some((131, &b"u"[..])));
        assert_eq!(pri("<192>w"), None);
        assert_eq!(pri("<12"), None);
        assert_eq!(pri("< 3>v"), None);
        assert_eq!(pri("<>v"), None);
    }

    #[test]
    fn rfc5424_snips_are_a_comma_list_as_logger_takes_it() {
        assert_eq!(
            "notq,nohost".parse(),
            Ok(Rfc5424Snips {
                no_host: true,
                no_tq: true,
                no_time: false
            })
        );
        assert_eq!(
            "notime"
                .parse::<Rfc5424Snips>()
                .map(|s| (s.no_time, s.no_tq)),
            Ok((true, true))
        );
        assert_eq!("".parse(), Ok(Rfc5424Snips::default()));
        assert!("nope".parse::<Rfc5424Snips>().unwrap_err().contains("notq"));
    }
}
