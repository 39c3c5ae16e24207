//! The destinations of one `send` run and their connections, on one thread that waits on
//! [`super::poll`]: resolving the targets ([`super::resolve`]), connecting and reconnecting
//! with backoff, picking the destination for each message ([`super::balance`]), writing the
//! buffers, noticing a peer that closed or stopped reading, and closing cleanly at the end.
//!
//! This file holds the destinations and the choices about them (which addresses, which
//! destination takes a message); [`pump`] drives their connections: connects, readiness,
//! writes, timeouts, failures and the clean close.
//!
//! What happens to a message no destination can take (wait, drop, the disk queue) and the
//! throttle are [`super::sender`]'s job; the socket protocol is [`super::connection`]'s.

mod pump;

use std::collections::VecDeque;
use std::net::{SocketAddr, ToSocketAddrs};
use std::time::{Duration, Instant};

use super::balance::{self, Periods};
use super::connection::{self, Conn};
use super::destination::{Destination, DestinationStats};
use super::options::Target;
use super::resolve::{self, Rotation};
use super::sender::StartError;
use super::tls::ClientTls;
use crate::framing::proxy::ProxyVersion;
use crate::transport::Protocol;

/// A destination's buffer is written when it holds this much.
pub const FLUSH_BYTES: usize = 64 * 1024;

/// What the pool needs from the flags.
pub struct PoolConfig {
    pub targets: Vec<Target>,
    pub protocol: Protocol,
    pub tls: Option<ClientTls>,
    pub tls_servername: Option<String>,
    pub connect_timeout: Duration,
    pub write_timeout: Duration,
    pub lb_stats_period: Duration,
    pub dns_resolution_period: Duration,
    pub exclude_self: bool,
    pub max_connections: usize,
    /// A PROXY header first on every TCP and TLS connection.
    pub proxy_header: Option<ProxyVersion>,
    /// Messages of failed connections are kept for the caller ([`Pool::take_orphans`]) instead
    /// of going to the other destinations: the disk queue takes them back, in order.
    pub keep_orphans: bool,
}

/// A notice for the user (connection lost, reconnecting).
pub type Notice = Box<dyn FnMut(&str)>;

/// The destinations of one run; see the module documentation. Nothing connects until the
/// first [`Pool::resolve`] and [`Pool::pump`].
pub struct Pool {
    config: PoolConfig,
    destinations: Vec<Destination>,
    /// Messages of failed connections (with their ids), sent before new ones.
    orphans: VecDeque<(u64, Vec<u8>)>,
    lb_periods: Periods,
    dns_periods: Periods,
    rotation: Rotation,
    /// UDP datagrams the kernel refused twice.
    dropped: u64,
    /// Messages written that a receiver may not have read (see [`Pool::close_all`]).
    undelivered: u64,
    /// The input has ended: a destination that times out is given up, not reconnected.
    finishing: bool,
    /// [`super::Sender::start`] is making the first connections: without a queue, a start
    /// where none connects is the end of the run, so a failure there promises no reconnect.
    starting: bool,
    notice: Notice,
}

impl Pool {
    pub fn new(config: PoolConfig, notice: Notice, now: Instant) -> Pool {
        Pool {
            lb_periods: Periods::new(config.lb_stats_period, now),
            dns_periods: Periods::new(config.dns_resolution_period, now),
            config,
            destinations: Vec::new(),
            orphans: VecDeque::new(),
            rotation: Rotation::default(),
            dropped: 0,
            undelivered: 0,
            finishing: false,
            starting: true,
            notice,
        }
    }

    /// The first connections are made and `send` goes on: destinations that failed meanwhile
    /// are retried from now on, which their failure notices did not promise.
    pub fn started(&mut self) {
        self.starting = false;
        let down: Vec<String> = self
            .destinations
            .iter()
            .filter(|d| d.active && d.stats.failures > 0 && !d.ready())
            .map(|d| d.stats.name.clone())
            .collect();
        if self.config.keep_orphans {
            return;
        }
        for name in down {
            (self.notice)(&format!(
                "{name}: down at start; retried in the background while the other destinations take the messages"
            ));
        }
    }

    /// Tells the user something (through the `notice` given to [`Pool::new`]).
    pub fn notice(&mut self, text: &str) {
        (self.notice)(text);
    }

    pub fn write_timeout(&self) -> Duration {
        self.config.write_timeout
    }

    /// The input has ended: from now on a destination that times out is given up.
    pub fn input_ended(&mut self) {
        self.finishing = true;
    }

