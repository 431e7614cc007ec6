#pragma once

/// Persistent storage of a study: its config, its trials and their per-epoch metrics.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nascent/store/trial.h"

namespace nascent {

class StoreBackend;

/// Whether Store::open() may create the study it names.
enum class StudyOpenMode {
  /// Create the study (and the schema) when absent; open it when present.
  kCreateIfMissing,
  /// The study must exist already (workers joining it).
  kExisting,
};

/// A study in a storage back end: one SQLite file (WAL mode, busy timeout; the embedded
/// default, one machine, several processes) or a PostgreSQL database (workers on many
/// machines). Every write is its own transaction unless in_transaction() groups writes, so a
/// process killed at any point loses nothing already committed.
class Store {
 public:
  /// Opens or creates the SQLite database at `path`, creating the schema if needed. Throws
  /// nascent::StoreError with the path if the file cannot be opened or is not a nascent store.
  explicit Store(const std::string& path);

  /// Opens study `study` in the store named by `url`: `sqlite://PATH` (`sqlite:///abs/x.db`
  /// for an absolute path, `sqlite://runs/x.db` for a relative one) or
  /// `postgresql://user@host:port/database` (any libpq connection URI). A SQLite file holds
  /// one study; a PostgreSQL database holds any number. Throws nascent::StoreError naming the
  /// URL (without its password) when it is malformed, unreachable, holds a schema this build
  /// cannot use, or lacks the study in kExisting mode. In kExisting mode a missing or empty
  /// SQLite file is refused and nothing is created. A SQLite file holding the unnamed study of
  /// a search directory (`nascent search --out DIR`, DIR/study.db) is refused under any name,
  /// before anything is written to it.
  static Store open(const std::string& url, const std::string& study, StudyOpenMode mode);

  /// Opens study `study` as open() in kCreateIfMissing mode does when the store and the study
  /// exist already, and returns nullopt, having created nothing, when they do not (a missing or
  /// empty SQLite file, a PostgreSQL database without the study). Throws as open() does for a
  /// malformed URL, an unreachable server or a file that is no nascent store, so that a search
  /// can check its store before it spends seconds on the data.
  static std::optional<Store> open_if_present(const std::string& url, const std::string& study);

  /// Opens DIR/study.db of an existing study directory, for the commands that read a study
  /// (status, pareto, report, export). Throws nascent::Error naming the directory when study.db
  /// is missing or empty (nothing is created; when DIR/summary.json records the --storage and
  /// --study of a search that kept its trials elsewhere, the message names them), or when the
  /// directory is not writable (SQLite writes its lock files beside the database even to read
  /// it).
  static Store open_study_directory(const std::string& study_dir);

  /// Takes over an opened back end (tests and open()).
  explicit Store(std::unique_ptr<StoreBackend> backend);
  ~Store();
  Store(Store&&) noexcept;
  Store& operator=(Store&&) noexcept;
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  /// The SQLite path, or the PostgreSQL URL without its password and with the study name.
  const std::string& path() const;

  /// Study-level key/value pairs (config text, seed, accumulated elapsed seconds, ...).
  void set_study_value(const std::string& key, const std::string& value);
  std::optional<std::string> study_value(const std::string& key) const;

  /// Inserts a RUNNING trial (attempt 1, heartbeat at `started_at`) and returns its id. Ids
  /// are never reused, even after a crash. `worker` names the process running it (empty for a
  /// single-process search). `params` and `flops` are the network's size, known before it
  /// trains, so that a trial cut off by a crash still shows them.
  int64_t begin_trial(const std::string& architecture, const std::string& architecture_hash,
                      double started_at, const std::string& worker = "", int64_t params = 0,
                      int64_t flops = 0);

  /// Inserts a trial that is already finished (used for INVALID architectures, which are
  /// never trained). Returns its id.
  int64_t insert_finished_trial(const TrialRecord& record);

  /// Writes the final state and results of a trial. `record.id` selects the row.
  void finish_trial(const TrialRecord& record);

  /// Writes the final state of a trial only if it is still RUNNING under `record.attempt`, the
  /// attempt its worker claimed. Returns false, and writes nothing, when the trial was re-queued,
  /// claimed again or finished meanwhile, so that a result reported twice, or by a worker
  /// presumed dead, is recorded once.
  bool finish_claimed_trial(const TrialRecord& record);

  /// Appends one epoch's metrics to a trial.
  void add_epoch(int64_t trial_id, const EpochMetrics& metrics);

  /// Marks every RUNNING trial INTERRUPTED (called when a study is resumed by a single
  /// process). Returns how many were marked.
  int64_t interrupt_running_trials(double now);

  /// Runs `work` holding the study's lock (SQLite: BEGIN IMMEDIATE; PostgreSQL: a transaction
  /// with an advisory lock on the study), so that no other process reads or writes the study's
  /// trials in between; commits when `work` returns, rolls back when it throws. Calls of this
  /// Store inside `work` are part of the transaction. Used to claim trials atomically.
  void in_transaction(const std::function<void()>& work);

  /// Unix time in seconds on the store's clock: the database server's for PostgreSQL, so that
  /// heartbeats and time limits of workers on different machines compare on one clock.
  double now() const;

  /// Claims the oldest QUEUED trial for `worker`: it becomes RUNNING with attempt + 1, heartbeat
  /// and start at `now`. nullopt when none is queued. Call inside in_transaction().
  std::optional<TrialRecord> claim_queued_trial(const std::string& worker, double now);

  /// Records that the worker running attempt `attempt` of a trial is alive. Returns false when
  /// the trial is no longer RUNNING under that attempt (re-queued, failed or finished).
  bool heartbeat(int64_t trial_id, int64_t attempt, double now);

  /// RUNNING trials whose last heartbeat is more than `timeout_s` before `now` lost their
  /// worker: each becomes QUEUED again, or FAILED with the reason once it has been claimed
  /// `max_attempts` times. Returns the trials changed, in their new state.
  std::vector<TrialRecord> requeue_stale_trials(double now, double timeout_s, int64_t max_attempts);

  /// All trials ordered by id.
  std::vector<TrialRecord> trials() const;

  /// One trial; nullopt if absent.
  std::optional<TrialRecord> trial(int64_t id) const;

  /// Epoch metrics of a trial, ordered by epoch.
  std::vector<EpochMetrics> epochs(int64_t trial_id) const;

  /// Number of trials in each state (every state present, zero if none).
  std::map<TrialState, int64_t> count_by_state() const;

  /// Checks the stored data (SQLite: its integrity and foreign-key checks; PostgreSQL:
  /// dangling rows, unknown states, invalid indexes); returns "ok" or the problems found.
  std::string integrity_check() const;

 private:
  std::unique_ptr<StoreBackend> backend_;
};

/// `url` with the password, if any, replaced by "***", for messages and files.
std::string redact_url_password(const std::string& url);

}  // namespace nascent
