//! Rate control: an absolute schedule per connection. Message `n` is due `n / rate` seconds
//! after the start, so sleeping late or writing slowly for a while is made up for later and the
//! achieved rate converges on the target instead of drifting below it (as a sleep after every
//! batch would).

use std::time::{Duration, Instant};

/// When the messages of one connection are due.
#[derive(Clone, Copy, Debug)]
pub struct Pacer {
    start: Instant,
    /// Messages per second; `None`: as fast as possible.
    rate: Option<f64>,
}

impl Pacer {
    pub fn new(start: Instant, rate: Option<f64>) -> Pacer {
        Pacer { start, rate }
    }

    /// How many more messages may go now, after `sent`, at most `max`.
    pub fn allowed(&self, sent: u64, max: u64, now: Instant) -> u64 {
        let Some(rate) = self.rate else {
            return max;
        };
        let elapsed = now.saturating_duration_since(self.start).as_secs_f64();
        // The first message is due at once.
        let due = (elapsed * rate).floor() as u64 + 1;
        due.saturating_sub(sent).min(max)
    }

    /// How long until message `sent + 1` is due (zero when it is).
    pub fn wait(&self, sent: u64, now: Instant) -> Duration {
        let Some(rate) = self.rate else {
            return Duration::ZERO;
        };
        let due = self.start + Duration::from_secs_f64(sent as f64 / rate);
        due.saturating_duration_since(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pacing_follows_the_schedule_not_the_sleeps() {
        let start = Instant::now();
        let p = Pacer::new(start, Some(1000.0));
        assert_eq!(p.allowed(0, 100, start), 1);
        assert_eq!(p.allowed(1, 100, start), 0);
        // 50 ms late: 50 more are due at once.
        let later = start + Duration::from_millis(50);
        assert_eq!(p.allowed(1, 100, later), 50);
        assert_eq!(p.allowed(1, 10, later), 10);
        assert_eq!(p.wait(51, later), Duration::from_millis(1));
    }

    #[test]
    fn no_rate_means_no_wait() {
        let start = Instant::now();
        let p = Pacer::new(start, None);
        assert_eq!(p.allowed(1_000_000, 64, start), 64);
        assert_eq!(p.wait(1_000_000, start), Duration::ZERO);
    }
}
