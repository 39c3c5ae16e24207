//! `syslogkit listen` when things go wrong around it (issue #14): a closed output pipe, a full
//! disk, a drip-feeding sender, one source taking every slot, unfinished messages eating the
//! memory, a UDP burst.

use std::io::{BufRead, BufReader, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::{Path, PathBuf};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::listener::{Listen, WAIT, signal};

/// `n` LF-framed messages `<13>Nov 22 18:21:00 h app: TAG seq=I ` padded with `x` to about
/// `size` bytes each.
fn padded(tag: &str, n: usize, size: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(n * (size + 1));
    for i in 0..n {
        let start = out.len();
        write!(out, "<13>Nov 22 18:21:00 h app: {tag} seq={i} ").unwrap();
        let pad = size.saturating_sub(out.len() - start);
        out.resize(out.len() + pad, b'x');
        out.push(b'\n');
    }
    out
}

/// The sequence numbers of the events whose message starts with `TAG seq=`, in output order.
fn seqs(events: &[Value], tag: &str) -> Vec<usize> {
    let prefix = format!("{tag} seq=");
    events
        .iter()
        .filter_map(|e| {
            let rest = e["message"].as_str()?.strip_prefix(&prefix)?;
            rest.split(' ').next()?.parse().ok()
        })
        .collect()
}

/// The number just before `label` in the `stopped:` summary line of `stderr`.
fn summary_count(stderr: &str, label: &str) -> u64 {
    let line = stderr
        .lines()
        .find(|l| l.starts_with("syslogkit listen: stopped: "))
        .unwrap_or_else(|| panic!("no summary in {stderr}"));
    let at = line
        .find(label)
        .unwrap_or_else(|| panic!("no {label:?} in {line}"));
    let digits: String = line[..at]
        .trim_end()
        .chars()
        .rev()
        .take_while(char::is_ascii_digit)
        .collect();
    digits
        .chars()
        .rev()
        .collect::<String>()
        .parse()
        .unwrap_or_else(|_| panic!("no number before {label:?} in {line}"))
}

/// Polls `done` every 20 ms until it is true; fails with `what` after [`WAIT`].
fn wait_until(what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < WAIT, "timed out waiting for {what}");
        thread::sleep(Duration::from_millis(20));
    }
}

// See: #14 (7).
#[test]
fn issue_14_a_closed_output_pipe_stops_listen_with_a_count_of_the_messages_not_written() {
    let mut listen = Listen::start_unread(&["--tcp", "127.0.0.1:0"]);
    let mut stdout = BufReader::new(listen.take_stdout());
    let mut c = TcpStream::connect(listen.tcp.unwrap()).unwrap();
    c.write_all(&padded("before", 1, 100)).unwrap();
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    assert!(first.contains("before seq=0"), "{first}");
    // `listen | sleep 15` once sleep is gone: nobody reads the pipe any more.
    drop(stdout);
    // listen may notice the closed pipe and stop before it has read all of these.
    let _ = c.write_all(&padded("after", 1000, 100));
    let stopped = listen.wait_exit();
    drop(c);
    let err = &stopped.stderr;
    assert_eq!(stopped.status.code(), Some(2), "{err}");
    assert!(
        err.contains("writing events to stdout failed, so listen stopped")
            && err.contains("Broken pipe"),
        "{err}"
    );
    let received = summary_count(err, "messages (");
    assert!(received >= 1, "{err}");
    assert_eq!(summary_count(err, "events written"), 1, "{err}");
    assert_eq!(summary_count(err, "not written"), received - 1, "{err}");
    assert!(
        err.contains(&format!(
            "{} of {received} messages received were not written",
            received - 1
        )),
        "{err}"
    );
}

