//! A running `syslogkit listen` for tests: started on 127.0.0.1 port 0, its bound addresses
//! read from stderr, its events read from stdout by a thread, every wait bounded.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use serde_json::Value;

/// How long any wait in these tests may take before it fails.
pub const WAIT: Duration = Duration::from_secs(20);

pub struct Listen {
    child: Child,
    pub tcp: Option<SocketAddr>,
    pub udp: Option<SocketAddr>,
    pub tls: Option<SocketAddr>,
    pub relp: Option<SocketAddr>,
    stdout: Arc<Mutex<Vec<String>>>,
    stderr: Arc<Mutex<Vec<String>>>,
    readers: Vec<thread::JoinHandle<()>>,
    /// Stdout when the test reads it itself ([`Listen::start_unread`]).
    unread: Option<ChildStdout>,
}

/// What a stopped listener left.
pub struct Stopped {
    pub events: Vec<Value>,
    pub stderr: String,
    pub status: ExitStatus,
}

impl Listen {
    /// Starts `syslogkit listen ARGS` and waits until it has printed one "listening on" line
    /// per `--tcp`, `--udp`, `--tls` and `--relp` in `args`.
    pub fn start(args: &[&str]) -> Listen {
        Listen::spawn(args, true)
    }

    /// As [`start`](Self::start), but nothing reads stdout: the test takes it with
    /// [`take_stdout`](Self::take_stdout) and reads it at its own pace.
    pub fn start_unread(args: &[&str]) -> Listen {
        Listen::spawn(args, false)
    }

    /// As [`start`](Self::start), run as `WRAPPER... syslogkit listen ARGS` (`unshare`, `sh
    /// -c`): the child is the wrapper's first program.
    pub fn start_wrapped(wrapper: &[&str], args: &[&str]) -> Listen {
        Listen::spawn_in(wrapper, args, true)
    }

    fn spawn(args: &[&str], read_stdout: bool) -> Listen {
        Listen::spawn_in(&[], args, read_stdout)
    }

