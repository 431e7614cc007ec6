#pragma once

#include <deque>

#include "nascent/strategy/strategy.h"

namespace nascent {

/// Regularised (aging) evolution, Real et al. 2019, "Regularized Evolution for Image
/// Classifier Architecture Search". The population starts with random architectures; then
/// each step samples `sample_size` members, mutates one decision of the best of them, adds
/// the child and removes the oldest member, so that good architectures must keep being
/// re-discovered to survive.
class RegularizedEvolution : public Strategy {
 public:
  RegularizedEvolution(const SearchSpace& space, uint64_t seed, int64_t population_size,
                       int64_t sample_size);

  std::string name() const override { return "evolution"; }
  std::optional<Architecture> ask() override;
  void tell(const Architecture& architecture, const Observation& observation) override;

  /// Current members, oldest first (for tests).
  const std::deque<std::pair<Architecture, double>>& population() const { return population_; }

 private:
  const SearchSpace& space_;
  Rng rng_;
  int64_t population_size_;
  int64_t sample_size_;
  /// Architectures with their objective, oldest first.
  std::deque<std::pair<Architecture, double>> population_;
  /// Completed observations so far (the population fills from the first ones).
  int64_t observed_ = 0;
};

}  // namespace nascent
