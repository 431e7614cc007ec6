#include "nascent/strategy/weight_ranking.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "nascent/core/error.h"

namespace nascent {

WeightRanking::WeightRanking(const SearchSpace& space, DecisionProbabilities probabilities,
                             std::string name)
    : space_(space), name_(std::move(name)) {
  for (const Decision& decision : space.decisions()) {
    if (decision.kind != DecisionKind::kCategorical || !decision.conditions.empty()) {
      throw Error(
          fmt::format("strategy {}: expected unconditional categorical decisions, found "
                      "decision '{}' {}",
                      name_, decision.name,
                      decision.conditions.empty() ? "of another kind" : "with conditions"));
    }
    const auto found = probabilities.find(decision.name);
    if (found == probabilities.end() || found->second.size() != decision.choices.size()) {
      throw Error(fmt::format("strategy {}: expected {} probabilities for decision '{}', found {}",
                              name_, decision.choices.size(), decision.name,
                              found == probabilities.end() ? std::string("none")
                                                           : std::to_string(found->second.size())));
    }
    const std::vector<double>& weights = found->second;
    for (double weight : weights) {
      if (!(weight >= 0.0) || !std::isfinite(weight)) {
        throw Error(
            fmt::format("strategy {}: expected probabilities >= 0 for decision '{}', "
                        "found {}",
                        name_, decision.name, weight));
      }
    }

    // A stable sort keeps the space's order among equal probabilities.
    std::vector<int64_t> order(weights.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
      return weights[static_cast<size_t>(a)] > weights[static_cast<size_t>(b)];
    });
    std::vector<double> logs;
    for (int64_t index : order) logs.push_back(std::log(weights[static_cast<size_t>(index)]));
    order_.push_back(std::move(order));
    log_probabilities_.push_back(std::move(logs));
  }

  const Ranks best(order_.size(), 0);
  frontier_.emplace(-log_probability(best), best);
  queued_.insert(best);
}

double WeightRanking::log_probability(const Ranks& ranks) const {
  double total = 0.0;
  for (size_t decision = 0; decision < ranks.size(); ++decision) {
    total += log_probabilities_[decision][static_cast<size_t>(ranks[decision])];
  }
  return total;
}

std::optional<Architecture> WeightRanking::ask() {
  if (frontier_.empty()) return std::nullopt;
  const Ranks ranks = frontier_.top().second;
  frontier_.pop();

  // Every architecture one rank below this one on a single decision is at most as probable, so
  // the frontier's top is always the most probable architecture not yet proposed.
  for (size_t decision = 0; decision < ranks.size(); ++decision) {
    Ranks next = ranks;
    if (++next[decision] >= static_cast<int64_t>(order_[decision].size())) continue;
    if (queued_.insert(next).second) frontier_.emplace(-log_probability(next), next);
  }

  Architecture architecture;
  for (size_t decision = 0; decision < ranks.size(); ++decision) {
    const Decision& declared = space_.decisions()[decision];
    const int64_t choice = order_[decision][static_cast<size_t>(ranks[decision])];
    architecture.set(declared.name, declared.choices[static_cast<size_t>(choice)]);
  }
  return architecture;
}

}  // namespace nascent
