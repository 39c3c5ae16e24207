//! Latency percentiles for `bench verify` in a fixed amount of memory, whatever the count.

/// Latencies in microseconds, in buckets of at most 1/64 (1.6 %) relative width, so any count
/// of messages takes the same 30 KB.
#[derive(Clone, Debug)]
pub struct Histogram {
    buckets: Vec<u64>,
    count: u64,
    max: u64,
}

const LINEAR: u64 = 128;
const SUB: u64 = 64;

impl Default for Histogram {
    fn default() -> Self {
        Histogram {
            buckets: vec![0; (LINEAR + (64 - 7) * SUB) as usize],
            count: 0,
            max: 0,
        }
    }
}

impl Histogram {
    pub fn record(&mut self, us: u64) {
        self.buckets[Self::index(us)] += 1;
        self.count += 1;
        self.max = self.max.max(us);
    }

    fn index(v: u64) -> usize {
        if v < LINEAR {
            return v as usize;
        }
        let e = 63 - u64::from(v.leading_zeros()); // ≥ 7
        let sub = (v >> (e - 6)) & (SUB - 1);
        (LINEAR + (e - 7) * SUB + sub) as usize
    }

    /// The lowest value of a bucket.
    fn low(index: usize) -> u64 {
        let i = index as u64;
        if i < LINEAR {
            return i;
        }
        let e = (i - LINEAR) / SUB + 7;
        let sub = (i - LINEAR) % SUB;
        (SUB + sub) << (e - 6)
    }

    pub fn count(&self) -> u64 {
        self.count
    }

    /// The value at quantile `q` (0 to 1), within 1.6 % below the true one; the maximum is exact.
    pub fn quantile(&self, q: f64) -> u64 {
        if self.count == 0 {
            return 0;
        }
        let rank = ((q * self.count as f64).ceil() as u64).clamp(1, self.count);
        let mut seen = 0;
        for (i, &n) in self.buckets.iter().enumerate() {
            seen += n;
            if seen >= rank {
                return Self::low(i).min(self.max);
            }
        }
        self.max
    }

    pub fn max(&self) -> u64 {
        self.max
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_quantiles_are_within_two_percent() {
        let mut h = Histogram::default();
        for v in 1..=100_000u64 {
            h.record(v);
        }
        for (q, want) in [(0.5, 50_000.0), (0.99, 99_000.0)] {
            let got = h.quantile(q) as f64;
            assert!((got - want).abs() / want < 0.02, "q{q}: {got}");
        }
        assert_eq!(h.max(), 100_000);
    }
}
