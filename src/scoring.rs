//! Pure scoring functions over `statrs`: count tail probabilities under a stated null
//! model, a robust z-score, Benjamini–Hochberg adjustment and a 0–100 risk score.
//!
//! Nothing here reads data or configuration; every function takes numbers and returns
//! numbers, so the analytics stay testable and the statistics stay in one audited place.
//!
//! Null models (DESIGN.md "Statistics"):
//! - **Poisson**: events arrive independently at a constant rate λ per bucket (here an
//!   hour). Used when the history shows no significant over-dispersion.
//! - **Negative binomial** (Poisson–gamma mixture): the rate itself varies between buckets,
//!   so the variance exceeds the mean. Parameters come from the method of moments
//!   (Cameron & Trivedi, *Regression Analysis of Count Data*, 2nd ed., §3.2).
//! - The choice between them is Fisher's index-of-dispersion test: Σ(x−x̄)²/x̄ follows
//!   χ²(n−1) under a Poisson null (Cochran 1954, "Some methods for strengthening the common
//!   χ² tests", Biometrics 10:417).

use statrs::distribution::{ChiSquared, ContinuousCDF, DiscreteCDF, NegativeBinomial, Poisson};

/// Scale that turns a median absolute deviation into a consistent estimator of the standard
/// deviation of a normal distribution (1 / Φ⁻¹(3/4)); Rousseeuw & Croux 1993.
pub const MAD_SCALE: f64 = 1.4826;

/// Scale that turns a mean absolute deviation into a standard deviation for normal data
/// (√(π/2)); the fallback of Iglewicz & Hoaglin (1993) when the MAD is 0.
pub const MEAN_AD_SCALE: f64 = 1.253314;

/// Significance level of the over-dispersion test in [`CountModel::fit`] when callers have
/// no reason to choose another.
pub const DEFAULT_DISPERSION_ALPHA: f64 = 0.05;

/// P(X ≥ k) for X ~ Poisson(λ), λ in events per bucket.
///
/// Edge cases are exact rather than errors: k = 0 gives 1 (every count is ≥ 0); λ = 0 gives
/// 0 for any k ≥ 1 (a process that never fires cannot reach k); a negative or NaN λ is
/// treated as 0 and λ = +∞ gives 1. Computed with the regularised lower incomplete gamma
/// function, so tails as small as 1e-300 keep their precision (no `1 - cdf` cancellation).
pub fn poisson_upper_tail(k: u64, lambda: f64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if lambda.is_nan() || lambda <= 0.0 {
        return 0.0;
    }
    if lambda == f64::INFINITY {
        return 1.0;
    }
    match Poisson::new(lambda) {
        Ok(d) => d.sf(k - 1).clamp(0.0, 1.0),
        Err(_) => 0.0,
    }
}

/// Method-of-moments negative-binomial parameters `(r, p)` (statrs' parameterisation:
/// failures before the r-th success, success probability p; mean r(1−p)/p) from a sample
/// mean and variance. `None` unless the sample is over-dispersed (variance > mean > 0):
/// otherwise the Poisson model is the better description.
pub fn negative_binomial_moments(mean: f64, variance: f64) -> Option<(f64, f64)> {
    if mean.is_nan()
        || variance.is_nan()
        || mean <= 0.0
        || variance <= mean
        || variance.is_infinite()
    {
        return None;
    }
    let p = mean / variance;
    let r = mean * mean / (variance - mean);
    Some((r, p))
}

/// P(X ≥ k) for X ~ NegativeBinomial(r, p) in statrs' parameterisation (see
/// [`negative_binomial_moments`]). k = 0 gives 1; p = 1 or r = 0 (all mass at 0) gives 0
/// for k ≥ 1; invalid parameters give NaN.
pub fn negative_binomial_upper_tail(k: u64, r: f64, p: f64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if r == 0.0 || p == 1.0 {
        return 0.0;
    }
    match NegativeBinomial::new(r, p) {
        Ok(d) => d.sf(k - 1).clamp(0.0, 1.0),
        Err(_) => f64::NAN,
    }
}

