#include "strategy/internal/seen_architectures.h"

namespace nascent::internal {

Architecture in_space_order(const SearchSpace& space, const Architecture& architecture) {
  // Architectures built by the space are already in order; checking is cheaper than rebuilding.
  const auto& values = architecture.values();
  size_t position = 0;
  bool ordered = true;
  for (const auto& decision : space.decisions()) {
    if (position < values.size() && values[position].first == decision.name) {
      ++position;
    } else if (architecture.has(decision.name)) {
      ordered = false;
      break;
    }
  }
  if (ordered && position == values.size()) return architecture;

  // Decisions the space does not know keep their relative order at the end.
  Architecture result;
  for (const auto& decision : space.decisions()) {
    if (architecture.has(decision.name)) result.set(decision.name, architecture.get(decision.name));
  }
  for (const auto& [name, value] : values) {
    if (!space.find(name)) result.set(name, value);
  }
  return result;
}

SeenArchitectures::SeenArchitectures(const SearchSpace& space, int64_t enumeration_limit)
    : space_(space),
      enumeration_limit_(enumeration_limit),
      total_(space.count(enumeration_limit)) {}

uint64_t SeenArchitectures::key(const Architecture& architecture) const {
  return in_space_order(space_, architecture).hash();
}

std::optional<Architecture> SeenArchitectures::sample_unseen(Rng& rng, int64_t attempts) const {
  if (exhausted()) return std::nullopt;

  for (int64_t attempt = 0; attempt < attempts; ++attempt) {
    Architecture candidate = space_.sample(rng);
    if (!contains(candidate.hash())) return candidate;
  }
  if (!total_) return std::nullopt;

  // Nearly exhausted small space: random draws mostly hit seen members, so list the others.
  std::vector<Architecture> unseen;
  for (auto& architecture : space_.enumerate(enumeration_limit_)) {
    if (!contains(architecture.hash())) unseen.push_back(std::move(architecture));
  }
  if (unseen.empty()) return std::nullopt;
  return unseen[static_cast<size_t>(rng.index(static_cast<int64_t>(unseen.size())))];
}

}  // namespace nascent::internal
