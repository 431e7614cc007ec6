#pragma once

/// The reward bookkeeping shared by REINFORCE's factorised policy and its LSTM controller.

#include <optional>

#include "nascent/strategy/strategy.h"

namespace nascent::internal {

/// Turns results into scaled advantages for a policy-gradient step.
///
/// The reward is the objective; a result without one (failed, invalid, pruned) gets the lowest
/// reward seen so far, and is skipped before the first complete one. The advantage is the
/// reward minus an exponential moving average of past rewards (weight `decay` on the old
/// value), divided by the moving root mean square of the advantages so that one learning rate
/// suits any objective's scale. The first reward only sets the baseline.
class AdvantageEstimator {
 public:
  explicit AdvantageEstimator(double decay) : decay_(decay) {}

  /// The scaled advantage of this result, or nullopt when it gives no step (the first reward,
  /// or a result without an objective before any reward). Updates the baseline.
  std::optional<double> scaled_advantage(const Observation& observation);

  /// The reward baseline; nullopt before the first reward.
  std::optional<double> baseline() const { return baseline_; }

 private:
  double decay_;
  std::optional<double> baseline_;
  /// Moving mean of squared advantages; 0 until the first non-zero advantage.
  double advantage_square_ = 0.0;
  std::optional<double> lowest_reward_;
};

}  // namespace nascent::internal
