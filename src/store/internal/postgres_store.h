#pragma once

// The PostgreSQL back end of nascent::Store: any number of studies in one database, shared by
// workers on many machines.

#include <string>

#include "nascent/store/store.h"
#include "nascent/store/store_backend.h"

struct pg_conn;

namespace nascent {

/// One study in a PostgreSQL database, reached through libpq. The tables (nascent_schema,
/// nascent_studies, nascent_study_values, nascent_trials, nascent_epochs) are created on first
/// use; a database whose nascent_schema holds another version is refused. See nascent::Store
/// for what each call does.
class PostgresStore final : public StoreBackend {
 public:
  PostgresStore(const std::string& url, const std::string& study, StudyOpenMode mode);

  /// Whether the database at `url` holds study `study`; reads only, so that nothing is created
  /// in a database that holds no nascent store. Throws when the server cannot be reached.
  static bool has_study(const std::string& url, const std::string& study);
  ~PostgresStore() override;
  PostgresStore(const PostgresStore&) = delete;
  PostgresStore& operator=(const PostgresStore&) = delete;

  const std::string& path() const override { return description_; }

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
  std::string description_;
  pg_conn* connection_ = nullptr;
  int64_t study_id_ = 0;
  bool in_transaction_ = false;
};

}  // namespace nascent
