//! Numerical care: compensated (Neumaier) summation. The only place sums of many terms are
//! accumulated, so that n = 10^7 weights lose no precision.

/// A running sum with Neumaier compensation.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sum {
    sum: f64,
    compensation: f64,
}

impl Sum {
    pub fn new() -> Self {
        Self::default()
    }

    #[inline]
    pub fn add(&mut self, x: f64) {
        let t = self.sum + x;
        if self.sum.abs() >= x.abs() {
            self.compensation += (self.sum - t) + x;
        } else {
            self.compensation += (x - t) + self.sum;
        }
        self.sum = t;
    }

    /// Merges another partial sum (for chunked or parallel accumulation).
    pub fn merge(&mut self, other: Sum) {
        self.add(other.sum);
        self.add(other.compensation);
    }

    pub fn value(&self) -> f64 {
        self.sum + self.compensation
    }
}

/// Compensated sum of a slice.
pub fn sum(values: &[f64]) -> f64 {
    let mut s = Sum::new();
    for &x in values {
        s.add(x);
    }
    s.value()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compensated_sum_keeps_small_terms() {
        // 1e16 + 1 + ... loses every 1 in naive summation.
        let mut v = vec![1e16];
        v.extend(std::iter::repeat_n(1.0, 1000));
        v.push(-1e16);
        assert_eq!(sum(&v), 1000.0);
    }

    #[test]
    fn ten_million_tenths() {
        let mut s = Sum::new();
        for _ in 0..10_000_000 {
            s.add(0.1);
        }
        assert!((s.value() - 1_000_000.0).abs() < 1e-8, "{}", s.value());
    }
}
