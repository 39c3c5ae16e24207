//! The state every task of one `listen` reads: framing and limits, the counters, the
//! rate-limited warnings and the shutdown token. [`super::listener`] builds it once;
//! [`super::connection`] and the UDP loops read it. It lives apart from both so that neither
//! imports the other for it.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::sync::atomic::AtomicBool;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::budget::Budget;
use super::proxy::ProxyConfig;
use super::stats::{Counters, Warnings};
use crate::framing::Framing;

/// What every task shares. The parsers are not here: a `LineParser` caches the last year it
/// resolved in a `Cell`, so each task has its own clone.
pub struct Shared {
    pub framing: Framing,
    pub max_len: usize,
    pub idle_timeout: Option<Duration>,
    pub frame_timeout: Option<Duration>,
    pub max_connections: u64,
    /// `None`: no limit per source.
    pub max_connections_per_source: Option<usize>,
    /// Open connections per sender address, for `max_connections_per_source` (empty without).
    pub per_source: Mutex<HashMap<IpAddr, usize>>,
    pub budget: std::sync::Arc<Budget>,
    pub counters: Counters,
    pub warnings: Warnings,
    pub token: CancellationToken,
    /// Set on SIGTERM/SIGINT, `--shutdown-delay` before the token is cancelled: `/health`
    /// answers 503 from then on.
    pub draining: AtomicBool,
    /// `--proxy-protocol` on the TCP and TLS listeners.
    pub proxy: Option<ProxyConfig>,
}
