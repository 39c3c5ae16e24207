//! Syslog messages: the header model shared by both formats ([`Message`], [`Pri`], facility
//! and severity names), the parsers ([`rfc5424`], [`rfc3164`]), the writers ([`format`]) and
//! time handling ([`timestamp`]). Everything here borrows from the input line; nothing is
//! copied on the hot path. Mapping to ECS field names is left to [`crate::ecs`].

pub mod format;
pub mod names;
pub(crate) mod repeats;
pub mod rfc3164;
pub mod rfc5424;
pub mod timestamp;

use std::borrow::Cow;
use std::fmt;

pub use names::{Facility, Severity};
use timestamp::Timestamp;

/// A PRI value, 0–191 (facility × 8 + severity), RFC 5424 §6.2.1.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pri(u8);

impl Pri {
    /// Largest valid PRI: facility 23 (local7), severity 7 (debug).
    pub const MAX: u8 = 191;

    pub fn new(value: u8) -> Option<Pri> {
        (value <= Self::MAX).then_some(Pri(value))
    }

    pub fn from_parts(facility: Facility, severity: Severity) -> Pri {
        Pri(facility.code() * 8 + severity.code())
    }

    pub fn value(self) -> u8 {
        self.0
    }

    pub fn facility(self) -> Facility {
        Facility::from_code(self.0 >> 3).expect("PRI ≤ 191 has a facility ≤ 23")
    }

    pub fn severity(self) -> Severity {
        Severity::from_code(self.0 & 7).expect("three bits are a severity")
    }
}

/// One SD-ELEMENT (RFC 5424 §6.3.1); parameter values stay escaped as on the wire.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SdElement<'a> {
    pub id: &'a [u8],
    pub params: Vec<SdParam<'a>>,
}

/// One SD-PARAM; `raw_value` is the text between the quotes, escapes included.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SdParam<'a> {
    pub name: &'a [u8],
    pub raw_value: &'a [u8],
}

impl SdParam<'_> {
    /// The value with `\"`, `\\` and `\]` unescaped; any other backslash is kept as it is
    /// (RFC 5424 §6.3.3).
    pub fn value(&self) -> Cow<'_, [u8]> {
        unescape_param_value(self.raw_value)
    }
}

/// Unescapes an SD-PARAM value (RFC 5424 §6.3.3).
pub fn unescape_param_value(raw: &[u8]) -> Cow<'_, [u8]> {
    if memchr::memchr(b'\\', raw).is_none() {
        return Cow::Borrowed(raw);
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        if raw[i] == b'\\' && i + 1 < raw.len() && matches!(raw[i + 1], b'"' | b'\\' | b']') {
            out.push(raw[i + 1]);
            i += 2;
        } else {
            out.push(raw[i]);
            i += 1;
        }
    }
    Cow::Owned(out)
}

/// A syslog message split into its header fields. Absent fields (`-` in RFC 5424, missing in
/// RFC 3164) are `None`, never `"-"`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Message<'a> {
    pub pri: Option<Pri>,
    /// RFC 5424 VERSION; `None` for RFC 3164.
    pub version: Option<u16>,
    pub timestamp: Option<Timestamp>,
    pub hostname: Option<&'a [u8]>,
    pub appname: Option<&'a [u8]>,
    pub procid: Option<&'a [u8]>,
    pub msgid: Option<&'a [u8]>,
    pub structured_data: Vec<SdElement<'a>>,
    pub msg: Option<&'a [u8]>,
}

/// What a parser read beyond the header model [`Message`], which the writers share and which
/// therefore keeps its shape.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Extras {
    /// Cisco IOS's sequence number before the stamp (`<189>104: *Mar  1 …`).
    pub sequence: Option<u64>,
    /// Why STRUCTURED-DATA was kept as text at the start of MSG instead (Check Point's
    /// `[key:"value"; …]`, which is not RFC 5424 structured data).
    pub sd_note: Option<&'static str>,
}

/// Why a line is not a valid syslog message of the format asked for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParseError {
    /// Which format rejected the line: `"rfc5424"`, `"rfc3164"`.
    pub format: &'static str,
    /// Byte offset in the line where the problem was found.
    pub offset: usize,
    pub reason: Cow<'static, str>,
}

impl ParseError {
    pub(crate) fn new(
        format: &'static str,
        offset: usize,
        reason: impl Into<Cow<'static, str>>,
    ) -> Self {
        ParseError {
            format,
            offset,
            reason: reason.into(),
        }
    }
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} at byte {}",
            self.format, self.reason, self.offset
        )
    }
}

