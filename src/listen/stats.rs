//! Counters shared by every task, the `--stats` lines and the final summary, rate-limited
//! warnings, and the kernel's UDP drop counts.

use std::fmt;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// Warnings printed per second at most; the rest are counted and the count printed.
const WARNINGS_PER_SECOND: u32 = 10;

/// Live counters; every field only grows, except `open`.
#[derive(Debug, Default)]
pub struct Counters {
    pub open: AtomicU64,
    pub connections: AtomicU64,
    pub refused: AtomicU64,
    pub refused_per_source: AtomicU64,
    pub idle_closed: AtomicU64,
    pub frame_timeouts: AtomicU64,
    pub cut_partials: AtomicU64,
    pub tls_failed: AtomicU64,
    pub proxy_refused: AtomicU64,
    pub tcp_messages: AtomicU64,
    pub udp_messages: AtomicU64,
    pub bytes: AtomicU64,
    pub parse_errors: AtomicU64,
    pub frame_errors: AtomicU64,
    pub udp_dropped: AtomicU64,
    pub written: AtomicU64,
    pub output_full: AtomicU64,
}

/// A copy of the counters at one moment; the final one is what `listen` returns.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ListenSummary {
    /// Connections open now.
    pub open: u64,
    /// Connections accepted (TCP and TLS), refused ones not included.
    pub connections: u64,
    /// Connections closed at once because `--max-connections` were open (or, counted in both,
    /// `--max-connections-per-source` from their address).
    pub refused: u64,
    /// Connections closed at once because `--max-connections-per-source` were open from their
    /// address.
    pub refused_per_source: u64,
    /// Connections closed by `--idle-timeout`.
    pub idle_closed: u64,
    /// Connections closed by `--frame-timeout`: a message begun and not finished in time.
    pub frame_timeouts: u64,
    /// Partial messages cut short into error events because `--max-buffered-bytes` was reached.
    pub cut_partials: u64,
    /// TLS handshakes that failed (no or a bad client certificate, not TLS at all…).
    pub tls_failed: u64,
    /// Connections closed for their PROXY header: from a peer not in
    /// `--proxy-protocol-from`, missing, malformed or too slow.
    pub proxy_refused: u64,
    pub tcp_messages: u64,
    pub udp_messages: u64,
    /// Bytes received (TCP payload and UDP datagrams).
    pub bytes: u64,
    /// Events carrying `error.message`.
    pub parse_errors: u64,
    /// Frames that were oversized, cut short or had a bad length prefix.
    pub frame_errors: u64,
    /// Datagrams received but dropped because the output queue was full.
    pub udp_dropped: u64,
    /// Datagrams the kernel dropped on our sockets (full receive buffer), where it says.
    pub kernel_dropped: Option<u64>,
    /// Events written whole to the output.
    pub written: u64,
    /// Times a full output (ENOSPC, EDQUOT, EFBIG) was reported while retrying.
    pub output_full: u64,
    pub elapsed: Duration,
}

impl ListenSummary {
    pub fn messages(&self) -> u64 {
        self.tcp_messages + self.udp_messages
    }

    /// Messages received and handed to the writer whose events were never written (the output
    /// failed).
    pub fn unwritten(&self) -> u64 {
        self.messages().saturating_sub(self.written)
    }
}

impl Counters {
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Relaxed);
    }

    pub fn snapshot(&self, started: Instant, kernel_dropped: Option<u64>) -> ListenSummary {
        ListenSummary {
            open: self.open.load(Relaxed),
            connections: self.connections.load(Relaxed),
            refused: self.refused.load(Relaxed),
            refused_per_source: self.refused_per_source.load(Relaxed),
            idle_closed: self.idle_closed.load(Relaxed),
            frame_timeouts: self.frame_timeouts.load(Relaxed),
            cut_partials: self.cut_partials.load(Relaxed),
            tls_failed: self.tls_failed.load(Relaxed),
            proxy_refused: self.proxy_refused.load(Relaxed),
            tcp_messages: self.tcp_messages.load(Relaxed),
            udp_messages: self.udp_messages.load(Relaxed),
            bytes: self.bytes.load(Relaxed),
            parse_errors: self.parse_errors.load(Relaxed),
            frame_errors: self.frame_errors.load(Relaxed),
            udp_dropped: self.udp_dropped.load(Relaxed),
            kernel_dropped,
            written: self.written.load(Relaxed),
            output_full: self.output_full.load(Relaxed),
            elapsed: started.elapsed(),
        }
    }
}

/// The final summary line.
impl fmt::Display for ListenSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.elapsed.as_secs_f64();
        write!(
            f,
            "{} messages ({} tcp, {} udp), {} bytes in {:.3} s; {} events written, {} not written; {} connections ({} refused, {} of them per source, {} idle closed, {} frame timeouts, {} failed TLS handshakes, {} refused PROXY headers); {} parse errors, {} frame errors, {} partial messages cut (buffer limit); {} times output full; {} udp datagrams dropped",
            self.messages(),
            self.tcp_messages,
            self.udp_messages,
            self.bytes,
            secs,
            self.written,
            self.unwritten(),
            self.connections,
            self.refused,
            self.refused_per_source,
            self.idle_closed,
            self.frame_timeouts,
            self.tls_failed,
            self.proxy_refused,
            self.parse_errors,
            self.frame_errors,
            self.cut_partials,
            self.output_full,
            self.udp_dropped,
        )?;
        if let Some(kernel) = self.kernel_dropped {
            write!(f, " (+{kernel} by the kernel)")?;
        }
        Ok(())
    }
}

