//! `--metrics`: the Prometheus text is fetched with `curl` and read with Prometheus's own
//! Python parser (`prometheus_client.parser`), so a format error fails the test; `/health`
//! follows the process's state, 503 from the shutdown signal on.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::{TcpStream, UdpSocket};
use std::process::Command;
use std::thread;
use std::time::{Duration, Instant};

use crate::listener::{Listen, signal};

/// `http://ADDR` from listen's "metrics on http://ADDR/metrics" line.
fn metrics_base(listen: &Listen) -> String {
    let line = listen.stderr_line(|l| l.contains("metrics on http://"));
    let start = line.find("http://").unwrap();
    let url = &line[start..];
    url[..url.find("/metrics").unwrap()].to_string()
}

/// `curl -s -o /dev/null -w %{http_code}`, or 0 when nothing answers.
fn status(url: &str) -> u16 {
    let out = Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "--max-time",
            "5",
            url,
        ])
        .output()
        .expect("curl is installed");
    String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(0)
}

/// Every sample of `/metrics`, keyed `name{label="value",…}` (labels sorted), as parsed by
/// prometheus_client; panics when the text does not parse.
pub fn scrape(url: &str) -> BTreeMap<String, f64> {
    let body = Command::new("curl")
        .args(["-sf", "--max-time", "5", url])
        .output()
        .expect("curl is installed");
    assert!(body.status.success(), "GET {url}: {body:?}");
    let script = r#"
import sys
from prometheus_client.parser import text_string_to_metric_families
for family in text_string_to_metric_families(sys.stdin.read()):
    for s in family.samples:
        labels = ",".join(f'{k}="{v}"' for k, v in sorted(s.labels.items()))
        print(f"{s.name}{{{labels}}}\t{s.value}")
"#;
    let mut python = Command::new("python3")
        .args(["-c", script])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("python3 is installed");
    python
        .stdin
        .take()
        .unwrap()
        .write_all(&body.stdout)
        .unwrap();
    let out = python.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "prometheus_client does not parse /metrics (pip install prometheus_client, \
         scripts/install-peers.sh does): {}\n{}",
        String::from_utf8_lossy(&out.stderr),
        String::from_utf8_lossy(&body.stdout)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let (k, v) = l.split_once('\t').unwrap();
            (k.to_string(), v.parse().unwrap())
        })
        .collect()
}

#[test]
fn listen_metrics_count_what_arrived_in_prometheus_text() {
    let listen = Listen::start(&[
        "--tcp",
        "127.0.0.1:0",
        "--udp",
        "127.0.0.1:0",
        "--metrics",
        "127.0.0.1:0",
        "--max-message-size",
        "64",
    ]);
    let base = metrics_base(&listen);
    assert_eq!(status(&format!("{base}/health")), 200);
    let mut tcp = TcpStream::connect(listen.tcp.unwrap()).unwrap();
    for i in 0..5 {
        writeln!(tcp, "<13>Jan  2 03:04:05 h app: tcp {i}").unwrap();
    }
    // Longer than --max-message-size: a frame error, its first 64 bytes still an event.
    writeln!(tcp, "<13>{}", "x".repeat(100)).unwrap();
    drop(tcp);
    let udp = UdpSocket::bind("127.0.0.1:0").unwrap();
    for i in 0..3 {
        udp.send_to(format!("<13>udp {i}").as_bytes(), listen.udp.unwrap())
            .unwrap();
    }
    listen.events(9);
    let m = scrape(&format!("{base}/metrics"));
    assert_eq!(
        m["syslogkit_messages_received_total{transport=\"tcp\"}"], 6.0,
        "{m:#?}"
    );
    assert_eq!(
        m["syslogkit_messages_received_total{transport=\"udp\"}"], 3.0,
        "{m:#?}"
    );
    assert_eq!(m["syslogkit_connections_accepted_total{}"], 1.0, "{m:#?}");
    assert_eq!(m["syslogkit_frame_errors_total{}"], 1.0, "{m:#?}");
    assert_eq!(m["syslogkit_up{}"], 1.0);
    assert!(m.contains_key("syslogkit_output_queue_batches{}"));
    assert!(m.contains_key("syslogkit_backpressure_seconds_total{}"));
    assert_eq!(
        m["syslogkit_udp_datagrams_dropped_total{by=\"listen\"}"],
        0.0
    );
    assert_eq!(status(&format!("{base}/nothing")), 404);
    listen.stop();
}

