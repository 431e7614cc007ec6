#pragma once

/// Bookkeeping shared by the model-based strategies: which architectures have been proposed or
/// told, and whether a finite space has run out.

#include <cstdint>
#include <optional>
#include <unordered_set>

#include "nascent/core/random.h"
#include "nascent/space/search_space.h"

namespace nascent::internal {

/// The architecture with its values in the space's order, so that the same point told in
/// another order (a hand-written or replayed architecture) has the same hash.
Architecture in_space_order(const SearchSpace& space, const Architecture& architecture);

/// The architectures a strategy has proposed or been told about.
class SeenArchitectures {
 public:
  /// Counts the space once: a space of at most `enumeration_limit` architectures can run out.
  SeenArchitectures(const SearchSpace& space, int64_t enumeration_limit);

  /// The hash of `architecture` in the space's order.
  uint64_t key(const Architecture& architecture) const;

  bool contains(uint64_t key) const { return keys_.contains(key); }

  /// Records an architecture; returns false if it was already seen.
  bool insert(uint64_t key) { return keys_.insert(key).second; }

  int64_t size() const { return static_cast<int64_t>(keys_.size()); }

  /// True when the space is finite, small enough to count, and every member has been seen.
  bool exhausted() const { return total_ && size() >= *total_; }

  /// A random architecture not seen yet: up to `attempts` uniform samples, then, for a space
  /// small enough to enumerate, a uniform draw from the unseen members. nullopt when the space
  /// is exhausted, or when it is too large to enumerate and every attempt hit a seen one.
  std::optional<Architecture> sample_unseen(Rng& rng, int64_t attempts) const;

 private:
  const SearchSpace& space_;
  int64_t enumeration_limit_;
  /// The number of architectures, when the space is finite and at most enumeration_limit_.
  std::optional<int64_t> total_;
  std::unordered_set<uint64_t> keys_;
};

}  // namespace nascent::internal
