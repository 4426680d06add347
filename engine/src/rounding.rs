//! Rounding to integers without a call into libm: the x86-64 baseline has
//! no rounding instruction (SSE4.1's `roundsd`), so `f64::floor` and
//! `f64::round` are function calls, and the warp's sampler floors twice per
//! tap and the MVT encoder rounds every vertex. A float's truncation (`as`)
//! is one instruction; these correct it. Out-of-range values saturate, as
//! `as` does.

/// `x.floor()` as an integer.
#[inline]
pub(crate) fn floor(x: f64) -> i64 {
    let t = x as i64;
    t.saturating_sub(i64::from(t as f64 > x))
}

/// `x.ceil()` as an integer.
#[inline]
pub(crate) fn ceil(x: f64) -> i64 {
    let t = x as i64;
    t.saturating_add(i64::from((t as f64) < x))
}

/// `x.round()` (halves away from zero) as an integer. `x - t` is exact for
/// any `x` with a fractional part (|x| < 2⁵²).
#[inline]
pub(crate) fn round(x: f64) -> i64 {
    let t = x as i64;
    let fraction = x - t as f64;
    t.saturating_add(i64::from(fraction >= 0.5) - i64::from(fraction <= -0.5))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn they_agree_with_the_std_functions() {
        let cases = [
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.5,
            -1.5,
            2.5,
            0.49999999999999994,
            -0.49999999999999994,
            1e-300,
            -1e-300,
            3.7,
            -3.7,
            4095.5,
            -64.5,
            4_503_599_627_370_495.5,
            1e17,
            -1e17,
        ];
        for x in cases {
            assert_eq!(floor(x), x.floor() as i64, "floor {x}");
            assert_eq!(ceil(x), x.ceil() as i64, "ceil {x}");
            assert_eq!(round(x), x.round() as i64, "round {x}");
        }
        for x in [f64::MAX, f64::MIN, 1e300, -1e300, f64::NAN] {
            assert_eq!(floor(x), x.floor() as i64, "floor {x}");
            assert_eq!(ceil(x), x.ceil() as i64, "ceil {x}");
            assert_eq!(round(x), x.round() as i64, "round {x}");
        }
    }
}