/// Sample mean and unbiased (n−1) variance; `(0, 0)` for an empty sample and variance 0
/// for a single value.
pub fn mean_variance(xs: &[f64]) -> (f64, f64) {
    let n = xs.len() as f64;
    if xs.is_empty() {
        return (0.0, 0.0);
    }
    let mean = xs.iter().sum::<f64>() / n;
    if xs.len() < 2 {
        return (mean, 0.0);
    }
    let ss: f64 = xs.iter().map(|x| (x - mean) * (x - mean)).sum();
    (mean, ss / (n - 1.0))
}

/// Fisher's index-of-dispersion test: p-value of D = Σ(x−x̄)²/x̄ against χ²(n−1), i.e. the
/// probability of a history at least this over-dispersed if the counts were Poisson.
/// `None` when the test is undefined (fewer than 2 buckets, or a mean of 0).
pub fn dispersion_test_p(counts: &[u64]) -> Option<f64> {
    if counts.len() < 2 {
        return None;
    }
    let xs: Vec<f64> = counts.iter().map(|&c| c as f64).collect();
    let (mean, _) = mean_variance(&xs);
    if mean <= 0.0 {
        return None;
    }
    let d: f64 = xs.iter().map(|x| (x - mean) * (x - mean)).sum::<f64>() / mean;
    let chi = ChiSquared::new((counts.len() - 1) as f64).ok()?;
    Some(chi.sf(d))
}

/// A fitted null model for counts per bucket.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum CountModel {
    /// Poisson with rate `lambda` (events per bucket).
    Poisson {
        /// Events per bucket.
        lambda: f64,
    },
    /// Negative binomial in statrs' parameterisation; `mean` and `variance` are the
    /// history's moments it was fitted from (events per bucket).
    NegativeBinomial {
        /// Number of successes (dispersion: smaller is burstier).
        r: f64,
        /// Success probability.
        p: f64,
        /// Sample mean of the history (events per bucket).
        mean: f64,
        /// Sample variance of the history (events² per bucket).
        variance: f64,
    },
}

impl CountModel {
    /// Fits the null model to a history of counts per bucket, zeros included.
    ///
    /// The rate is the Jeffreys-prior posterior mean (Σx + ½)/n, so a history of zeros
    /// gives a small positive rate instead of λ = 0, under which any count would be
    /// infinitely surprising. The negative binomial replaces the Poisson when the
    /// index-of-dispersion test rejects at `alpha` (see [`dispersion_test_p`]).
    /// An empty history gives `Poisson { lambda: 0.5 }` (the prior alone); callers are
    /// expected to enforce a minimum history before scoring at all.
    pub fn fit(history: &[u64], alpha: f64) -> CountModel {
        let n = history.len() as f64;
        let total: u64 = history.iter().sum();
        let lambda = (total as f64 + 0.5) / n.max(1.0);
        let xs: Vec<f64> = history.iter().map(|&c| c as f64).collect();
        let (mean, variance) = mean_variance(&xs);
        let overdispersed = dispersion_test_p(history).is_some_and(|p| p < alpha);
        if overdispersed {
            if let Some((r, p)) = negative_binomial_moments(mean, variance) {
                return CountModel::NegativeBinomial {
                    r,
                    p,
                    mean,
                    variance,
                };
            }
        }
        CountModel::Poisson { lambda }
    }

    /// P(X ≥ k) under the model.
    pub fn upper_tail(&self, k: u64) -> f64 {
        match *self {
            CountModel::Poisson { lambda } => poisson_upper_tail(k, lambda),
            CountModel::NegativeBinomial { r, p, .. } => negative_binomial_upper_tail(k, r, p),
        }
    }

    /// Expected count per bucket.
    pub fn mean(&self) -> f64 {
        match *self {
            CountModel::Poisson { lambda } => lambda,
            CountModel::NegativeBinomial { mean, .. } => mean,
        }
    }

