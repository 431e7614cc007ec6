#include "nascent/core/random.h"

#include "nascent/core/error.h"

namespace nascent {

int64_t Rng::index(int64_t count) {
  if (count <= 0)
    throw Error("Rng::index: expected a positive count, found " + std::to_string(count));

  // Rejection sampling keeps the draw unbiased and the same on every platform.
  const uint64_t range = static_cast<uint64_t>(count);
  const uint64_t limit = UINT64_MAX - UINT64_MAX % range;
  uint64_t draw = engine_();
  while (draw >= limit) draw = engine_();
  return static_cast<int64_t>(draw % range);
}

int64_t Rng::integer(int64_t low, int64_t high) { return low + index(high - low + 1); }

double Rng::uniform() {
  // 53 random bits fill a double's mantissa exactly.
  return static_cast<double>(engine_() >> 11) * 0x1.0p-53;
}

uint64_t derive_seed(uint64_t seed, uint64_t stream) {
  uint64_t z = seed + 0x9e3779b97f4a7c15ULL * (stream + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace nascent
