//! [`KafkaSender`]: records into Kafka through librdkafka's producer, counted as sent only
//! on a successful delivery report.
//!
//! One thread: [`BaseProducer::poll`] serves the delivery reports and the client's errors on
//! the caller's thread, inside [`KafkaSender::send`], [`KafkaSender::idle`] and
//! [`KafkaSender::finish`]. The client retries failed requests itself; with
//! `message.timeout.ms` 0 (the default here) it never expires a record, so a report is either
//! a success, a refusal for good (a topic that does not exist, a record too large), or a purge
//! that `send` asked for at the end. Every failed report is counted, none is silent.
//!
//! Backpressure:
//! - `block`: when the client holds `queue.buffering.max.messages` records, wait.
//! - `drop`: then drop the record, and count it.
//! - `queue`: write-ahead. Every record is written to the [`DiskQueue`] first and read back
//!   from it to be produced; a queue file is deleted only when every record read from it has
//!   a successful delivery report. So while the brokers are down the records pile up on disk,
//!   not in the client's memory (rsyslog #1052), a `kill -9` loses nothing that was written to
//!   the queue, and a restarted `send` produces what is still there first. Delivery is at least
//!   once: records delivered since the last deleted file are produced again after a crash.
//!
//! Reading the queue goes in rounds: at most [`MAX_QUEUE_IN_FLIGHT`] records are produced,
//! then reading waits until every one of them has its report; the files read completely are
//! deleted then, and a record that failed (purged at the end, or a fatal producer) is put
//! back in front, in order, instead.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rdkafka::config::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer, PurgeConfig};

mod queue;
mod reports;

use super::config::{ProducerSettings, is_secret};
use super::record::RecordRef;
use crate::send::destination::DestinationStats;
use crate::send::disk_queue::DiskQueue;
use crate::send::options::Backpressure;
use crate::send::sender::{Summary, Ticker};
use queue::Queue;
use reports::{Context, Events};

/// The framing name the disk queue records for Kafka records, so that a queue directory of
/// syslog messages is not read as Kafka records, nor the other way round.
pub const QUEUE_FRAMING: &str = "kafka-records";
/// Records read from the disk queue and not yet reported on, at most.
pub const MAX_QUEUE_IN_FLIGHT: usize = 20_000;
/// The disk queue is handed to the OS at least this often.
const QUEUE_FLUSH_EVERY: Duration = Duration::from_millis(100);
const TICK_EVERY: Duration = Duration::from_millis(100);
/// The client's errors (broker down, connection refused) are printed at most this often.
const NOTICE_EVERY: Duration = Duration::from_secs(5);
const MIN_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(10);
/// After a purge, how long the purged records' reports may take.
const PURGE_TIMEOUT: Duration = Duration::from_secs(5);

/// Everything [`KafkaSender::start`] needs; built by the CLI from the flags.
pub struct KafkaConfig {
    pub settings: ProducerSettings,
    pub backpressure: Backpressure,
    /// With [`Backpressure::Queue`], opened with [`QUEUE_FRAMING`].
    pub queue: Option<DiskQueue>,
    /// With a full queue: wait (true) or drop.
    pub queue_full_block: bool,
    /// At the end of input, how long to wait without any delivery report before the rest
    /// counts as not delivered (or stays in the queue).
    pub write_timeout: Duration,
    /// Where notices go (brokers down, records refused, corrupt queue files).
    pub notice: Box<dyn FnMut(&str)>,
}

/// Why [`KafkaSender::start`] failed.
#[derive(Debug, thiserror::Error)]
pub enum KafkaStartError {
    #[error("Kafka property {key}={value}: {reason}; see librdkafka's CONFIGURATION.md")]
    Property {
        key: String,
        value: String,
        reason: String,
    },
    #[error("cannot create the Kafka producer: {0}")]
    Client(KafkaError),
    #[error(
        "cannot reach any Kafka broker of {brokers} within {timeout:?} ({reason}{}): check that the brokers run and the addresses and ports are right, raise --connect-timeout, or use --backpressure queue to queue meanwhile",
        client_said.as_deref().map(|s| format!("; the client said: {s}")).unwrap_or_default()
    )]
    Unreachable {
        brokers: String,
        timeout: Duration,
        reason: Box<KafkaError>,
        /// The client's last error report meanwhile (a refused SASL login, a TLS failure).
        client_said: Option<String>,
    },
}

