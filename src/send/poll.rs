//! Readiness polling for the pool's sockets, over `mio` (epoll on Linux), without `unsafe`:
//! one call waits for any of a few sockets to become readable or writable and says what each
//! is ready for, level-triggered as poll(2) is.
//!
//! `send` keeps its own single-threaded loop over a handful of non-blocking sockets rather
//! than an async runtime: it has nothing else to wait for, and the loop decides on every round
//! which sockets it wants to write to (see [`super::pool`]). mio's registrations are
//! edge-triggered, so [`Poller::wait`] re-arms every socket it is given on each call; that is
//! what keeps the loop's poll(2) semantics (a socket that is still writable reports so again).
//! Measured against a hand-written poll(2) loop: `scripts/bench-results/poll-mio-vs-rustix-2026-12-02.md`.

use std::collections::HashSet;
use std::io;
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};
use std::time::Duration;

use mio::unix::SourceFd;
use mio::{Events, Poll, Token};

/// What to wait for on one socket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interest {
    /// Something to read, or the peer closed (or reset) the connection.
    Read,
    /// A connect finished (or failed), or room to write.
    Write,
    ReadWrite,
}

impl Interest {
    fn mio(self) -> mio::Interest {
        match self {
            Interest::Read => mio::Interest::READABLE,
            Interest::Write => mio::Interest::WRITABLE,
            Interest::ReadWrite => mio::Interest::READABLE | mio::Interest::WRITABLE,
        }
    }
}

/// What the poller reported for one socket.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Readiness {
    readable_or_closed: bool,
    writable: bool,
}

impl Readiness {
    /// Nothing happened.
    pub const NONE: Readiness = Readiness {
        readable_or_closed: false,
        writable: false,
    };
    /// Writable, as if the poller had said so (to move a fresh TLS session on at once).
    pub const WRITABLE: Readiness = Readiness {
        readable_or_closed: false,
        writable: true,
    };

    pub fn is_none(self) -> bool {
        self == Readiness::NONE
    }

    /// Something to read, or the connection was closed, reset or failed: reading says which.
    pub fn readable_or_closed(self) -> bool {
        self.readable_or_closed
    }

    pub fn writable(self) -> bool {
        self.writable
    }

    fn add(&mut self, event: &mio::event::Event) {
        self.readable_or_closed |= event.is_readable()
            || event.is_read_closed()
            || event.is_write_closed()
            || event.is_error();
        self.writable |= event.is_writable();
    }
}

/// Events taken from the kernel per wait; more wait for the next call.
const EVENTS_PER_WAIT: usize = 256;

/// One epoll instance and the sockets registered with it.
pub struct Poller {
    poll: Poll,
    events: Events,
    /// The descriptors registered by the last [`Poller::wait`].
    registered: HashSet<RawFd>,
    /// The ones of this call (kept to reuse its allocation).
    scratch: HashSet<RawFd>,
}

impl Poller {
    pub fn new() -> io::Result<Poller> {
        Ok(Poller {
            poll: Poll::new()?,
            events: Events::with_capacity(EVENTS_PER_WAIT),
            registered: HashSet::new(),
            scratch: HashSet::new(),
        })
    }