// See: #14 (7). `listen | sleep 15` with no traffic after sleep is gone: the closed pipe is
// noticed without a write.
#[test]
fn issue_14_a_reader_that_goes_away_stops_listen_without_further_traffic() {
    let mut listen = Listen::start_unread(&["--tcp", "127.0.0.1:0"]);
    let mut stdout = BufReader::new(listen.take_stdout());
    let mut c = TcpStream::connect(listen.tcp.unwrap()).unwrap();
    c.write_all(&padded("only", 1, 100)).unwrap();
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    drop(stdout);
    let stopped = listen.wait_exit();
    let err = &stopped.stderr;
    assert_eq!(stopped.status.code(), Some(2), "{err}");
    assert!(err.contains("Broken pipe"), "{err}");
    assert_eq!(summary_count(err, "events written"), 1, "{err}");
    assert_eq!(summary_count(err, "not written"), 0, "{err}");
    drop(c);
}

/// `listen` writing to a 4 MiB tmpfs of its own with `free` bytes left: `unshare --user
/// --map-root-user --mount` (no root on the host; plain `--mount` as root where user
/// namespaces are off), `mount -t tmpfs` on `DIR/disk`, a filler
/// file. `listen` runs in the background of a shell that records its pid and exit status in
/// `DIR` (outside the tmpfs, so the host sees them) and then keeps the mount namespace alive,
/// so the test reaches the tmpfs through `/proc/SHELL/root`.
struct SmallDisk {
    listen: Listen,
    dir: tempfile::TempDir,
    listen_pid: u32,
}

impl SmallDisk {
    fn start(free: usize, extra: &[&str]) -> SmallDisk {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap().to_string();
        let fill = 4 * 1024 * 1024 - free;
        let script = format!(
            "mkdir \"$0/disk\" && mount -t tmpfs -o size=4m tmpfs \"$0/disk\" || exit 1
             head -c {fill} /dev/zero > \"$0/disk/filler\" || exit 1
             \"$@\" & echo $! > \"$0/pid\"; wait $!; echo $? > \"$0/status\"; exec sleep 60"
        );
        let output = format!("{d}/disk/events.jsonl");
        let mut args = vec!["--tcp", "127.0.0.1:0", "--output", &output];
        args.extend_from_slice(extra);
        let unshare = crate::util::mountns_args()
            .unwrap_or_else(|why| panic!("cannot create a mount namespace to test in: {why}"));
        let mut wrapper = vec!["unshare"];
        wrapper.extend_from_slice(unshare);
        wrapper.extend_from_slice(&["sh", "-c", &script, &d]);
        let listen = Listen::start_wrapped(&wrapper, &args);
        let mut disk = SmallDisk {
            listen,
            dir,
            listen_pid: 0,
        };
        let pid = disk.wait_for_file("pid");
        disk.listen_pid = pid.trim().parse().unwrap();
        disk
    }

    /// `name` in the tmpfs, as seen from outside its mount namespace.
    fn path(&self, name: &str) -> PathBuf {
        let inside = self.dir.path().join("disk").join(name);
        Path::new(&format!("/proc/{}/root", self.listen.pid()))
            .join(inside.strip_prefix("/").unwrap())
    }

    /// Waits until the shell has written `name` (in `DIR`) and returns it.
    fn wait_for_file(&self, name: &str) -> String {
        let path = self.dir.path().join(name);
        let mut text = String::new();
        wait_until(
            &format!("{}: {}", path.display(), self.listen.stderr_text()),
            || {
                text = std::fs::read_to_string(&path).unwrap_or_default();
                text.ends_with('\n')
            },
        );
        text
    }

    fn events(&self) -> Vec<u8> {
        std::fs::read(self.path("events.jsonl")).unwrap()
    }

    /// Waits for `listen` to exit and returns its status and stderr.
    fn exit_status(&self) -> (i32, String) {
        let status = self.wait_for_file("status").trim().parse().unwrap();
        // Let the stderr reader catch up with the summary.
        wait_until("the summary on stderr", || {
            self.listen.stderr_text().contains("listen: stopped: ")
        });
        (status, self.listen.stderr_text())
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        if self.listen_pid != 0 {
            // SAFETY: kill(2) on the listener this test started; it may be gone already.
            unsafe { libc::kill(self.listen_pid as i32, libc::SIGKILL) };
        }
    }
}

