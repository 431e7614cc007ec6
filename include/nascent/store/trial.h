#pragma once

/// What the store keeps about one trial.

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

namespace nascent {

/// The life of a trial. RUNNING trials found when a study is reopened were cut off by a dead
/// process; they become INTERRUPTED and their architecture is queued again. With workers, a
/// RUNNING trial whose worker stopped sending heartbeats becomes QUEUED, and the next free
/// worker claims it.
enum class TrialState { kRunning, kComplete, kFailed, kInvalid, kPruned, kInterrupted, kQueued };

/// The error of a trial that a later run found still RUNNING: the process training it died
/// without recording why (killed, out of memory, power lost).
constexpr const char* kProcessStoppedError =
    "interrupted: the process running this trial stopped before it finished";

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
  /// How many times a worker claimed the trial (1 for the first run); a result is accepted only
  /// from the latest claim.
  int64_t attempt = 1;
  /// Unix time of the running worker's last heartbeat; NaN when never set.
  double heartbeat_at = std::numeric_limits<double>::quiet_NaN();
  /// The worker that runs or ran the trial ("host:pid"); empty for a single-process search.
  std::string worker;
};

}  // namespace nascent
