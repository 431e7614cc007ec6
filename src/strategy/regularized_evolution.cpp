#include "nascent/strategy/regularized_evolution.h"

#include <cmath>

namespace nascent {

RegularizedEvolution::RegularizedEvolution(const SearchSpace& space, uint64_t seed,
                                           int64_t population_size, int64_t sample_size)
    : space_(space), rng_(seed), population_size_(population_size), sample_size_(sample_size) {}

std::optional<Architecture> RegularizedEvolution::ask() {
  // Until the population is full, explore uniformly at random.
  if (static_cast<int64_t>(population_.size()) < population_size_) return space_.sample(rng_);

  // Tournament: the best of `sample_size` members drawn uniformly (with replacement).
  const std::pair<Architecture, double>* parent = nullptr;
  for (int64_t i = 0; i < sample_size_; ++i) {
    const auto& candidate =
        population_[static_cast<size_t>(rng_.index(static_cast<int64_t>(population_.size())))];
    if (!parent || candidate.second > parent->second) parent = &candidate;
  }
  return space_.mutate(parent->first, rng_);
}

void RegularizedEvolution::tell(const Architecture& architecture, const Observation& observation) {
  // Only architectures with an objective can compete; failed and invalid ones are dropped.
  if (observation.state != TrialState::kComplete || std::isnan(observation.objective)) return;

  ++observed_;
  population_.emplace_back(architecture, observation.objective);
  if (static_cast<int64_t>(population_.size()) > population_size_) population_.pop_front();
}

}  // namespace nascent
