//! `syslogkit send --kafka-brokers`: into a real broker (tansu, a Kafka-protocol broker started
//! per test on 127.0.0.1 with memory storage) read back by kafka-python (a client independent
//! of librdkafka); the chain bench → listen → send → broker → consumer → bench verify; faults
//! against librdkafka's mock cluster (in this process, on 127.0.0.1), whose brokers can be
//! stopped and started again without losing what they hold, and can fail produce requests;
//! and bad input. `scripts/install-peers.sh` installs tansu and kafka-python.
//!
//! Loads are small; tests count records, never time them. Every wait has a timeout.

use std::collections::HashMap;
use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use rdkafka::mocking::MockCluster;
use rdkafka::producer::DefaultProducerContext;
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};
use serde_json::Value;

use crate::certs;
use crate::listener::Listen;
use crate::peers::{self, PEER_TIMEOUT};
use crate::util::syslogkit;

/// The consumer: every record of some topics, as JSON lines.
///
/// Tests against tansu send uncompressed (`--kafka-compression none`): kafka-python needs
/// extra packages to read lz4, snappy and zstd batches. The codecs are tested against the mock
/// cluster, read back by librdkafka.
const CONSUME_PY: &str = include_str!("kafka/consume.py");
/// How long a send run may take before the test fails.
const SEND_TIMEOUT: Duration = Duration::from_secs(90);

/// A tansu broker on 127.0.0.1, killed on drop.
struct Tansu {
    child: Option<Child>,
    port: u16,
    /// The port clients are told to connect to (a TLS terminator's, or `port`).
    advertised: u16,
    /// `--authentication`: clients must log in with SASL SCRAM.
    authentication: bool,
    dir: tempfile::TempDir,
}

impl Tansu {
    fn start() -> Tansu {
        Tansu::start_on(peers::free_port())
    }

    fn start_on(port: u16) -> Tansu {
        Tansu::start_advertising(port, port)
    }

    fn start_advertising(port: u16, advertised: u16) -> Tansu {
        let dir = tempfile::tempdir().unwrap();
        let mut tansu = Tansu {
            child: None,
            port,
            advertised,
            authentication: false,
            dir,
        };
        tansu.run();
        tansu
    }

    /// A broker that requires SASL SCRAM. It knows no user: with memory storage, users can
    /// only be created through an authenticated connection.
    fn start_authenticating() -> Tansu {
        let port = peers::free_port();
        let mut tansu = Tansu {
            child: None,
            port,
            advertised: port,
            authentication: true,
            dir: tempfile::tempdir().unwrap(),
        };
        tansu.run();
        tansu
    }

    fn log(&self) -> String {
        fs::read_to_string(self.dir.path().join("tansu.log")).unwrap_or_default()
    }

    fn run(&mut self) {
        let url = format!("tcp://127.0.0.1:{}", self.port);
        let advertised = format!("tcp://127.0.0.1:{}", self.advertised);
        let log = fs::File::create(self.dir.path().join("tansu.log")).unwrap();
        let child = Command::new("tansu")
            .args(["broker", "--listener-url", &url])
            .args(["--advertised-listener-url", &advertised])
            .args(["--storage-engine", "memory://tansu/"])
            .args(self.authentication.then_some("--authentication"))
            .current_dir(self.dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start tansu ({e}): run scripts/install-peers.sh"));
        self.child = Some(child);
        let deadline = Instant::now() + PEER_TIMEOUT;
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            if let Ok(Some(status)) = self.child.as_mut().unwrap().try_wait() {
                panic!("tansu exited ({status}):\n{}", self.log());
            }
            assert!(
                Instant::now() < deadline,
                "tansu does not listen on port {} after {PEER_TIMEOUT:?}:\n{}",
                self.port,
                self.log()
            );
            thread::sleep(Duration::from_millis(25));
        }
    }

    fn brokers(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    fn create_topic(&self, name: &str, partitions: u32) {
        let out = assert_cmd::Command::new("tansu")
            .args(["topic", "create", name, "--broker"])
            .arg(format!("tcp://127.0.0.1:{}", self.port))
            .args(["--partitions", &partitions.to_string()])
            .timeout(PEER_TIMEOUT)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "tansu topic create {name}: {}{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
            self.log()
        );
    }
}

impl Drop for Tansu {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A mock cluster of one broker with `topic` of `partitions` partitions.
fn mock_cluster(topic: &str, partitions: i32) -> MockCluster<'static, DefaultProducerContext> {
    let cluster = MockCluster::new(1).unwrap();
    cluster.create_topic(topic, partitions, 1).unwrap();
    cluster
}

