#include "strategy/internal/advantage.h"

#include <algorithm>
#include <cmath>

namespace nascent::internal {

std::optional<double> AdvantageEstimator::scaled_advantage(const Observation& observation) {
  double reward = 0.0;
  if (observation.state == TrialState::kComplete && std::isfinite(observation.objective)) {
    reward = observation.objective;
    lowest_reward_ = lowest_reward_ ? std::min(*lowest_reward_, reward) : reward;
  } else if (lowest_reward_) {
    reward = *lowest_reward_;
  } else {
    return std::nullopt;
  }

  // The first reward only sets the baseline: its advantage would be zero.
  if (!baseline_) {
    baseline_ = reward;
    return std::nullopt;
  }
  const double advantage = reward - *baseline_;
  advantage_square_ = advantage_square_ == 0.0
                          ? advantage * advantage
                          : decay_ * advantage_square_ + (1.0 - decay_) * advantage * advantage;
  baseline_ = decay_ * *baseline_ + (1.0 - decay_) * reward;
  return advantage_square_ > 0.0 ? advantage / std::sqrt(advantage_square_) : 0.0;
}

}  // namespace nascent::internal