    /// `"poisson"` or `"negative_binomial"`, for finding descriptions.
    pub fn name(&self) -> &'static str {
        match self {
            CountModel::Poisson { .. } => "poisson",
            CountModel::NegativeBinomial { .. } => "negative_binomial",
        }
    }
}

/// Probability that the largest of `m` independent tests has a p-value ≤ `p` under the
/// null: 1 − (1 − p)^m (Šidák 1967). Used when an analytic scores the busiest of m buckets
/// of one entity, so that looking at many buckets does not manufacture significance.
pub fn sidak(p: f64, m: usize) -> f64 {
    if m <= 1 {
        return p.clamp(0.0, 1.0);
    }
    // -expm1(m·ln1p(−p)) keeps precision when p is tiny (1 − (1−p)^m ≈ m·p).
    (-((m as f64) * (-p).ln_1p()).exp_m1()).clamp(0.0, 1.0)
}

/// Median of a sample; `None` when empty. NaNs sort last and so only matter if they are
/// the majority.
pub fn median(xs: &[f64]) -> Option<f64> {
    if xs.is_empty() {
        return None;
    }
    let mut v = xs.to_vec();
    v.sort_by(|a, b| a.total_cmp(b));
    let n = v.len();
    Some(if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    })
}

/// Robust z-score of `x` against a history: (x − median) / σ̂ with σ̂ = 1.4826 · MAD
/// (Rousseeuw & Croux 1993; Iglewicz & Hoaglin 1993, "How to Detect and Handle Outliers").
///
/// A constant history has MAD = 0; σ̂ then falls back to 1.2533 · mean absolute deviation,
/// and when that is 0 too, to `floor` (in the units of `x`, e.g. 1 event per hour), so a
/// first deviation from a flat line gives a large but finite score. `None` for an empty
/// history; a non-positive `floor` is replaced by 1.
pub fn robust_z(x: f64, history: &[f64], floor: f64) -> Option<f64> {
    let med = median(history)?;
    let deviations: Vec<f64> = history.iter().map(|h| (h - med).abs()).collect();
    let mad = median(&deviations)?;
    let mut scale = MAD_SCALE * mad;
    if scale <= 0.0 {
        let mean_ad = deviations.iter().sum::<f64>() / deviations.len() as f64;
        scale = MEAN_AD_SCALE * mean_ad;
    }
    let floor = if floor > 0.0 { floor } else { 1.0 };
    Some((x - med) / scale.max(floor))
}

/// Benjamini–Hochberg adjusted p-values (Benjamini & Hochberg 1995, "Controlling the false
/// discovery rate", JRSS B 57:289), aligned with the input order.
///
/// adj₍ᵢ₎ = min over j ≥ i of (m / j) · p₍ⱼ₎ for the ascending order p₍₁₎ ≤ … ≤ p₍ₘ₎,
/// capped at 1. Rejecting every test with adj ≤ q controls the FDR at q for independent or
/// positively dependent tests. The result is ≥ the raw value and keeps its order. NaN or
/// out-of-range inputs are treated as 1 (never significant).
pub fn benjamini_hochberg(p_values: &[f64]) -> Vec<f64> {
    let m = p_values.len();
    let clean: Vec<f64> = p_values
        .iter()
        .map(|&p| if p.is_nan() { 1.0 } else { p.clamp(0.0, 1.0) })
        .collect();
    let mut order: Vec<usize> = (0..m).collect();
    order.sort_by(|&a, &b| clean[a].total_cmp(&clean[b]).then(a.cmp(&b)));
    let mut adjusted = vec![1.0; m];
    let mut running = 1.0f64;
    for (rank0, &i) in order.iter().enumerate().rev() {
        let value = clean[i] * m as f64 / (rank0 + 1) as f64;
        running = running.min(value).min(1.0);
        adjusted[i] = running;
    }
    adjusted
}

