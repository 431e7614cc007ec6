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

}  // namespace nascent::internal
