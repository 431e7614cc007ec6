#pragma once

/// The end of a weight-sharing search: architectures ranked by a supernet's architecture weights.

#include <cstdint>
#include <map>
#include <optional>
#include <queue>
#include <set>
#include <string>
#include <vector>

#include "nascent/strategy/strategy.h"

namespace nascent {

/// Probabilities of the choices of each categorical decision, in the decision's order of
/// choices: a trained supernet's softmaxed architecture weights.
using DecisionProbabilities = std::map<std::string, std::vector<double>>;

/// Proposes the architectures of a space of categorical decisions in decreasing order of their
/// probability under independent per-decision distributions, the product of one probability
/// per decision. The first proposal takes the most probable choice of every decision, which is
/// how DARTS derives its cell from the architecture weights (Liu, Simonyan and Yang, "DARTS:
/// Differentiable Architecture Search", ICLR 2019); the next ones are its runners-up, so that a
/// search with a budget of several trials trains them from scratch and keeps the best by
/// validation accuracy. Ties are broken by the order of the choices. Results are not used: the
/// ranking is fixed once the supernet is trained. ask() returns nullopt when every architecture
/// has been proposed.
class WeightRanking : public Strategy {
 public:
  /// Throws nascent::Error when a decision of `space` is not categorical or has no entry of its
  /// number of choices in `probabilities`, or when a probability is negative or not finite.
  WeightRanking(const SearchSpace& space, DecisionProbabilities probabilities, std::string name);

  std::string name() const override { return name_; }
  std::optional<Architecture> ask() override;
  void tell(const Architecture&, const Observation&) override {}

 private:
  /// A point of the ranking: for each decision, the rank of its choice among that decision's
  /// choices sorted by probability (0 is the most probable).
  using Ranks = std::vector<int64_t>;

  double log_probability(const Ranks& ranks) const;

  const SearchSpace& space_;
  std::string name_;
  /// Per decision, its choices' indices by decreasing probability, and their log probabilities.
  std::vector<std::vector<int64_t>> order_;
  std::vector<std::vector<double>> log_probabilities_;
  /// Best-first frontier: (log probability, ranks); the largest log probability is on top, and
  /// among equals the lexicographically smallest ranks (std::greater on the negated pair).
  std::priority_queue<std::pair<double, Ranks>, std::vector<std::pair<double, Ranks>>,
                      std::greater<>>
      frontier_;
  std::set<Ranks> queued_;
};

}  // namespace nascent