/// Every record of the mock cluster's `topic` (at least `want`, duplicates included), read by
/// librdkafka's consumer in this process (kafka-python cannot bootstrap from the mock
/// cluster), as [`consume`] gives them.
fn consume_mock(brokers: &str, topic: &str, want: usize) -> Vec<Value> {
    use rdkafka::config::ClientConfig;
    use rdkafka::consumer::{BaseConsumer, Consumer};
    use rdkafka::message::{Headers, Message};
    use rdkafka::{Offset, TopicPartitionList};

    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", "syslogkit-tests")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let deadline = Instant::now() + PEER_TIMEOUT;
    let metadata = consumer.fetch_metadata(Some(topic), PEER_TIMEOUT).unwrap();
    let partitions = metadata.topics()[0].partitions().len() as i32;
    let ends = loop {
        let ends: Vec<i64> = (0..partitions)
            .map(|p| consumer.fetch_watermarks(topic, p, PEER_TIMEOUT).unwrap().1)
            .collect();
        if ends.iter().sum::<i64>() >= want as i64 {
            break ends;
        }
        assert!(
            Instant::now() < deadline,
            "{topic} holds {ends:?} records, expected {want}"
        );
        thread::sleep(Duration::from_millis(50));
    };
    let mut list = TopicPartitionList::new();
    for p in 0..partitions {
        list.add_partition_offset(topic, p, Offset::Beginning)
            .unwrap();
    }
    consumer.assign(&list).unwrap();
    let mut by_partition: Vec<Vec<Value>> = vec![Vec::new(); partitions as usize];
    while by_partition
        .iter()
        .zip(&ends)
        .any(|(got, &end)| (got.len() as i64) < end)
    {
        assert!(Instant::now() < deadline, "reading {topic}: {ends:?}");
        let Some(m) = consumer.poll(Duration::from_millis(100)) else {
            continue;
        };
        let m = m.unwrap();
        let headers: serde_json::Map<String, Value> = m
            .headers()
            .map(|h| {
                h.iter()
                    .map(|h| {
                        let v = String::from_utf8_lossy(h.value.unwrap_or_default());
                        (h.key.to_string(), Value::from(v.to_string()))
                    })
                    .collect()
            })
            .unwrap_or_default();
        by_partition[m.partition() as usize].push(serde_json::json!({
            "topic": m.topic(),
            "partition": m.partition(),
            "offset": m.offset(),
            "key": m.key().map(|k| String::from_utf8_lossy(k).to_string()),
            "headers": headers,
            "value": String::from_utf8_lossy(m.payload().unwrap_or_default()),
        }));
    }
    by_partition.into_iter().flatten().collect()
}

/// Every record of `topics` (at least `want`, duplicates included) as read by kafka-python.
fn consume(brokers: &str, topics: &[&str], want: usize) -> Vec<Value> {
    consume_over(brokers, topics, want, None)
}

/// As [`consume`]; with `tls`, over TLS with the client certificate of [`certs::make`]'s
/// directory.
fn consume_over(brokers: &str, topics: &[&str], want: usize, tls: Option<&Path>) -> Vec<Value> {
    let mut cmd = assert_cmd::Command::new("python3");
    if let Some(dir) = tls {
        cmd.env("CONSUME_TLS_DIR", dir);
    }
    let out = cmd
        .args([
            "-c",
            CONSUME_PY,
            brokers,
            &topics.join(","),
            &want.to_string(),
        ])
        .arg(PEER_TIMEOUT.as_secs().to_string())
        .timeout(PEER_TIMEOUT * 2)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "consumer: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    crate::util::json_lines(&out.stdout)
}

/// Runs send with `args` on `input`: (exit status, stderr).
fn send(args: &[&str], input: String) -> (i32, String) {
    let out = syslogkit()
        .arg("send")
        .args(args)
        .write_stdin(input)
        .timeout(SEND_TIMEOUT)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).to_string(),
    )
}

/// `n` JSON events, `seq` from 0, four keys, datasets fw and dns, every tenth without dataset.
fn events(n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let dataset = match i % 10 {
                9 => String::new(),
                k if k % 2 == 0 => r#""event":{"dataset":"fw"},"#.into(),
                _ => r#""event":{"dataset":"dns"},"#.into(),
            };
            format!(
                r#"{{"message":"m {i}",{dataset}"source":{{"ip":"10.0.0.{}"}},"seq":{i}, "pad": 1.50}}"#,
                i % 4
            )
        })
        .collect()
}

/// The values of the records, as sent (seq) per value, with how often each came.
fn counts(records: &[Value]) -> HashMap<String, usize> {
    let mut seen = HashMap::new();
    for r in records {
        *seen
            .entry(r["value"].as_str().unwrap().to_string())
            .or_insert(0) += 1;
    }
    seen
}

/// Asserts that every line arrived, returns how many arrived more than once.
fn assert_none_lost(lines: &[String], records: &[Value], context: &str) -> usize {
    let seen = counts(records);
    let lost: Vec<&String> = lines.iter().filter(|l| !seen.contains_key(*l)).collect();
    assert!(
        lost.is_empty(),
        "{context}: {} of {} lost, e.g. {:?}",
        lost.len(),
        lines.len(),
        lost.first()
    );
    seen.values().map(|n| n - 1).sum()
}

