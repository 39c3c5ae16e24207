//! syslogkit: syslog from the shell.
//!
//! # Layout
//! Bytes become frames, frames become messages, messages become ECS events, events become JSON
//! lines — and back:
//!
//! - [`framing`]: cutting byte streams into messages and back (LF, any delimiter, RFC 6587
//!   octet counting, auto, RELP frames), pure state machines plus a `tokio_util` codec over them.
//! - [`syslog`]: the header model, the RFC 5424 and RFC 3164 parsers, zones and years.
//! - [`iptables`]: netfilter LOG lines (iptables/nftables): header forms, prefixes, packet fields;
//!   and generating the LOG rules and the syslog forwarding that matches them.
//! - [`ecs`]: the event schema, written as JSON without building a tree.
//! - [`ingest`]: one message in, one event out, including the events for lines that fail.
//! - [`egress`]: the way back: JSON events or text lines in, framed syslog messages out.
//! - [`listen`]: the receiver: TCP, UDP and TLS sockets, RELP sessions, connections, the
//!   writer, shutdown.
//! - [`send`]: the sender: destinations, balancing, the disk queue, the throttle, client TLS,
//!   the RELP client.
//! - [`transport`]: what `listen` and `send` share: protocol names, TLS versions and
//!   certificate files, socket counters.
//! - [`loadgen`]: what `bench` drives: markers, rate control, counting, the report, and
//!   `bench verify` over a receiver's output.
//!
//! The `syslogkit` binary (`src/main.rs`, `src/cli/`) is a thin layer over these.

/// `Display` for the enums that flags take: the name clap's `ValueEnum` gives the value, so
/// messages, `--help` and the parser spell each value one way.
macro_rules! display_as_flag_value {
    ($($t:ty),* $(,)?) => {
        $(impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                let value = clap::ValueEnum::to_possible_value(self).expect("no variant is skipped");
                f.write_str(value.get_name())
            }
        })*
    };
}

pub mod ecs;
pub mod egress;
pub mod framing;
pub mod ingest;
pub mod iptables;
pub mod listen;
pub mod loadgen;
pub mod send;
pub mod syslog;
pub mod transport;
