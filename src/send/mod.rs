//! `send`: framed syslog messages out to one or more receivers, with delivery counted.
//!
//! - [`relay`]: the input side: lines (text or JSON events) in on their own thread, formatted
//!   and framed by [`crate::egress`], handed to the [`Sender`] (or written out, `--dry-run`).
//! - [`sender`]: what happens to each message: a destination, waiting, the byte-rate
//!   [`throttle`], backpressure (block, drop or the [`disk_queue`]), the end of the run and
//!   the counters.
//! - [`pool`]: the destinations and their connections on one thread, waiting on [`poll`]:
//!   reconnection with backoff, weighted load balancing ([`balance`], Cribl's history rule),
//!   write and connect timeouts, the clean close at the end (`pool/pump.rs` drives the
//!   connections).
//! - [`destination`]: one address of one `--to` host: its buffer of framed messages, its
//!   backoff and counters.
//! - [`resolve`]: which addresses: DNS, `--exclude-self`, the `--max-connections` window.
//! - [`poll`]: poll(2) without `unsafe`, over rustix (measured against mio: it stays).
//! - [`connection`]: one non-blocking connection: TCP connect, TLS handshake, UDP, writing,
//!   noticing a closed peer, closing cleanly, and the error texts.
//! - [`options`]: the flag values the sender acts on (`--to`, `--backpressure`).
//! - [`logger`]: what logger's flags mean: the transport, the message format (and the
//!   RFC 5424-only flags that switch to it), the [`crate::egress::MessageEncoder`].
//! - [`local`]: `-u PATH` and `/dev/log` (unix datagram or stream sockets), and the
//!   `--dry-run` writer that shows UDP datagram boundaries.
//! - [`report`]: the `--stats` line and the summary at the end, as text.
//! - [`relp`]: `--protocol relp`: a RELP client (omrelp's window, resend after reconnect),
//!   where sent means acknowledged; fed by [`relay`] like the [`Sender`] (`relp/session.rs`:
//!   one session's protocol and window).
//! - [`tls`]: the rustls client configuration from the `--tls-*` options, and handshake
//!   errors explained.
//! - [`disk_queue`]: the persistent queue (`--backpressure queue`): segment files of framed
//!   messages, drained in order when a receiver takes them again (`disk_queue/record.rs`: the
//!   record format read back, around damage).
//! - [`kafka`]: `--kafka-brokers`: records into Kafka, counted on the broker's delivery
//!   reports, with the same backpressure and disk queue.

pub mod balance;
pub mod connection;
pub mod destination;
pub mod disk_queue;
pub mod kafka;
pub mod local;
pub mod logger;
pub mod metrics;
pub mod options;
pub mod poll;
pub mod pool;
pub mod relay;
pub mod relp;
pub mod report;
pub mod resolve;
pub mod sender;
pub mod throttle;
pub mod tls;

pub use sender::{Sender, SenderConfig, Summary};