/// Every line of `bytes` is a whole JSON event; their sequence numbers for `tag`.
fn whole_lines(bytes: &[u8], tag: &str) -> Vec<usize> {
    assert!(
        bytes.is_empty() || bytes.ends_with(b"\n"),
        "the output ends in a cut line: {:?}",
        String::from_utf8_lossy(&bytes[bytes.len().saturating_sub(200)..])
    );
    let events: Vec<Value> = bytes
        .split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .map(|l| {
            serde_json::from_slice(l)
                .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(l)))
        })
        .collect();
    seqs(&events, tag)
}

// See: #14 (8). A real full disk: a 4 MiB tmpfs in a user and mount namespace of its own, with
// 48 KiB left, so that the first large write is taken in part and then fails with ENOSPC.
#[test]
fn issue_14_a_full_disk_holds_the_events_and_writes_them_all_when_space_returns() {
    const N: usize = 2000;
    let disk = SmallDisk::start(48 * 1024, &[]);
    let mut c = TcpStream::connect(disk.listen.tcp.unwrap()).unwrap();
    c.write_all(&padded("disk", N, 300)).unwrap();
    disk.listen
        .stderr_line(|l| l.contains("cannot write events to") && l.contains("No space left"));
    // While the disk stays full the file holds whole lines only (wait for two equal reads:
    // a write may be under way at any moment).
    let mut last = Vec::new();
    wait_until("the output to settle", || {
        let now = disk.events();
        let settled = now == last;
        last = now;
        settled
    });
    let before = whole_lines(&last, "disk");
    assert!(before.len() < N, "the disk was not full: {}", before.len());
    assert_eq!(before, (0..before.len()).collect::<Vec<_>>());

    std::fs::remove_file(disk.path("filler")).unwrap();
    wait_until("every event in the file", || {
        disk.events().iter().filter(|&&b| b == b'\n').count() >= N
    });
    assert_eq!(
        whole_lines(&disk.events(), "disk"),
        (0..N).collect::<Vec<_>>()
    );
    drop(c);
    signal(disk.listen_pid, libc::SIGTERM);
    let (status, err) = disk.exit_status();
    assert_eq!(status, 0, "{err}");
    assert!(err.contains("is writable again"), "{err}");
    assert_eq!(summary_count(&err, "messages ("), N as u64, "{err}");
    assert_eq!(summary_count(&err, "events written"), N as u64, "{err}");
    assert_eq!(summary_count(&err, "not written"), 0, "{err}");
    assert!(summary_count(&err, "times output full") >= 1, "{err}");
}

// See: #14 (8), with --on-output-error exit.
#[test]
fn issue_14_a_full_disk_with_on_output_error_exit_stops_without_a_partial_line() {
    const N: usize = 2000;
    let disk = SmallDisk::start(48 * 1024, &["--on-output-error", "exit"]);
    let mut c = TcpStream::connect(disk.listen.tcp.unwrap()).unwrap();
    // listen may close the connection before all of it is sent.
    let _ = c.write_all(&padded("disk", N, 300));
    let (status, err) = disk.exit_status();
    assert_eq!(status, 2, "{err}");
    assert!(
        err.contains("writing events to") && err.contains("No space left on device"),
        "{err}"
    );
    let written = whole_lines(&disk.events(), "disk");
    assert!(
        !written.is_empty() && written.len() < N,
        "{}",
        written.len()
    );
    assert_eq!(written, (0..written.len()).collect::<Vec<_>>());
    let received = summary_count(&err, "messages (");
    assert_eq!(
        summary_count(&err, "events written"),
        written.len() as u64,
        "{err}"
    );
    assert_eq!(
        summary_count(&err, "not written"),
        received - written.len() as u64,
        "{err}"
    );
}

