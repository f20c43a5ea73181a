//! Seeded randomness for the demo world: a SplitMix64 generator with the few draws the world
//! needs, and stateless hashes. Hand-written so that the world a seed makes never changes with a
//! dependency's version (same seed → bit-identical catalog, plays and audio).

/// The 64-bit golden ratio, SplitMix64's increment.
const GOLDEN: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64's finaliser: a bijective mix of 64 bits, good enough to hash counters.
pub(crate) fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A seed for an independent stream, derived from a parent seed and a path of labels
/// (e.g. `[ARTIST, 17]`), so that adding draws to one stream never shifts another.
pub(crate) fn derive_seed(seed: u64, labels: &[u64]) -> u64 {
    labels.iter().fold(mix64(seed ^ GOLDEN), |hash, &label| {
        mix64(hash ^ mix64(label.wrapping_add(GOLDEN)))
    })
}

/// White noise as a pure function of (seed, absolute sample index): uniform in [-1, 1).
/// Being stateless, any sample range of a noise source renders the same wherever it starts.
#[inline]
pub(crate) fn noise_at(seed: u64, sample: i64) -> f32 {
    let bits = mix64(seed ^ (sample as u64).wrapping_mul(GOLDEN)) >> 40;
    bits as f32 * (2.0 / (1u32 << 24) as f32) - 1.0
}

