//! Real peers for network tests: rsyslog and syslog-ng run in the foreground on 127.0.0.1 with a
//! config in a temporary directory and are killed on drop; a capture listener records what a
//! sender writes. Every wait has a timeout and fails with the daemon's output.
//! `scripts/install-peers.sh` installs the peers.

use std::fs;
use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::thread;
use std::time::{Duration, Instant};

/// How long a peer gets to start, or to deliver what it was sent.
pub const PEER_TIMEOUT: Duration = Duration::from_secs(20);
const POLL: Duration = Duration::from_millis(25);

/// A daemon running in the foreground with its files in a temporary directory.
pub struct Daemon {
    name: &'static str,
    child: Child,
    dir: tempfile::TempDir,
}

impl Daemon {
    /// `name` inside [`dir`](Self::dir).
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    /// Panics with the daemon's output when it has exited.
    fn check_running(&mut self, waiting_for: &str) {
        if let Ok(Some(status)) = self.child.try_wait() {
            panic!(
                "{} exited ({status}) while waiting for {waiting_for}; its output:\n{}",
                self.name,
                self.output()
            );
        }
    }

    fn output(&self) -> String {
        fs::read_to_string(self.path("daemon.log")).unwrap_or_default()
    }

    /// Waits until `path` holds at least `n` lines and returns them.
    pub fn wait_for_lines(&mut self, path: &Path, n: usize) -> Vec<String> {
        let deadline = Instant::now() + PEER_TIMEOUT;
        loop {
            let text = fs::read_to_string(path).unwrap_or_default();
            let complete = text.rfind('\n').map_or("", |end| &text[..=end]);
            let lines: Vec<String> = complete.lines().map(str::to_string).collect();
            if lines.len() >= n {
                return lines;
            }
            self.check_running(&format!("{n} lines in {}", path.display()));
            assert!(
                Instant::now() < deadline,
                "{}: {} has {} of {n} lines after {PEER_TIMEOUT:?}:\n{text}\n{} output:\n{}",
                self.name,
                path.display(),
                lines.len(),
                self.name,
                self.output()
            );
            thread::sleep(POLL);
        }
    }