// See: #14 (11). One byte every 100 ms resets --idle-timeout each time; --frame-timeout does
// not care.
#[test]
fn issue_14_a_drip_feed_is_closed_by_the_frame_timeout() {
    let listen = Listen::start(&[
        "--tcp",
        "127.0.0.1:0",
        "--idle-timeout",
        "300s",
        "--frame-timeout",
        "1s",
    ]);
    let mut c = TcpStream::connect(listen.tcp.unwrap()).unwrap();
    let mut dripper = c.try_clone().unwrap();
    let drip = thread::spawn(move || {
        let message = b"<13>Nov 22 18:21:00 h app: drip, drip, drip, drip, drip, drip, drip";
        // Never a whole message: no LF within the 300 bytes (30 s at most).
        for &b in message.iter().cycle().take(300) {
            if dripper.write_all(&[b]).is_err() {
                return true;
            }
            thread::sleep(Duration::from_millis(100));
        }
        false
    });
    c.set_read_timeout(Some(WAIT)).unwrap();
    let closed = std::io::Read::read(&mut c, &mut [0u8; 16]);
    assert!(
        matches!(closed, Ok(0) | Err(_)),
        "closed by listen: {closed:?}"
    );
    assert!(
        drip.join().unwrap(),
        "the drip-feeder saw its connection closed"
    );
    let stopped = listen.stop();
    assert!(stopped.status.success(), "{}", stopped.stderr);
    assert_eq!(stopped.events.len(), 1, "{:#?}", stopped.events);
    let event = &stopped.events[0];
    let part = event["message"].as_str().unwrap();
    assert!(
        part.starts_with("<13>Nov") && event["event"]["original"] == part,
        "the part received is kept: {event}"
    );
    let error = event["error"]["message"].as_str().unwrap();
    assert!(error.contains("--frame-timeout"), "{error}");
    assert_eq!(summary_count(&stopped.stderr, "frame timeouts"), 1);
    assert_eq!(summary_count(&stopped.stderr, "idle closed"), 0);
}

/// A TCP connection to `to` from `from` (any loopback address: 127.0.0.2 is a second source).
fn connect_from(from: &str, to: SocketAddr) -> TcpStream {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None).unwrap();
    let from: SocketAddr = format!("{from}:0").parse().unwrap();
    socket.bind(&from.into()).unwrap();
    socket.connect(&to.into()).unwrap();
    socket.into()
}

// See: #14 (11).
#[test]
fn issue_14_one_source_is_capped_while_another_still_gets_in() {
    let listen = Listen::start(&[
        "--tcp",
        "127.0.0.1:0",
        "--max-connections",
        "10",
        "--max-connections-per-source",
        "2",
        "--stats",
        "100ms",
    ]);
    let addr = listen.tcp.unwrap();
    let mut a = connect_from("127.0.0.1", addr);
    let mut b = connect_from("127.0.0.1", addr);
    a.write_all(&padded("a", 1, 60)).unwrap();
    b.write_all(&padded("b", 1, 60)).unwrap();
    listen.events(2);
    let mut third = connect_from("127.0.0.1", addr);
    third.set_read_timeout(Some(WAIT)).unwrap();
    let closed = std::io::Read::read(&mut third, &mut [0u8; 16]);
    assert!(
        matches!(closed, Ok(0) | Err(_)),
        "a third connection from 127.0.0.1 is closed: {closed:?}"
    );
    let mut other = connect_from("127.0.0.2", addr);
    other.write_all(&padded("other", 1, 60)).unwrap();
    let events = listen.events(3);
    let other_event = events
        .iter()
        .find(|e| seqs(std::slice::from_ref(e), "other") == [0])
        .expect("the other source's message");
    assert_eq!(other_event["source"]["ip"], "127.0.0.2");
    listen.stderr_line(|l| l.contains(" 1 refused per source"));
    drop((a, b, third, other));
    let stopped = listen.stop();
    let err = &stopped.stderr;
    assert!(
        err.contains("refused: --max-connections-per-source 2 connections are open from 127.0.0.1"),
        "{err}"
    );
    assert_eq!(summary_count(err, "refused,"), 1, "{err}");
    assert_eq!(summary_count(err, "of them per source"), 1, "{err}");
    assert_eq!(summary_count(err, "connections ("), 3, "{err}");
}

