//! The memory budget for unfinished messages (`--max-buffered-bytes`): what every connection's
//! read buffer holds between two complete messages, summed over all connections.
//!
//! Each connection reports what it holds after every read ([`Account::hold`]). When the sum
//! passes the limit, the largest holders are told to cut their message short
//! ([`Account::cut_requested`]): the part received so far becomes an error event (its first
//! [`CUT_KEEP_BYTES`]) and the rest of that message is skipped as it arrives, so the memory
//! goes back at once and nothing disappears without an event saying so. Small holders are not
//! tracked one by one (a lock per read would cost more than they hold): only those above
//! [`TRACKED_BYTES`] can be cut, and the rest are bounded by `--max-connections` times one read.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, Mutex};

use tokio::sync::Notify;

/// Holders above this size are tracked, so that they can be cut.
pub const TRACKED_BYTES: usize = 512 * 1024;
/// How much of a cut message its error event keeps.
pub const CUT_KEEP_BYTES: usize = 64 * 1024;

/// The shared total and the large holders.
#[derive(Debug)]
pub struct Budget {
    limit: usize,
    used: AtomicUsize,
    next_id: AtomicU64,
    large: Mutex<HashMap<u64, (usize, Arc<CutSignal>)>>,
}

#[derive(Debug, Default)]
struct CutSignal {
    requested: AtomicBool,
    notify: Notify,
}

/// One connection's share; gives it back when dropped.
#[derive(Debug)]
pub struct Account {
    budget: Arc<Budget>,
    id: u64,
    held: usize,
    signal: Arc<CutSignal>,
}

impl Budget {
    pub fn new(limit: usize) -> Arc<Budget> {
        Arc::new(Budget {
            limit,
            used: AtomicUsize::new(0),
            next_id: AtomicU64::new(0),
            large: Mutex::new(HashMap::new()),
        })
    }

    pub fn limit(&self) -> usize {
        self.limit
    }

    /// Bytes held now by all connections together.
    pub fn used(&self) -> usize {
        self.used.load(Relaxed)
    }

    /// A new connection's account, holding nothing.
    pub fn account(self: &Arc<Budget>) -> Account {
        Account {
            budget: self.clone(),
            id: self.next_id.fetch_add(1, Relaxed),
            held: 0,
            signal: Arc::default(),
        }
    }

    /// Over the limit: asks the largest holders not asked yet to cut, until what they hold
    /// brings the total under the limit (or none is left).
    fn enforce(&self) {
        let large = self.large.lock().unwrap_or_else(|e| e.into_inner());
        let mut over = self.used().saturating_sub(self.limit);
        if over == 0 {
            return;
        }
        let mut holders: Vec<&(usize, Arc<CutSignal>)> = large.values().collect();
        holders.sort_unstable_by_key(|h| std::cmp::Reverse(h.0));
        for (held, signal) in holders {
            if over == 0 {
                break;
            }
            over = over.saturating_sub(*held);
            if !signal.requested.swap(true, Relaxed) {
                signal.notify.notify_one();
            }
        }
    }
}

impl Account {
    /// Records that the connection now holds `bytes` (its read buffer's allocation while a
    /// message is unfinished), and cuts the largest holders if the total is over the limit.
    pub fn hold(&mut self, bytes: usize) {
        if bytes == self.held {
            return;
        }
        let budget = &self.budget;
        if bytes > self.held {
            budget.used.fetch_add(bytes - self.held, Relaxed);
        } else {
            budget.used.fetch_sub(self.held - bytes, Relaxed);
        }
        let was_tracked = self.held >= TRACKED_BYTES;
        self.held = bytes;
        if bytes >= TRACKED_BYTES || was_tracked {
            let mut large = budget.large.lock().unwrap_or_else(|e| e.into_inner());
            if bytes >= TRACKED_BYTES {
                large.insert(self.id, (bytes, self.signal.clone()));
            } else {
                large.remove(&self.id);
            }
        }
        if budget.used() > budget.limit {
            budget.enforce();
        }
    }

    /// Before the read buffer grows to `bytes` for an unfinished message: counts the new size
    /// first, so that the growth itself is what may cut the largest holders, instead of
    /// passing the limit by a doubling until the next read reports it. True when this
    /// connection is now one of those asked to cut: it should cut rather than grow.
    pub fn grow_to(&mut self, bytes: usize) -> bool {
        self.hold(bytes.max(self.held));
        self.signal.requested.load(Relaxed)
    }

    /// Resolves once this connection is asked to cut its unfinished message.
    pub async fn cut_requested(&self) {
        loop {
            if self.signal.requested.load(Relaxed) {
                return;
            }
            self.signal.notify.notified().await;
        }
    }

    /// After the cut: the connection may be asked again later.
    pub fn cut_done(&self) {
        self.signal.requested.store(false, Relaxed);
    }

    pub fn limit(&self) -> usize {
        self.budget.limit
    }
}

/// Has the C library give freed large buffers back to the system at once. glibc raises its
/// mmap threshold each time a large block is freed (up to 32 MiB), after which blocks that
/// size come from its heaps and stay in the process when freed: memory the budget counted as
/// given back would still be resident. A fixed threshold turns that off: every block from
/// [`MMAP_THRESHOLD`] up is its own mapping, unmapped when freed and grown by `mremap`
/// without a copy. Reads are smaller than that, so only large unfinished messages take
/// this path.
pub fn return_freed_buffers_to_the_system() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets a tuning value of the allocator; it is called before any
    // thread of the listener starts, and a refusal (return 0) leaves glibc's default.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD as libc::c_int);
    }
}

/// Blocks from this size up are mapped on their own (see
/// [`return_freed_buffers_to_the_system`]).
pub const MMAP_THRESHOLD: usize = 1024 * 1024;

impl Drop for Account {
    fn drop(&mut self) {
        self.hold(0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_largest_holder_is_asked_to_cut_when_the_total_passes_the_limit() {
        let budget = Budget::new(3 << 20);
        let (mut a, mut b, mut c) = (budget.account(), budget.account(), budget.account());
        a.hold(1 << 20);
        b.hold(2 << 20);
        assert!(!b.signal.requested.load(Relaxed));
        c.hold(1 << 20);
        assert!(b.signal.requested.load(Relaxed), "the largest is cut");
        assert!(!a.signal.requested.load(Relaxed) && !c.signal.requested.load(Relaxed));
        b.hold(0);
        b.cut_done();
        assert_eq!(budget.used(), 2 << 20);
        drop((a, c));
        assert_eq!(budget.used(), 0);
    }

    #[test]
    fn a_growth_that_passes_the_limit_cuts_before_the_buffer_grows() {
        let budget = Budget::new(3 << 20);
        let (mut a, mut b) = (budget.account(), budget.account());
        a.hold(1 << 20);
        b.hold(1 << 20);
        assert!(!a.grow_to(2 << 20), "3 MiB in all is within the limit");
        assert!(
            b.grow_to(3 << 20),
            "5 MiB would pass it, and b is the largest"
        );
        assert!(!a.signal.requested.load(Relaxed), "cutting b is enough");
        assert_eq!(
            budget.used(),
            5 << 20,
            "the growth is counted before it happens"
        );
    }

    #[test]
    fn small_holders_are_counted_but_never_asked() {
        let budget = Budget::new(1024);
        let mut a = budget.account();
        a.hold(4096);
        assert_eq!(budget.used(), 4096);
        assert!(!a.signal.requested.load(Relaxed));
    }
}
