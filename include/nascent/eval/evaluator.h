#pragma once

/// The evaluator interface: Architecture -> result. Strategies never know which kind of
/// evaluator they talk to.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "nascent/space/architecture.h"
#include "nascent/store/trial.h"

namespace nascent {

/// What is known about an architecture before any training.
struct ArchitectureCheck {
  bool valid = false;
  /// Why the architecture is invalid (layer, decision, shapes); empty when valid.
  std::string reason;
  /// The decision responsible when invalid.
  std::string decision;
  int64_t params = 0;
  int64_t flops = 0;
  /// Compact description for progress lines.
  std::string short_description;
};

/// Per-trial inputs of an evaluation.
struct TrialContext {
  int64_t trial_id = 0;
  /// Seed for everything random in this evaluation (initialisation, shuffling, augmentation).
  uint64_t seed = 0;
  /// Training epochs of this evaluation (its fidelity, chosen by a multi-fidelity strategy);
  /// 0 for the evaluator's configured epochs.
  int64_t epochs = 0;
  std::function<void(const EpochMetrics&)> on_epoch;
  std::function<void(int64_t step, int64_t total_steps)> on_step;
  /// Asked after every epoch but the last; true stops the trial, which the evaluator then
  /// reports as kPruned with the metrics so far. Empty: never stop early.
  std::function<bool(const EpochMetrics&)> should_prune;
};

/// The outcome of evaluating one valid architecture.
struct Evaluation {
  /// kComplete, kFailed, kPruned (TrialContext::should_prune said stop), or kInterrupted when
  /// a stop was requested during the evaluation.
  TrialState state = TrialState::kComplete;
  /// The search objective (higher is better); NaN when failed.
  double validation_accuracy = 0.0;
  std::vector<EpochMetrics> epochs;
  double train_seconds = 0.0;
  /// Why the evaluation failed; empty otherwise.
  std::string error;
};

/// Evaluates architectures of one search space.
class Evaluator {
 public:
  virtual ~Evaluator() = default;

  /// Shape inference and cost counts; never trains.
  virtual ArchitectureCheck check(const Architecture& architecture) const = 0;

  /// Trains (or otherwise scores) a valid architecture.
  virtual Evaluation evaluate(const Architecture& architecture, const TrialContext& context) = 0;
};

}  // namespace nascent