/// Maps a statistical result to a 0–100 risk score for ranking findings.
///
/// 70 % of the score is surprise, −log₁₀ p saturating at 16 (p ≤ 1e-16 is as surprising as
/// it gets in f64); 30 % is magnitude, log₂ of (observed + 1) / (expected + 1) saturating
/// at a 256-fold excess. A heuristic, not a probability: it orders findings so that a
/// tiny p on a trivial excess does not outrank a large excess. `p_value` None (signals,
/// first-seen) counts as p = 1e-3, i.e. notable but not extreme.
pub fn risk_score(p_value: Option<f64>, observed: f64, expected: Option<f64>) -> f64 {
    let p = p_value.unwrap_or(1e-3).clamp(1e-300, 1.0);
    let surprise = (-p.log10()).clamp(0.0, 16.0) / 16.0;
    let expected = expected.unwrap_or(0.0).max(0.0);
    let ratio = ((observed.max(0.0) + 1.0) / (expected + 1.0))
        .log2()
        .clamp(0.0, 8.0)
        / 8.0;
    ((70.0 * surprise + 30.0 * ratio) * 10.0).round() / 10.0
}

/// P(X ≤ k) for X ~ Poisson(λ), λ in events per bucket: the *lower* tail, for a count far
/// below what was expected (a log source that stops delivering).
///
/// λ ≤ 0 or NaN (a process that never fires) gives 1 for every k; λ = +∞ gives 0. The
/// regularised upper incomplete gamma keeps tiny tails (P(X = 0 | 500) = e⁻⁵⁰⁰) precise
/// down to f64's smallest positive value; below that the result is 0.
pub fn poisson_lower_tail(k: u64, lambda: f64) -> f64 {
    if lambda.is_nan() || lambda <= 0.0 {
        return 1.0;
    }
    if lambda == f64::INFINITY {
        return 0.0;
    }
    match Poisson::new(lambda) {
        Ok(d) => d.cdf(k).clamp(0.0, 1.0),
        Err(_) => 1.0,
    }
}

/// P(X ≤ k) for X ~ NegativeBinomial(r, p) in statrs' parameterisation (see
/// [`negative_binomial_moments`]); the lower-tail twin of [`negative_binomial_upper_tail`].
/// p = 1 or r = 0 (all mass at 0) gives 1; invalid parameters give NaN.
pub fn negative_binomial_lower_tail(k: u64, r: f64, p: f64) -> f64 {
    if r == 0.0 || p == 1.0 {
        return 1.0;
    }
    match NegativeBinomial::new(r, p) {
        Ok(d) => d.cdf(k).clamp(0.0, 1.0),
        Err(_) => f64::NAN,
    }
}

/// Pearson's dispersion test against per-bucket expectations (a seasonal Poisson null):
/// the p-value of X² = Σ (xᵢ − μᵢ)² / μᵢ against χ²(n − `fitted`), where `fitted` is the
/// number of parameters estimated from the same counts (e.g. the seasonal slots with
/// data). With one constant μ equal to the sample mean this is Fisher's index of
/// dispersion ([`dispersion_test_p`]). `None` when lengths differ, a μ is not positive,
/// or fewer than one degree of freedom is left (Cameron & Trivedi 2013, §3.4).
pub fn pearson_dispersion_p(counts: &[u64], expected: &[f64], fitted: usize) -> Option<f64> {
    if counts.len() != expected.len() || counts.len() <= fitted {
        return None;
    }
    let mut x2 = 0.0;
    for (&c, &mu) in counts.iter().zip(expected) {
        if mu.is_nan() || mu <= 0.0 {
            return None;
        }
        let d = c as f64 - mu;
        x2 += d * d / mu;
    }
    let chi = ChiSquared::new((counts.len() - fitted) as f64).ok()?;
    Some(chi.sf(x2))
}

