//! Syslog messages out: a header model ([`Message`]) to the bytes of one syslog message,
//! RFC 3164 ([`rfc3164()`]) or RFC 5424 ([`rfc5424()`]), and the pieces of each (headers,
//! structured data, sanitised fields) that [`crate::egress`] writes events with. Framing (LF,
//! octet counting) is [`crate::framing`]'s; events are [`crate::egress`]'s.
//!
//! The caller owns the output buffer and every function appends to it, so formatting one message
//! allocates nothing. Whatever the input, the output is well-formed: header fields that would
//! break the format are sanitised (`_` for spaces and control characters, cut to the RFC 5424
//! limits).

pub mod field;
pub mod rfc3164;
pub mod rfc5424;
#[cfg(test)]
pub(crate) mod strategies;

pub use self::rfc3164::rfc3164;
pub use self::rfc5424::rfc5424;
use super::Pri;

/// PRI when neither the message nor the options give one: user.notice (RFC 3164 §4.3.3).
pub const DEFAULT_PRI: Pri = Pri(8 + 5);

/// Which message to write (`--format`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum OutputFormat {
    /// `<PRI>Mmm dd hh:mm:ss HOST TAG[PID]: MSG`, what logger(1) and most devices send.
    #[default]
    Rfc3164,
    /// `<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG`.
    Rfc5424,
    /// The message text alone, no header.
    Raw,
}

/// How an RFC 3164 header writes its time (`--timestamp-format`). RFC 5424 always writes
/// RFC 3339.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum TimestampFormat {
    /// `Mmm dd hh:mm:ss`, day padded with a space, no year (RFC 3164 §4.1.2).
    #[default]
    Syslog,
    /// RFC 3339 with the zone's offset and the fraction the time has (rsyslog's forward format).
    Iso8601,
}

display_as_flag_value!(OutputFormat, TimestampFormat);
