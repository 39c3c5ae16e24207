//! One destination of `send`: one address of one `--to` host, with its connection, its share
//! of the traffic ([`Load`]), its reconnection backoff, its counters, and the buffer of framed
//! messages not yet completely written ([`Pending`]).
//!
//! [`Pending`] is pure bookkeeping: which bytes were written, which messages that completes,
//! and which messages must go elsewhere when the connection fails. Writing is
//! [`super::connection`]'s job, deciding where messages go [`super::sender`]'s.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use super::balance::Load;
use super::connection::Conn;
use super::options::{Target, TargetTls};

/// A destination whose unwritten buffer holds this much is blocking.
pub const MAX_PENDING_BYTES: usize = 1024 * 1024;
/// First wait before reconnecting; doubles up to [`MAX_BACKOFF`].
pub const MIN_BACKOFF: Duration = Duration::from_millis(200);
pub const MAX_BACKOFF: Duration = Duration::from_secs(10);

/// Counters of one destination.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DestinationStats {
    /// `host:port` as given, and the address when it differs.
    pub name: String,
    pub messages: u64,
    pub bytes: u64,
    pub connects: u64,
    pub failures: u64,
    pub weight: u32,
    pub up: bool,
}

/// Framed messages not yet completely written: `buf[written..]`, message ends in `ends`, and
/// each message's id (its disk queue record's; 0 without a queue) in `ids`.
#[derive(Debug, Default)]
pub struct Pending {
    buf: Vec<u8>,
    written: usize,
    ends: VecDeque<usize>,
    ids: VecDeque<u64>,
    /// Where the first message in `ends` starts.
    first_start: usize,
}

impl Pending {
    /// Appends one framed message.
    pub fn push(&mut self, framed: &[u8], id: u64) {
        self.buf.extend_from_slice(framed);
        self.ends.push_back(self.buf.len());
        self.ids.push_back(id);
    }

    /// The lowest id of the messages not completely written.
    pub fn min_id(&self) -> Option<u64> {
        self.ids.iter().copied().min()
    }

    /// Bytes not yet written.
    pub fn unwritten(&self) -> usize {
        self.buf.len() - self.written
    }

    /// The bytes to write next.
    pub fn unwritten_bytes(&self) -> &[u8] {
        &self.buf[self.written..]
    }

    /// Messages not completely written (as of the last [`count_written`](Self::count_written)).
    pub fn messages(&self) -> usize {
        self.ends.len()
    }

    /// So much is unwritten that the destination should get no more for now.
    pub fn is_full(&self) -> bool {
        self.unwritten() >= MAX_PENDING_BYTES
    }

    /// Notes that `n` more bytes were written.
    pub fn advance(&mut self, n: usize) {
        self.written = (self.written + n).min(self.buf.len());
    }

    /// The messages written completely since the last call: drops them and says how many.
    pub fn count_written(&mut self) -> u64 {
        let mut done = 0;
        while let Some(&end) = self.ends.front() {
            if end > self.written {
                break;
            }
            self.ends.pop_front();
            self.ids.pop_front();
            self.first_start = end;
            done += 1;
        }
        if self.written == self.buf.len() {
            self.buf.clear();
            self.written = 0;
            self.ends.clear();
            self.ids.clear();
            self.first_start = 0;
        } else if self.first_start > MAX_PENDING_BYTES {
            // Drop the written messages from the front; keep the partly written one whole.
            let cut = self.first_start;
            self.buf.drain(..cut);
            for end in &mut self.ends {
                *end -= cut;
            }
            self.written -= cut;
            self.first_start = 0;
        }
        done
    }

    /// Takes the messages not completely written, framed, in order; a message of which only
    /// a part went out is sent again whole (elsewhere).
    pub fn take_unwritten(&mut self) -> Vec<(u64, Vec<u8>)> {
        let mut start = self.first_start;
        let mut out = Vec::new();
        for (&end, &id) in self.ends.iter().zip(&self.ids) {
            if end > self.written {
                out.push((id, self.buf[start..end].to_vec()));
            }
            start = end;
        }
        self.buf.clear();
        self.ends.clear();
        self.ids.clear();
        self.written = 0;
        self.first_start = 0;
        out
    }
}

/// One address of one `--to` target, kept across DNS periods (with its counters) while the
/// target still resolves to it.
pub struct Destination {
    pub host: String,
    pub port: u16,
    /// `--to …,tls=off`: plain TCP even with `--protocol tls`.
    pub tls: TargetTls,
    /// `--to …,servername=NAME`.
    pub servername: Option<String>,
    pub addr: SocketAddr,
    /// In the current `--max-connections` subset, and still resolved.
    pub active: bool,
    pub load: Load,
    pub conn: Conn,
    pub pending: Pending,
    /// When the connection last took bytes (or got something to take).
    pub last_progress: Instant,
    /// Messages written on the current connection: the ones a receiver that resets it at the
    /// end, or stops reading (`--write-timeout`), may not have read.
    pub conn_messages: u64,
    /// Bytes written on the current connection.
    pub conn_bytes: u64,
    /// Timed out after the end of input: not reconnected, its messages count as not delivered.
    pub given_up: bool,
    pub backoff: Duration,
    pub retry_at: Instant,
    pub stats: DestinationStats,
}

impl Destination {
    pub fn new(target: &Target, addr: SocketAddr, now: Instant) -> Destination {
        let given = format!("{}:{}", target.host, target.port);
        let name = if given == addr.to_string() {
            given
        } else {
            format!("{given} ({addr})")
        };
        Destination {
            host: target.host.clone(),
            port: target.port,
            tls: target.tls,
            servername: target.servername.clone(),
            addr,
            // The sender chooses the active ones (--max-connections).
            active: false,
            load: Load::new(target.weight),
            conn: Conn::Down,
            pending: Pending::default(),
            last_progress: now,
            conn_messages: 0,
            conn_bytes: 0,
            given_up: false,
            backoff: MIN_BACKOFF,
            retry_at: now,
            stats: DestinationStats {
                name,
                weight: target.weight,
                ..DestinationStats::default()
            },
        }
    }

