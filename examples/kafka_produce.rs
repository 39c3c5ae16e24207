//! The baseline of `scripts/bench-kafka.sh`: librdkafka's own producer (through rdkafka, the
//! same library and version `send --kafka-brokers` links) on the lines of a file, with the
//! same settings as `send`'s defaults: acks=all, idempotence, lz4, linger 5 ms. Each line is a
//! record's value, no key; a record counts when its delivery report says delivered.
//!
//! usage: kafka_produce BROKERS TOPIC FILE
//!
//! Prints `delivered N failed N seconds S` on stdout; exit status 1 when a record failed.

use std::fs::File;
use std::io::{BufRead, BufReader};
use std::time::{Duration, Instant};

use rdkafka::ClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{BaseProducer, BaseRecord, DeliveryResult, Producer, ProducerContext};
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Default)]
struct Counts {
    delivered: AtomicU64,
    failed: AtomicU64,
}

impl ClientContext for Counts {}

impl ProducerContext for Counts {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        match result {
            Ok(_) => self.delivered.fetch_add(1, Ordering::Relaxed),
            Err(_) => self.failed.fetch_add(1, Ordering::Relaxed),
        };
    }
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let [_, brokers, topic, file] = &args[..] else {
        eprintln!("usage: kafka_produce BROKERS TOPIC FILE");
        std::process::exit(2);
    };
    let producer: BaseProducer<Counts> = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("acks", "all")
        .set("enable.idempotence", "true")
        .set("compression.type", "lz4")
        .set("linger.ms", "5")
        .set("batch.size", "1000000")
        .set("message.timeout.ms", "0")
        .create_with_context(Counts::default())
        .expect("a producer");
    let start = Instant::now();
    let reader = BufReader::with_capacity(1 << 20, File::open(file).expect("the input file"));
    for line in reader.split(b'\n') {
        let line = line.expect("reading the input");
        loop {
            match producer.send(BaseRecord::<(), [u8]>::to(topic).payload(&line[..])) {
                Ok(()) => break,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _)) => {
                    producer.poll(Duration::from_millis(10));
                }
                Err((e, _)) => panic!("produce: {e}"),
            }
        }
        producer.poll(Duration::ZERO);
    }
    producer.flush(Duration::from_secs(300)).expect("flush");
    let counts = producer.context();
    let failed = counts.failed.load(Ordering::Relaxed);
    println!(
        "delivered {} failed {failed} seconds {:.3}",
        counts.delivered.load(Ordering::Relaxed),
        start.elapsed().as_secs_f64()
    );
    std::process::exit(i32::from(failed > 0));
}
