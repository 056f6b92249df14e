//! A small deterministic pseudo-random source for the crate's randomised tests (xorshift64),
//! so that a failing case can be replayed from its seed.

/// Returns `next(n)`: a pseudo-random number in `0..n` (n > 0), from `seed` (not 0).
pub(crate) fn xorshift(seed: u64) -> impl FnMut(u64) -> u64 {
    let mut state = seed;
    move |n| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % n
    }
}
