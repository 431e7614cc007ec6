#pragma once

/// A seeded random source whose draws are identical on every platform, so that a seed
/// reproduces a search exactly (std::uniform_int_distribution is implementation-defined).

#include <cstdint>
#include <random>

namespace nascent {

/// Deterministic random numbers: 64-bit Mersenne Twister with portable draws.
class Rng {
 public:
  explicit Rng(uint64_t seed) : engine_(seed) {}

  /// Uniform integer in [0, count); `count` must be positive.
  int64_t index(int64_t count);

  /// Uniform integer in [low, high] (both inclusive).
  int64_t integer(int64_t low, int64_t high);

  /// Uniform double in [0, 1).
  double uniform();

  /// A raw 64-bit draw, used to derive seeds for other components.
  uint64_t next() { return engine_(); }

 private:
  std::mt19937_64 engine_;
};

/// Mixes a seed with a stream number so that components seeded from one study seed are
/// independent (SplitMix64 finaliser).
uint64_t derive_seed(uint64_t seed, uint64_t stream);

}  // namespace nascent
