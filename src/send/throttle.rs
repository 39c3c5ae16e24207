//! `--throttle`: a token bucket in bytes per second, holding at most one second of tokens so
//! that a pause does not turn into a burst.

use std::time::{Duration, Instant};

#[derive(Clone, Debug)]
pub struct Throttle {
    rate: f64,
    tokens: f64,
    last: Instant,
}

impl Throttle {
    /// `bytes_per_second` must be above 0 (0 means no throttle: do not build one).
    pub fn new(bytes_per_second: u64, now: Instant) -> Throttle {
        Throttle {
            rate: bytes_per_second as f64,
            tokens: bytes_per_second as f64,
            last: now,
        }
    }

    fn refill(&mut self, now: Instant) {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.tokens = (self.tokens + elapsed * self.rate).min(self.rate);
        self.last = now;
    }

    /// Takes `bytes` if the rate allows it now. A message larger than one second's worth passes
    /// once the bucket is full, so it is not stuck for ever.
    pub fn try_take(&mut self, bytes: usize, now: Instant) -> bool {
        self.refill(now);
        let need = (bytes as f64).min(self.rate);
        if self.tokens >= need {
            self.tokens -= bytes as f64;
            true
        } else {
            false
        }
    }

    /// How long until `bytes` can be taken.
    pub fn wait_for(&self, bytes: usize) -> Duration {
        let need = (bytes as f64).min(self.rate) - self.tokens;
        if need <= 0.0 {
            Duration::ZERO
        } else {
            Duration::from_secs_f64(need / self.rate)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rate_is_kept_over_time() {
        let start = Instant::now();
        let mut t = Throttle::new(1000, start);
        assert!(t.try_take(1000, start));
        assert!(!t.try_take(1, start));
        assert!(t.wait_for(500) > Duration::from_millis(400));
        let later = start + Duration::from_millis(500);
        assert!(t.try_take(500, later));
        assert!(!t.try_take(100, later));
    }

    #[test]
    fn a_message_larger_than_a_second_passes_when_the_bucket_is_full() {
        let start = Instant::now();
        let mut t = Throttle::new(10, start);
        assert!(t.try_take(100, start));
        assert!(!t.try_take(1, start + Duration::from_secs(5)));
    }
}