    /// UDP datagrams the kernel refused twice.
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Messages written that a receiver may not have read, and (after
    /// [`close_all`](Self::close_all)) the ones never written.
    pub fn undelivered(&self) -> u64 {
        self.undelivered
    }

    /// Takes the messages of failed connections that no destination has taken yet.
    pub fn take_orphans(&mut self) -> Vec<(u64, Vec<u8>)> {
        self.orphans.drain(..).collect()
    }

    /// Takes every message not completely written: orphans and buffers. For the end of a run
    /// with a disk queue, once no destination takes anything.
    pub fn take_unwritten(&mut self) -> Vec<(u64, Vec<u8>)> {
        let mut out = self.take_orphans();
        for d in &mut self.destinations {
            out.extend(d.pending.take_unwritten());
        }
        out
    }

    /// The lowest id of the messages not completely written yet, if any.
    pub fn min_unwritten_id(&self) -> Option<u64> {
        let orphans = self.orphans.iter().map(|(id, _)| *id).min();
        let buffers = self
            .destinations
            .iter()
            .filter_map(|d| d.pending.min_id())
            .min();
        orphans.into_iter().chain(buffers).min()
    }

    /// Resolves every target (all A/AAAA records), keeping destinations that are still there.
    /// `first`: at the start, where a name that does not resolve is an error.
    pub fn resolve(&mut self, first: bool) -> Result<(), StartError> {
        let now = Instant::now();
        let mut resolved = Vec::with_capacity(self.config.targets.len());
        for target in &self.config.targets {
            let addrs = match (target.host.as_str(), target.port).to_socket_addrs() {
                Ok(addrs) => addrs.collect::<Vec<SocketAddr>>(),
                Err(error) if first => {
                    let host = target.host.clone();
                    return Err(StartError::Resolve { host, error });
                }
                Err(e) => {
                    (self.notice)(&format!(
                        "cannot resolve {} again ({e}); keeping its previous addresses",
                        target.host
                    ));
                    self.destinations
                        .iter()
                        .filter(|d| d.is_of(target))
                        .map(|d| d.addr)
                        .collect()
                }
            };
            resolved.push(addrs);
        }
        let own = if self.config.exclude_self {
            resolve::local_addresses()
        } else {
            Vec::new()
        };
        let chosen = resolve::exclude_self(&resolved, &own);
        if first {
            for &(t, addr) in &chosen.excluded {
                let Target { host, port, .. } = &self.config.targets[t];
                (self.notice)(&format!(
                    "--exclude-self: leaving out {host}:{port} ({addr}), an address of this machine"
                ));
            }
        }
        if chosen.wanted.is_empty() {
            return Err(if first && self.config.targets.len() == 1 {
                let host = self.config.targets[0].host.clone();
                StartError::OnlySelf { host }
            } else {
                StartError::NoneLeft
            });
        }
        for d in &mut self.destinations {
            d.active = false;
        }
        let mut order = Vec::new();
        for (t, addr) in chosen.wanted {
            let target = &self.config.targets[t];
            let found = self
                .destinations
                .iter()
                .position(|d| d.addr == addr && d.is_of(target));
            order.push(found.unwrap_or_else(|| {
                self.destinations.push(Destination::new(target, addr, now));
                self.destinations.len() - 1
            }));
        }
        // --max-connections: a window of the resolved destinations, moved every period.
        for k in self
            .rotation
            .window(order.len(), self.config.max_connections)
        {
            self.destinations[order[k]].active = true;
        }
        // Destinations no longer wanted: their unwritten messages go elsewhere.
        for d in &mut self.destinations {
            if !d.active && !d.conn.is_down() {
                self.orphans.extend(d.pending.take_unwritten());
                d.conn.close();
            }
        }
        Ok(())
    }

    /// Some active destination is ready for messages.
    pub fn any_ready(&self) -> bool {
        self.destinations.iter().any(|d| d.active && d.ready())
    }

    /// Some active destination is still connecting or in its TLS handshake.
    pub fn any_connecting(&self) -> bool {
        self.destinations
            .iter()
            .any(|d| d.active && d.conn.is_pending_or_tls())
    }

    pub fn any_can_take(&self) -> bool {
        self.destinations.iter().any(Destination::can_take)
    }

    /// Every buffer is written (rustls may still hold records).
    pub fn all_written(&self) -> bool {
        self.destinations.iter().all(|d| d.unwritten() == 0)
    }

    /// Messages are waiting somewhere: orphans, buffers, or rustls's records.
    pub fn buffered(&self) -> bool {
        !self.orphans.is_empty()
            || self
                .destinations
                .iter()
                .any(|d| d.unwritten() > 0 || d.conn.tls_pending())
    }

    /// No destination can take messages, or is writing what it has.
    pub fn none_up(&self) -> bool {
        !self
            .destinations
            .iter()
            .any(|d| d.can_take() || d.unwritten() > 0)
    }

    pub fn all_given_up(&self) -> bool {
        self.destinations
            .iter()
            .filter(|d| d.active)
            .all(|d| d.given_up)
    }

    /// Messages not delivered yet: orphans and the ones in buffers.
    pub fn messages_left(&self) -> usize {
        self.orphans.len()
            + self
                .destinations
                .iter()
                .map(|d| d.pending.messages())
                .sum::<usize>()
    }

    /// The names of the active destinations.
    pub fn active_names(&self) -> Vec<String> {
        self.destinations
            .iter()
            .filter(|d| d.active)
            .map(|d| d.stats.name.clone())
            .collect()
    }

    /// The destination to give the next message to, if any can take one.
    pub fn pick(&self) -> Option<usize> {
        balance::pick(self.destinations.iter().map(|d| (&d.load, d.can_take())))
    }

    /// Gives destination `i` one framed message (`id`: its disk queue record's, or 0): a
    /// datagram at once, else into its buffer, written once the buffer holds [`FLUSH_BYTES`].
    pub fn put(&mut self, i: usize, framed: &[u8], id: u64) {
        let d = &mut self.destinations[i];
        d.load.record(framed.len());
        if let Conn::Udp(socket) = &d.conn {
            if connection::send_datagram(socket, framed).is_ok() {
                d.stats.messages += 1;
                d.stats.bytes += framed.len() as u64;
            } else {
                d.stats.failures += 1;
                self.dropped += 1;
            }
            return;
        }
        if d.unwritten() == 0 {
            // The write timeout counts from when the connection has something to take.
            d.last_progress = Instant::now();
        }
        d.pending.push(framed, id);
        if d.unwritten() >= FLUSH_BYTES {
            self.flush(i);
        }
    }

    /// Each destination's counters.
    pub fn stats(&self) -> Vec<DestinationStats> {
        self.destinations
            .iter()
            .map(|d| DestinationStats {
                up: d.ready(),
                ..d.stats.clone()
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::rc::Rc;

    use super::*;

    /// A pool over `targets` that has not connected anything, and the notices it gives.
    fn pool(targets: &[&str], exclude_self: bool, cap: usize) -> (Pool, Rc<RefCell<Vec<String>>>) {
        let notices = Rc::new(RefCell::new(Vec::new()));
        let sink = notices.clone();
        let config = PoolConfig {
            targets: targets.iter().map(|t| t.parse().unwrap()).collect(),
            protocol: Protocol::Tcp,
            tls: None,
            tls_servername: None,
            connect_timeout: Duration::from_secs(1),
            write_timeout: Duration::from_secs(1),
            lb_stats_period: Duration::from_secs(1),
            dns_resolution_period: Duration::from_secs(1),
            exclude_self,
            max_connections: cap,
            proxy_header: None,
            keep_orphans: false,
        };
        let notice = Box::new(move |text: &str| sink.borrow_mut().push(text.to_string()));
        (Pool::new(config, notice, Instant::now()), notices)
    }

    fn active(pool: &Pool) -> Vec<String> {
        pool.active_names()
    }

    #[test]
    fn exclude_self_with_only_this_machine_is_an_error_naming_the_host() {
        let (mut p, notices) = pool(&["127.0.0.1:514"], true, 0);
        let e = p.resolve(true).unwrap_err();
        assert!(matches!(&e, StartError::OnlySelf { host } if host == "127.0.0.1"));
        assert!(e.to_string().contains("leave out --exclude-self"), "{e}");
        assert_eq!(
            notices.borrow().as_slice(),
            [
                "--exclude-self: leaving out 127.0.0.1:514 (127.0.0.1:514), an address of this machine"
            ]
        );
    }

    #[test]
    fn exclude_self_keeps_the_other_hosts() {
        let (mut p, _) = pool(&["127.0.0.1:514", "192.0.2.1:514"], true, 0);
        p.resolve(true).unwrap();
        assert_eq!(active(&p), ["192.0.2.1:514"]);
        let (mut p, _) = pool(&["127.0.0.1:514", "[::1]:514"], true, 0);
        assert!(matches!(p.resolve(true), Err(StartError::NoneLeft)));
    }

    #[test]
    fn max_connections_moves_its_window_on_every_resolution() {
        let targets = ["192.0.2.1:1", "192.0.2.2:1", "192.0.2.3:1"];
        let (mut p, _) = pool(&targets, false, 2);
        p.resolve(true).unwrap();
        assert_eq!(active(&p), ["192.0.2.1:1", "192.0.2.2:1"]);
        p.resolve(false).unwrap();
        assert_eq!(active(&p), ["192.0.2.1:1", "192.0.2.3:1"]);
        p.resolve(false).unwrap();
        assert_eq!(active(&p), ["192.0.2.2:1", "192.0.2.3:1"]);
        // The destinations are kept (with their counters) across resolutions.
        assert_eq!(p.destinations.len(), 3);
    }

    #[test]
    fn a_name_that_does_not_resolve_at_the_start_is_an_error_naming_it() {
        let (mut p, _) = pool(&["no-such-host.invalid:514"], false, 0);
        let e = p.resolve(true).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("cannot resolve no-such-host.invalid: "),
            "{e}"
        );
    }
}