/// Asserts that within each key, records came in the order sent (field `seq`).
fn assert_ordered_per_key(records: &[Value]) {
    let mut last: HashMap<(String, i64, String), i64> = HashMap::new();
    for r in records {
        let v: Value = serde_json::from_str(r["value"].as_str().unwrap()).unwrap();
        let seq = v["seq"].as_i64().unwrap();
        let at = (
            r["topic"].as_str().unwrap().to_string(),
            r["partition"].as_i64().unwrap(),
            r["key"].as_str().unwrap_or_default().to_string(),
        );
        if let Some(before) = last.insert(at.clone(), seq) {
            assert!(before < seq, "{at:?}: seq {seq} after {before}");
        }
    }
}

#[test]
fn events_arrive_once_as_sent_with_topic_key_and_headers_from_their_fields() {
    let broker = Tansu::start();
    broker.create_topic("logs-fw", 2);
    broker.create_topic("logs-dns", 1);
    broker.create_topic("logs-other", 1);
    let lines = events(300);
    let brokers = broker.brokers();
    let (status, stderr) = send(
        &[
            "--kafka-brokers",
            &brokers,
            "--kafka-compression",
            "none",
            "--kafka-topic",
            "logs-{event.dataset}",
            "--kafka-topic-fallback",
            "logs-other",
            "--kafka-key",
            "source.ip",
            "--kafka-header",
            "dataset={event.dataset}",
            "--kafka-header",
            "from=syslogkit",
        ],
        lines.join("\n") + "\n",
    );
    assert_eq!(status, 0, "{stderr}");
    assert!(stderr.contains("300 sent"), "{stderr}");
    let records = consume(&brokers, &["logs-fw", "logs-dns", "logs-other"], 300);
    assert_eq!(records.len(), 300, "no duplicates");
    assert_eq!(assert_none_lost(&lines, &records, "tansu"), 0);
    assert_ordered_per_key(&records);
    for r in &records {
        let v: Value = serde_json::from_str(r["value"].as_str().unwrap()).unwrap();
        let seq = v["seq"].as_u64().unwrap();
        let dataset = v["event"]["dataset"].as_str();
        let topic = dataset.map_or("logs-other".to_string(), |d| format!("logs-{d}"));
        assert_eq!(r["topic"], topic.as_str(), "{r}");
        assert_eq!(r["key"], format!("10.0.0.{}", seq % 4).as_str(), "{r}");
        assert_eq!(r["headers"]["from"], "syslogkit", "{r}");
        assert_eq!(r["headers"]["dataset"].as_str(), dataset, "{r}");
    }
}

#[test]
fn text_lines_become_syslog_messages_in_the_format_asked() {
    let broker = Tansu::start();
    broker.create_topic("app", 1);
    let brokers = broker.brokers();
    let (status, stderr) = send(
        &[
            "--kafka-brokers",
            &brokers,
            "--kafka-compression",
            "none",
            "--kafka-topic",
            "app",
            "--rfc5424",
            "-t",
            "app",
            "--hostname",
            "h1",
            "-p",
            "local0.warning",
        ],
        "disk almost full\nfan failed\n".into(),
    );
    assert_eq!(status, 0, "{stderr}");
    let records = consume(&brokers, &["app"], 2);
    let values: Vec<&str> = records
        .iter()
        .map(|r| r["value"].as_str().unwrap())
        .collect();
    assert_eq!(values.len(), 2, "{values:?}");
    for (value, text) in values.iter().zip(["disk almost full", "fan failed"]) {
        assert!(value.starts_with("<132>1 "), "{value}");
        assert!(value.ends_with(&format!(" h1 app - - - {text}")), "{value}");
    }
    assert_eq!(records[0]["key"], Value::Null);
}

#[test]
fn bench_through_listen_and_send_into_kafka_arrives_complete_once_and_in_order_per_key() {
    let broker = Tansu::start();
    broker.create_topic("syslog", 3);
    let brokers = broker.brokers();
    let dir = tempfile::tempdir().unwrap();
    let mut listen = Listen::start_unread(&["--tcp", "127.0.0.1:0"]);
    let to = format!("127.0.0.1:{}", listen.tcp_port());
    let mut sender = Command::new(env!("CARGO_BIN_EXE_syslogkit"))
        .args([
            "send",
            "--kafka-brokers",
            &brokers,
            "--kafka-compression",
            "none",
            "--kafka-topic",
            "syslog",
        ])
        .args(["--kafka-key", "source.port", "--input", "json"])
        .stdin(Stdio::from(listen.take_stdout()))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = syslogkit()
        .args([
            "bench",
            "--to",
            &to,
            "--connections",
            "3",
            "--count",
            "3000",
            "--json",
        ])
        .timeout(SEND_TIMEOUT)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let sent = dir.path().join("sent.json");
    fs::write(&sent, &out.stdout).unwrap();
    // Stopping listen ends send's input; send exits when everything has its report.
    let stopped = listen.stop();
    assert!(stopped.status.success(), "{}", stopped.stderr);
    let (status, stderr) = wait_child(&mut sender);
    assert_eq!(status, 0, "{stderr}");
    assert!(stderr.contains("3000 sent"), "{stderr}");
    let records = consume(&brokers, &["syslog"], 3000);
    let values = dir.path().join("values.jsonl");
    let text: String = records
        .iter()
        .map(|r| r["value"].as_str().unwrap().to_string() + "\n")
        .collect();
    fs::write(&values, text).unwrap();
    let out = syslogkit()
        .args(["bench", "verify", "--json", "--sent"])
        .args([&sent, &values])
        .timeout(SEND_TIMEOUT)
        .output()
        .unwrap();
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(report["received"], 3000, "{report}");
    assert_eq!(report["missing"], 0, "{report}");
    assert_eq!(report["duplicated"], 0, "{report}");
    assert_eq!(report["out_of_order"], 0, "{report}");
    assert!(out.status.success(), "{report}");
}