#[test]
fn health_fails_from_the_signal_on_while_listen_still_receives_for_the_delay() {
    let listen = Listen::start(&[
        "--tcp",
        "127.0.0.1:0",
        "--metrics",
        "127.0.0.1:0",
        "--shutdown-delay",
        "20s",
    ]);
    let base = metrics_base(&listen);
    let health = format!("{base}/health");
    assert_eq!(status(&health), 200);
    signal(listen.pid(), libc::SIGTERM);
    let deadline = Instant::now() + Duration::from_secs(10);
    while status(&health) != 503 {
        assert!(Instant::now() < deadline, "/health still not 503");
        thread::sleep(Duration::from_millis(20));
    }
    // Draining has not begun: a new connection is still taken.
    let mut late = TcpStream::connect(listen.tcp.unwrap()).unwrap();
    writeln!(late, "<13>Jan  2 03:04:05 h app: after the signal").unwrap();
    drop(late);
    let events = listen.events(1);
    assert_eq!(events[0]["message"], "after the signal");
    let m = scrape(&format!("{base}/metrics"));
    assert_eq!(m["syslogkit_up{}"], 0.0);
    // A second signal ends the delay.
    signal(listen.pid(), libc::SIGTERM);
    let stopped = listen.stop();
    assert!(stopped.status.success(), "{}", stopped.stderr);
}

#[test]
fn send_metrics_follow_delivery_and_the_destination_going_down() {
    use std::io::{BufRead, BufReader};
    use std::process::Stdio;

    let listen = Listen::start(&["--tcp", "127.0.0.1:0"]);
    let mut send = Command::new(env!("CARGO_BIN_EXE_syslogkit"))
        .args(["send", "--to", &format!("127.0.0.1:{}", listen.tcp_port())])
        .args(["--metrics", "127.0.0.1:0", "--write-timeout", "2s"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(send.stderr.take().unwrap());
    let mut line = String::new();
    while !line.contains("metrics on http://") {
        line.clear();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "send ended early");
    }
    let base = {
        let url = &line[line.find("http://").unwrap()..];
        url[..url.find("/metrics").unwrap()].to_string()
    };
    thread::spawn(move || for _ in stderr.lines() {});
    let mut input = send.stdin.take().unwrap();
    for i in 0..10 {
        writeln!(input, "message {i}").unwrap();
    }
    input.flush().unwrap();
    listen.events(10);
    let deadline = Instant::now() + Duration::from_secs(10);
    let m = loop {
        let m = scrape(&format!("{base}/metrics"));
        if m["syslogkit_send_messages_total{outcome=\"delivered\"}"] == 10.0 {
            break m;
        }
        assert!(Instant::now() < deadline, "{m:#?}");
        thread::sleep(Duration::from_millis(50));
    };
    let destination = format!("127.0.0.1:{}", listen.tcp_port());
    assert_eq!(
        m[&format!("syslogkit_send_destination_up{{destination=\"{destination}\"}}")],
        1.0,
        "{m:#?}"
    );
    assert_eq!(status(&format!("{base}/health")), 200);
    // The receiver goes away: send sees the close on its next write and marks it down.
    listen.stop();
    writeln!(input, "after the receiver left").unwrap();
    input.flush().unwrap();
    let deadline = Instant::now() + Duration::from_secs(10);
    while status(&format!("{base}/health")) != 503 {
        assert!(
            Instant::now() < deadline,
            "/health still 200 with the receiver gone"
        );
        writeln!(input, "again").unwrap();
        thread::sleep(Duration::from_millis(100));
    }
    let m = scrape(&format!("{base}/metrics"));
    assert_eq!(
        m[&format!("syslogkit_send_destination_up{{destination=\"{destination}\"}}")],
        0.0
    );
    assert!(
        m[&format!("syslogkit_send_destination_failures_total{{destination=\"{destination}\"}}")]
            >= 1.0
    );
    // --backpressure block (the default) waits for a destination as long as input comes:
    // end it here.
    drop(input);
    let _ = send.kill();
    let _ = send.wait();
}
