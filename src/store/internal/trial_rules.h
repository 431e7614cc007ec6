#pragma once

// Rules about trials that every store back end applies the same way.

#include <fmt/format.h>

#include <cmath>
#include <cstdint>
#include <string>

#include "nascent/store/trial.h"

namespace nascent::internal {

/// Why a trial whose worker stopped sending heartbeats `max_attempts` times is given up.
inline std::string lost_worker_error(const TrialRecord& trial, double now, double timeout_s,
                                     int64_t max_attempts) {
  const double silent_s = std::isnan(trial.heartbeat_at) ? timeout_s : now - trial.heartbeat_at;
  return fmt::format(
      "worker lost: expected a heartbeat at least every {} s, found none for {:.1f} s from "
      "worker '{}' on attempt {} of {}; the trial is not retried again",
      timeout_s, silent_s, trial.worker, trial.attempt, max_attempts);
}

/// The row begin_trial inserts: RUNNING, attempt 1, its heartbeat at its start.
inline TrialRecord started_trial(const std::string& architecture,
                                 const std::string& architecture_hash, double started_at,
                                 const std::string& worker, int64_t params, int64_t flops) {
  TrialRecord record;
  record.architecture = architecture;
  record.architecture_hash = architecture_hash;
  record.state = TrialState::kRunning;
  record.started_at = started_at;
  record.heartbeat_at = started_at;
  record.worker = worker;
  record.params = params;
  record.flops = flops;
  return record;
}

}  // namespace nascent::internal
