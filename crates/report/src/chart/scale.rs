//! Axis ticks on 1-2-5 steps and linear scales.

/// Round tick values for an axis covering `min..=max` with about `target` intervals.
///
/// The step is the smallest of 1, 2 or 5 times a power of ten that is at least
/// `(max - min) / target`; the ticks run from the largest multiple of the step not above `min` to
/// the smallest not below `max`, so the data always lie inside the axis. E.g. `nice_ticks(0, 97,
/// 5)` is `0, 20, 40, 60, 80, 100`. Tick values are computed as integer multiples of the step
/// (no accumulated rounding). An empty range is widened around its value; a non-finite input or
/// `target == 0` gives `0, 1`.
pub fn nice_ticks(min: f64, max: f64, target: usize) -> Vec<f64> {
    ticks_with_step(min, max, target).0
}

/// The ticks and the decimals needed to print them.
pub(crate) fn ticks_with_step(min: f64, max: f64, target: usize) -> (Vec<f64>, usize) {
    if !min.is_finite() || !max.is_finite() || target == 0 {
        return (vec![0.0, 1.0], 0);
    }
    let (mut lo, mut hi) = if min <= max { (min, max) } else { (max, min) };
    if hi - lo == 0.0 {
        if lo == 0.0 {
            hi = 1.0;
        } else {
            let pad = lo.abs() * 0.1;
            lo -= pad;
            hi += pad;
        }
    }
    let raw = (hi - lo) / target as f64;
    let mut exponent = raw.log10().floor() as i32;
    let mut mantissa = 0_i64;
    for m in [1_i64, 2, 5, 10] {
        if m as f64 * pow10(exponent) >= raw * (1.0 - 1e-12) {
            mantissa = m;
            break;
        }
    }
    if mantissa == 10 || mantissa == 0 {
        mantissa = 1;
        exponent += 1;
    }
    let step = mantissa as f64 * pow10(exponent);
    let first = (lo / step + 1e-9).floor() as i64;
    let last = (hi / step - 1e-9).ceil() as i64;
    let value = |k: i64| {
        let units = (k * mantissa) as f64;
        if exponent >= 0 {
            units * pow10(exponent)
        } else {
            units / pow10(-exponent)
        }
    };
    let ticks = (first..=last).map(value).collect();
    (ticks, exponent.min(0).unsigned_abs() as usize)
}

fn pow10(exponent: i32) -> f64 {
    10_f64.powi(exponent)
}

/// A linear map from a data interval to a pixel interval.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Linear {
    pub d0: f64,
    pub d1: f64,
    pub r0: f64,
    pub r1: f64,
}

impl Linear {
    pub fn map(&self, v: f64) -> f64 {
        if self.d1 == self.d0 {
            return (self.r0 + self.r1) / 2.0;
        }
        self.r0 + (v - self.d0) / (self.d1 - self.d0) * (self.r1 - self.r0)
    }

    /// A scale whose domain is the first and last tick.
    pub fn from_ticks(ticks: &[f64], r0: f64, r1: f64) -> Linear {
        let d0 = ticks.first().copied().unwrap_or(0.0);
        let d1 = ticks.last().copied().unwrap_or(1.0);
        Linear { d0, d1, r0, r1 }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(min: f64, max: f64, target: usize, expect: &[f64], decimals: usize) {
        let (ticks, d) = ticks_with_step(min, max, target);
        assert_eq!(ticks, expect, "nice_ticks({min}, {max}, {target})");
        assert_eq!(
            d, decimals,
            "decimals of nice_ticks({min}, {max}, {target})"
        );
    }

    #[test]
    fn one_two_five_steps() {
        check(0.0, 97.0, 5, &[0.0, 20.0, 40.0, 60.0, 80.0, 100.0], 0);
        check(0.0, 100.0, 5, &[0.0, 20.0, 40.0, 60.0, 80.0, 100.0], 0);
        check(0.0, 10.0, 5, &[0.0, 2.0, 4.0, 6.0, 8.0, 10.0], 0);
        check(0.0, 23.0, 5, &[0.0, 5.0, 10.0, 15.0, 20.0, 25.0], 0);
        check(3.0, 7.0, 4, &[3.0, 4.0, 5.0, 6.0, 7.0], 0);
        check(0.0, 0.87, 4, &[0.0, 0.5, 1.0], 1);
        check(0.12, 0.31, 5, &[0.1, 0.15, 0.2, 0.25, 0.3, 0.35], 2);
        check(-12.0, 47.0, 5, &[-20.0, 0.0, 20.0, 40.0, 60.0], 0);
        check(
            1200.0,
            5400.0,
            5,
            &[1000.0, 2000.0, 3000.0, 4000.0, 5000.0, 6000.0],
            0,
        );
    }

    #[test]
    fn degenerate_ranges() {
        check(0.0, 0.0, 5, &[0.0, 0.2, 0.4, 0.6, 0.8, 1.0], 1);
        check(
            50.0,
            50.0,
            5,
            &[44.0, 46.0, 48.0, 50.0, 52.0, 54.0, 56.0],
            0,
        );
        check(f64::NAN, 1.0, 5, &[0.0, 1.0], 0);
        check(10.0, 0.0, 5, &[0.0, 2.0, 4.0, 6.0, 8.0, 10.0], 0);
    }

    #[test]
    fn tick_values_are_exact_decimals() {
        let ticks = nice_ticks(0.0, 0.7, 7);
        assert_eq!(ticks[3], 0.3);
    }

    #[test]
    fn linear_maps_middle_to_middle() {
        let s = Linear::from_ticks(&[0.0, 50.0, 100.0], 300.0, 100.0);
        assert_eq!(s.map(50.0), 200.0);
        assert_eq!(s.map(0.0), 300.0);
    }
}
