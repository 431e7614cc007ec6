#include "nascent/strategy/nsga2.h"

#include <algorithm>
#include <cmath>
#include <numeric>

#include "nascent/eval/pareto.h"

namespace nascent {

Nsga2::Nsga2(const SearchSpace& space, uint64_t seed, int64_t population_size)
    : space_(space), rng_(seed), population_size_(population_size) {}

std::vector<Nsga2::Member> Nsga2::select_survivors(std::vector<Member> candidates, int64_t keep) {
  std::vector<std::vector<double>> costs;
  std::vector<double> violations;
  for (const auto& member : candidates) {
    costs.push_back(member.costs);
    violations.push_back(member.violation);
  }

  std::vector<Member> survivors;
  int64_t rank = 0;
  for (const auto& front : non_dominated_sort(costs, violations)) {
    const std::vector<double> crowding = crowding_distance(costs, front);
    std::vector<size_t> order(front.size());
    std::iota(order.begin(), order.end(), 0);
    // Whole fronts while they fit; the last one by crowding, the most isolated first.
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return crowding[a] > crowding[b]; });
    for (size_t position : order) {
      if (static_cast<int64_t>(survivors.size()) >= keep) break;
      Member member = candidates[front[position]];
      member.rank = rank;
      member.crowding = crowding[position];
      survivors.push_back(std::move(member));
    }
    if (static_cast<int64_t>(survivors.size()) >= keep) break;
    ++rank;
  }
  return survivors;
}

const Nsga2::Member& Nsga2::tournament() {
  const int64_t size = static_cast<int64_t>(population_.size());
  const Member& first = population_[static_cast<size_t>(rng_.index(size))];
  const Member& second = population_[static_cast<size_t>(rng_.index(size))];
  if (first.rank != second.rank) return first.rank < second.rank ? first : second;
  return first.crowding >= second.crowding ? first : second;
}

Architecture Nsga2::crossover(const Architecture& first, const Architecture& second) {
  // Uniform crossover: each decision from either parent; resolve() fills decisions that only
  // the other parent's choices make active and drops those that became inactive.
  Architecture child;
  for (const auto& decision : space_.decisions()) {
    const bool in_first = first.has(decision.name);
    const bool in_second = second.has(decision.name);
    if (!in_first && !in_second) continue;
    const bool take_first = in_first && (!in_second || rng_.uniform() < 0.5);
    child.set(decision.name, (take_first ? first : second).get(decision.name));
  }
  return space_.resolve(child, rng_);
}

std::optional<Architecture> Nsga2::ask() {
  if (population_.empty()) return space_.sample(rng_);
  const Member& mother = tournament();
  const Member& father = tournament();
  return space_.mutate(crossover(mother.architecture, father.architecture), rng_);
}

void Nsga2::tell(const Architecture& architecture, const Observation& observation) {
  if (observation.state != TrialState::kComplete || std::isnan(observation.objective)) return;
  if (!members_.insert(architecture.hash()).second) return;

  Member member;
  member.architecture = architecture;
  member.costs =
      observation.costs.empty() ? std::vector<double>{-observation.objective} : observation.costs;
  member.violation = observation.constraint_violation;
  offspring_.push_back(std::move(member));
  if (static_cast<int64_t>(offspring_.size()) < population_size_) return;

  // A generation is complete: (mu + lambda) selection over parents and offspring.
  std::vector<Member> candidates = std::move(population_);
  for (auto& child : offspring_) candidates.push_back(std::move(child));
  offspring_.clear();
  population_ = select_survivors(std::move(candidates), population_size_);
  members_.clear();
  for (const auto& survivor : population_) members_.insert(survivor.architecture.hash());
}

}  // namespace nascent