/// Bytes still queued in the kernel on the TCP connections to or from `port`: the receivers'
/// Recv-Q plus the senders' Send-Q (`ss -tn`).
fn tcp_queued(port: u16) -> u64 {
    let out = std::process::Command::new("ss")
        .args(["-tnH", &format!("( sport = :{port} or dport = :{port} )")])
        .output()
        .expect("ss (iproute2)");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let n = |i: usize| f.get(i).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0);
            n(1) + n(2)
        })
        .sum()
}

// See: #14 (10). Thirty connections each start a 20 MB octet-counted message and send 15 MB
// of it: 450 MB of unfinished messages against a 64 MiB budget. Measured on 2 cores, debug
// build: VmHWM grew by 70 to 79 MiB (74 to 98 MiB with --workers 8 or 16); before growth was
// counted ahead of the allocation and freed buffers were unmapped, by 103 to 143 MiB.
#[test]
fn issue_14_unfinished_messages_stay_within_max_buffered_bytes() {
    const CONNECTIONS: usize = 30;
    const PART: usize = 15_000_000;
    const BUDGET_MIB: u64 = 64;
    // What the budget does not cover (README, "Memory is bounded"): holders under 512 KiB are
    // counted but not cut (30 × 512 KiB), the largest message asked to cut holds its buffer
    // (16 MiB) until its connection runs again, one read per connection (30 × 256 KiB), the
    // writer's queue and the events of the cut messages (64 KiB each).
    const MARGIN_MIB: u64 = 48;
    let listen = Listen::start(&["--tcp", "127.0.0.1:0", "--max-buffered-bytes", "64MiB"]);
    let addr = listen.tcp.unwrap();
    // Code, runtime and the worker threads before any message: this depends on the build and
    // on the machine's cores, not on the budget.
    let start_kib = listen.status_kib("VmHWM");
    let senders: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            thread::spawn(move || {
                let mut c = TcpStream::connect(addr).unwrap();
                let mut part = b"20000000 <13>Nov 22 18:21:00 h app: big ".to_vec();
                part.resize(PART, b'x');
                c.write_all(&part).unwrap();
                c
            })
        })
        .collect();
    let streams: Vec<TcpStream> = senders.into_iter().map(|s| s.join().unwrap()).collect();
    // Everything sent has been read (the connections stay open, the messages unfinished).
    wait_until("listen to read every byte", || tcp_queued(addr.port()) == 0);
    let cut = listen.events(1);
    let grown_kib = listen.status_kib("VmHWM") - start_kib;
    eprintln!(
        "VmHWM grew by {grown_kib} KiB (from {start_kib} KiB) with a {BUDGET_MIB} MiB budget"
    );
    assert!(
        grown_kib < (BUDGET_MIB + MARGIN_MIB) * 1024,
        "VmHWM grew by {grown_kib} KiB, budget {BUDGET_MIB} MiB + {MARGIN_MIB} MiB"
    );
    let error = cut[0]["error"]["message"].as_str().unwrap();
    assert!(error.contains("--max-buffered-bytes"), "{error}");
    assert!(
        cut[0]["message"]
            .as_str()
            .unwrap()
            .starts_with("<13>Nov 22 18:21:00 h app: big xxx"),
        "{}",
        cut[0]
    );
    drop(streams);
    let stopped = listen.stop();
    // Every connection's message is one event: cut short, or truncated by the end of its stream.
    assert_eq!(stopped.events.len(), CONNECTIONS, "{}", stopped.stderr);
    assert!(
        stopped
            .events
            .iter()
            .all(|e| e["error"]["message"].is_string())
    );
    let cuts = stopped
        .events
        .iter()
        .filter(|e| {
            e["error"]["message"]
                .as_str()
                .unwrap()
                .contains("--max-buffered-bytes")
        })
        .count() as u64;
    assert!(cuts >= 1);
    assert_eq!(
        summary_count(&stopped.stderr, "partial messages cut"),
        cuts,
        "{}",
        stopped.stderr
    );
}

