//! The way back: JSON events or text lines in, framed syslog messages out. `frame` writes them
//! to a file or stdout; `send` and `bench` hold the same encoders.
//!
//! - [`format`]: [`Formatter`] and its [`FormatOptions`]: one event, text line or header model
//!   to one syslog message, with Cribl's field rules.
//! - [`event`]: how an event's fields become a header (Cribl's `__` fields, ECS `log.syslog.*`,
//!   names and numbers of facilities and severities), read with [`crate::ecs::read`].
//! - [`line`]: [`LineEncoder`]: one input line (an event, or text) to one message; a whole
//!   stream for `frame` ([`encode_stream`]).
//! - [`message`]: [`MessageEncoder`]: logger's text fields, `-S` splitting, UDP truncation and
//!   framing, for `send`.
//!
//! Event → [`crate::syslog::Message`] → bytes ([`crate::syslog::format`]) → frame
//! ([`crate::framing`]). Nothing below imports this module.

mod event;
pub mod format;
pub mod line;
pub mod message;

pub use format::{FormatError, FormatOptions, Formatter, local_hostname};
pub use line::{EncodeStats, InputKind, LineEncoder, LineError, encode_stream};
pub use message::{MessageEncoder, TextFields};