    /// Whether `target` resolved to this destination's address.
    pub fn is_of(&self, target: &Target) -> bool {
        self.host == target.host && self.port == target.port
    }

    pub fn ready(&self) -> bool {
        self.conn.ready()
    }

    /// Can be given a message now: active, connected and not blocking.
    pub fn can_take(&self) -> bool {
        self.active && self.ready() && !self.pending.is_full()
    }

    /// Down, wanted, and to be connected again once `retry_at` comes.
    pub fn retrying(&self) -> bool {
        self.active && !self.given_up && self.conn.is_down()
    }

    pub fn unwritten(&self) -> usize {
        self.pending.unwritten()
    }

    /// Counts the messages written completely since the last call.
    pub fn count_written(&mut self) {
        let done = self.pending.count_written();
        self.stats.messages += done;
        self.conn_messages += done;
    }

    /// A new connection is up: the backoff starts again, and so do its counters.
    pub fn connected(&mut self, now: Instant) {
        self.stats.connects += 1;
        self.backoff = MIN_BACKOFF;
        self.last_progress = now;
        self.conn_messages = 0;
        self.conn_bytes = 0;
    }

    /// The connection failed: it is closed, retried after the backoff (which doubles), and
    /// the messages not completely written are returned to go elsewhere. Returns them and the
    /// wait before the retry.
    pub fn failed(&mut self, now: Instant) -> (Vec<(u64, Vec<u8>)>, Duration) {
        self.conn.close();
        self.stats.failures += 1;
        let backoff = self.backoff;
        self.retry_at = now + backoff;
        self.backoff = (backoff * 2).min(MAX_BACKOFF);
        (self.pending.take_unwritten(), backoff)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pending(messages: &[&[u8]]) -> Pending {
        let mut p = Pending::default();
        for (id, m) in messages.iter().enumerate() {
            p.push(m, id as u64);
        }
        p
    }

    fn destination() -> Destination {
        let t = Target::new("h", 1);
        Destination::new(&t, "127.0.0.1:1".parse().unwrap(), Instant::now())
    }

    #[test]
    fn unwritten_messages_are_the_ones_not_completely_written() {
        let mut p = pending(&[b"aa\n", b"bbb\n", b"c\n"]);
        p.advance(5); // "aa\n" and half of "bbb\n"
        assert_eq!(p.count_written(), 1);
        assert_eq!(p.min_id(), Some(1));
        assert_eq!(
            p.take_unwritten(),
            vec![(1, b"bbb\n".to_vec()), (2, b"c\n".to_vec())]
        );
        assert_eq!(p.unwritten(), 0);
    }

    #[test]
    fn a_message_counts_once_when_written_over_several_calls() {
        let mut p = pending(&[b"hello\n"]);
        p.advance(2);
        assert_eq!(p.count_written(), 0);
        assert_eq!(p.unwritten_bytes(), b"llo\n");
        p.advance(4);
        assert_eq!(p.count_written(), 1);
        assert_eq!(p.count_written(), 0);
        assert_eq!((p.unwritten(), p.messages()), (0, 0));
    }

    #[test]
    fn written_messages_are_dropped_from_the_front_of_a_long_buffer() {
        let big = vec![b'x'; MAX_PENDING_BYTES];
        let mut p = pending(&[&big, b"a\n", b"b\n"]);
        p.advance(big.len() + 1); // the big one and half of "a\n"
        assert_eq!(p.count_written(), 1);
        assert_eq!(p.unwritten_bytes(), b"\nb\n");
        assert_eq!(
            p.take_unwritten(),
            vec![(1, b"a\n".to_vec()), (2, b"b\n".to_vec())]
        );
    }

    #[test]
    fn a_destination_with_a_megabyte_unwritten_is_blocking() {
        let mut p = pending(&[&vec![b'x'; MAX_PENDING_BYTES - 1]]);
        assert!(!p.is_full());
        p.push(b"\n", 1);
        assert!(p.is_full());
        p.advance(1);
        assert!(!p.is_full());
    }

    #[test]
    fn a_failing_destination_backs_off_doubling_up_to_the_maximum() {
        let mut d = destination();
        d.pending.push(b"lost?\n", 7);
        let now = Instant::now();
        let (orphans, wait) = d.failed(now);
        assert_eq!(
            (orphans, wait),
            (vec![(7, b"lost?\n".to_vec())], MIN_BACKOFF)
        );
        assert_eq!(d.failed(now).1, MIN_BACKOFF * 2);
        for _ in 0..10 {
            d.failed(now);
        }
        assert_eq!(d.failed(now).1, MAX_BACKOFF);
        assert_eq!(d.retry_at, now + MAX_BACKOFF);
        d.connected(now);
        assert_eq!(d.failed(now).1, MIN_BACKOFF);
        assert_eq!(d.stats.failures, 14);
    }

    #[test]
    fn a_name_shows_the_address_when_the_host_is_a_name() {
        let t = Target {
            weight: 2,
            ..Target::new("localhost", 514)
        };
        let d = Destination::new(&t, "127.0.0.1:514".parse().unwrap(), Instant::now());
        assert_eq!(d.stats.name, "localhost:514 (127.0.0.1:514)");
        let t = Target {
            host: "127.0.0.1".into(),
            ..t
        };
        let d = Destination::new(&t, "127.0.0.1:514".parse().unwrap(), Instant::now());
        assert_eq!(d.stats.name, "127.0.0.1:514");
    }
}
