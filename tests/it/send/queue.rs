//! The disk queue under faults (#14): `kill -9` of `send` while its receiver does not read,
//! `--write-timeout` on many receivers that never read, and damaged queue files. Each test
//! counts every message: sent, queued, not delivered, dropped or lost, and nothing twice.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::peers::{LineReceiver, PEER_TIMEOUT};
use crate::util::syslogkit;

use super::delivery::summary;
use super::send_within;

/// Input `send` may have read when it is killed but not yet written to its queue: the chunk
/// its reader thread holds and the chunk being cut into lines (64 KiB each).
const READ_AHEAD_BYTES: usize = 2 * 64 * 1024;

/// A TCP receiver on 127.0.0.1 that accepts connections but reads nothing until
/// [`release`](Self::release); then it reads every connection (old and new) and keeps the lines.
struct HeldReceiver {
    port: u16,
    reading: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    lines: Arc<Mutex<Vec<String>>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl HeldReceiver {
    fn new() -> HeldReceiver {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        let port = listener.local_addr().unwrap().port();
        let (reading, stop) = (
            Arc::new(AtomicBool::new(false)),
            Arc::new(AtomicBool::new(false)),
        );
        let lines = Arc::new(Mutex::new(Vec::new()));
        let (r, s, into) = (reading.clone(), stop.clone(), lines.clone());
        let thread = thread::spawn(move || {
            let mut connections: Vec<(TcpStream, Vec<u8>)> = Vec::new();
            let mut buf = vec![0u8; 64 * 1024];
            while !s.load(Ordering::SeqCst) {
                while let Ok((c, _)) = listener.accept() {
                    c.set_nonblocking(true).unwrap();
                    connections.push((c, Vec::new()));
                }
                if !r.load(Ordering::SeqCst) {
                    thread::sleep(Duration::from_millis(5));
                    continue;
                }
                let mut idle = true;
                connections.retain_mut(|(c, partial)| match c.read(&mut buf) {
                    Ok(0) => false,
                    Ok(n) => {
                        idle = false;
                        partial.extend_from_slice(&buf[..n]);
                        if let Some(end) = partial.iter().rposition(|&b| b == b'\n') {
                            let text = String::from_utf8_lossy(&partial[..end]).into_owned();
                            into.lock()
                                .unwrap()
                                .extend(text.split('\n').map(str::to_string));
                            partial.drain(..=end);
                        }
                        true
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => true,
                    Err(_) => false,
                });
                if idle {
                    thread::sleep(Duration::from_millis(2));
                }
            }
        });
        HeldReceiver {
            port,
            reading,
            stop,
            lines,
            thread: Some(thread),
        }
    }

    fn release(&self) {
        self.reading.store(true, Ordering::SeqCst);
    }

    fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }
}

impl Drop for HeldReceiver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Many listeners on 127.0.0.1 that accept every connection and never read, on one thread.
struct StuckReceivers {
    ports: Vec<u16>,
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
}

impl StuckReceivers {
    fn new(n: usize) -> StuckReceivers {
        let listeners: Vec<TcpListener> = (0..n)
            .map(|_| {
                let l = TcpListener::bind("127.0.0.1:0").unwrap();
                l.set_nonblocking(true).unwrap();
                l
            })
            .collect();
        let ports = listeners
            .iter()
            .map(|l| l.local_addr().unwrap().port())
            .collect();
        let stop = Arc::new(AtomicBool::new(false));
        let flag = stop.clone();
        let thread = thread::spawn(move || {
            let mut held = Vec::new();
            while !flag.load(Ordering::SeqCst) {
                for l in &listeners {
                    while let Ok((s, _)) = l.accept() {
                        held.push(s);
                    }
                }
                thread::sleep(Duration::from_millis(5));
            }
        });
        StuckReceivers {
            ports,
            stop,
            thread: Some(thread),
        }
    }
}

impl Drop for StuckReceivers {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// `n` lines of 300 bytes and LF, numbered from 0 by their first 8 characters.
fn numbered_lines(range: std::ops::Range<usize>) -> String {
    range
        .map(|i| format!("{i:08} {}\n", "x".repeat(291)))
        .collect()
}

fn spawn_send(args: &[&str]) -> std::process::Child {
    Command::new(assert_cmd::cargo::cargo_bin!("syslogkit"))
        .args(["send", "--format", "raw"])
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits for `child` at most `limit`; returns (status, stderr).
fn wait_exit(mut child: std::process::Child, limit: Duration) -> (i32, String) {
    let deadline = Instant::now() + limit;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() >= deadline {
            let _ = child.kill();
            let out = child.wait_with_output().unwrap();
            panic!(
                "send did not exit within {limit:?}:\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
        }
        thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn issue_14_sigkill_while_the_receiver_does_not_read_loses_at_most_the_input_read_ahead() {
    // See: #14. Before write-ahead, what sat in send's own buffers (up to 1 MiB per
    // destination) was lost: 2,300-3,033 of 50,000 lines.
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("input");
    let made = Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let queue = dir.path().join("queue");
    let receiver = HeldReceiver::new();
    let to = format!("127.0.0.1:{}", receiver.port);
    let (fifo_arg, queue_arg) = (fifo.to_str().unwrap(), queue.to_str().unwrap());
    let args = [
        "--to",
        &to,
        "--backpressure",
        "queue",
        "--queue-dir",
        queue_arg,
        "-f",
        fifo_arg,
    ];
    let (n, half) = (50_000, 25_000);
    let mut first = spawn_send(&args);
    // Opening blocks until send opens its end; the test keeps its end open throughout, so
    // what send had not read when it died stays in the FIFO for the next one.
    let mut input = std::fs::OpenOptions::new().write(true).open(&fifo).unwrap();
    input.write_all(numbered_lines(0..half).as_bytes()).unwrap();
    first.kill().unwrap(); // SIGKILL
    first.wait().unwrap();
    let second = spawn_send(&args);
    receiver.release();
    // Until the new send opens the FIFO, writing fails with EPIPE (and writes nothing).
    let rest = numbered_lines(half..n);
    let (mut at, deadline) = (0, Instant::now() + PEER_TIMEOUT);
    while at < rest.len() {
        // write_all would not say how much went in before EPIPE; a short write resumes at `at`.
        #[allow(clippy::disallowed_methods)]
        let written = input.write(&rest.as_bytes()[at..]);
        match written {
            Ok(n) => at += n,
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe && Instant::now() < deadline => {
                thread::sleep(Duration::from_millis(10));
            }
            Err(e) => panic!("writing to the FIFO: {e}"),
        }
    }
    drop(input);
    let (status, stderr) = wait_exit(second, PEER_TIMEOUT * 3);
    // A write cut short by the kill can leave half a record at the end of the last file.
    assert!(
        status == 0 || stderr.contains("truncated"),
        "{status}: {stderr}"
    );
    // Two reads of 64 KiB touch at most 437 lines of 301 bytes, plus the line carried over
    // from the read before them.
    let bound = READ_AHEAD_BYTES.div_ceil(301) + 2;
    let unique = || {
        let mut seen: Vec<usize> = receiver
            .lines()
            .iter()
            .filter_map(|l| l.get(..8)?.parse().ok())
            .collect();
        seen.sort_unstable();
        seen.dedup();
        seen.len()
    };
    let deadline = Instant::now() + Duration::from_secs(10);
    while unique() < n && Instant::now() < deadline {
        thread::sleep(Duration::from_millis(50));
    }
    let lost = n - unique();
    eprintln!(
        "kill -9: {lost} of {n} lines lost, {} received",
        receiver.lines().len()
    );
    assert!(
        lost <= bound,
        "{lost} lines lost, more than the {bound} send may have read ahead: {stderr}"
    );
}

#[test]
fn issue_14_write_timeouts_on_stuck_receivers_queue_each_message_once_in_order() {
    // See: #14. Messages of timed-out connections were queued behind newer ones, some twice,
    // the counters added up to more than the input, and "(exit status 3)" was printed on an
    // exit with status 1. The issue had 99 receivers; 3 are enough when each is given more
    // than its connection holds (about 4 MB of kernel buffers and send's 1 MiB): 30 MB.
    let stuck = StuckReceivers::new(3);
    let dir = tempfile::tempdir().unwrap();
    let q = dir.path().to_str().unwrap();
    let targets: Vec<String> = stuck
        .ports
        .iter()
        .map(|p| format!("127.0.0.1:{p}"))
        .collect();
    let mut args: Vec<&str> = targets.iter().flat_map(|t| ["--to", t.as_str()]).collect();
    args.extend(["--write-timeout", "3s", "--backpressure", "queue"]);
    args.extend(["--queue-dir", q]);
    let n: u64 = 75_000;
    let pad = "x".repeat(389);
    let input: String = (1..=n).map(|i| format!("msg-{i:06} {pad}\n")).collect();
    let out = syslogkit()
        .arg("send")
        .args(&args)
        .write_stdin(input)
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    let status = out.status.code().unwrap_or(-1);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    drop(stuck);
    let c = summary(&stderr);
    assert_eq!(
        c.sent + c.queued + c.undelivered + c.dropped,
        n,
        "the counters add up to the input: {stderr}"
    );
    if let Some(at) = stderr.find("(exit status ") {
        let printed: i32 = stderr[at + 13..]
            .split(')')
            .next()
            .unwrap()
            .parse()
            .unwrap();
        assert_eq!(printed, status, "{stderr}");
    }
    assert!(c.queued > 0, "{stderr}");
    // Drain: every queued message once, in input order.
    let receiver = LineReceiver::new();
    let to = format!("127.0.0.1:{}", receiver.port());
    let out = syslogkit()
        .args([
            "send",
            "--to",
            &to,
            "--backpressure",
            "queue",
            "--queue-dir",
            q,
        ])
        .write_stdin("")
        .timeout(PEER_TIMEOUT * 3)
        .output()
        .unwrap();
    let drain_stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{drain_stderr}");
    receiver.wait_for(c.queued as usize);
    thread::sleep(Duration::from_millis(200));
    let numbers: Vec<u64> = receiver
        .lines()
        .iter()
        .map(|l| l.rsplit("msg-").next().unwrap()[..6].parse().unwrap())
        .collect();
    assert_eq!(numbers.len() as u64, c.queued, "{stderr}\n{drain_stderr}");
    let disorder = numbers.windows(2).position(|w| w[0] >= w[1]);
    assert_eq!(
        disorder.map(|i| (numbers[i], numbers[i + 1])),
        None,
        "drained out of order or twice: {stderr}"
    );
}

/// Queues `lines` with the receiver down (files of 2 KB); returns the queue files, oldest first.
fn queue_files_of(dir: &std::path::Path, port: u16, lines: &str) -> Vec<std::path::PathBuf> {
    let to = format!("127.0.0.1:{port}");
    let d = dir.to_str().unwrap();
    let args = super::queue_args(d, &to);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (status, stderr) = send_within(&args, lines.to_string(), PEER_TIMEOUT);
    assert_eq!(status, 3, "{stderr}");
    let mut files: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "q"))
        .collect();
    files.sort();
    files
}

#[test]
fn issue_14_a_damaged_queue_file_counts_its_loss_exits_1_and_is_kept_aside() {
    // See: #14. The loss was reported but not counted (exit 0, "0 dropped"), the file was
    // deleted, and one bad byte lost the rest of its file.
    let dir = tempfile::tempdir().unwrap();
    let mut receiver = LineReceiver::new();
    receiver.stop();
    let n = 300;
    let input = super::lines(n);
    let files = queue_files_of(dir.path(), receiver.port(), &input);
    assert!(files.len() >= 3, "{files:?}");
    // One payload byte of the 3rd record of the first file ("message 000002\n" is 15 bytes,
    // each record has 8 bytes of header).
    let mut bytes = std::fs::read(&files[0]).unwrap();
    bytes[2 * (8 + 15) + 8 + 3] ^= 0x20;
    std::fs::write(&files[0], bytes).unwrap();
    receiver.start();
    let to = format!("127.0.0.1:{}", receiver.port());
    let args = super::queue_args(dir.path().to_str().unwrap(), &to);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (status, stderr) = send_within(&args, String::new(), PEER_TIMEOUT);
    assert_eq!(status, 1, "{stderr}");
    assert!(stderr.contains("1 lost in damaged queue files"), "{stderr}");
    receiver.wait_for(n - 1);
    let expected: Vec<String> = input
        .lines()
        .filter(|l| *l != "message 000002")
        .map(str::to_string)
        .collect();
    assert_eq!(receiver.lines(), expected);
    let name = files[0].file_name().unwrap();
    assert!(
        dir.path().join("corrupt").join(name).exists(),
        "the damaged file is kept in corrupt/: {stderr}"
    );
}
