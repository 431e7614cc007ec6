#include "nascent/strategy/reinforce.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "nascent/core/error.h"
#include "strategy/internal/advantage.h"
#include "strategy/internal/decision_values.h"
#include "strategy/internal/seen_architectures.h"

namespace nascent {

namespace {

/// Integer ranges up to this many values get a logit per value; larger ones, and float
/// ranges, get kRepresentatives evenly spaced values.
constexpr int64_t kMaxIntegerValues = 64;
constexpr int64_t kRepresentatives = 16;

std::vector<double> softmax(const std::vector<double>& logits) {
  const double largest = *std::max_element(logits.begin(), logits.end());
  std::vector<double> probabilities(logits.size());
  double total = 0.0;
  for (size_t i = 0; i < logits.size(); ++i) {
    probabilities[i] = std::exp(logits[i] - largest);
    total += probabilities[i];
  }
  for (double& probability : probabilities) probability /= total;
  return probabilities;
}

bool is_active(const Decision& decision, const Architecture& partial) {
  return std::all_of(decision.conditions.begin(), decision.conditions.end(),
                     [&](const Condition& condition) { return condition.holds(partial); });
}

}  // namespace

Reinforce::Reinforce(const SearchSpace& space, uint64_t seed, double learning_rate,
                     double baseline_decay, double entropy_weight, int64_t enumeration_limit)
    : space_(space),
      rng_(seed),
      learning_rate_(learning_rate),
      entropy_weight_(entropy_weight),
      values_(
          std::make_unique<internal::DecisionValues>(space, kMaxIntegerValues, kRepresentatives)),
      seen_(std::make_unique<internal::SeenArchitectures>(space, enumeration_limit)),
      advantage_(std::make_unique<internal::AdvantageEstimator>(baseline_decay)) {
  // Uniform initial policy.
  for (int64_t d = 0; d < values_->decision_count(); ++d) {
    logits_.emplace_back(values_->values(d).size(), 0.0);
  }
}

Reinforce::~Reinforce() = default;

std::optional<Architecture> Reinforce::ask() {
  if (seen_->exhausted()) return std::nullopt;

  // Front to back, so each decision's conditions see the values chosen before it.
  Architecture architecture;
  const auto& decisions = space_.decisions();
  for (size_t d = 0; d < decisions.size(); ++d) {
    if (!is_active(decisions[d], architecture)) continue;
    const std::vector<double> probabilities = softmax(logits_[d]);
    const double draw = rng_.uniform();
    double cumulative = 0.0;
    size_t chosen = probabilities.size() - 1;
    for (size_t i = 0; i < probabilities.size(); ++i) {
      cumulative += probabilities[i];
      if (draw < cumulative) {
        chosen = i;
        break;
      }
    }
    architecture.set(decisions[d].name, values_->values(static_cast<int64_t>(d))[chosen]);
  }

  seen_->insert(architecture.hash());
  return architecture;
}

void Reinforce::tell(const Architecture& architecture, const Observation& observation) {
  seen_->insert(seen_->key(architecture));

  const auto advantage = advantage_->scaled_advantage(observation);
  if (!advantage) return;
  const double scaled_advantage = *advantage;

  // Gradient ascent on advantage * log p(architecture) + entropy_weight * H, per decision:
  // d log p(c) / d logit_j = [j = c] - p_j and dH / d logit_j = -p_j (log p_j + H).
  for (const auto& [name, value] : architecture.values()) {
    const Decision* decision = space_.find(name);
    if (!decision) continue;
    const int64_t d = static_cast<int64_t>(decision - space_.decisions().data());
    const auto chosen = values_->index_of(d, value);
    if (!chosen) continue;

    std::vector<double>& logits = logits_[static_cast<size_t>(d)];
    const std::vector<double> probabilities = softmax(logits);
    double entropy = 0.0;
    for (const double p : probabilities) entropy -= p > 0.0 ? p * std::log(p) : 0.0;
    for (size_t j = 0; j < logits.size(); ++j) {
      const double p = probabilities[j];
      const double log_probability_gradient = (static_cast<int64_t>(j) == *chosen ? 1.0 : 0.0) - p;
      const double entropy_gradient = p > 0.0 ? -p * (std::log(p) + entropy) : 0.0;
      logits[j] += learning_rate_ * (scaled_advantage * log_probability_gradient +
                                     entropy_weight_ * entropy_gradient);
    }
  }
}

int64_t Reinforce::decision_index(std::string_view decision) const {
  const Decision* found = space_.find(decision);
  if (!found) {
    throw Error(fmt::format("Reinforce: expected a decision of the space, found '{}'", decision));
  }
  return static_cast<int64_t>(found - space_.decisions().data());
}

std::optional<double> Reinforce::baseline() const { return advantage_->baseline(); }

std::vector<double> Reinforce::probabilities(std::string_view decision) const {
  return softmax(logits_[static_cast<size_t>(decision_index(decision))]);
}

const std::vector<std::string>& Reinforce::values(std::string_view decision) const {
  return values_->values(decision_index(decision));
}

}  // namespace nascent
