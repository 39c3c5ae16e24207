//! Driving the pool's connections, one round at a time ([`Pool::pump`]): timers, connects and
//! TLS handshakes, readiness from [`crate::send::poll`] (poll(2)), writing the buffers, the write and
//! connect timeouts, failures (messages re-routed, reconnect with backoff) and the clean close
//! at the end ([`Pool::close_all`]).

use std::time::{Duration, Instant};

use super::Pool;
use crate::send::connection::{self, Conn, TlsStart};
use crate::send::options::TargetTls;
use crate::send::poll::{self, Interest, Readiness};
use crate::transport::Protocol;

impl Pool {
    /// Writes every buffer that holds anything.
    pub fn flush_all(&mut self) {
        for i in 0..self.destinations.len() {
            if self.destinations[i].unwritten() > 0 {
                self.flush(i);
            }
        }
    }

    /// One round of I/O: timers, connects, EOF detection, writes; waits at most `wait`.
    pub fn pump(&mut self, wait: Duration) {
        let now = Instant::now();
        if self.lb_periods.due(now) {
            self.destinations.iter_mut().for_each(|d| d.load.roll());
        }
        if self.dns_periods.due(now)
            && let Err(e) = self.resolve(false)
        {
            (self.notice)(&e.to_string());
        }
        for i in 0..self.destinations.len() {
            let d = &self.destinations[i];
            if d.retrying() && d.retry_at <= now {
                self.connect(i);
            }
        }
        // Re-route what failed connections left.
        while !self.config.keep_orphans
            && let Some((id, m)) = self.orphans.pop_front()
        {
            match self.pick() {
                Some(i) => self.put(i, &m, id),
                None => {
                    self.orphans.push_front((id, m));
                    break;
                }
            }
        }
        let mut sockets = Vec::new();
        let mut index = Vec::new();
        for (i, d) in self.destinations.iter().enumerate() {
            let Some(fd) = d.conn.fd() else { continue };
            let interest = match &d.conn {
                Conn::Connecting(..) => Interest::Write,
                Conn::Udp(_) => continue,
                Conn::Tls(_, tls, _) if tls.wants_write() => Interest::ReadWrite,
                _ if d.unwritten() > 0 => Interest::ReadWrite,
                _ => Interest::Read,
            };
            sockets.push((fd, interest));
            index.push(i);
        }
        let next_retry = self
            .destinations
            .iter()
            .filter(|d| d.retrying())
            .map(|d| d.retry_at.saturating_duration_since(now))
            .min();
        let wait = next_retry.map_or(wait, |next| wait.min(next));
        let Ok(ready) = poll::wait(&sockets, wait) else {
            // Interrupted: the caller comes round again.
            return;
        };
        drop(sockets);
        let now = Instant::now();
        for (readiness, i) in ready.into_iter().zip(index) {
            self.progress(i, readiness, now);
        }
        for i in 0..self.destinations.len() {
            let d = &self.destinations[i];
            if d.unwritten() > 0
                && d.ready()
                && now.duration_since(d.last_progress) > self.config.write_timeout
            {
                self.write_timed_out(i);
            }
        }
    }

    fn progress(&mut self, i: usize, ready: Readiness, now: Instant) {
        let timeout = self.config.connect_timeout;
        let d = &mut self.destinations[i];
        match &mut d.conn {
            Conn::Connecting(_, since) => {
                if ready.is_none() {
                    if now.duration_since(*since) > timeout {
                        self.fail(
                            i,
                            &format!("no connection after {timeout:?} (--connect-timeout)"),
                        );
                    }
                    return;
                }
                let Conn::Connecting(socket, since) = std::mem::replace(&mut d.conn, Conn::Down)
                else {
                    unreachable!("matched above")
                };
                let tls = (self.config.protocol == Protocol::Tls && d.tls == TargetTls::Inherit)
                    .then(|| TlsStart {
                        config: self
                            .config
                            .tls
                            .as_ref()
                            .expect("TLS has a config")
                            .config
                            .clone(),
                        server_name: d
                            .servername
                            .as_deref()
                            .or(self.config.tls_servername.as_deref())
                            .unwrap_or(&d.host),
                    });
                let tls_started = tls.is_some();
                match connection::established(socket, since, tls, self.config.proxy_header) {
                    Ok(conn) => d.conn = conn,
                    Err(e) => return self.fail(i, &e),
                }
                if tls_started {
                    self.progress(i, Readiness::WRITABLE, now);
                } else {
                    self.connected(i, now);
                }
            }
            Conn::Tls(stream, tls, since) if tls.is_handshaking() => {
                if let Err(e) = connection::drive_tls(stream, tls) {
                    return self.fail(i, &e);
                }
                if !tls.is_handshaking() {
                    self.connected(i, now);
                    if self.destinations[i].unwritten() > 0 {
                        self.flush(i);
                    }
                } else if now.duration_since(*since) > timeout {
                    self.fail(
                        i,
                        &format!("TLS handshake not done after {timeout:?} (--connect-timeout)"),
                    );
                }
            }
            Conn::Tcp(_) | Conn::Tls(..) => {
                if ready.readable_or_closed()
                    && let Err(reason) = connection::check_peer(&mut d.conn)
                {
                    return self.fail(i, &reason);
                }
                if ready.writable() && self.destinations[i].unwritten() > 0 {
                    self.flush(i);
                }
            }
            Conn::Down | Conn::Udp(_) => {}
        }
    }

    fn connected(&mut self, i: usize, now: Instant) {
        let d = &mut self.destinations[i];
        d.connected(now);
        if d.stats.connects > 1 || d.stats.failures > 0 {
            let name = d.stats.name.clone();
            (self.notice)(&format!("connected to {name}"));
        }
    }