/// Produces records; see the module documentation.
pub struct KafkaSender {
    producer: BaseProducer<Context>,
    brokers: String,
    backpressure: Backpressure,
    queue: Option<Queue>,
    queue_full_block: bool,
    write_timeout: Duration,
    notice: Box<dyn FnMut(&str)>,
    sent: u64,
    bytes: u64,
    dropped: u64,
    queued: u64,
    undelivered: u64,
    failures: u64,
    up: bool,
    fatal: Option<String>,
    ticker: Option<Ticker>,
    last_tick: Instant,
    last_notice: Option<Instant>,
    suppressed: u64,
    last_delivery: Instant,
    scratch: Vec<u8>,
    /// The last round's (emptied) report lists, swapped back in so that the client's
    /// callbacks fill vectors that already have room.
    spare_events: Events,
}

impl KafkaSender {
    /// Creates the producer and checks that a broker answers within the connect timeout;
    /// without a disk queue, none answering is an error (as `send` to a syslog receiver that
    /// is down), with one the records wait there.
    pub fn start(mut config: KafkaConfig) -> Result<KafkaSender, KafkaStartError> {
        let mut client = ClientConfig::new();
        for (key, value) in config.settings.properties() {
            client.set(key, value);
        }
        let producer: BaseProducer<Context> = client
            .create_with_context(Context::default())
            .map_err(|e| match e {
                KafkaError::ClientConfig(_, reason, key, value) => KafkaStartError::Property {
                    value: if is_secret(&key) { "…".into() } else { value },
                    key,
                    reason,
                },
                e => KafkaStartError::Client(e),
            })?;
        let brokers = config.settings.brokers.clone();
        let timeout = config.settings.connect_timeout;
        let up = match producer.client().fetch_metadata(None, timeout) {
            Ok(_) => true,
            Err(reason) if config.queue.is_none() => {
                // Why no broker answered, as far as the client told: its error reports.
                producer.poll(Duration::ZERO);
                let events =
                    std::mem::take(&mut *producer.context().events.lock().expect("not poisoned"));
                let client_said = events
                    .errors
                    .iter()
                    .rev()
                    .find(|(e, _)| e.rdkafka_error_code() == Some(RDKafkaErrorCode::Authentication))
                    .map(|(_, reason)| reason.clone())
                    .or(events.last_warning)
                    .or_else(|| events.errors.last().map(|(_, reason)| reason.clone()));
                return Err(KafkaStartError::Unreachable {
                    brokers,
                    timeout,
                    reason: Box::new(reason),
                    client_said,
                });
            }
            Err(reason) => {
                let dir = config.queue.as_ref().expect("checked").dir().display();
                (config.notice)(&format!(
                    "cannot reach any Kafka broker of {brokers} yet ({reason}); records wait in the queue in {dir}"
                ));
                false
            }
        };
        let now = Instant::now();
        let queue = config.queue.take().map(|mut disk| {
            for notice in disk.take_notices() {
                (config.notice)(&notice);
            }
            Queue {
                disk,
                in_flight: BTreeMap::new(),
                failed: Vec::new(),
                next_seq: 1,
                round_open: true,
                retry_at: now,
                backoff: MIN_BACKOFF,
                oldest_unread: Some(now),
                last_flush: now,
            }
        });
        Ok(KafkaSender {
            producer,
            brokers,
            backpressure: config.backpressure,
            queue,
            queue_full_block: config.queue_full_block,
            write_timeout: config.write_timeout,
            notice: config.notice,
            sent: 0,
            bytes: 0,
            dropped: 0,
            queued: 0,
            undelivered: 0,
            failures: 0,
            up,
            fatal: None,
            ticker: None,
            last_tick: now,
            last_notice: None,
            suppressed: 0,
            last_delivery: now,
            scratch: Vec::new(),
            spare_events: Events::default(),
        })
    }

    /// Calls `ticker` with the counters every 100 ms from now on, also while waiting.
    pub fn set_ticker(&mut self, ticker: Ticker) {
        self.ticker = Some(ticker);
    }

    /// Whether every record goes through the disk queue first (`--backpressure queue`).
    pub fn writes_ahead(&self) -> bool {
        self.queue.is_some()
    }

    /// The producer failed for good (a fatal error of the idempotent producer): stop
    /// reading input.
    pub fn failed(&self) -> Option<&str> {
        self.fatal.as_deref()
    }

