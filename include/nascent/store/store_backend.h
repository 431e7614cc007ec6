#pragma once

/// The interface every storage back end of a study implements (SQLite, PostgreSQL). Code outside
/// src/store uses nascent::Store, which owns one back end; see store.h for what each call means.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "nascent/store/trial.h"

namespace nascent {

/// One study in one storage back end. A back end object is used by one thread at a time; a
/// thread that needs the store concurrently (a heartbeat) opens its own.
class StoreBackend {
 public:
  virtual ~StoreBackend() = default;

  virtual const std::string& path() const = 0;

  virtual void set_study_value(const std::string& key, const std::string& value) = 0;
  virtual std::optional<std::string> study_value(const std::string& key) const = 0;

  virtual int64_t begin_trial(const std::string& architecture, const std::string& architecture_hash,
                              double started_at, const std::string& worker, int64_t params,
                              int64_t flops) = 0;
  virtual int64_t insert_finished_trial(const TrialRecord& record) = 0;
  virtual void finish_trial(const TrialRecord& record) = 0;
  virtual bool finish_claimed_trial(const TrialRecord& record) = 0;
  virtual void add_epoch(int64_t trial_id, const EpochMetrics& metrics) = 0;
  virtual int64_t interrupt_running_trials(double now) = 0;

  virtual void in_transaction(const std::function<void()>& work) = 0;
  virtual double now() const = 0;
  virtual std::optional<TrialRecord> claim_queued_trial(const std::string& worker, double now) = 0;
  virtual bool heartbeat(int64_t trial_id, int64_t attempt, double now) = 0;
  virtual std::vector<TrialRecord> requeue_stale_trials(double now, double timeout_s,
                                                        int64_t max_attempts) = 0;

  virtual std::vector<TrialRecord> trials() const = 0;
  virtual std::optional<TrialRecord> trial(int64_t id) const = 0;
  virtual std::vector<EpochMetrics> epochs(int64_t trial_id) const = 0;
  virtual std::map<TrialState, int64_t> count_by_state() const = 0;
  virtual std::string integrity_check() const = 0;
};

}  // namespace nascent