/// A SplitMix64 stream with the draws the world generator uses.
#[derive(Debug, Clone)]
pub(crate) struct Rng {
    state: u64,
}

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// A generator for the stream `labels` below `seed` (see [`derive_seed`]).
    pub(crate) fn derived(seed: u64, labels: &[u64]) -> Self {
        Self::new(derive_seed(seed, labels))
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(GOLDEN);
        mix64(self.state)
    }

    /// Uniform in [0, 1).
    pub(crate) fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in [lo, hi).
    pub(crate) fn range(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.unit()
    }

    /// Uniform in [lo, hi) as f32.
    pub(crate) fn range_f32(&mut self, lo: f32, hi: f32) -> f32 {
        self.range(f64::from(lo), f64::from(hi)) as f32
    }

    /// Uniform integer in [0, n); 0 when n is 0.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        // Lemire's multiply-shift: bias below 2^-64 · n, irrelevant here.
        ((u128::from(self.next_u64()) * n as u128) >> 64) as usize
    }

    /// Uniform integer in [lo, hi] (inclusive).
    pub(crate) fn between(&mut self, lo: i32, hi: i32) -> i32 {
        lo + self.below((hi - lo + 1).max(1) as usize) as i32
    }

    /// True with probability `p`.
    pub(crate) fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    /// Standard normal (Box–Muller).
    pub(crate) fn normal(&mut self) -> f64 {
        let u1 = 1.0 - self.unit(); // (0, 1]
        let u2 = self.unit();
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }

    /// One element of a non-empty slice.
    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// An index drawn with probability proportional to `weights` (non-negative, not all zero;
    /// all-zero weights fall back to uniform).
    pub(crate) fn weighted(&mut self, weights: &[f64]) -> usize {
        let total: f64 = weights.iter().sum();
        if total <= 0.0 || !total.is_finite() {
            return self.below(weights.len());
        }
        let mut target = self.unit() * total;
        for (i, &w) in weights.iter().enumerate() {
            if target < w {
                return i;
            }
            target -= w;
        }
        // Rounding can leave a sliver past the last bucket: it belongs to the last positive one.
        weights.iter().rposition(|&w| w > 0.0).unwrap_or(0)
    }

    /// Up to `n` distinct indices, each drawn by [`Rng::weighted`] among those not drawn yet;
    /// fewer when the positive weights run out.
    pub(crate) fn weighted_distinct(&mut self, weights: &[f64], n: usize) -> Vec<usize> {
        let mut left = weights.to_vec();
        let mut drawn = Vec::with_capacity(n);
        for _ in 0..n {
            if left.iter().all(|&w| w <= 0.0) {
                break;
            }
            let i = self.weighted(&left);
            left[i] = 0.0;
            drawn.push(i);
        }
        drawn
    }

    /// Fisher–Yates shuffle.
    pub(crate) fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i + 1);
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_matches_the_reference_sequence() {
        // First outputs of Vigna's splitmix64.c seeded with 1234567.
        let mut rng = Rng::new(1_234_567);
        let expected = [
            6_457_827_717_110_365_317u64,
            3_203_168_211_198_807_973,
            9_817_491_932_198_370_423,
            4_593_380_528_125_082_431,
            16_408_922_859_458_223_821,
        ];
        for e in expected {
            assert_eq!(rng.next_u64(), e);
        }
    }

    #[test]
    fn uniform_draws_cover_their_range_evenly() {
        let mut rng = Rng::new(7);
        let mut counts = [0usize; 10];
        for _ in 0..100_000 {
            let u = rng.unit();
            assert!((0.0..1.0).contains(&u));
            counts[(u * 10.0) as usize] += 1;
        }
        for c in counts {
            assert!((9_500..10_500).contains(&c), "bucket count {c}");
        }
        for _ in 0..1000 {
            let b = rng.between(-3, 4);
            assert!((-3..=4).contains(&b));
        }
    }

    #[test]
    fn normal_draws_have_unit_variance() {
        let mut rng = Rng::new(11);
        let n = 200_000;
        let draws: Vec<f64> = (0..n).map(|_| rng.normal()).collect();
        let mean = draws.iter().sum::<f64>() / n as f64;
        let var = draws.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64;
        assert!(mean.abs() < 0.01, "mean {mean}");
        assert!((var - 1.0).abs() < 0.02, "variance {var}");
    }

    #[test]
    fn weighted_draws_follow_the_weights() {
        let mut rng = Rng::new(3);
        let weights = [1.0, 0.0, 3.0];
        let mut counts = [0usize; 3];
        for _ in 0..40_000 {
            counts[rng.weighted(&weights)] += 1;
        }
        assert_eq!(counts[1], 0);
        let ratio = counts[2] as f64 / counts[0] as f64;
        assert!((ratio - 3.0).abs() < 0.15, "ratio {ratio}");
    }

    #[test]
    fn distinct_draws_never_repeat_and_skip_zero_weights() {
        let mut rng = Rng::new(5);
        let weights = [1.0, 0.0, 3.0, 2.0];
        let mut first = [0usize; 4];
        for _ in 0..20_000 {
            let drawn = rng.weighted_distinct(&weights, 2);
            assert_eq!(drawn.len(), 2);
            assert_ne!(drawn[0], drawn[1]);
            assert!(!drawn.contains(&1));
            first[drawn[0]] += 1;
        }
        // The first draw follows the weights: 1 : 3 : 2.
        let ratio = first[2] as f64 / first[0] as f64;
        assert!((ratio - 3.0).abs() < 0.25, "ratio {ratio}");
        // Three positive weights give at most three indices, whatever is asked.
        let mut all = rng.weighted_distinct(&weights, 10);
        all.sort_unstable();
        assert_eq!(all, vec![0, 2, 3]);
    }

    #[test]
    fn derived_streams_differ_and_repeat() {
        assert_eq!(derive_seed(5, &[1, 2]), derive_seed(5, &[1, 2]));
        assert_ne!(derive_seed(5, &[1, 2]), derive_seed(5, &[2, 1]));
        assert_ne!(derive_seed(5, &[1]), derive_seed(6, &[1]));
        let a = noise_at(9, 1000);
        assert_eq!(a, noise_at(9, 1000));
        assert_ne!(a, noise_at(9, 1001));
        let mean: f32 = (0..100_000).map(|t| noise_at(1, t)).sum::<f32>() / 100_000.0;
        assert!(mean.abs() < 0.01);
    }
}
