//! The write-ahead side of [`KafkaSender`] (`--backpressure queue`): records go to the
//! [`DiskQueue`] first and are produced from it in rounds of at most
//! [`MAX_QUEUE_IN_FLIGHT`]; a round's files are deleted only when each of its records has a
//! successful delivery report, and what failed is put back in front, in order.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use rdkafka::error::{KafkaError, RDKafkaErrorCode};

use super::{KafkaSender, MAX_BACKOFF, MAX_QUEUE_IN_FLIGHT, MIN_BACKOFF, produce};
use crate::send::disk_queue::{DiskQueue, Full};
use crate::send::kafka::record::{Record, RecordRef};

/// The disk queue and the records read from it that wait for their reports.
pub(super) struct Queue {
    pub(super) disk: DiskQueue,
    /// Records produced from the queue, by sequence number, until their report.
    /// Each with its id in the disk queue.
    pub(super) in_flight: BTreeMap<u64, (u64, Vec<u8>)>,
    /// Records of this round whose delivery failed: put back in front at the round's end.
    pub(super) failed: Vec<(u64, (u64, Vec<u8>))>,
    pub(super) next_seq: u64,
    /// Records may be read; false from when the round is full until its last report.
    pub(super) round_open: bool,
    pub(super) retry_at: Instant,
    pub(super) backoff: Duration,
    /// When the oldest record not yet read was written.
    pub(super) oldest_unread: Option<Instant>,
    pub(super) last_flush: Instant,
}

impl KafkaSender {
    /// Hands what was written to the queue to the OS: call before reading more input.
    pub fn flush_queue(&mut self) {
        if let Some(q) = &mut self.queue {
            q.last_flush = Instant::now();
            if let Err(e) = q.disk.flush() {
                let dir = q.disk.dir().display().to_string();
                self.notice(format!("cannot write to the queue in {dir}: {e}"));
            }
        }
    }

    pub(super) fn enqueue(&mut self, record: RecordRef<'_>) {
        self.scratch.clear();
        record.encode(&mut self.scratch);
        loop {
            let q = self.queue.as_mut().expect("queue mode has a queue");
            match q.disk.push(&self.scratch) {
                Ok(Ok(())) => {
                    self.queued += 1;
                    q.oldest_unread.get_or_insert_with(Instant::now);
                    return;
                }
                Ok(Err(e)) => {
                    let dir = q.disk.dir().display().to_string();
                    self.dropped += 1;
                    self.notice(format!(
                        "cannot write to the queue in {dir}: {e}; record dropped"
                    ));
                    return;
                }
                Err(Full) if !self.queue_full_block => {
                    self.dropped += 1;
                    return;
                }
                Err(Full) => {
                    // --queue-full block: wait until deliveries make room.
                    self.service(Duration::from_millis(20), true);
                    if self.fatal.is_some() {
                        self.dropped += 1;
                        return;
                    }
                }
            }
        }
    }

    /// Every record of the round has its report: delete the files read, or put what failed
    /// back in front.
    pub(super) fn end_round(&mut self) {
        let q = self.queue.as_mut().expect("queue mode");
        q.round_open = true;
        if q.failed.is_empty() {
            q.backoff = MIN_BACKOFF;
            let delivered = q.disk.next_id();
            if let Err(e) = q.disk.commit(delivered) {
                let dir = q.disk.dir().display().to_string();
                self.notice(format!("cannot delete delivered queue files in {dir}: {e}"));
            }
            return;
        }
        q.failed.sort_unstable_by_key(|(seq, _)| *seq);
        let failed = std::mem::take(&mut q.failed);
        for (_, (id, record)) in failed {
            q.disk.unpop(id, record);
        }
        q.retry_at = Instant::now() + q.backoff;
        q.backoff = (q.backoff * 2).min(MAX_BACKOFF);
    }

    /// Produces records from the queue while the round has room.
    pub(super) fn drain_queue(&mut self, idle: bool) {
        if self.fatal.is_some() {
            return;
        }
        let Some(q) = self.queue.as_mut() else {
            return;
        };
        // The write-ahead queue hands out what reached the OS, open file included: nothing
        // to wait for before reading (`idle` and QUEUE_MAX_WAIT only mattered before).
        let closed_only = false;
        let _ = idle;
        let mut notices = Vec::new();
        while q.round_open && Instant::now() >= q.retry_at {
            if q.in_flight.len() >= MAX_QUEUE_IN_FLIGHT {
                q.round_open = false;
                break;
            }
            let (id, bytes) = match q.disk.pop() {
                Ok(Some(taken)) => taken,
                Ok(None) => {
                    if !closed_only {
                        q.oldest_unread = None;
                    }
                    if q.in_flight.is_empty() {
                        let delivered = q.disk.next_id();
                        if let Err(e) = q.disk.commit(delivered) {
                            notices.push(format!("cannot delete delivered queue files: {e}"));
                        }
                    } else {
                        q.round_open = false;
                    }
                    break;
                }
                Err(e) => {
                    notices.push(format!("cannot read the queue: {e}"));
                    break;
                }
            };
            let Some(record) = Record::decode(&bytes) else {
                self.undelivered += 1;
                notices.push(format!(
                    "a record in the queue in {} is not a Kafka record; skipped",
                    q.disk.dir().display()
                ));
                continue;
            };
            let seq = q.next_seq;
            match produce(&self.producer, record.borrowed(), seq as usize) {
                Ok(()) => {
                    q.next_seq += 1;
                    q.in_flight.insert(seq, (id, bytes));
                }
                Err(KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull)) => {
                    q.disk.unpop(id, bytes);
                    break;
                }
                Err(e) => {
                    self.failures += 1;
                    self.undelivered += 1;
                    notices.push(format!(
                        "a queued record for topic {} was refused by the Kafka client: {e}; skipped",
                        record.topic
                    ));
                }
            }
        }
        notices.extend(q.disk.take_notices());
        for notice in notices {
            (self.notice)(&notice);
        }
    }
}
