//! `send`: framed syslog messages out to one or more receivers, with delivery counted.
//!
//! - [`relay`]: the input side: lines (text or JSON events) in on their own thread, formatted
//!   and framed by [`crate::egress`], handed to the [`Sender`] (or written out, `--dry-run`).
//! - [`sender`]: one thread, non-blocking sockets and poll(2): weighted load balancing
//!   ([`balance`], Cribl's history rule), reconnection with backoff, the byte-rate
//!   [`throttle`], backpressure (block, drop or the [`disk_queue`]) and the counters.
//! - [`tls`]: the rustls client configuration from the `--tls-*` options, and handshake
//!   errors explained.
//! - [`disk_queue`]: the persistent queue (`--backpressure queue`): segment files of framed
//!   messages, drained in order when a receiver takes them again.
//! - [`kafka`]: `--kafka-brokers`: records into Kafka, counted on the broker's delivery
//!   reports, with the same backpressure and disk queue.

pub mod balance;
pub mod disk_queue;
pub mod kafka;
pub mod relay;
pub mod sender;
pub mod throttle;
pub mod tls;

pub use sender::{Sender, SenderConfig, Summary};
