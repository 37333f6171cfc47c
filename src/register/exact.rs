//! Exact intervals for register counts, and intervals of gaps built from them.
//!
//! A register total has no sampling error, but a share or rate of a few dozen persons is still
//! a noisy measure of the service's underlying performance. Where a metric declares its counts,
//! its value gets an exact interval — Clopper–Pearson for a share (R's `binom.test`), Garwood's
//! for a Poisson rate (R's `poisson.test`) — and gaps between two groups get MOVER intervals
//! recovered from the two groups' exact limits (Newcombe 1998 for differences; on the log
//! scale for ratios, Zou & Donner 2008, Donner & Zou 2012).

use crate::estimate::distribution::{qbeta, qgamma};

/// A value with its interval (NaN limits where none applies).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Interval {
    pub value: f64,
    pub low: f64,
    pub high: f64,
}

impl Interval {
    /// A value without an interval.
    pub fn point(value: f64) -> Interval {
        Interval {
            value,
            low: f64::NAN,
            high: f64::NAN,
        }
    }

    pub fn has_limits(&self) -> bool {
        self.low.is_finite() && self.high.is_finite()
    }
}

/// The Clopper–Pearson interval of `x` successes out of `n` (as R's `binom.test`).
pub fn binomial(x: f64, n: f64, level: f64) -> Interval {
    let alpha = 1.0 - level;
    if n.is_nan() || n <= 0.0 || !(0.0..=n).contains(&x) {
        return Interval::point(f64::NAN);
    }
    let low = if x == 0.0 {
        0.0
    } else {
        qbeta(alpha / 2.0, x, n - x + 1.0)
    };
    let high = if x == n {
        1.0
    } else {
        qbeta(1.0 - alpha / 2.0, x + 1.0, n - x)
    };
    Interval {
        value: x / n,
        low,
        high,
    }
}

/// Garwood's exact interval of the rate of `x` events over `exposure` (as R's `poisson.test`).
pub fn poisson(x: f64, exposure: f64, level: f64) -> Interval {
    let alpha = 1.0 - level;
    if exposure.is_nan() || exposure <= 0.0 || x.is_nan() || x < 0.0 {
        return Interval::point(f64::NAN);
    }
    let low = if x == 0.0 {
        0.0
    } else {
        qgamma(alpha / 2.0, x)
    };
    let high = qgamma(1.0 - alpha / 2.0, x + 1.0);
    Interval {
        value: x / exposure,
        low: low / exposure,
        high: high / exposure,
    }
}

/// Scales a value and its limits (a share per 100, a rate per 1000).
pub fn scaled(i: Interval, per: f64) -> Interval {
    Interval {
        value: i.value * per,
        low: i.low * per,
        high: i.high * per,
    }
}

/// The difference `a − b` of two independent values; MOVER limits when both have limits.
pub fn difference(a: Interval, b: Interval) -> Interval {
    let value = a.value - b.value;
    if !(a.has_limits() && b.has_limits()) {
        return Interval::point(value);
    }
    Interval {
        value,
        low: value - ((a.value - a.low).powi(2) + (b.high - b.value).powi(2)).sqrt(),
        high: value + ((a.high - a.value).powi(2) + (b.value - b.low).powi(2)).sqrt(),
    }
}

/// The ratio `a / b` of two independent positive values; MOVER limits on the log scale when
/// both values and their limits are positive (a zero count leaves the ratio without limits).
pub fn ratio(a: Interval, b: Interval) -> Interval {
    let value = a.value / b.value;
    let positive = |i: &Interval| i.has_limits() && i.value > 0.0 && i.low > 0.0;
    if !(positive(&a) && positive(&b) && value.is_finite()) {
        return Interval::point(if value.is_finite() { value } else { f64::NAN });
    }
    let (la, lb) = (a.value.ln(), b.value.ln());
    let lv = la - lb;
    Interval {
        value,
        low: (lv - ((la - a.low.ln()).powi(2) + (b.high.ln() - lb).powi(2)).sqrt()).exp(),
        high: (lv + ((a.high.ln() - la).powi(2) + (lb - b.low.ln()).powi(2)).sqrt()).exp(),
    }
}