    /// Produces one record (or queues or drops it, as `--backpressure` says).
    pub fn send(&mut self, record: RecordRef<'_>) {
        if self.fatal.is_some() {
            self.undelivered += 1;
            return;
        }
        if self.queue.is_some() {
            self.enqueue(record);
            self.service(Duration::ZERO, false);
            return;
        }
        loop {
            match produce(&self.producer, record, 0) {
                Ok(()) => break,
                Err(KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull))
                    if self.backpressure == Backpressure::Drop =>
                {
                    self.dropped += 1;
                    break;
                }
                Err(KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull)) => {
                    // block: the client holds as many records as it may; wait for reports.
                    self.service(Duration::from_millis(20), false);
                    if self.fatal.is_some() {
                        self.undelivered += 1;
                        break;
                    }
                }
                Err(e) => {
                    self.failures += 1;
                    self.undelivered += 1;
                    self.notice(format!(
                        "a record for topic {} was refused by the Kafka client: {e}",
                        record.topic
                    ));
                    break;
                }
            }
        }
        self.service(Duration::ZERO, false);
    }

    /// Progress without new input: delivery reports, the queue, timers. Waits at most `wait`.
    pub fn idle(&mut self, wait: Duration) {
        self.service(wait, true);
        self.flush_queue();
    }

    /// Serves the client's reports (waiting at most `wait`), reads the queue (with `idle`,
    /// also the open file), flushes the queue and ticks.
    fn service(&mut self, wait: Duration, idle: bool) {
        self.producer.poll(wait);
        self.handle_events();
        self.drain_queue(idle);
        let now = Instant::now();
        if self
            .queue
            .as_ref()
            .is_some_and(|q| now.duration_since(q.last_flush) >= QUEUE_FLUSH_EVERY)
        {
            self.flush_queue();
        }
        if now.duration_since(self.last_tick) >= TICK_EVERY {
            self.last_tick = now;
            if let Some(mut ticker) = self.ticker.take() {
                ticker(&self.summary());
                self.ticker = Some(ticker);
            }
        }
    }

    fn handle_events(&mut self) {
        let mut events = std::mem::take(&mut self.spare_events);
        std::mem::swap(
            &mut events,
            &mut *self.producer.context().events.lock().expect("not poisoned"),
        );
        for (error, reason) in events.errors.drain(..) {
            match error.rdkafka_error_code() {
                Some(RDKafkaErrorCode::AllBrokersDown) => self.up = false,
                Some(RDKafkaErrorCode::Fatal) => {
                    let why = self
                        .producer
                        .client()
                        .fatal_error()
                        .map_or(reason.clone(), |(code, text)| format!("{code}: {text}"));
                    self.notice(format!(
                        "the Kafka producer failed for good ({why}); stopping"
                    ));
                    self.fatal = Some(why);
                    continue;
                }
                _ => {}
            }
            self.notice(format!("kafka: {reason}"));
        }
        if events.reports.iter().any(|r| r.error.is_none()) {
            self.up = true;
            self.last_delivery = Instant::now();
        }
        for report in events.reports.drain(..) {
            match report.error {
                None => {
                    self.sent += 1;
                    self.bytes += report.bytes as u64;
                    if let Some(q) = &mut self.queue {
                        q.in_flight.remove(&report.seq);
                    }
                }
                Some((error, topic)) => {
                    self.failures += 1;
                    let queued = self
                        .queue
                        .as_mut()
                        .and_then(|q| q.in_flight.remove(&report.seq).map(|r| (q, r)));
                    match queued {
                        Some((q, record)) if !is_permanent(&error) => {
                            // Kept: back in front of the queue when the round ends.
                            q.failed.push((report.seq, record));
                            q.round_open = false;
                        }
                        _ => {
                            self.undelivered += 1;
                            if !is_purge(&error) {
                                self.notice(format!(
                                    "a record for topic {topic} was not delivered: {error}"
                                ));
                            }
                        }
                    }
                }
            }
        }
        self.spare_events = events;
        if let Some(q) = &mut self.queue
            && q.in_flight.is_empty()
            && !q.round_open
        {
            self.end_round();
        }
    }

    /// Prints a notice, at most one every [`NOTICE_EVERY`] (the client repeats its errors
    /// while brokers are down); the others are counted and the count printed with the next.
    fn notice(&mut self, message: String) {
        let now = Instant::now();
        if self
            .last_notice
            .is_some_and(|t| now.duration_since(t) < NOTICE_EVERY)
        {
            self.suppressed += 1;
            return;
        }
        self.last_notice = Some(now);
        if self.suppressed > 0 {
            (self.notice)(&format!(
                "{message} ({} similar notices not shown)",
                self.suppressed
            ));
            self.suppressed = 0;
        } else {
            (self.notice)(&message);
        }
    }

    fn pending(&self) -> bool {
        self.producer.in_flight_count() > 0
            || self
                .queue
                .as_ref()
                .is_some_and(|q| !q.disk.is_empty() || !q.in_flight.is_empty())
    }

    /// The end of input: waits for the reports of everything produced (and, with the queue,
    /// produces what it holds) while reports keep coming; after `write_timeout` without any,
    /// the rest is purged: not delivered, or left in the queue for the next run.
    pub fn finish(mut self) -> Summary {
        let start = Instant::now();
        loop {
            if !self.pending() || self.fatal.is_some() {
                break;
            }
            self.service(Duration::from_millis(50), true);
            self.flush_queue();
            let since = self.last_delivery.max(start);
            if self.pending() && since.elapsed() >= self.write_timeout {
                let what = if self.queue.is_some() {
                    "they stay in the queue for the next run"
                } else {
                    "they count as not delivered"
                };
                let message = format!(
                    "no delivery report from Kafka ({}) for {:?}: giving up on {} records in flight; {what}",
                    self.brokers,
                    self.write_timeout,
                    self.producer.in_flight_count()
                );
                self.last_notice = None;
                self.notice(message);
                break;
            }
        }
        if self.producer.in_flight_count() > 0 {
            self.producer
                .purge(PurgeConfig::default().queue().inflight().non_blocking());
            let deadline = Instant::now() + PURGE_TIMEOUT;
            while self.producer.in_flight_count() > 0 && Instant::now() < deadline {
                self.producer.poll(Duration::from_millis(50));
                self.handle_events();
            }
            self.producer.poll(Duration::ZERO);
            self.handle_events();
        }
        if self.suppressed > 0 {
            self.last_notice = None;
            let n = self.suppressed;
            self.suppressed = 0;
            self.notice(format!("{n} more notices from the Kafka client not shown"));
        }
        if let Some(q) = &mut self.queue {
            if !q.failed.is_empty() || !q.in_flight.is_empty() {
                // Reports lost: treat the records as failed (they are still on disk).
                let lost: Vec<_> = std::mem::take(&mut q.in_flight).into_iter().collect();
                q.failed.extend(lost);
                q.round_open = false;
                self.end_round();
            }
            let q = self.queue.as_mut().expect("checked");
            // What failed was given back above: every record below the lowest given back was
            // delivered; the rest stays, rewritten in place, for the next run.
            let delivered = q.disk.next_id();
            let result = q.disk.close(delivered);
            if let Err(e) = result {
                let dir = q.disk.dir().display().to_string();
                (self.notice)(&format!("cannot close the queue in {dir}: {e}"));
            }
        }
        let summary = self.summary();
        if let Some(mut ticker) = self.ticker.take() {
            ticker(&summary);
        }
        summary
    }

    /// The counters now.
    pub fn summary(&self) -> Summary {
        Summary {
            sent: self.sent,
            bytes: self.bytes,
            dropped: self.dropped,
            queued: self.queued,
            left_in_queue: self.queue.as_ref().is_some_and(|q| !q.disk.is_empty()),
            lost_in_queue: self.queue.as_ref().map_or(0, |q| q.disk.lost()),
            undelivered: self.undelivered,
            destinations: vec![DestinationStats {
                name: format!("kafka {}", self.brokers),
                messages: self.sent,
                bytes: self.bytes,
                connects: 0,
                failures: self.failures,
                weight: 1,
                up: self.up,
            }],
        }
    }
}