/// Waits (bounded) for a child with piped stderr: (exit status, stderr).
fn wait_child(child: &mut Child) -> (i32, String) {
    let deadline = Instant::now() + SEND_TIMEOUT;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("send did not finish within {SEND_TIMEOUT:?}");
        }
        thread::sleep(Duration::from_millis(20));
    }
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        std::io::Read::read_to_string(&mut e, &mut stderr).unwrap();
    }
    (child.wait().unwrap().code().unwrap_or(-1), stderr)
}

#[test]
fn an_unreachable_broker_list_fails_in_bounded_time_naming_the_brokers() {
    let brokers = format!(
        "127.0.0.1:{},127.0.0.1:{}",
        peers::free_port(),
        peers::free_port()
    );
    let (status, stderr) = send(
        &["--kafka-brokers", &brokers, "--connect-timeout", "2s"],
        "{\"message\":\"x\"}\n".into(),
    );
    assert_eq!(status, 2, "{stderr}");
    assert!(
        stderr.contains(&format!("cannot reach any Kafka broker of {brokers}")),
        "{stderr}"
    );
    assert!(stderr.contains("--backpressure queue"), "{stderr}");
}

#[test]
fn bad_lines_are_reported_with_their_number_and_the_rest_is_delivered() {
    let broker = Tansu::start();
    broker.create_topic("logs-fw", 1);
    let brokers = broker.brokers();
    let input = [
        r#"{"event":{"dataset":"fw"},"n":1}"#,
        r#"{"n":2}"#,
        "not json",
        r#"{"event":{"dataset":"fw"},"n":4}"#,
    ]
    .join("\n");
    let (status, stderr) = send(
        &[
            "--kafka-brokers",
            &brokers,
            "--kafka-compression",
            "none",
            "--kafka-topic",
            "logs-{event.dataset}",
            "--input",
            "json",
        ],
        input + "\n",
    );
    assert_eq!(status, 1, "{stderr}");
    assert!(
        stderr.contains("stdin line 2: --kafka-topic \"logs-{event.dataset}\": the line has no field \"event.dataset\""),
        "{stderr}"
    );
    assert!(stderr.contains("--kafka-topic-fallback"), "{stderr}");
    assert!(stderr.contains("stdin line 3: not valid JSON"), "{stderr}");
    assert!(stderr.contains("2 sent"), "{stderr}");
    assert!(stderr.contains("2 bad lines"), "{stderr}");
    let records = consume(&brokers, &["logs-fw"], 2);
    assert_eq!(records.len(), 2);
}

#[test]
fn a_topic_kafka_refuses_syslog_flags_and_unknown_properties_are_refused_before_anything_is_sent() {
    let (status, stderr) = send(
        &["--kafka-brokers", "127.0.0.1:1", "--kafka-topic", "logs fw"],
        String::new(),
    );
    assert_eq!(status, 2, "{stderr}");
    assert!(stderr.contains("\"logs fw\""), "{stderr}");
    assert!(stderr.contains("not a Kafka topic name"), "{stderr}");
    let (status, stderr) = send(
        &["--kafka-brokers", "127.0.0.1:1", "--to", "127.0.0.1:514"],
        String::new(),
    );
    assert_eq!(status, 2, "{stderr}");
    assert!(stderr.contains("--to is for syslog receivers"), "{stderr}");
    let (status, stderr) = send(
        &[
            "--kafka-brokers",
            "127.0.0.1:1",
            "--kafka-option",
            "no.such.thing=1",
        ],
        String::new(),
    );
    assert_eq!(status, 2, "{stderr}");
    assert!(
        stderr.contains("Kafka property no.such.thing=1: No such configuration property"),
        "{stderr}"
    );
}

