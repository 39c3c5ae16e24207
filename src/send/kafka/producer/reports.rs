//! What the client reports, collected on the caller's thread: delivery reports (one per
//! produced record, with the queue sequence number as its opaque) and the client's errors.
//! [`super::KafkaSender`] takes them after each [`rdkafka::producer::BaseProducer::poll`].

use std::sync::Mutex;

use rdkafka::ClientContext;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::error::KafkaError;
use rdkafka::message::Message;
use rdkafka::producer::{DeliveryResult, ProducerContext};

/// One delivery report: the queue sequence number (0: produced directly), the value's
/// length, and the error with the record's topic.
pub(super) struct Report {
    pub(super) seq: u64,
    pub(super) bytes: usize,
    pub(super) error: Option<(KafkaError, String)>,
}

#[derive(Default)]
pub(super) struct Events {
    pub(super) reports: Vec<Report>,
    pub(super) errors: Vec<(KafkaError, String)>,
    /// The client's last warning (or worse) log line: what it says when a connection fails
    /// (a refused login, a TLS failure) before any error report.
    pub(super) last_warning: Option<String>,
}

/// Collects what the client reports; called from [`BaseProducer::poll`] on our thread.
#[derive(Default)]
pub(super) struct Context {
    pub(super) events: Mutex<Events>,
}

impl ClientContext for Context {
    fn log(&self, level: RDKafkaLogLevel, facility: &str, message: &str) {
        if (level as i32) <= (RDKafkaLogLevel::Warning as i32) {
            let mut events = self.events.lock().expect("not poisoned");
            events.last_warning = Some(format!("{facility}: {message}"));
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        let mut events = self.events.lock().expect("not poisoned");
        events.errors.push((error, reason.to_string()));
    }
}

impl ProducerContext for Context {
    type DeliveryOpaque = usize;

    fn delivery(&self, result: &DeliveryResult<'_>, seq: usize) {
        let report = match result {
            Ok(m) => Report {
                seq: seq as u64,
                bytes: m.payload_len(),
                error: None,
            },
            Err((e, m)) => Report {
                seq: seq as u64,
                bytes: m.payload_len(),
                error: Some((e.clone(), m.topic().to_string())),
            },
        };
        self.events
            .lock()
            .expect("not poisoned")
            .reports
            .push(report);
    }
}