    fn spawn_in(wrapper: &[&str], args: &[&str], read_stdout: bool) -> Listen {
        let expected = args
            .iter()
            .filter(|a| matches!(**a, "--tcp" | "--udp" | "--tls" | "--relp"))
            .count();
        let bin = env!("CARGO_BIN_EXE_syslogkit");
        let mut cmd = match wrapper.split_first() {
            None => Command::new(bin),
            Some((program, rest)) => {
                let mut cmd = Command::new(program);
                cmd.args(rest).arg(bin);
                cmd
            }
        };
        let mut child = cmd
            .arg("listen")
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start syslogkit listen");
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let stderr = Arc::new(Mutex::new(Vec::new()));
        let mut readers = vec![collect(child.stderr.take().unwrap(), stderr.clone())];
        let unread = if read_stdout {
            readers.push(collect(child.stdout.take().unwrap(), stdout.clone()));
            None
        } else {
            child.stdout.take()
        };
        let mut listen = Listen {
            child,
            tcp: None,
            udp: None,
            tls: None,
            relp: None,
            stdout,
            stderr,
            readers,
            unread,
        };
        let started = Instant::now();
        loop {
            let lines = listen.stderr.lock().unwrap().clone();
            let bound: Vec<&str> = lines
                .iter()
                .filter_map(|l| l.strip_prefix("syslogkit listen: listening on "))
                .collect();
            if bound.len() >= expected {
                for b in bound {
                    let (addr, proto) = b.rsplit_once('/').unwrap();
                    let addr = Some(addr.parse().unwrap());
                    match proto {
                        "tcp" => listen.tcp = listen.tcp.or(addr),
                        "udp" => listen.udp = listen.udp.or(addr),
                        "tls" => listen.tls = listen.tls.or(addr),
                        "relp" => listen.relp = listen.relp.or(addr),
                        _ => panic!("unknown protocol in {b}"),
                    }
                }
                return listen;
            }
            if let Ok(Some(status)) = listen.child.try_wait() {
                panic!("listen exited with {status}: {}", lines.join("\n"));
            }
            assert!(
                started.elapsed() < WAIT,
                "listen did not report its addresses: {lines:?}"
            );
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// The pipe of a listener started with [`start_unread`](Self::start_unread).
    pub fn take_stdout(&mut self) -> ChildStdout {
        self.unread.take().expect("started with start_unread")
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// A field of `/proc/PID/status` in KiB (`VmRSS`, `VmHWM`).
    pub fn status_kib(&self, field: &str) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
            .and_then(|v| v.trim().strip_suffix("kB")?.trim().parse().ok())
            .unwrap_or_else(|| panic!("no {field} in {status}"))
    }

    /// Waits until a line of stderr satisfies `pred` and returns it.
    pub fn stderr_line(&self, pred: impl Fn(&str) -> bool) -> String {
        let started = Instant::now();
        loop {
            if let Some(line) = self.stderr.lock().unwrap().iter().find(|l| pred(l)) {
                return line.clone();
            }
            assert!(
                started.elapsed() < WAIT,
                "no such line on stderr: {}",
                self.stderr_text()
            );
            thread::sleep(Duration::from_millis(10));
        }
    }

    pub fn tcp_port(&self) -> String {
        self.tcp.expect("a --tcp listener").port().to_string()
    }

    pub fn udp_port(&self) -> String {
        self.udp.expect("a --udp listener").port().to_string()
    }

    /// Waits until at least `n` events have arrived and returns them all.
    pub fn events(&self, n: usize) -> Vec<Value> {
        let started = Instant::now();
        loop {
            let lines = self.stdout.lock().unwrap().clone();
            if lines.len() >= n {
                return lines.iter().map(|l| parse(l)).collect();
            }
            assert!(
                started.elapsed() < WAIT,
                "expected {n} events, got {}: {lines:#?}\nstderr: {}",
                lines.len(),
                self.stderr_text()
            );
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Events so far, without waiting.
    pub fn event_count(&self) -> usize {
        self.stdout.lock().unwrap().len()
    }

    pub fn stderr_text(&self) -> String {
        self.stderr.lock().unwrap().join("\n")
    }

    /// Sends SIGTERM and waits for the exit and the end of the output.
    pub fn stop(self) -> Stopped {
        signal(self.child.id(), libc::SIGTERM);
        self.wait_exit()
    }

    /// Waits for an exit `listen` makes by itself, and the end of its output.
    pub fn wait_exit(mut self) -> Stopped {
        let started = Instant::now();
        let status = loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                break status;
            }
            assert!(
                started.elapsed() < WAIT,
                "listen did not stop: {}",
                self.stderr_text()
            );
            thread::sleep(Duration::from_millis(10));
        };
        for reader in self.readers.drain(..) {
            reader.join().unwrap();
        }
        let events = self
            .stdout
            .lock()
            .unwrap()
            .iter()
            .map(|l| parse(l))
            .collect();
        Stopped {
            events,
            stderr: self.stderr_text(),
            status,
        }
    }
}

impl Drop for Listen {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

pub fn signal(pid: u32, signal: i32) {
    // SAFETY: kill(2) on a child this test started.
    let rc = unsafe { libc::kill(pid as i32, signal) };
    assert_eq!(rc, 0, "kill {pid}");
}

fn parse(line: &str) -> Value {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
}

fn collect(
    pipe: impl std::io::Read + Send + 'static,
    into: Arc<Mutex<Vec<String>>>,
) -> thread::JoinHandle<()> {
    thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            into.lock().unwrap().push(line);
        }
    })
}

/// Runs a peer command to completion, failing the test if it fails or hangs.
pub fn run(cmd: &mut Command) {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot run {cmd:?}: {e} (scripts/install-peers.sh installs the peers)")
        });
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            std::io::Read::read_to_string(child.stderr.as_mut().unwrap(), &mut err).unwrap();
            assert!(status.success(), "{cmd:?} failed with {status}: {err}");
            return;
        }
        if started.elapsed() > WAIT {
            let _ = child.kill();
            panic!("{cmd:?} did not finish within {WAIT:?}");
        }
        thread::sleep(Duration::from_millis(10));
    }
}

/// A daemon (rsyslogd, syslog-ng) in the foreground, killed when dropped.
pub struct Daemon(pub Child);

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}
