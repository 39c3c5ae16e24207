//! Weighted load balancing with the history rule of Cribl Stream's Syslog destination.
//!
//! Every destination counts the bytes it was given. At the end of each stats period half of
//! what a destination carried, plus what it was given during the period, is carried into the
//! next; the next message goes to the available destination with the least carried traffic per
//! unit of weight. Shares therefore converge to the weights, and a destination that was down
//! or blocking catches up gradually instead of being flooded for ever after. Choosing which
//! destinations are available (connected, not blocking) is the caller's job.

use std::time::{Duration, Instant};

/// The traffic one destination was given, for [`pick`].
#[derive(Clone, Debug, PartialEq)]
pub struct Load {
    weight: u32,
    /// Bytes given during the current period.
    current: u64,
    /// What earlier periods carried into this one.
    carried: u64,
}

impl Load {
    /// A weight of 0 is taken as 1.
    pub fn new(weight: u32) -> Load {
        Load {
            weight: weight.max(1),
            current: 0,
            carried: 0,
        }
    }

    pub fn weight(&self) -> u32 {
        self.weight
    }

    /// Counts `bytes` given to this destination.
    pub fn record(&mut self, bytes: usize) {
        self.current += bytes as u64;
    }

    /// Ends a period: half of the carried traffic and of this period's goes into the next.
    pub fn roll(&mut self) {
        self.carried = (self.carried + self.current) / 2;
        self.current = 0;
    }

    /// Traffic per unit of weight, the quantity [`pick`] minimises. Compared as a fraction
    /// (`a/wa < b/wb` as `a*wb < b*wa`) so that no float rounding decides a tie.
    fn load(&self) -> u128 {
        u128::from(self.carried + self.current)
    }
}

/// The index of the destination to send to next: the one with the least traffic per unit of
/// weight among those for which `available` is true; the first of equals. `None` when none is
/// available.
pub fn pick<'a>(loads: impl IntoIterator<Item = (&'a Load, bool)>) -> Option<usize> {
    let mut best: Option<(usize, &Load)> = None;
    for (i, (load, available)) in loads.into_iter().enumerate() {
        if !available {
            continue;
        }
        let better = match best {
            None => true,
            Some((_, b)) => load.load() * u128::from(b.weight) < b.load() * u128::from(load.weight),
        };
        if better {
            best = Some((i, load));
        }
    }
    best.map(|(i, _)| i)
}

/// When the stats periods end (`--lb-stats-period`).
#[derive(Clone, Debug)]
pub struct Periods {
    every: Duration,
    next: Instant,
}

impl Periods {
    pub fn new(every: Duration, now: Instant) -> Periods {
        Periods {
            every,
            next: now + every,
        }
    }

    /// True once per period that has ended by `now`.
    pub fn due(&mut self, now: Instant) -> bool {
        if now < self.next {
            return false;
        }
        self.next = now + self.every;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(weights: &[u32], messages: usize, available: impl Fn(usize, usize) -> bool) -> Vec<u64> {
        let mut loads: Vec<Load> = weights.iter().map(|&w| Load::new(w)).collect();
        let mut counts = vec![0; weights.len()];
        for n in 0..messages {
            let i = pick(loads.iter().enumerate().map(|(i, l)| (l, available(n, i)))).unwrap();
            loads[i].record(100);
            counts[i] += 1;
            if n % 1000 == 999 {
                loads.iter_mut().for_each(Load::roll);
            }
        }
        counts
    }

    #[test]
    fn equal_weights_alternate() {
        assert_eq!(run(&[1, 1], 10, |_, _| true), vec![5, 5]);
    }

    #[test]
    fn shares_follow_the_weights() {
        assert_eq!(run(&[2, 1], 3000, |_, _| true), vec![2000, 1000]);
        assert_eq!(run(&[3, 1, 1], 5000, |_, _| true), vec![3000, 1000, 1000]);
    }

    #[test]
    fn a_destination_that_is_away_gets_nothing_and_then_catches_up_gradually() {
        // Destination 1 is away for messages 1000..2000.
        let counts = run(&[1, 1], 6000, |n, i| i == 0 || !(1000..2000).contains(&n));
        let share = counts[1] as f64 / 6000.0;
        assert!((0.45..=0.5).contains(&share), "{counts:?}");
        // Right after it comes back it gets more than half, but not everything for long.
        let counts = run(&[1, 1], 2100, |n, i| i == 0 || !(1000..2000).contains(&n));
        assert!(counts[1] > 500 + 60, "{counts:?}");
    }

    #[test]
    fn carried_traffic_halves_every_period() {
        let mut load = Load::new(1);
        load.record(1000);
        assert_eq!(load.load(), 1000);
        load.roll();
        assert_eq!(load.load(), 500);
        load.roll();
        assert_eq!(load.load(), 250);
        // This period's traffic counts whole until the period ends, then half of it carries.
        load.record(150);
        assert_eq!(load.load(), 400);
        load.roll();
        assert_eq!(load.load(), 200);
    }

    #[test]
    fn shares_converge_to_the_weights_from_any_start() {
        // Destination 0 starts with a long history (it was alone for a while).
        let mut loads = [Load::new(1), Load::new(3)];
        loads[0].record(1_000_000);
        let mut counts = [0u64; 2];
        for period in 0..40 {
            let mut in_period = [0u64; 2];
            for _ in 0..1000 {
                let i = pick(loads.iter().map(|l| (l, true))).unwrap();
                loads[i].record(100);
                in_period[i] += 1;
            }
            loads.iter_mut().for_each(Load::roll);
            if period >= 30 {
                counts[0] += in_period[0];
                counts[1] += in_period[1];
            }
        }
        // Once the history has decayed, 1:3 within a message per period.
        assert!((2490..=2510).contains(&counts[0]), "{counts:?}");
        assert_eq!(counts[0] + counts[1], 10_000);
    }

    #[test]
    fn a_destination_that_blocked_catches_up_gradually() {
        // Two equal destinations, 1000 messages a period; destination 1 blocks for the third
        // and fourth periods, then takes messages again.
        let mut loads = [Load::new(1), Load::new(1)];
        let mut shares = Vec::new();
        for period in 0..10 {
            let blocked = (2..4).contains(&period);
            let mut got = 0;
            for _ in 0..1000 {
                let i = pick(
                    loads
                        .iter()
                        .enumerate()
                        .map(|(i, l)| (l, i == 0 || !blocked)),
                )
                .unwrap();
                loads[i].record(100);
                got += usize::from(i == 1);
            }
            loads.iter_mut().for_each(Load::roll);
            shares.push(got);
        }
        assert_eq!(&shares[..4], &[500, 500, 0, 0]);
        // Back, it makes up the difference in carried history (750 messages' worth, halved
        // every period) and shares the rest evenly: more than its half, but not everything.
        assert_eq!(shares[4], 875);
        // Once caught up, an even split again.
        assert_eq!(&shares[5..], &[500; 5]);
    }

    #[test]
    fn nothing_available_picks_nothing() {
        let loads = [Load::new(1)];
        assert_eq!(pick(loads.iter().map(|l| (l, false))), None);
    }

    #[test]
    fn zero_weight_counts_as_one() {
        assert_eq!(Load::new(0).weight(), 1);
    }
}