/// The arguments of a queueing send to `brokers`.
fn queue_args(brokers: &str, dir: &Path) -> Vec<String> {
    [
        "--kafka-brokers",
        brokers,
        "--kafka-compression",
        "none",
        "--kafka-topic",
        "syslog",
        "--kafka-key",
        "source.ip",
        "--backpressure",
        "queue",
        "--queue-dir",
        dir.to_str().unwrap(),
        "--queue-max-file-size",
        "4KB",
        "--connect-timeout",
        "1s",
        "--write-timeout",
        "3s",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}

#[test]
fn broker_down_at_start_queues_everything_and_the_next_run_delivers_it_once_in_order() {
    let port = peers::free_port();
    let brokers = format!("127.0.0.1:{port}");
    let dir = tempfile::tempdir().unwrap();
    let args = queue_args(&brokers, dir.path());
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let lines = events(500);
    let (status, stderr) = send(&args, lines.join("\n") + "\n");
    assert_eq!(status, 3, "everything stays queued: {stderr}");
    assert!(stderr.contains("500 queued"), "{stderr}");
    assert!(stderr.contains("cannot reach any Kafka broker"), "{stderr}");
    // Block mode refuses at once instead.
    let (status, stderr) = send(
        &["--kafka-brokers", &brokers, "--connect-timeout", "1s"],
        lines[0].clone() + "\n",
    );
    assert_eq!(status, 2, "{stderr}");
    let broker = Tansu::start_on(port);
    broker.create_topic("syslog", 2);
    let (status, stderr) = send(&args, String::new());
    assert_eq!(status, 0, "{stderr}");
    assert!(stderr.contains("500 sent"), "{stderr}");
    let records = consume(&brokers, &["syslog"], 500);
    assert_eq!(assert_none_lost(&lines, &records, "queued"), 0);
    assert_eq!(records.len(), 500);
    assert_ordered_per_key(&records);
}

/// send in the background, its stderr collected by a thread.
struct Background {
    child: Child,
    stderr: Arc<Mutex<String>>,
    reader: Option<thread::JoinHandle<()>>,
}

impl Background {
    fn start(args: &[&str]) -> Background {
        let mut child = Command::new(env!("CARGO_BIN_EXE_syslogkit"))
            .arg("send")
            .args(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let stderr = Arc::new(Mutex::new(String::new()));
        let lines = BufReader::new(child.stderr.take().unwrap());
        let sink = stderr.clone();
        let reader = thread::spawn(move || {
            for line in lines.lines().map_while(Result::ok) {
                let mut s = sink.lock().unwrap();
                s.push_str(&line);
                s.push('\n');
            }
        });
        Background {
            child,
            stderr,
            reader: Some(reader),
        }
    }

    fn write(&mut self, lines: &[String]) {
        let stdin = self.child.stdin.as_mut().unwrap();
        stdin
            .write_all((lines.join("\n") + "\n").as_bytes())
            .unwrap();
        stdin.flush().unwrap();
    }

    fn stderr(&self) -> String {
        self.stderr.lock().unwrap().clone()
    }

    /// Waits until the latest `--stats` line says `field` reached `n` (e.g. "lines").
    fn wait_for_stat(&self, field: &str, n: u64) {
        let deadline = Instant::now() + PEER_TIMEOUT;
        loop {
            let text = self.stderr();
            let latest = text
                .lines()
                .rev()
                .find(|l| l.contains("stats:"))
                .and_then(|l| stat(l, field));
            if latest.is_some_and(|v| v >= n) {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "--stats never showed {n} {field}:\n{text}"
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Closes stdin and waits (bounded) for the exit: (status, stderr).
    fn finish(mut self) -> (i32, String) {
        drop(self.child.stdin.take());
        let (status, _) = wait_child(&mut self.child);
        if let Some(reader) = self.reader.take() {
            reader.join().unwrap();
        }
        (status, self.stderr())
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The number before `field` in a `--stats` line ("…, 40 sent (…), …").
fn stat(line: &str, field: &str) -> Option<u64> {
    let words: Vec<&str> = line
        .split([' ', ',', ':'])
        .filter(|w| !w.is_empty())
        .collect();
    words
        .windows(2)
        .find(|w| w[1] == field)
        .and_then(|w| w[0].parse().ok())
}

/// A broker of the mock cluster goes down for a few seconds mid-stream and comes back: with
/// block and with queue, nothing is lost and nothing comes twice (idempotence).
#[test]
fn broker_stopped_mid_stream_and_restarted_loses_nothing_with_block_and_queue() {
    for mode in ["block", "queue"] {
        let cluster = mock_cluster("syslog", 2);
        let brokers = cluster.bootstrap_servers();
        let dir = tempfile::tempdir().unwrap();
        let mut args = vec!["--kafka-brokers", &brokers, "--kafka-topic", "syslog"];
        let queue_dir = dir.path().to_str().unwrap();
        if mode == "queue" {
            args.extend(["--backpressure", "queue", "--queue-dir", queue_dir]);
        }
        args.extend(["--kafka-key", "source.ip", "--stats", "100ms"]);
        let lines = events(600);
        let mut send = Background::start(&args);
        send.write(&lines[..200]);
        send.wait_for_stat("sent", 200);
        cluster.broker_down(1).unwrap();
        send.write(&lines[200..400]);
        send.wait_for_stat("lines", 400);
        // The fault lasts a while: the client reconnects with backoff meanwhile.
        thread::sleep(Duration::from_secs(5));
        cluster.broker_up(1).unwrap();
        send.write(&lines[400..]);
        let (status, stderr) = send.finish();
        assert_eq!(status, 0, "{mode}: {stderr}");
        assert!(stderr.contains("600 sent"), "{mode}: {stderr}");
        let records = consume_mock(&brokers, "syslog", 600);
        let duplicates = assert_none_lost(&lines, &records, mode);
        assert_eq!(duplicates, 0, "{mode}");
        assert_ordered_per_key(&records);
    }
}

/// Produce requests fail with retriable errors: the client retries, every record arrives
/// once.
#[test]
fn produce_request_errors_are_retried_and_every_record_arrives_once() {
    for mode in ["block", "queue"] {
        let cluster = mock_cluster("syslog", 1);
        let brokers = cluster.bootstrap_servers();
        cluster.request_errors(
            RDKafkaApiKey::Produce,
            &[
                RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION,
                RDKafkaRespErr::RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT,
                RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
            ],
        );
        let dir = tempfile::tempdir().unwrap();
        let mut args = vec!["--kafka-brokers", &brokers, "--kafka-topic", "syslog"];
        let queue_dir = dir.path().to_str().unwrap();
        if mode == "queue" {
            args.extend(["--backpressure", "queue", "--queue-dir", queue_dir]);
        }
        let lines = events(300);
        let (status, stderr) = send(&args, lines.join("\n") + "\n");
        assert_eq!(status, 0, "{mode}: {stderr}");
        assert!(stderr.contains("300 sent"), "{mode}: {stderr}");
        let records = consume_mock(&brokers, "syslog", 300);
        assert_eq!(assert_none_lost(&lines, &records, mode), 0, "{mode}");
        assert_ordered_per_key(&records);
    }
}

/// `kill -9` of a queueing send while records are in flight, then a new send on the same
/// queue: every record arrives; those delivered before the kill whose queue file was not yet
/// deleted come twice (at least once), and the test says how many.
#[test]
fn send_killed_with_sigkill_under_queue_and_restarted_loses_nothing() {
    let cluster = mock_cluster("syslog", 2);
    // Slow answers keep records in flight when the kill comes.
    cluster
        .broker_round_trip_time(1, Duration::from_millis(300))
        .unwrap();
    let brokers = cluster.bootstrap_servers();
    let dir = tempfile::tempdir().unwrap();
    let mut args = queue_args(&brokers, dir.path());
    args.extend(["--stats".to_string(), "100ms".to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let lines = events(2000);
    let mut first = Background::start(&args);
    first.write(&lines);
    first.wait_for_stat("lines", 2000);
    first.wait_for_stat("sent", 1);
    let before = first.stderr();
    drop(first); // SIGKILL
    let sent_before = before
        .lines()
        .rev()
        .find_map(|l| stat(l, "sent"))
        .unwrap_or(0);
    assert!(sent_before < 2000, "the kill came after the end:\n{before}");
    cluster
        .broker_round_trip_time(1, Duration::from_millis(0))
        .unwrap();
    let (status, stderr) = send(&args, String::new());
    assert_eq!(status, 0, "{stderr}");
    let records = consume_mock(&brokers, "syslog", 2000);
    let duplicates = assert_none_lost(&lines, &records, "kill -9");
    eprintln!(
        "kill -9 under queue: {sent_before} reported sent before the kill, {} records read, {duplicates} duplicates",
        records.len()
    );
}

/// A child process killed on drop, also when the test fails.
struct Killed(Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// TLS to the broker with a client certificate (mutual TLS), through a socat TLS terminator
/// in front of tansu (which advertises the terminator's port); a CA that did not sign the
/// broker's certificate is a clear error at start.
#[test]
fn tls_with_a_client_certificate_delivers_and_an_unknown_ca_is_a_clear_error() {
    let certs_dir = tempfile::tempdir().unwrap();
    certs::make(certs_dir.path());
    let tls_port = peers::free_port();
    let broker = Tansu::start_advertising(peers::free_port(), tls_port);
    broker.create_topic("secure", 1);
    let c = |name: &str| certs_dir.path().join(name).to_str().unwrap().to_string();
    let listen = format!(
        "OPENSSL-LISTEN:{tls_port},bind=127.0.0.1,reuseaddr,fork,cert={},key={},cafile={},verify=1",
        c("server.pem"),
        c("server.key"),
        c("ca.pem")
    );
    let socat = Command::new("socat")
        .args([&listen, &format!("TCP:127.0.0.1:{}", broker.port)])
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("socat (scripts/install-peers.sh installs it)");
    let _socat = Killed(socat);
    let deadline = Instant::now() + PEER_TIMEOUT;
    while TcpStream::connect(("127.0.0.1", tls_port)).is_err() {
        assert!(Instant::now() < deadline, "socat does not listen");
        thread::sleep(Duration::from_millis(25));
    }
    let brokers = format!("127.0.0.1:{tls_port}");
    let (ca, cert, key) = (c("ca.pem"), c("client.pem"), c("client-enc.key"));
    let out = syslogkit()
        .args([
            "send",
            "--kafka-brokers",
            &brokers,
            "--kafka-compression",
            "none",
            "--kafka-topic",
            "secure",
        ])
        .args([
            "--protocol",
            "tls",
            "--tls-ca",
            &ca,
            "--tls-cert",
            &cert,
            "--tls-key",
            &key,
        ])
        .env("SYSLOGKIT_TLS_KEY_PASSPHRASE", certs::PASSPHRASE)
        .write_stdin("{\"n\":1}\n{\"n\":2}\n{\"n\":3}\n")
        .timeout(SEND_TIMEOUT)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("3 sent"), "{stderr}");
    let records = consume_over(&brokers, &["secure"], 3, Some(certs_dir.path()));
    assert_eq!(records.len(), 3);
    let rogue = c("rogue.pem");
    let out = syslogkit()
        .args([
            "send",
            "--kafka-brokers",
            &brokers,
            "--kafka-compression",
            "none",
            "--kafka-topic",
            "secure",
        ])
        .args([
            "--protocol",
            "tls",
            "--tls-ca",
            &rogue,
            "--connect-timeout",
            "2s",
        ])
        .write_stdin("{\"n\":4}\n")
        .timeout(SEND_TIMEOUT)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("cannot reach any Kafka broker"), "{stderr}");
}

/// SASL SCRAM is spoken to a broker that requires it: tansu answers the login, and its refusal
/// (it knows no user) is what `send` reports, without the password. (A successful login is not
/// tested: tansu with memory storage cannot be given a user; see the README.)
#[test]
fn sasl_scram_is_spoken_to_a_broker_that_requires_it_and_its_refusal_is_named() {
    let broker = Tansu::start_authenticating();
    let brokers = broker.brokers();
    for mechanism in ["scram-sha-256", "scram-sha-512"] {
        let out = syslogkit()
            .args([
                "send",
                "--kafka-brokers",
                &brokers,
                "--kafka-topic",
                "syslog",
            ])
            .args(["--kafka-sasl-mechanism", mechanism])
            .args(["--kafka-sasl-username", "alice", "--connect-timeout", "5s"])
            .env("SYSLOGKIT_KAFKA_SASL_PASSWORD", "pw-8c1f")
            .write_stdin("{\"a\":1}\n")
            .timeout(SEND_TIMEOUT)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{mechanism}: {stderr}");
        assert!(
            stderr.contains("SASL SCRAM authentication failed") && stderr.contains("unknown-user"),
            "{mechanism}: {stderr}\n{}",
            broker.log()
        );
        assert!(!stderr.contains("pw-8c1f"), "{mechanism}: {stderr}");
    }
}

#[test]
fn sasl_without_a_password_names_the_variable_to_set() {
    let out = syslogkit()
        .args(["send", "--kafka-brokers", "127.0.0.1:1"])
        .args([
            "--kafka-sasl-mechanism",
            "scram-sha-256",
            "--kafka-sasl-username",
            "u",
        ])
        .env_remove("SYSLOGKIT_KAFKA_SASL_PASSWORD")
        .write_stdin("")
        .timeout(SEND_TIMEOUT)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("scram-sha-256: no password; put it in $SYSLOGKIT_KAFKA_SASL_PASSWORD"),
        "{stderr}"
    );
}

/// Every `--kafka-compression` codec delivers records the consumer reads back as sent.
#[test]
fn every_compression_codec_delivers_records_read_back_as_sent() {
    for codec in ["none", "gzip", "snappy", "lz4", "zstd"] {
        let topic = format!("codec-{codec}");
        let cluster = mock_cluster(&topic, 1);
        let brokers = cluster.bootstrap_servers();
        let lines = events(100);
        let (status, stderr) = send(
            &["--kafka-brokers", &brokers, "--kafka-topic", &topic],
            lines.join("\n") + "\n",
        );
        assert_eq!(status, 0, "{codec}: {stderr}");
        let (status, stderr) = send(
            &[
                "--kafka-brokers",
                &brokers,
                "--kafka-topic",
                &topic,
                "--kafka-compression",
                codec,
            ],
            lines.join("\n") + "\n",
        );
        assert_eq!(status, 0, "{codec}: {stderr}");
        let records = consume_mock(&brokers, &topic, 200);
        assert_eq!(records.len(), 200, "{codec}");
        assert_eq!(
            assert_none_lost(&lines, &records, codec),
            100,
            "{codec}: each twice"
        );
    }
}

/// Unread bytes in the pipe behind `fd` (FIONREAD).
fn pipe_unread(fd: std::os::fd::RawFd) -> usize {
    let mut unread: libc::c_int = 0;
    // SAFETY: FIONREAD writes one int through the pointer given.
    let rc = unsafe { libc::ioctl(fd, libc::FIONREAD, &mut unread) };
    assert_eq!(rc, 0, "FIONREAD: {}", std::io::Error::last_os_error());
    unread as usize
}

/// The README's bound for `kill -9` under `--backpressure queue`: what `send` had read but
/// not yet queued is lost, at most two reads of 64 KiB. The fault is made to bite: the broker
/// is down and the queue full (`--queue-full block`), so `send` stops in the middle of its
/// input with a read in hand and the pipe full behind it. After the kill, a new `send` on the
/// same queue delivers what was queued; the lines `send` had read and not queued are counted.
#[test]
fn issue_17_kill_9_under_queue_mid_stream_loses_at_most_two_reads() {
    use std::os::fd::AsRawFd;
    use std::sync::atomic::{AtomicUsize, Ordering};

    const READ: usize = 64 * 1024;
    let cluster = mock_cluster("syslog", 1);
    let brokers = cluster.bootstrap_servers();
    cluster.broker_down(1).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let queue_dir = dir.path().to_str().unwrap();
    let args = [
        "--kafka-brokers",
        &brokers,
        "--kafka-topic",
        "syslog",
        "--backpressure",
        "queue",
        "--queue-dir",
        queue_dir,
        "--queue-max-file-size",
        "16KB",
        "--queue-max-size",
        "256KB",
        "--queue-full",
        "block",
        "--connect-timeout",
        "1s",
        "--stats",
        "100ms",
    ];
    let lines = events(40_000);
    let mut first = Background::start(&args);
    let stdin = first.child.stdin.take().unwrap();
    let fd = stdin.as_raw_fd();
    // Lines are written one by one (each shorter than PIPE_BUF, so a write is all or
    // nothing) until the pipe is full and `send` reads no more.
    let written = Arc::new(AtomicUsize::new(0));
    let writer = {
        let (lines, written) = (lines.clone(), written.clone());
        thread::spawn(move || {
            let mut stdin = stdin;
            for line in &lines {
                if stdin.write_all(format!("{line}\n").as_bytes()).is_err() {
                    return;
                }
                written.fetch_add(1, Ordering::SeqCst);
            }
        })
    };
    // Past the connect timeout, `send` reads until the queue is full; then it stays put.
    first.wait_for_stat("lines", 1);
    let deadline = Instant::now() + PEER_TIMEOUT;
    let mut last = usize::MAX;
    loop {
        thread::sleep(Duration::from_millis(500));
        let now = written.load(Ordering::SeqCst);
        if now == last {
            break;
        }
        assert!(Instant::now() < deadline, "send never stopped reading");
        last = now;
    }
    let written_lines = written.load(Ordering::SeqCst);
    assert!(
        written_lines < lines.len(),
        "the queue never filled: {}",
        first.stderr()
    );
    let unread = pipe_unread(fd);
    let written_bytes: usize = lines[..written_lines].iter().map(|l| l.len() + 1).sum();
    let read_bytes = written_bytes - unread;
    drop(first); // SIGKILL
    writer.join().unwrap();
    // The lines `send` read whole.
    let mut end = 0;
    let mut read_lines = 0;
    while read_lines < written_lines && end + lines[read_lines].len() < read_bytes {
        end += lines[read_lines].len() + 1;
        read_lines += 1;
    }

    cluster.broker_up(1).unwrap();
    let (status, stderr) = send(&args[..args.len() - 2], String::new());
    assert_eq!(status, 0, "{stderr}");
    let delivered = stderr
        .lines()
        .find_map(|l| {
            l.strip_prefix("syslogkit send: ")
                .and_then(|l| stat(l, "sent"))
        })
        .unwrap_or_else(|| panic!("no count of what was sent: {stderr}"));
    let records = consume_mock(&brokers, "syslog", delivered as usize);
    let seen = counts(&records);
    // What was queued is the head of what was read, with nothing missing in between.
    let queued = lines[..read_lines]
        .iter()
        .take_while(|l| seen.contains_key(*l))
        .count();
    assert!(
        lines[queued..].iter().all(|l| !seen.contains_key(l)),
        "a line after the first one lost arrived"
    );
    let lost_bytes: usize = lines[queued..read_lines].iter().map(|l| l.len() + 1).sum();
    eprintln!(
        "kill -9 mid-stream under queue: {written_lines} lines written, {read_bytes} bytes read by send ({read_lines} whole lines), {unread} bytes left in the pipe, {queued} lines queued and delivered, {} read and lost ({lost_bytes} bytes)",
        read_lines - queued
    );
    assert!(
        queued > 0 && unread > 0,
        "the fault did not happen mid-stream"
    );
    assert!(
        lost_bytes <= 2 * READ + lines.iter().map(String::len).max().unwrap_or(0),
        "{lost_bytes} bytes read and lost, more than two reads of {READ} (and the unfinished line)"
    );
}
