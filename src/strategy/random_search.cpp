#include "nascent/strategy/random_search.h"

namespace nascent {

RandomSearch::RandomSearch(const SearchSpace& space, uint64_t seed, int64_t enumeration_limit)
    : space_(space), rng_(seed) {
  if (!space_.count(enumeration_limit)) return;

  // Small space: shuffle every member once (Fisher-Yates with the portable generator).
  std::vector<Architecture> all = space_.enumerate(enumeration_limit);
  for (int64_t i = static_cast<int64_t>(all.size()) - 1; i > 0; --i) {
    std::swap(all[static_cast<size_t>(i)], all[static_cast<size_t>(rng_.index(i + 1))]);
  }
  remaining_ = std::move(all);
}

std::optional<Architecture> RandomSearch::ask() {
  if (!remaining_) return space_.sample(rng_);
  if (remaining_->empty()) return std::nullopt;
  Architecture next = std::move(remaining_->back());
  remaining_->pop_back();
  return next;
}

}  // namespace nascent
