//! Clean shutdown: SIGINT or SIGTERM cancels one token that every task watches. Accept loops
//! stop accepting, UDP loops read what the kernel already holds, connections read what has
//! already arrived (see [`crate::listen::connection`]) and emit even a partial last message, and
//! the writer flushes once the last of them has handed over its events.

use std::io;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// How long a connection keeps reading after the shutdown signal while data still arrives:
/// what a sender had written before the signal is in flight on loopback for microseconds, so
/// a connection that stays quiet this long has delivered everything.
pub const DRAIN_QUIET: Duration = Duration::from_millis(100);
/// The most a connection reads after the signal, so that a sender that never stops cannot
/// keep `listen` running.
pub const DRAIN_LIMIT: Duration = Duration::from_secs(3);

/// SIGINT and SIGTERM handlers, installed before the bound addresses are announced so that a
/// signal sent right after never finds the default action (kill) in place.
pub struct Signals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
}

impl Signals {
    /// Installs the handlers; must run inside the Tokio runtime.
    pub fn install() -> io::Result<Signals> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Signals {
                term: signal(SignalKind::terminate())?,
                int: signal(SignalKind::interrupt())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Signals {})
    }

    /// Waits for SIGINT or SIGTERM (Ctrl-C elsewhere), sets `draining` (health checks now
    /// fail, so a balancer stops sending), keeps going for `delay` (a second signal cuts it
    /// short), then cancels `token`. Returns early, without cancelling, when `token` is
    /// cancelled by someone else.
    pub async fn wait(mut self, token: CancellationToken, draining: &AtomicBool, delay: Duration) {
        if !self.next(&token).await {
            return;
        }
        draining.store(true, Ordering::Relaxed);
        if !delay.is_zero() {
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                _ = self.next(&token) => {}
            }
        }
        token.cancel();
    }

    /// The next signal: true, or false when `token` was cancelled first.
    async fn next(&mut self, token: &CancellationToken) -> bool {
        #[cfg(unix)]
        tokio::select! {
            _ = self.term.recv() => true,
            _ = self.int.recv() => true,
            _ = token.cancelled() => false,
        }
        #[cfg(not(unix))]
        tokio::select! {
            _ = tokio::signal::ctrl_c() => true,
            _ = token.cancelled() => false,
        }
    }
}
