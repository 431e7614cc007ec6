#pragma once

/// What the store keeps about one trial.

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace nascent {

/// The life of a trial. RUNNING trials found when a study is reopened were cut off by a dead
/// process; they become INTERRUPTED and their architecture is queued again.
enum class TrialState { kRunning, kComplete, kFailed, kInvalid, kPruned, kInterrupted };

/// "running", "complete", ... as stored and printed.
const char* to_string(TrialState state);

/// Inverse of to_string; throws nascent::StoreError on an unknown name.
TrialState trial_state_from_string(const std::string& name);

/// Metrics of one epoch of training.
struct EpochMetrics {
  int64_t epoch = 0;  // 1-based
  double train_loss = 0.0;
  double train_accuracy = 0.0;
  double validation_loss = 0.0;
  double validation_accuracy = 0.0;
  double learning_rate = 0.0;
  double seconds = 0.0;
};

/// One row of the trials table.
struct TrialRecord {
  int64_t id = 0;
  std::string architecture;  // canonical string
  std::string architecture_hash;
  TrialState state = TrialState::kRunning;
  /// NaN when the trial produced no accuracy (failed before an epoch, invalid, ...).
  double validation_accuracy = std::numeric_limits<double>::quiet_NaN();
  int64_t params = 0;
  int64_t flops = 0;
  double train_seconds = 0.0;
  /// Unix time in seconds.
  double started_at = 0.0;
  double finished_at = 0.0;
  /// Why the trial failed or is invalid; empty otherwise.
  std::string error;
  /// Extra result fields as a JSON object text ("{}" when none).
  std::string result_json = "{}";
};

}  // namespace nascent
