//! xorshift64, the engine tests' deterministic generator: fuzzing with
//! random input that a failure's seed replays, without a dependency.

pub(crate) struct XorShift(pub u64);

impl XorShift {
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}
