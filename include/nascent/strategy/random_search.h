#pragma once

#include "nascent/strategy/strategy.h"

#include <vector>

namespace nascent {

/// Uniform random sampling. A space of at most `enumeration_limit` architectures is
/// enumerated and shuffled, so each architecture is proposed exactly once and ask() returns
/// nullopt when all have been proposed.
class RandomSearch : public Strategy {
 public:
  RandomSearch(const SearchSpace& space, uint64_t seed, int64_t enumeration_limit);

  std::string name() const override { return "random"; }
  std::optional<Architecture> ask() override;
  void tell(const Architecture&, const Observation&) override {}

 private:
  const SearchSpace& space_;
  Rng rng_;
  /// Set when the space was small enough to enumerate.
  std::optional<std::vector<Architecture>> remaining_;
};

}  // namespace nascent