/// Method-of-moments negative-binomial size k for counts with per-bucket means μᵢ under
/// Var(X) = μ + μ²/k (the NB2 model, Cameron & Trivedi 2013, §3.2):
/// 1/k = Σ[(xᵢ − μᵢ)² − μᵢ] / Σ μᵢ². Smaller k is burstier. `None` when the counts are not
/// over-dispersed (1/k ≤ 0), lengths differ, or every μ is 0.
pub fn negative_binomial_size(counts: &[u64], expected: &[f64]) -> Option<f64> {
    if counts.len() != expected.len() {
        return None;
    }
    let (mut num, mut den) = (0.0, 0.0);
    for (&c, &mu) in counts.iter().zip(expected) {
        let d = c as f64 - mu;
        num += d * d - mu;
        den += mu * mu;
    }
    (den > 0.0 && num > 0.0).then(|| den / num)
}

#[cfg(test)]
mod lower_tail_tests {
    use super::*;

    #[test]
    fn lower_tails_known_values() {
        // P(X ≤ 0 | λ) = e^−λ; P(X ≤ 2 | 2) = e^−2 (1 + 2 + 2) = 0.676676.
        assert!((poisson_lower_tail(0, 3.0) - (-3.0f64).exp()).abs() < 1e-15);
        assert!((poisson_lower_tail(2, 2.0) - 5.0 * (-2.0f64).exp()).abs() < 1e-12);
        let deep = poisson_lower_tail(0, 500.0);
        assert!((deep / (-500.0f64).exp() - 1.0).abs() < 1e-9, "{deep}");
        assert_eq!(poisson_lower_tail(4, 0.0), 1.0);
        assert_eq!(poisson_lower_tail(4, f64::INFINITY), 0.0);
        // Upper and lower tails partition the line: P(X ≤ k) + P(X ≥ k + 1) = 1.
        assert!((poisson_lower_tail(7, 5.5) + poisson_upper_tail(8, 5.5) - 1.0).abs() < 1e-12);
        // NB r = 2, p = 0.5: P(0) = 0.25, P(1) = 0.25.
        assert!((negative_binomial_lower_tail(0, 2.0, 0.5) - 0.25).abs() < 1e-12);
        assert!((negative_binomial_lower_tail(1, 2.0, 0.5) - 0.5).abs() < 1e-12);
        assert_eq!(negative_binomial_lower_tail(3, 0.0, 0.5), 1.0);
        assert!(negative_binomial_lower_tail(3, -1.0, 0.5).is_nan());
        // The NB's heavier tail makes a silence far less surprising than under Poisson.
        let (r, p) = negative_binomial_moments(50.0, 2500.0).unwrap();
        assert!(negative_binomial_lower_tail(0, r, p) > 1e10 * poisson_lower_tail(0, 50.0));
    }

