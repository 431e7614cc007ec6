#pragma once

/// A strategy guided by a cheap score of architectures (a zero-cost proxy): as a pre-filter of
/// another strategy's proposals, or as a prior that decides its first proposals.

#include <functional>
#include <memory>

#include "nascent/strategy/strategy.h"

namespace nascent {

/// A cheap score of an architecture, higher is better (-infinity for one that cannot be built).
using ArchitectureScore = std::function<double(const Architecture&)>;

/// Pre-filter: asks `inner` for `candidates` proposals at a time, scores them and proposes only
/// the `keep` best (ties keep the strategy's order); the others are dropped without a result.
/// Results are passed on to `inner`. Suits strategies whose proposals do not wait for results
/// (random search, regularised evolution). Throws nascent::Error unless
/// 1 <= keep <= candidates.
std::unique_ptr<Strategy> make_proxy_prefilter(std::unique_ptr<Strategy> inner,
                                               ArchitectureScore score, int64_t candidates,
                                               int64_t keep);

/// Warm start: first proposes the `keep` best by `score` (best first) of `candidates`
/// distinct architectures sampled uniformly from `space` with `seed`, then whatever `inner`
/// proposes. With regularised evolution and keep = its population, the initial population
/// is the top of the sample instead of uniform random architectures.
std::unique_ptr<Strategy> make_proxy_warm_start(std::unique_ptr<Strategy> inner,
                                                const SearchSpace& space, ArchitectureScore score,
                                                int64_t candidates, int64_t keep, uint64_t seed);

}  // namespace nascent
