#pragma once

// The SQLite back end of nascent::Store: one study per file.

#include <string>

#include "nascent/store/store_backend.h"

struct sqlite3;

namespace nascent {

/// A study stored in one SQLite file (WAL mode, busy timeout, retries with back-off), so that
/// several processes on one machine may share it. See nascent::Store for what each call does.
class SqliteStore final : public StoreBackend {
 public:
  /// Opens or creates the database at `path`, creating or migrating the schema if needed.
  explicit SqliteStore(const std::string& path);
  ~SqliteStore() override;
  SqliteStore(const SqliteStore&) = delete;
  SqliteStore& operator=(const SqliteStore&) = delete;

  const std::string& path() const override { return path_; }

  void set_study_value(const std::string& key, const std::string& value) override;
  std::optional<std::string> study_value(const std::string& key) const override;

  int64_t begin_trial(const std::string& architecture, const std::string& architecture_hash,
                      double started_at, const std::string& worker, int64_t params,
                      int64_t flops) override;
  int64_t insert_finished_trial(const TrialRecord& record) override;
  void finish_trial(const TrialRecord& record) override;
  bool finish_claimed_trial(const TrialRecord& record) override;
  void add_epoch(int64_t trial_id, const EpochMetrics& metrics) override;
  int64_t interrupt_running_trials(double now) override;

  void in_transaction(const std::function<void()>& work) override;
  double now() const override;
  std::optional<TrialRecord> claim_queued_trial(const std::string& worker, double now) override;
  bool heartbeat(int64_t trial_id, int64_t attempt, double now) override;
  std::vector<TrialRecord> requeue_stale_trials(double now, double timeout_s,
                                                int64_t max_attempts) override;

  std::vector<TrialRecord> trials() const override;
  std::optional<TrialRecord> trial(int64_t id) const override;
  std::vector<EpochMetrics> epochs(int64_t trial_id) const override;
  std::map<TrialState, int64_t> count_by_state() const override;
  std::string integrity_check() const override;

 private:
  std::string path_;
  sqlite3* db_ = nullptr;
};

}  // namespace nascent