// See: #16. A thousand connections push 200 MB. Half of their events are read (each connection
// finds data at every read, as on a busy relay), then nobody reads listen's output:
// the pipe and the writer's queue fill, and the connections must stop taking bytes from the
// kernel, so what the senders still push waits in the kernel's receive queues, not in listen.
// Then the output is read again and every message arrives. Measured on 2 cores, debug build:
// VmHWM grew by 24 MiB while 91 MB waited in the kernel. Before, a busy connection's reads
// had grown (doubling while they found the buffer's room full) and it went on reading while it
// waited for room in the queue, holding its read buffer and a batch of events: listen took in
// the rest and the kernel's queues never reached 50 MB (the wait below timed out).
#[test]
fn issue_16_a_thousand_busy_connections_leave_their_bytes_in_the_kernel_while_the_output_is_stalled()
 {
    use std::io::Read;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering::Relaxed};

    const CONNECTIONS: &str = "1000";
    const MESSAGES: u64 = 400_000;
    const SIZE: &str = "500";
    const READ_BEFORE_THE_STALL: u64 = 200_000;
    const WAITING_IN_KERNEL: u64 = 50_000_000;
    // The writer's queue (128 batches of 256 KiB events), the batches being filled, the read
    // buffers lent to the worker threads and what each connection keeps of a message under way.
    const LIMIT_MIB: u64 = 64;
    let mut listen = Listen::start_unread(&["--tcp", "127.0.0.1:0"]);
    let addr = listen.tcp.unwrap();
    let start_kib = listen.status_kib("VmHWM");

    // Listen's output, read into a file until `stalled`, counting lines.
    let dir = tempfile::tempdir().unwrap();
    let (out, sent) = (dir.path().join("out.jsonl"), dir.path().join("sent.json"));
    let stalled = Arc::new(AtomicBool::new(false));
    let lines = Arc::new(AtomicU64::new(0));
    let reader = {
        let (mut stdout, mut file) = (listen.take_stdout(), std::fs::File::create(&out).unwrap());
        let (stalled, lines) = (stalled.clone(), lines.clone());
        thread::spawn(move || {
            let mut chunk = vec![0; 64 * 1024];
            loop {
                if stalled.load(Relaxed) {
                    thread::sleep(Duration::from_millis(10));
                    continue;
                }
                match stdout.read(&mut chunk).unwrap() {
                    0 => return,
                    n => {
                        file.write_all(&chunk[..n]).unwrap();
                        let newlines = chunk[..n].iter().filter(|&&b| b == b'\n').count();
                        lines.fetch_add(newlines as u64, Relaxed);
                    }
                }
            }
        })
    };
    let to = addr.to_string();
    let bench = thread::spawn(move || {
        crate::util::syslogkit()
            .args(["bench", "--to", &to, "--connections", CONNECTIONS])
            .args(["--count", &MESSAGES.to_string(), "--size", SIZE])
            .args(["--framing", "lf", "--json"])
            .timeout(Duration::from_secs(120))
            .output()
            .unwrap()
    });
    // A debug build parses some tens of thousands of messages a second: give it time.
    let started = Instant::now();
    while lines.load(Relaxed) < READ_BEFORE_THE_STALL {
        assert!(
            started.elapsed() < Duration::from_secs(120),
            "only {} events read: {}",
            lines.load(Relaxed),
            listen.stderr_text()
        );
        thread::sleep(Duration::from_millis(20));
    }
    stalled.store(true, Relaxed);
    wait_until("the senders' bytes to wait in the kernel", || {
        tcp_queued(addr.port()) > WAITING_IN_KERNEL
    });
    // Room for the connections to take in more if they would.
    thread::sleep(Duration::from_secs(1));
    let grown_kib = listen.status_kib("VmHWM") - start_kib;
    eprintln!(
        "VmHWM grew by {grown_kib} KiB (from {start_kib} KiB); {} bytes wait in the kernel",
        tcp_queued(addr.port())
    );
    assert!(
        grown_kib < LIMIT_MIB * 1024,
        "VmHWM grew by {grown_kib} KiB, limit {LIMIT_MIB} MiB"
    );
    // The output is read again, and everything sent arrives.
    stalled.store(false, Relaxed);
    let bench = bench.join().unwrap();
    assert!(bench.status.success(), "{bench:?}");
    std::fs::write(&sent, &bench.stdout).unwrap();
    let stopped = listen.stop();
    reader.join().unwrap();
    assert_eq!(
        summary_count(&stopped.stderr, "events written"),
        MESSAGES,
        "{}",
        stopped.stderr
    );
    let verify = crate::util::syslogkit()
        .args(["bench", "verify", "--json", "--sent"])
        .args([&sent, &out])
        .timeout(Duration::from_secs(120))
        .output()
        .unwrap();
    let report: Value =
        serde_json::from_slice(&verify.stdout).unwrap_or_else(|e| panic!("{e}: {verify:?}"));
    assert_eq!(report["received"], MESSAGES, "{report}");
    assert_eq!(report["missing"], 0, "{report}");
    assert_eq!(report["duplicated"], 0, "{report}");
}