    /// Waits until `127.0.0.1:port` accepts connections.
    pub fn wait_for_port(&mut self, port: u16) {
        let deadline = Instant::now() + PEER_TIMEOUT;
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            self.check_running(&format!("port {port}"));
            assert!(
                Instant::now() < deadline,
                "{} does not listen on 127.0.0.1:{port} after {PEER_TIMEOUT:?}; its output:\n{}",
                self.name,
                self.output()
            );
            thread::sleep(POLL);
        }
    }

    /// The port written to `name` in the daemon's directory (rsyslog's imtcp
    /// `port="0" listenPortFileName="{dir}/NAME"`), once it is there.
    pub fn port_from_file(&mut self, name: &str) -> u16 {
        let path = self.path(name);
        let text = self.wait_for_file(&path);
        text.trim()
            .parse()
            .unwrap_or_else(|_| panic!("{}: not a port: {text:?}", path.display()))
    }

    /// Waits until the daemon writes a file and returns its content.
    pub fn wait_for_file(&mut self, path: &Path) -> String {
        let deadline = Instant::now() + PEER_TIMEOUT;
        loop {
            if let Ok(text) = fs::read_to_string(path)
                && !text.trim().is_empty()
            {
                return text;
            }
            self.check_running(&path.display().to_string());
            assert!(
                Instant::now() < deadline,
                "{} did not write {} after {PEER_TIMEOUT:?}; its output:\n{}",
                self.name,
                path.display(),
                self.output()
            );
            thread::sleep(POLL);
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn spawn(name: &'static str, dir: tempfile::TempDir, program: &str, args: &[&str]) -> Daemon {
    let log = fs::File::create(dir.path().join("daemon.log")).unwrap();
    let child = Command::new(program)
        .args(args)
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(log.try_clone().unwrap())
        .stderr(log)
        .spawn()
        .unwrap_or_else(|e| {
            panic!("cannot start {program} ({e}): run scripts/install-peers.sh first")
        });
    Daemon { name, child, dir }
}

/// rsyslog with `config` (in which `{dir}` stands for the daemon's directory, which is also its
/// work directory): `rsyslogd -n -f CONF -i PIDFILE`.
pub fn rsyslog(config: &str) -> Daemon {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap().to_string();
    let config = format!(
        "global(workDirectory=\"{d}\")\n{}",
        config.replace("{dir}", &d)
    );
    let conf = dir.path().join("rsyslog.conf");
    fs::write(&conf, config).unwrap();
    let pid = dir.path().join("rsyslog.pid");
    spawn(
        "rsyslogd",
        dir,
        "rsyslogd",
        &[
            "-n",
            "-f",
            conf.to_str().unwrap(),
            "-i",
            pid.to_str().unwrap(),
        ],
    )
}

/// syslog-ng 3.38 with `config` (after `@version`; `{dir}` stands for the daemon's
/// directory): `syslog-ng -F -f CONF -R PERSIST -p PID -c CTL`.
pub fn syslog_ng(config: &str) -> Daemon {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap().to_string();
    let config = format!("@version: 3.38\n{}", config.replace("{dir}", &d));
    let conf = dir.path().join("syslog-ng.conf");
    fs::write(&conf, config).unwrap();
    let file = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let (persist, pid, ctl) = (file("persist"), file("pid"), file("ctl"));
    spawn(
        "syslog-ng",
        dir,
        "syslog-ng",
        &[
            "-F",
            "-f",
            conf.to_str().unwrap(),
            "-R",
            &persist,
            "-p",
            &pid,
            "-c",
            &ctl,
        ],
    )
}

/// A port that was free a moment ago, for peers that cannot be told to pick one (syslog-ng).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Writes `bytes` to `127.0.0.1:port` and closes the connection.
pub fn send_tcp(port: u16, bytes: &[u8]) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
    stream.write_all(bytes).unwrap();
    stream.shutdown(std::net::Shutdown::Write).unwrap();
}

/// A TCP listener on 127.0.0.1 and an OS-chosen port that records every byte sent to it, over
/// any number of connections, one after the other.
pub struct Capture {
    listener: TcpListener,
}

impl Capture {
    pub fn new() -> Capture {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.set_nonblocking(true).unwrap();
        Capture { listener }
    }

    pub fn port(&self) -> u16 {
        self.listener.local_addr().unwrap().port()
    }

    /// Reads until `done` says the bytes received so far are complete, and returns them.
    /// Panics with what arrived after [`PEER_TIMEOUT`].
    pub fn collect(&self, done: impl Fn(&[u8]) -> bool) -> Vec<u8> {
        let deadline = Instant::now() + PEER_TIMEOUT;
        let mut received = Vec::new();
        let mut connections: Vec<TcpStream> = Vec::new();
        let mut buf = [0u8; 64 * 1024];
        while !done(&received) {
            assert!(
                Instant::now() < deadline,
                "capture on port {}: incomplete after {PEER_TIMEOUT:?}: {:?}",
                self.port(),
                String::from_utf8_lossy(&received)
            );
            match self.listener.accept() {
                Ok((stream, _)) => {
                    stream.set_nonblocking(true).unwrap();
                    connections.push(stream);
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                Err(e) => panic!("accept: {e}"),
            }
            let mut idle = true;
            connections.retain_mut(|c| match c.read(&mut buf) {
                Ok(0) => false,
                Ok(n) => {
                    received.extend_from_slice(&buf[..n]);
                    idle = false;
                    true
                }
                Err(e) if e.kind() == ErrorKind::WouldBlock => true,
                Err(e) => panic!("read: {e}"),
            });
            if idle {
                thread::sleep(POLL);
            }
        }
        received
    }
}

/// A TCP receiver on 127.0.0.1 that counts LF-terminated lines in a thread, and can be
/// stopped (every connection closed at once, as a killed daemon's would be, unread bytes
/// lost) and started again on the same port.
pub struct LineReceiver {
    ip: std::net::IpAddr,
    port: u16,
    lines: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
    accepted: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    discarded: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    stop: Option<std::sync::Arc<std::sync::atomic::AtomicBool>>,
    thread: Option<thread::JoinHandle<()>>,
}

impl LineReceiver {
    pub fn new() -> LineReceiver {
        LineReceiver::bind(std::net::SocketAddr::from(([127, 0, 0, 1], 0))).unwrap()
    }

    /// A receiver on `addr` (port 0: one the OS picks); fails when the address is taken.
    pub fn bind(addr: std::net::SocketAddr) -> std::io::Result<LineReceiver> {
        let mut r = LineReceiver {
            ip: addr.ip(),
            port: addr.port(),
            lines: Default::default(),
            accepted: Default::default(),
            discarded: Default::default(),
            stop: None,
            thread: None,
        };
        r.try_start()?;
        Ok(r)
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    pub fn ip(&self) -> std::net::IpAddr {
        self.ip
    }

    /// Lines received so far.
    pub fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    pub fn count(&self) -> usize {
        self.lines.lock().unwrap().len()
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Lines that stops threw away: those that had reached this receiver's kernel buffers (or
    /// its half-read last line) but not its list when every connection was closed.
    pub fn discarded(&self) -> usize {
        self.discarded.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Starts listening (again, on the same port once it had one).
    pub fn start(&mut self) {
        self.try_start().unwrap();
    }

    fn try_start(&mut self) -> std::io::Result<()> {
        use std::sync::atomic::{AtomicBool, Ordering};
        let listener = TcpListener::bind((self.ip, self.port))?;
        self.port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let stop = std::sync::Arc::new(AtomicBool::new(false));
        let (lines, flag, accepted) = (self.lines.clone(), stop.clone(), self.accepted.clone());
        let discarded = self.discarded.clone();
        self.stop = Some(stop);
        self.thread = Some(thread::spawn(move || {
            let mut connections: Vec<(TcpStream, Vec<u8>)> = Vec::new();
            let mut buf = [0u8; 64 * 1024];
            while !flag.load(Ordering::SeqCst) {
                while let Ok((s, _)) = listener.accept() {
                    s.set_nonblocking(true).unwrap();
                    accepted.fetch_add(1, Ordering::SeqCst);
                    connections.push((s, Vec::new()));
                }
                let mut idle = true;
                connections.retain_mut(|(c, partial)| match c.read(&mut buf) {
                    Ok(0) => false,
                    Ok(n) => {
                        idle = false;
                        partial.extend_from_slice(&buf[..n]);
                        if let Some(end) = partial.iter().rposition(|&b| b == b'\n') {
                            let text = String::from_utf8_lossy(&partial[..end]).into_owned();
                            lines
                                .lock()
                                .unwrap()
                                .extend(text.split('\n').map(str::to_string));
                            partial.drain(..=end);
                        }
                        true
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => true,
                    Err(_) => false,
                });
                if idle {
                    thread::sleep(Duration::from_millis(2));
                }
            }
            // Closing a socket with unread bytes resets it and the bytes are gone: count the
            // lines among them (peeked, not read, so that the close still resets).
            let mut queued = vec![0u8; 32 << 20];
            for (c, partial) in &connections {
                let n = c.peek(&mut queued).unwrap_or(0);
                let queued = &queued[..n];
                let cut = !queued.is_empty() && !queued.ends_with(b"\n")
                    || queued.is_empty() && !partial.is_empty();
                let lost = queued.iter().filter(|&&b| b == b'\n').count() + usize::from(cut);
                discarded.fetch_add(lost, Ordering::SeqCst);
            }
        }));
        Ok(())
    }

    /// Closes the listener and every connection at once.
    pub fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            stop.store(true, std::sync::atomic::Ordering::SeqCst);
        }
        if let Some(t) = self.thread.take() {
            t.join().unwrap();
        }
    }

    /// Waits until at least `n` lines arrived; panics with the count after [`PEER_TIMEOUT`].
    pub fn wait_for(&self, n: usize) {
        let deadline = Instant::now() + PEER_TIMEOUT;
        while self.count() < n {
            assert!(
                Instant::now() < deadline,
                "receiver on port {}: {} of {n} lines after {PEER_TIMEOUT:?}",
                self.port,
                self.count()
            );
            thread::sleep(POLL);
        }
    }
}

impl Drop for LineReceiver {
    fn drop(&mut self) {
        self.stop();
    }
}

/// A TCP receiver on 127.0.0.1 that accepts every connection and never reads from it: the
/// kernel buffers fill and then the sender's writes stall, as with a hung daemon.
pub struct StuckReceiver {
    port: u16,
    accepted: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
    thread: Option<thread::JoinHandle<()>>,
}

impl StuckReceiver {
    pub fn new() -> StuckReceiver {
        use std::sync::atomic::Ordering;
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        listener.set_nonblocking(true).unwrap();
        let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (count, flag) = (accepted.clone(), stop.clone());
        let thread = thread::spawn(move || {
            let mut held = Vec::new();
            while !flag.load(Ordering::SeqCst) {
                while let Ok((s, _)) = listener.accept() {
                    count.fetch_add(1, Ordering::SeqCst);
                    held.push(s);
                }
                thread::sleep(Duration::from_millis(5));
            }
        });
        StuckReceiver {
            port,
            accepted,
            stop,
            thread: Some(thread),
        }
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Connections accepted so far.
    pub fn accepted(&self) -> usize {
        self.accepted.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl Drop for StuckReceiver {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// haproxy 2.6 in the foreground (`haproxy -db -f CONF`) with `config` after a `mode tcp`
/// `defaults` section; `{dir}` stands for the daemon's directory.
pub fn haproxy(config: &str) -> Daemon {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap().to_string();
    let config = format!(
        "defaults\n  mode tcp\n  timeout connect 5s\n  timeout client 30s\n  timeout server 30s\n{}",
        config.replace("{dir}", &d)
    );
    let conf = dir.path().join("haproxy.cfg");
    fs::write(&conf, config).unwrap();
    let program = ["/usr/sbin/haproxy", "haproxy"]
        .into_iter()
        .find(|p| Path::new(p).exists())
        .unwrap_or("haproxy");
    spawn(
        "haproxy",
        dir,
        program,
        &["-db", "-f", conf.to_str().unwrap()],
    )
}