    /// Waits at most `timeout` until one of `sockets` is ready as asked, and returns what each
    /// one is ready for, in order. With no sockets it just sleeps for `timeout`. Interrupted
    /// by a signal, it returns an error (`Interrupted`): the caller's loop comes round again.
    pub fn wait(
        &mut self,
        sockets: &[(BorrowedFd<'_>, Interest)],
        timeout: Duration,
    ) -> io::Result<Vec<Readiness>> {
        let registry = self.poll.registry();
        let mut now = std::mem::take(&mut self.scratch);
        now.clear();
        for (k, (fd, interest)) in sockets.iter().enumerate() {
            let raw = fd.as_raw_fd();
            let (token, interest) = (Token(k), interest.mio());
            // Re-registering re-arms the edge trigger, so a socket that is still ready shows
            // up again. A descriptor closed since the last call left epoll by itself (its
            // number may be a new socket's now): then it is registered afresh.
            let result = if self.registered.contains(&raw) {
                match registry.reregister(&mut SourceFd(&raw), token, interest) {
                    Err(e) if e.kind() == io::ErrorKind::NotFound => {
                        registry.register(&mut SourceFd(&raw), token, interest)
                    }
                    other => other,
                }
            } else {
                match registry.register(&mut SourceFd(&raw), token, interest) {
                    Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                        registry.reregister(&mut SourceFd(&raw), token, interest)
                    }
                    other => other,
                }
            };
            result?;
            now.insert(raw);
        }
        // Sockets the caller no longer asks about: most are closed (and so gone from epoll
        // already, which makes this fail harmlessly); the others must not wake us.
        for raw in &self.registered {
            if !now.contains(raw) {
                let _ = registry.deregister(&mut SourceFd(raw));
            }
        }
        self.scratch = std::mem::replace(&mut self.registered, now);
        if sockets.is_empty() {
            if !timeout.is_zero() {
                std::thread::sleep(timeout);
            }
            return Ok(Vec::new());
        }
        self.poll.poll(&mut self.events, Some(timeout))?;
        let mut ready = vec![Readiness::NONE; sockets.len()];
        for event in &self.events {
            if let Some(r) = ready.get_mut(event.token().0) {
                r.add(event);
            }
        }
        Ok(ready)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;
    use std::os::fd::{AsFd, OwnedFd};
    use std::os::unix::net::UnixStream;

    use super::*;

    #[test]
    fn a_socket_with_nothing_to_read_reports_nothing_after_the_timeout() {
        let (a, _b) = UnixStream::pair().unwrap();
        let mut poller = Poller::new().unwrap();
        let ready = poller
            .wait(&[(a.as_fd(), Interest::Read)], Duration::from_millis(30))
            .unwrap();
        assert_eq!(ready, [Readiness::NONE]);
        assert!(ready[0].is_none());
    }

    #[test]
    fn each_socket_reports_what_it_is_ready_for() {
        let (a, mut b) = UnixStream::pair().unwrap();
        let (c, _d) = UnixStream::pair().unwrap();
        b.write_all(b"x").unwrap();
        let mut poller = Poller::new().unwrap();
        let ready = poller
            .wait(
                &[
                    (a.as_fd(), Interest::Read),
                    (c.as_fd(), Interest::ReadWrite),
                ],
                Duration::from_secs(5),
            )
            .unwrap();
        assert!(ready[0].readable_or_closed() && !ready[0].writable());
        assert!(ready[1].writable() && !ready[1].readable_or_closed());
    }

    #[test]
    fn a_peer_that_closed_shows_as_readable() {
        let (a, b) = UnixStream::pair().unwrap();
        drop(b);
        let mut poller = Poller::new().unwrap();
        let ready = poller
            .wait(&[(a.as_fd(), Interest::Read)], Duration::from_secs(5))
            .unwrap();
        assert!(ready[0].readable_or_closed());
    }

    #[test]
    fn no_sockets_report_nothing() {
        let mut poller = Poller::new().unwrap();
        assert!(
            poller
                .wait(&[], Duration::from_millis(1))
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn readiness_not_acted_on_is_reported_again_as_poll_2_does() {
        // mio is edge-triggered; the loop relies on level-triggered answers.
        let (a, mut b) = UnixStream::pair().unwrap();
        b.write_all(b"x").unwrap();
        let mut poller = Poller::new().unwrap();
        for _ in 0..3 {
            let ready = poller
                .wait(&[(a.as_fd(), Interest::ReadWrite)], Duration::from_secs(5))
                .unwrap();
            assert!(ready[0].readable_or_closed() && ready[0].writable());
        }
    }

    #[test]
    fn a_new_socket_on_a_closed_ones_descriptor_number_is_watched() {
        let mut poller = Poller::new().unwrap();
        let (a, _b) = UnixStream::pair().unwrap();
        let mut a = OwnedFd::from(a);
        poller
            .wait(&[(a.as_fd(), Interest::Read)], Duration::ZERO)
            .unwrap();
        // a's number now names another socket; a's own left epoll when it closed.
        let (c, mut d) = UnixStream::pair().unwrap();
        rustix::io::dup2(&c, &mut a).unwrap();
        d.write_all(b"x").unwrap();
        let ready = poller
            .wait(&[(a.as_fd(), Interest::Read)], Duration::from_secs(5))
            .unwrap();
        assert!(ready[0].readable_or_closed());
    }

    #[test]
    fn a_socket_no_longer_asked_about_does_not_wake_the_poller() {
        let mut poller = Poller::new().unwrap();
        let (a, mut b) = UnixStream::pair().unwrap();
        let (c, _d) = UnixStream::pair().unwrap();
        poller
            .wait(&[(a.as_fd(), Interest::Read)], Duration::ZERO)
            .unwrap();
        b.write_all(b"x").unwrap();
        let ready = poller
            .wait(&[(c.as_fd(), Interest::Read)], Duration::from_millis(30))
            .unwrap();
        assert_eq!(ready, [Readiness::NONE]);
    }
}