impl std::error::Error for ParseError {}

/// Parses a PRI at the start of `line` (`<` 1–3 digits `>`, value ≤ 191).
///
/// Returns `Ok(None)` when the line does not start with `<`, the PRI and the bytes it used
/// otherwise, and an error when a `<` starts something that is not a valid PRI.
pub fn parse_pri(line: &[u8], format: &'static str) -> Result<Option<(Pri, usize)>, ParseError> {
    if line.first() != Some(&b'<') {
        return Ok(None);
    }
    // Digits and their value in one pass (every line comes here twice in --format auto).
    let mut digits = 0;
    let mut value: u16 = 0;
    while digits < 4
        && let Some(&c @ b'0'..=b'9') = line.get(1 + digits)
    {
        value = value * 10 + u16::from(c - b'0');
        digits += 1;
    }
    if digits == 0 || digits > 3 || line.get(1 + digits) != Some(&b'>') {
        return Err(ParseError::new(
            format,
            0,
            "invalid PRI: expected '<' with 1 to 3 digits and '>'",
        ));
    }
    match u8::try_from(value).ok().and_then(Pri::new) {
        Some(pri) => Ok(Some((pri, digits + 2))),
        None => Err(ParseError::new(
            format,
            1,
            format!("PRI {value} is out of range (0 to 191)"),
        )),
    }
}

/// True when the line looks like RFC 5424: `<PRI>` then a VERSION (1–3 digits, the first not
/// zero) and a space. This is how `--format auto` decides.
pub fn looks_like_rfc5424(line: &[u8]) -> bool {
    let Ok(Some((_, at))) = parse_pri(line, "rfc5424") else {
        return false;
    };
    let rest = &line[at..];
    let digits = rest
        .iter()
        .take(4)
        .take_while(|b| b.is_ascii_digit())
        .count();
    (1..=3).contains(&digits) && rest[0] != b'0' && rest.get(digits) == Some(&b' ')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pri_splits_into_facility_and_severity() {
        let pri = Pri::new(165).unwrap();
        assert_eq!(pri.facility().code(), 20);
        assert_eq!(pri.severity().code(), 5);
    }

    #[test]
    fn pri_accepts_zero_and_191_and_rejects_192() {
        assert_eq!(parse_pri(b"<0>x", "t").unwrap(), Some((Pri(0), 3)));
        assert_eq!(parse_pri(b"<191>x", "t").unwrap(), Some((Pri(191), 5)));
        for bad in [
            &b"<192>x"[..],
            b"<999>x",
            b"<>x",
            b"<abc>x",
            b"<-3>x",
            b"<13 x",
            b"<1234>x",
        ] {
            assert!(
                parse_pri(bad, "t").is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
        assert_eq!(parse_pri(b"no pri", "t").unwrap(), None);
        // Leading zeros count towards the three digits; the end of the line is no '>'.
        assert_eq!(parse_pri(b"<013>x", "t").unwrap(), Some((Pri(13), 5)));
        assert_eq!(parse_pri(b"<7>", "t").unwrap(), Some((Pri(7), 3)));
        for bad in [&b"<"[..], b"<1", b"<12", b"<0130>x"] {
            assert!(parse_pri(bad, "t").is_err(), "{}", bad.escape_ascii());
        }
        let e = parse_pri(b"<999>x", "t").unwrap_err();
        assert_eq!(
            (e.offset, e.to_string().contains("PRI 999 is out of range")),
            (1, true)
        );
    }

    #[test]
    fn rfc5424_detection_needs_version_and_space() {
        assert!(looks_like_rfc5424(b"<34>1 2003-10-11T22:14:15.003Z x"));
        assert!(looks_like_rfc5424(b"<34>12 -"));
        assert!(!looks_like_rfc5424(b"<34>Oct 11 22:14:15 mymachine su: x"));
        assert!(!looks_like_rfc5424(b"<34>0 x"));
        assert!(!looks_like_rfc5424(b"<34>1x"));
        assert!(!looks_like_rfc5424(b"<34>1234 x"));
        assert!(!looks_like_rfc5424(b"1 2003-10-11T22:14:15Z"));
    }

    #[test]
    fn sd_values_unescape_only_quote_backslash_and_bracket() {
        assert_eq!(&*unescape_param_value(br#"a\"b\\c\]d"#), b"a\"b\\c]d");
        assert_eq!(&*unescape_param_value(br"C:\d\n"), br"C:\d\n");
        assert_eq!(&*unescape_param_value(br"trailing\"), br"trailing\");
    }
}