    #[test]
    fn dispersion_against_expectations() {
        // Constant μ = sample mean reproduces Fisher's index test.
        let xs = [0u64, 0, 0, 8, 0, 0, 0, 8];
        let mean = vec![2.0; xs.len()];
        let a = pearson_dispersion_p(&xs, &mean, 1).unwrap();
        assert!((a - dispersion_test_p(&xs).unwrap()).abs() < 1e-12);
        // Counts that follow their seasonal means exactly are not over-dispersed.
        let ys = [10u64, 0, 10, 0];
        let mu = [10.0, 0.5, 10.0, 0.5];
        assert!(pearson_dispersion_p(&ys, &mu, 2).unwrap() > 0.5);
        assert_eq!(negative_binomial_size(&ys, &mu), None);
        assert_eq!(pearson_dispersion_p(&ys, &[1.0, 0.0, 1.0, 1.0], 1), None);
        assert_eq!(pearson_dispersion_p(&ys, &mu, 4), None);
        // Var = μ + μ²/k: 0, 8 around μ = 4 has Σ(d² − μ) = 24, Σμ² = 32 → k = 32/24.
        let k = negative_binomial_size(&[0, 8], &[4.0, 4.0]).unwrap();
        assert!((k - 32.0 / 24.0).abs() < 1e-12);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a - b).abs() <= tol
    }

    #[test]
    fn poisson_known_values() {
        assert!(close(poisson_upper_tail(5, 2.0), 0.052653, 1e-6));
        // P(X ≥ 1 | λ) = 1 − e^{−λ}
        assert!(close(
            poisson_upper_tail(1, 0.1),
            1.0 - (-0.1f64).exp(),
            1e-12
        ));
        assert_eq!(poisson_upper_tail(0, 0.0), 1.0);
        assert_eq!(poisson_upper_tail(0, 7.0), 1.0);
        assert_eq!(poisson_upper_tail(3, 0.0), 0.0);
        assert_eq!(poisson_upper_tail(3, -1.0), 0.0);
        assert_eq!(poisson_upper_tail(3, f64::NEG_INFINITY), 0.0);
        assert_eq!(poisson_upper_tail(3, f64::INFINITY), 1.0);
        // Deep tail keeps precision: P(X ≥ 60 | 2) = Σ_{k≥60} 2^k e^-2 / k! = 1.938678e-65.
        let deep = poisson_upper_tail(60, 2.0);
        assert!((deep / 1.938678163061224e-65 - 1.0).abs() < 1e-9, "{deep}");
    }

    #[test]
    fn negative_binomial_known_values() {
        // r = 2, p = 0.5: P(0) = 0.25, P(1) = 0.25, so P(X ≥ 2) = 0.5.
        assert!(close(negative_binomial_upper_tail(2, 2.0, 0.5), 0.5, 1e-12));
        assert!(close(
            negative_binomial_upper_tail(1, 2.0, 0.5),
            0.75,
            1e-12
        ));
        assert_eq!(negative_binomial_upper_tail(0, 2.0, 0.5), 1.0);
        assert_eq!(negative_binomial_upper_tail(4, 0.0, 0.5), 0.0);
        let (r, p) = negative_binomial_moments(2.0, 6.0).unwrap();
        assert!(close(p, 1.0 / 3.0, 1e-12) && close(r, 1.0, 1e-12));
        assert_eq!(negative_binomial_moments(2.0, 1.0), None);
    }

    #[test]
    fn fit_picks_model_by_dispersion() {
        // Steady 1,2,3,2 (variance < mean) stays Poisson with the Jeffreys rate.
        let steady: Vec<u64> = (0..336).map(|i| [1, 2, 3, 2][i % 4]).collect();
        match CountModel::fit(&steady, DEFAULT_DISPERSION_ALPHA) {
            CountModel::Poisson { lambda } => assert!(close(lambda, 672.5 / 336.0, 1e-12)),
            m => panic!("expected Poisson, got {m:?}"),
        }
        // Bursty 0,0,0,8 (mean 2, variance ≈ 12) becomes negative binomial.
        let bursty: Vec<u64> = (0..336).map(|i| if i % 4 == 3 { 8 } else { 0 }).collect();
        let m = CountModel::fit(&bursty, DEFAULT_DISPERSION_ALPHA);
        assert_eq!(m.name(), "negative_binomial");
        assert!(close(m.mean(), 2.0, 1e-12));
        // The heavier tail makes 10 far less surprising than under Poisson(2).
        assert!(m.upper_tail(10) > 100.0 * poisson_upper_tail(10, 2.0));
        assert!(close(dispersion_test_p(&[2, 2, 2]).unwrap(), 1.0, 1e-12));
        assert_eq!(dispersion_test_p(&[0, 0, 0]), None);
        assert_eq!(
            CountModel::fit(&[], 0.05),
            CountModel::Poisson { lambda: 0.5 }
        );
    }

    #[test]
    fn sidak_values() {
        assert!(close(sidak(0.05, 1), 0.05, 1e-15));
        assert!(close(sidak(0.01, 24), 1.0 - 0.99f64.powi(24), 1e-12));
        assert!(close(sidak(1e-20, 24), 24e-20, 1e-30));
    }

    #[test]
    fn robust_z_values() {
        // median 3, |dev| = 2,1,0,1,2 → MAD 1 → σ̂ 1.4826.
        let z = robust_z(10.0, &[1.0, 2.0, 3.0, 4.0, 5.0], 1.0).unwrap();
        assert!(close(z, 7.0 / 1.4826, 1e-9));
        // Mostly constant: MAD 0, mean AD = 0.4 → σ̂ = 0.5013 < floor 1.
        let z = robust_z(7.0, &[2.0, 2.0, 2.0, 2.0, 4.0], 1.0).unwrap();
        assert!(close(z, 5.0, 1e-12));
        let z = robust_z(7.0, &[2.0, 2.0, 2.0, 2.0, 12.0], 1.0).unwrap();
        assert!(close(z, 5.0 / (MEAN_AD_SCALE * 2.0), 1e-9));
        assert_eq!(robust_z(1.0, &[], 1.0), None);
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
    }

    #[test]
    fn bh_known_values() {
        // Worked example: m = 4, p = 0.01, 0.04, 0.03, 0.5.
        let adj = benjamini_hochberg(&[0.01, 0.04, 0.03, 0.5]);
        let want = [0.04, 0.04 * 4.0 / 3.0, 0.04 * 4.0 / 3.0, 0.5];
        for (a, w) in adj.iter().zip(want) {
            assert!(close(*a, w, 1e-12), "{adj:?}");
        }
        assert_eq!(benjamini_hochberg(&[0.9, f64::NAN]), vec![1.0, 1.0]);
        assert!(benjamini_hochberg(&[]).is_empty());
    }

    #[test]
    fn risk_score_range() {
        assert_eq!(risk_score(Some(1.0), 0.0, Some(0.0)), 0.0);
        assert_eq!(risk_score(Some(1e-20), 1000.0, Some(1.0)), 100.0);
        let mid = risk_score(Some(1e-8), 60.0, Some(2.0));
        assert!(mid > 50.0 && mid < 80.0, "{mid}");
        assert!(risk_score(None, 1.0, None) > 0.0);
    }

    proptest! {
        #[test]
        fn poisson_tail_never_rises(lambda in 0.0f64..200.0, k in 0u64..400) {
            let a = poisson_upper_tail(k, lambda);
            let b = poisson_upper_tail(k + 1, lambda);
            prop_assert!((0.0..=1.0).contains(&a));
            prop_assert!(b <= a + 1e-12, "k={k} λ={lambda}: {a} then {b}");
        }

        #[test]
        fn nb_tail_never_rises(mean in 0.1f64..100.0, extra in 0.01f64..500.0, k in 0u64..400) {
            let (r, p) = negative_binomial_moments(mean, mean + extra).unwrap();
            let a = negative_binomial_upper_tail(k, r, p);
            let b = negative_binomial_upper_tail(k + 1, r, p);
            prop_assert!((0.0..=1.0).contains(&a));
            prop_assert!(b <= a + 1e-12, "k={k} r={r} p={p}: {a} then {b}");
        }

        #[test]
        fn bh_is_above_raw_and_keeps_order(ps in proptest::collection::vec(0.0f64..=1.0, 0..60)) {
            let adj = benjamini_hochberg(&ps);
            prop_assert_eq!(adj.len(), ps.len());
            for i in 0..ps.len() {
                prop_assert!(adj[i] >= ps[i] - 1e-15 && adj[i] <= 1.0);
                for j in 0..ps.len() {
                    if ps[i] <= ps[j] {
                        prop_assert!(adj[i] <= adj[j] + 1e-15);
                    }
                }
            }
        }

        #[test]
        fn risk_never_falls_as_count_rises(p in 1e-30f64..1.0, obs in 0.0f64..1e4, exp in 0.0f64..1e3) {
            prop_assert!(risk_score(Some(p), obs + 1.0, Some(exp)) >= risk_score(Some(p), obs, Some(exp)));
        }
    }
}
