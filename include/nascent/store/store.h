#pragma once

/// Persistent storage of a study: its config, its trials and their per-epoch metrics.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nascent/store/trial.h"

struct sqlite3;

namespace nascent {

/// A study stored in one SQLite file (WAL mode, busy timeout). Every write is its own
/// transaction, so a process killed at any point loses nothing already committed. Several
/// processes may open the same file.
class Store {
 public:
  /// Opens or creates the database at `path`, creating the schema if needed. Throws
  /// nascent::StoreError with the path if the file cannot be opened or is not a nascent store.
  explicit Store(const std::string& path);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  const std::string& path() const { return path_; }

  /// Study-level key/value pairs (config text, seed, accumulated elapsed seconds, ...).
  void set_study_value(const std::string& key, const std::string& value);
  std::optional<std::string> study_value(const std::string& key) const;

  /// Inserts a RUNNING trial and returns its id. Ids come from AUTOINCREMENT and are never
  /// reused, even after a crash.
  int64_t begin_trial(const std::string& architecture, const std::string& architecture_hash,
                      double started_at);

  /// Inserts a trial that is already finished (used for INVALID architectures, which are
  /// never trained). Returns its id.
  int64_t insert_finished_trial(const TrialRecord& record);

  /// Writes the final state and results of a trial. `record.id` selects the row.
  void finish_trial(const TrialRecord& record);

  /// Appends one epoch's metrics to a trial.
  void add_epoch(int64_t trial_id, const EpochMetrics& metrics);

  /// Marks every RUNNING trial INTERRUPTED (called when a study is resumed by a single
  /// process). Returns how many were marked.
  int64_t interrupt_running_trials(double now);

  /// All trials ordered by id.
  std::vector<TrialRecord> trials() const;

  /// One trial; nullopt if absent.
  std::optional<TrialRecord> trial(int64_t id) const;

  /// Epoch metrics of a trial, ordered by epoch.
  std::vector<EpochMetrics> epochs(int64_t trial_id) const;

  /// Number of trials in each state (every state present, zero if none).
  std::map<TrialState, int64_t> count_by_state() const;

  /// Runs SQLite's integrity check; returns "ok" or the problems found.
  std::string integrity_check() const;

 private:
  std::string path_;
  sqlite3* db_ = nullptr;
};

}  // namespace nascent