/// One `--stats` line: the rates since `previous`.
pub fn interval_line(now: &ListenSummary, previous: &ListenSummary) -> String {
    let secs = (now.elapsed - previous.elapsed).as_secs_f64().max(1e-9);
    let rate = |a: u64, b: u64| (a.saturating_sub(b)) as f64 / secs;
    format!(
        "syslogkit listen: {} open connections ({} total, {} refused), {:.0} msg/s, {:.0} B/s, {} parse errors, {} udp dropped{}; {} refused per source, {} frame timeouts, {} partial messages cut, {} written, {} times output full",
        now.open,
        now.connections,
        now.refused,
        rate(now.messages(), previous.messages()),
        rate(now.bytes, previous.bytes),
        now.parse_errors,
        now.udp_dropped,
        now.kernel_dropped
            .map(|k| format!(" (+{k} by the kernel)"))
            .unwrap_or_default(),
        now.refused_per_source,
        now.frame_timeouts,
        now.cut_partials,
        now.written,
        now.output_full,
    )
}

/// Warnings on stderr, at most [`WARNINGS_PER_SECOND`]; the ones over are counted and the
/// count printed with the next warning that passes, so one hostile client cannot flood stderr.
#[derive(Debug)]
pub struct Warnings {
    state: Mutex<WarnState>,
}

#[derive(Debug)]
struct WarnState {
    window: Instant,
    printed: u32,
    suppressed: u64,
}

impl Default for Warnings {
    fn default() -> Self {
        Warnings {
            state: Mutex::new(WarnState {
                window: Instant::now(),
                printed: 0,
                suppressed: 0,
            }),
        }
    }
}

impl Warnings {
    /// Prints `syslogkit listen: MESSAGE` unless too many were printed this second.
    pub fn warn(&self, message: impl FnOnce() -> String) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.window.elapsed() >= Duration::from_secs(1) {
            if state.suppressed > 0 {
                eprintln!(
                    "syslogkit listen: {} more warnings suppressed",
                    state.suppressed
                );
            }
            *state = WarnState {
                window: Instant::now(),
                printed: 0,
                suppressed: 0,
            };
        }
        if state.printed < WARNINGS_PER_SECOND {
            state.printed += 1;
            eprintln!("syslogkit listen: {}", message());
        } else {
            state.suppressed += 1;
        }
    }

    /// Prints the count of warnings not printed yet (at the end).
    pub fn flush(&self) {
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        if state.suppressed > 0 {
            eprintln!(
                "syslogkit listen: {} more warnings suppressed",
                state.suppressed
            );
            state.suppressed = 0;
        }
    }
}

/// Datagrams the kernel dropped on the sockets with these inodes: the `drops` column of
/// `/proc/net/udp` and `/proc/net/udp6`. `None` where the platform does not show it.
pub fn kernel_udp_drops(inodes: &[u64]) -> Option<u64> {
    if inodes.is_empty() {
        return None;
    }
    let mut found = false;
    let mut total = 0;
    for table in ["/proc/net/udp", "/proc/net/udp6"] {
        let Ok(text) = std::fs::read_to_string(table) else {
            continue;
        };
        for line in text.lines().skip(1) {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // sl local rem st tx:rx tr:when retrnsmt uid timeout inode ref pointer drops
            let (Some(inode), Some(drops)) = (fields.get(9), fields.get(12)) else {
                continue;
            };
            if let (Ok(inode), Ok(drops)) = (inode.parse::<u64>(), drops.parse::<u64>())
                && inodes.contains(&inode)
            {
                found = true;
                total += drops;
            }
        }
    }
    found.then_some(total)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_drops_of_an_open_udp_socket_are_found_and_zero() {
        use std::os::unix::fs::MetadataExt;
        use std::os::unix::io::AsRawFd;
        let socket = std::net::UdpSocket::bind("127.0.0.1:0").unwrap();
        let inode = std::fs::metadata(format!("/proc/self/fd/{}", socket.as_raw_fd()))
            .unwrap()
            .ino();
        assert_eq!(kernel_udp_drops(&[inode]), Some(0));
        assert_eq!(kernel_udp_drops(&[]), None);
    }

    #[test]
    fn summary_names_every_counter() {
        let s = ListenSummary {
            tcp_messages: 3,
            udp_messages: 2,
            kernel_dropped: Some(7),
            ..ListenSummary::default()
        };
        let text = s.to_string();
        assert!(text.starts_with("5 messages (3 tcp, 2 udp)"), "{text}");
        assert!(text.ends_with("(+7 by the kernel)"), "{text}");
    }
}
