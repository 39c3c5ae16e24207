//! `send --kafka-brokers`: records into Kafka instead of syslog messages to receivers, through
//! librdkafka (the `rdkafka` crate, its bundled librdkafka linked in statically).
//!
//! - [`record`]: one input line to records: the topic template, the key and header fields,
//!   the value (a JSON event as it came, or a text line's syslog message); their disk form.
//! - [`config`]: the producer's librdkafka properties from the flags (acks=all, idempotence,
//!   compression, TLS, SASL, `--kafka-option`).
//! - [`producer`]: [`KafkaSender`]: produces, counts a record as sent only on a successful
//!   delivery report, backpressure (block, drop, or the write-ahead [`super::disk_queue`]).
//! - `json_check`: whether a line is a JSON object, without building it.
//! - [`input`]: the lines in, on their own thread, as [`super::relay`] reads them.
//!
//! Framing and the syslog [`super::sender`] play no part: a record is a whole message.

pub mod config;
pub mod input;
mod json_check;
mod json_scan;
pub mod producer;
pub mod record;

pub use config::{KafkaCompression, KafkaTls, ProducerSettings, Sasl, SaslMechanism};
pub use producer::{KafkaConfig, KafkaSender, KafkaStartError, QUEUE_FRAMING};
pub use record::{Record, RecordBuilder, RecordError, Template};