/// The numbers of the latest `--stats` line: (kernel drops, udp dropped), once there is one.
fn udp_losses(stderr: &str) -> Option<(u64, u64)> {
    let line = stderr.lines().rev().find(|l| l.contains(" udp dropped"))?;
    let before = |label: &str| -> u64 {
        let at = line.find(label).unwrap();
        let digits: String = line[..at]
            .chars()
            .rev()
            .take_while(char::is_ascii_digit)
            .collect();
        digits.chars().rev().collect::<String>().parse().unwrap()
    };
    let kernel = if line.contains(" by the kernel)") {
        before(" by the kernel)")
    } else {
        0
    };
    Some((kernel, before(" udp dropped")))
}

// See: #14 (12). rsyslog's omfwd sends 2,000 datagrams as fast as it can: every one is either
// an event or counted as dropped (by the kernel, or for want of room in the queue).
#[test]
fn issue_14_an_rsyslog_udp_burst_is_received_and_every_loss_counted() {
    const N: usize = 2000;
    let listen = Listen::start(&["--udp", "127.0.0.1:0", "--stats", "100ms"]);
    let udp = listen.udp_port();
    let mut rsyslog = crate::peers::rsyslog(&format!(
        r#"module(load="imtcp")
input(type="imtcp" address="127.0.0.1" port="0" listenPortFileName="{{dir}}/port" ruleset="burst")
ruleset(name="burst") {{
  action(type="omfwd" target="127.0.0.1" port="{udp}" protocol="udp")
}}
"#
    ));
    let port = rsyslog.port_from_file("port");
    crate::peers::send_tcp(port, &padded("burst", N, 120));
    // Wait until every datagram is accounted for: an event, or a drop the stats line counts.
    let mut seen = 0;
    wait_until("every datagram to be an event or a counted drop", || {
        let (kernel, queue) = udp_losses(&listen.stderr_text()).unwrap_or((0, 0));
        seen = listen.event_count() as u64 + kernel + queue;
        seen >= N as u64
    });
    drop(rsyslog);
    let stopped = listen.stop();
    let err = &stopped.stderr;
    let received = summary_count(err, "udp)");
    let queue = summary_count(err, "udp datagrams dropped");
    let kernel = if err.contains("by the kernel)") {
        summary_count(err, "by the kernel)")
    } else {
        0
    };
    eprintln!(
        "burst of {N}: {received} received, {kernel} dropped by the kernel, {queue} for want of room"
    );
    assert_eq!(received, stopped.events.len() as u64, "{err}");
    assert_eq!(received + kernel + queue, N as u64, "{err}");
    let mut got = seqs(&stopped.events, "burst");
    got.sort_unstable();
    got.dedup();
    assert_eq!(got.len() as u64, received, "no duplicates, nothing else");
    assert!(
        received >= (N as u64) * 99 / 100,
        "{received} of {N} received: {err}"
    );
}