fn produce(
    producer: &BaseProducer<Context>,
    record: RecordRef<'_>,
    seq: usize,
) -> Result<(), KafkaError> {
    let mut r: BaseRecord<'_, [u8], [u8], usize> =
        BaseRecord::with_opaque_to(record.topic, seq).payload(record.value);
    if let Some(key) = record.key {
        r = r.key(key);
    }
    if !record.headers.is_empty() {
        let mut headers = OwnedHeaders::new_with_capacity(record.headers.len());
        for (name, value) in record.headers {
            headers = headers.insert(Header {
                key: name,
                value: Some(value),
            });
        }
        r = r.headers(headers);
    }
    producer.send(r).map_err(|(e, _)| e)
}

/// A refusal that retrying does not change: the record leaves the queue, counted.
fn is_permanent(e: &KafkaError) -> bool {
    use RDKafkaErrorCode as C;
    matches!(
        e.rdkafka_error_code(),
        Some(
            C::MessageSizeTooLarge
                | C::MessageBatchTooLarge
                | C::InvalidMessage
                | C::InvalidMessageSize
                | C::InvalidRecord
                | C::InvalidTopic
                | C::UnknownTopic
                | C::UnknownPartition
                | C::UnknownTopicOrPartition
                | C::TopicAuthorizationFailed
                | C::ClusterAuthorizationFailed
                | C::UnsupportedForMessageFormat
        )
    )
}

/// Records `send` itself purged at the end (counted, and already explained).
fn is_purge(e: &KafkaError) -> bool {
    matches!(
        e.rdkafka_error_code(),
        Some(RDKafkaErrorCode::PurgeQueue | RDKafkaErrorCode::PurgeInflight)
    )
}
