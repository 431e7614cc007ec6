#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <vector>

#include "nascent/strategy/strategy.h"

namespace nascent {

namespace internal {
class AdvantageEstimator;
class DecisionValues;
class SeenArchitectures;
}  // namespace internal

/// REINFORCE (Williams, "Simple Statistical Gradient-Following Algorithms for Connectionist
/// Reinforcement Learning", Machine Learning 1992) over a factorised policy, as Zoph and Le use
/// it to train their controller ("Neural Architecture Search with Reinforcement Learning",
/// ICLR 2017).
///
/// The policy holds one softmax per decision, with a logit per value (every value of a
/// categorical or small integer decision; evenly spaced representatives of a large integer or
/// float range). An architecture is sampled front to back; a decision whose conditions do not
/// hold is skipped. After each result, for every decision the architecture used,
///
///   logits += learning_rate * (advantage * grad log p(value) + entropy_weight * grad H(p)),
///
/// where the advantage is (reward - baseline), the baseline an exponential moving average of
/// past rewards. The advantage is divided by the moving root mean square of the advantages, so
/// that one learning rate suits any objective's scale (Zoph and Le get the same from Adam).
class Reinforce : public Strategy {
 public:
  Reinforce(const SearchSpace& space, uint64_t seed, double learning_rate, double baseline_decay,
            double entropy_weight, int64_t enumeration_limit);
  ~Reinforce() override;

  std::string name() const override { return "reinforce"; }

  /// A sample of the policy; nullopt once every architecture of a finite space has been seen.
  /// Samples may repeat: the search loop answers them from its cache, and the policy learns
  /// from them again.
  std::optional<Architecture> ask() override;

  /// One policy-gradient step with reward = objective. Failed, invalid and pruned results get
  /// the lowest reward seen so far (none before the first complete one), which steers the
  /// policy away from them without inventing a scale. Results for architectures the policy did
  /// not sample (a replayed history) update it the same way.
  void tell(const Architecture& architecture, const Observation& observation) override;

  /// The policy's probabilities for decision `decision` (for tests); throws nascent::Error if the
  /// space has no such decision.
  std::vector<double> probabilities(std::string_view decision) const;

  /// The values those probabilities refer to, as canonical text (for tests).
  const std::vector<std::string>& values(std::string_view decision) const;

  /// The reward baseline; nullopt before the first reward.
  std::optional<double> baseline() const;

 private:
  int64_t decision_index(std::string_view decision) const;

  const SearchSpace& space_;
  Rng rng_;
  double learning_rate_;
  double entropy_weight_;
  std::unique_ptr<internal::DecisionValues> values_;
  std::unique_ptr<internal::SeenArchitectures> seen_;
  /// logits_[decision][value]
  std::vector<std::vector<double>> logits_;
  std::unique_ptr<internal::AdvantageEstimator> advantage_;
};

}  // namespace nascent