#[cfg(test)]
#[allow(clippy::excessive_precision)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        ((a - b) / b).abs() < tol
    }

    #[test]
    fn exact_intervals_match_r() {
        // R: binom.test(7, 40)$conf.int
        let b = binomial(7.0, 40.0, 0.95);
        assert_eq!(b.value, 0.175);
        assert!(close(b.low, 0.073382729352085202, 1e-10), "{b:?}");
        assert!(close(b.high, 0.327790133361585911, 1e-10), "{b:?}");
        let zero = binomial(0.0, 10.0, 0.95);
        assert_eq!(zero.low, 0.0);
        // R: binom.test(0, 10)$conf.int[2] = 1 - 0.025^(1/10)
        assert!(close(zero.high, 1.0 - 0.025f64.powf(0.1), 1e-12));
        assert_eq!(binomial(10.0, 10.0, 0.95).high, 1.0);
        // R: poisson.test(12, 350)$conf.int
        let p = poisson(12.0, 350.0, 0.95);
        assert!(close(p.low, 0.017715928882063477, 1e-10), "{p:?}");
        assert!(close(p.high, 0.059890242994791294, 1e-10), "{p:?}");
        assert!(binomial(5.0, 0.0, 0.95).value.is_nan());
    }

    #[test]
    fn mover_limits_by_hand() {
        let a = Interval {
            value: 0.5,
            low: 0.4,
            high: 0.65,
        };
        let b = Interval {
            value: 0.3,
            low: 0.2,
            high: 0.35,
        };
        let d = difference(a, b);
        assert!((d.value - 0.2).abs() < 1e-15);
        // low: 0.2 - sqrt(0.1^2 + 0.05^2); high: 0.2 + sqrt(0.15^2 + 0.1^2)
        assert!((d.low - (0.2 - 0.0125f64.sqrt())).abs() < 1e-15);
        assert!((d.high - (0.2 + 0.0325f64.sqrt())).abs() < 1e-15);
        let r = ratio(a, b);
        let l = (0.5f64 / 0.3).ln();
        let want_low =
            (l - ((0.5f64 / 0.4).ln().powi(2) + (0.35f64 / 0.3).ln().powi(2)).sqrt()).exp();
        assert!((r.low - want_low).abs() < 1e-15);
        assert!(r.low < r.value && r.value < r.high);
        // A point value has no limits, and neither has a gap built from it.
        assert!(!difference(a, Interval::point(0.1)).has_limits());
        let zero = binomial(0.0, 20.0, 0.95);
        assert_eq!(ratio(zero, b).value, 0.0);
        assert!(!ratio(zero, b).has_limits());
        assert!(ratio(a, zero).value.is_nan());
    }

    #[test]
    fn exact_and_mover_intervals_cover_at_least_their_level() {
        use rand::SeedableRng;
        use rand_distr::{Binomial, Distribution, Poisson};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
        let (n1, p1, n2, p2) = (60u64, 0.2, 320u64, 0.25);
        let (b1, b2) = (
            Binomial::new(n1, p1).unwrap(),
            Binomial::new(n2, p2).unwrap(),
        );
        let pois = Poisson::new(12.0).unwrap();
        let reps = 4000;
        let (mut single, mut diff, mut ratio, mut rate) = (0, 0, 0, 0);
        for _ in 0..reps {
            let a = binomial(b1.sample(&mut rng) as f64, n1 as f64, 0.95);
            let b = binomial(b2.sample(&mut rng) as f64, n2 as f64, 0.95);
            single += usize::from(a.low <= p1 && p1 <= a.high);
            let d = difference(a, b);
            diff += usize::from(d.low <= p1 - p2 && p1 - p2 <= d.high);
            let r = super::ratio(a, b);
            ratio += usize::from(r.low <= p1 / p2 && p1 / p2 <= r.high);
            let x: f64 = pois.sample(&mut rng);
            let p = poisson(x, 350.0, 0.95);
            rate += usize::from(p.low <= 12.0 / 350.0 && 12.0 / 350.0 <= p.high);
        }
        let share = |k: usize| k as f64 / reps as f64;
        // Exact intervals are conservative; MOVER from them stays close to the level. Measured
        // with this seed: Clopper–Pearson 95.9 %, Garwood 95.7 %, difference 96.0 %, ratio 96.1 %.
        assert!(
            share(single) >= 0.95 && share(single) < 0.99,
            "{}",
            share(single)
        );
        assert!(
            share(rate) >= 0.95 && share(rate) < 0.995,
            "{}",
            share(rate)
        );
        assert!((0.94..0.985).contains(&share(diff)), "{}", share(diff));
        assert!((0.94..0.985).contains(&share(ratio)), "{}", share(ratio));
    }
}
