//! One input line of `send` (or its arguments) to framed messages, as logger makes them:
//! the [`LineEncoder`] for the message, logger's `-i`/`--msgid`/`--sd-id` fields on text
//! lines, `-S` splitting, UDP truncation and framing.

use super::{LineEncoder, LineError};
use crate::framing::{Encoder, encode};
use crate::syslog::{Message, SdElement, SdParam};

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
                && (self.text.procid.is_some()
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
                    procid: self.text.procid.as_deref().map(str::as_bytes),
                    msgid: self.text.msgid.as_deref().map(str::as_bytes),
                    structured_data: sd,
                    msg: Some(piece),
                    ..Message::default()
                };
                self.lines.formatter().write_message(&m, scratch);
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
            out.push(framed);
        }
        Ok(truncated)
    }
}