    fn connect(&mut self, i: usize) {
        let d = &mut self.destinations[i];
        match connection::open(d.addr, self.config.protocol, Instant::now()) {
            Ok(conn) => {
                if matches!(conn, Conn::Udp(_)) {
                    d.stats.connects += 1;
                }
                d.conn = conn;
            }
            Err(e) => self.fail(i, &e),
        }
    }

    /// Writes as much of a destination's buffer as the socket takes now, after checking that
    /// the peer has not closed the connection: writing into a socket whose peer is gone would
    /// lose the first messages (rsyslog #3929).
    pub(super) fn flush(&mut self, i: usize) {
        let d = &mut self.destinations[i];
        if !d.ready() {
            return;
        }
        if let Err(reason) = connection::check_peer(&mut d.conn) {
            return self.fail(i, &reason);
        }
        let (n, result) = connection::write(&mut d.conn, d.pending.unwritten_bytes());
        d.pending.advance(n);
        if let Err(e) = result {
            return self.fail(i, &format!("write failed: {e}"));
        }
        if n > 0 {
            d.stats.bytes += n as u64;
            d.conn_bytes += n as u64;
            d.last_progress = Instant::now();
        }
        // With TLS, a message counts as sent once rustls has it; what it has not yet written
        // goes out on the next POLLOUT.
        d.count_written();
    }

    /// `--write-timeout`: the receiver took nothing for the whole timeout, so it has stopped
    /// reading, and what was written on this connection may sit unread in the kernels'
    /// buffers. The connection is reset rather than closed, so that none of it trickles in
    /// later, and those messages count as not delivered (an upper bound: the receiver may
    /// have read some before it stalled). The ones not completely written go elsewhere. After
    /// the end of input the destination is given up instead of reconnected.
    fn write_timed_out(&mut self, i: usize) {
        let timeout = self.config.write_timeout;
        let d = &mut self.destinations[i];
        d.conn.reset_on_close();
        let lost = d.conn_messages;
        d.stats.messages = d.stats.messages.saturating_sub(lost);
        d.stats.bytes = d.stats.bytes.saturating_sub(d.conn_bytes);
        d.conn_messages = 0;
        d.conn_bytes = 0;
        d.given_up = self.finishing;
        self.undelivered += lost;
        let lost = if lost > 0 {
            format!(
                "; {lost} messages written on this connection may not have been read, and count as not delivered"
            )
        } else {
            String::new()
        };
        self.fail(
            i,
            &format!("nothing could be written for {timeout:?} (--write-timeout){lost}"),
        );
    }

    /// Closes a destination's connection, schedules a reconnect and re-routes its messages.
    fn fail(&mut self, i: usize, reason: &str) {
        let d = &mut self.destinations[i];
        let (orphans, backoff) = d.failed(Instant::now());
        let name = d.stats.name.clone();
        let given_up = d.given_up;
        let lost = orphans.len();
        self.orphans.extend(orphans);
        let moved = if lost > 0 {
            format!("; {lost} unsent messages go to other destinations")
        } else {
            String::new()
        };
        let hint = self.close_hint(reason);
        let next = if given_up {
            "; the input has ended, so it is not retried".to_string()
        } else if self.starting && !self.config.keep_orphans {
            // Whether it is retried depends on the others: Sender::start fails when none
            // connects, and says so; Pool::started tells when it goes on.
            String::new()
        } else {
            format!("; reconnecting in {backoff:?}")
        };
        (self.notice)(&format!("{name}: {reason}{hint}{next}{moved}"));
    }

    /// Closes every connection at the end, cleanly ([`connection::close_cleanly`], waiting at
    /// most `linger` each); what is left in buffers and orphans counts as not delivered.
    pub fn close_all(&mut self, linger: Duration) {
        let stall = self.config.write_timeout;
        // All at once, each on its own thread: receivers that do not read each take `linger`
        // and `stall`, which one after the other would add up to minutes with many of them.
        let results: Vec<Result<(), String>> = std::thread::scope(|scope| {
            let closing: Vec<_> = self
                .destinations
                .iter_mut()
                .map(|d| {
                    let conn = &mut d.conn;
                    scope.spawn(move || connection::close_cleanly(conn, linger, stall))
                })
                .collect();
            closing
                .into_iter()
                .map(|t| t.join().unwrap_or_else(|_| Err("closing panicked".into())))
                .collect()
        });
        for (i, result) in results.into_iter().enumerate() {
            let d = &mut self.destinations[i];
            self.undelivered += d.pending.messages() as u64;
            if let Err(reason) = result {
                // The receiver stopped reading before it saw the end of the stream: what it
                // had not read is lost, and which messages those are cannot be known.
                let lost = d.conn_messages;
                d.stats.messages -= lost;
                d.stats.bytes = d.stats.bytes.saturating_sub(d.conn_bytes);
                d.stats.failures += 1;
                self.undelivered += lost;
                let name = d.stats.name.clone();
                let hint = self.close_hint(&reason);
                (self.notice)(&format!(
                    "{name}: {reason}{hint}; up to {lost} messages written on this connection may not have been read, and count as not delivered"
                ));
            }
        }
        self.undelivered += self.orphans.len() as u64;
    }

    /// What may explain a receiver closing the connection ([`ClientTls::close_hint`]).
    fn close_hint(&self, reason: &str) -> &'static str {
        match &self.config.tls {
            Some(tls) if self.config.protocol == Protocol::Tls => tls.close_hint(reason),
            _ => "",
        }
    }
}
