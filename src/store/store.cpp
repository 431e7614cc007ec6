// The SQLite back end of the store (SqliteStore), and the trial state names both back ends share.

#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cmath>
#include <functional>
#include <limits>
#include <string_view>
#include <thread>

#include "nascent/core/error.h"
#include "store/internal/sqlite_store.h"
#include "store/internal/trial_rules.h"

namespace nascent {

namespace {

/// Version written to PRAGMA user_version. Raise it with every schema change and teach
/// migrate_schema() to bring older files up to it. Version 2 added the columns workers need
/// (attempt, heartbeat_at, worker).
constexpr int64_t kSchemaVersion = 2;

/// How long SQLite itself waits for another process's lock before reporting SQLITE_BUSY.
constexpr int kBusyTimeoutMs = 10'000;

/// After the busy timeout ran out, a statement is retried this many times with a growing pause.
/// Some busy cases (WAL recovery by another process, a stale read snapshot) skip the busy
/// handler altogether, so a retry is what lets them succeed.
constexpr int kBusyRetries = 4;
constexpr std::chrono::milliseconds kFirstBackOff{100};

constexpr std::array<TrialState, 7> kAllStates = {
    TrialState::kRunning, TrialState::kComplete,    TrialState::kFailed, TrialState::kInvalid,
    TrialState::kPruned,  TrialState::kInterrupted, TrialState::kQueued};

constexpr const char* kCreateSchema = R"sql(
CREATE TABLE study (
  key TEXT PRIMARY KEY NOT NULL,
  value TEXT NOT NULL
);
CREATE TABLE trials (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  architecture TEXT NOT NULL,
  architecture_hash TEXT NOT NULL,
  state TEXT NOT NULL,
  validation_accuracy REAL,
  params INTEGER NOT NULL,
  flops INTEGER NOT NULL,
  train_seconds REAL,
  started_at REAL,
  finished_at REAL,
  error TEXT NOT NULL,
  result_json TEXT NOT NULL,
  attempt INTEGER NOT NULL DEFAULT 1,
  heartbeat_at REAL,
  worker TEXT NOT NULL DEFAULT ''
);
CREATE TABLE epochs (
  trial_id INTEGER NOT NULL REFERENCES trials(id) ON DELETE CASCADE,
  epoch INTEGER NOT NULL,
  train_loss REAL,
  train_accuracy REAL,
  validation_loss REAL,
  validation_accuracy REAL,
  learning_rate REAL,
  seconds REAL,
  PRIMARY KEY (trial_id, epoch)
) WITHOUT ROWID;
PRAGMA user_version = 2;
)sql";

/// From version 1 (no workers) to 2: the new columns get the values a version-1 trial had
/// implicitly (claimed once, no heartbeat, run by the single search process).
constexpr const char* kMigrateFrom1 = R"sql(
ALTER TABLE trials ADD COLUMN attempt INTEGER NOT NULL DEFAULT 1;
ALTER TABLE trials ADD COLUMN heartbeat_at REAL;
ALTER TABLE trials ADD COLUMN worker TEXT NOT NULL DEFAULT '';
PRAGMA user_version = 2;
)sql";

/// The tables a nascent store must have, sorted by name.
constexpr std::array<std::string_view, 3> kRequiredTables = {"epochs", "study", "trials"};

/// Column list shared by every query that reads whole trials; read_trial follows its order.
constexpr const char* kTrialColumns =
    "id, architecture, architecture_hash, state, validation_accuracy, params, flops, "
    "train_seconds, started_at, finished_at, error, result_json, attempt, heartbeat_at, worker";

std::string join(const std::vector<std::string>& parts, std::string_view separator) {
  std::string text;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) text += separator;
    text += parts[i];
  }
  return text;
}

[[noreturn]] void fail(const std::string& path, std::string_view operation,
                       std::string_view expected, std::string_view found) {
  throw StoreError(fmt::format("{}: {}: expected {}, found {}", path, operation, expected, found));
}

/// The SQL of a statement on one line and short enough for an error message.
std::string describe_sql(std::string_view sql) {
  constexpr size_t kMaxLength = 80;
  std::string text;
  bool pending_space = false;
  for (char c : sql) {
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
      pending_space = !text.empty();
      continue;
    }
    if (pending_space) text += ' ';
    pending_space = false;
    text += c;
  }
  if (text.size() > kMaxLength) text = text.substr(0, kMaxLength - 3) + "...";
  return text;
}

/// Only SQLITE_BUSY (another connection holds the lock) can go away by waiting; SQLITE_LOCKED is
/// a conflict inside this connection and would fail the same way again.
bool is_busy(int result_code) { return (result_code & 0xff) == SQLITE_BUSY; }

void back_off(int attempt) { std::this_thread::sleep_for(kFirstBackOff * (1 << attempt)); }

/// Turns a failed SQLite call into a StoreError naming the database, the operation and the SQL.
[[noreturn]] void fail_sqlite(sqlite3* db, const std::string& path, std::string_view operation,
                              std::string_view sql, int result_code, int attempts) {
  const std::string detail = sqlite3_errmsg(db);
  const std::string where = fmt::format("{} (`{}`)", operation, describe_sql(sql));

  if ((result_code & 0xff) == SQLITE_NOTADB) {
    fail(path, where, "an SQLite database", fmt::format("a file that is not one ({})", detail));
  }
  if (is_busy(result_code)) {
    fail(path, where, "to get the database lock",
         fmt::format("'{}' after {} attempts of {} s each; another process holds the lock", detail,
                     attempts, kBusyTimeoutMs / 1000));
  }
  fail(path, where, "the statement to succeed", fmt::format("SQLite error '{}'", detail));
}

/// A prepared statement that is finalized when it goes out of scope. Parameters are 1-based as
/// in SQLite; columns are 0-based.
class Statement {
 public:
  Statement(sqlite3* db, const std::string& path, std::string_view operation, const char* sql)
      : db_(db), path_(path), operation_(operation), sql_(sql) {
    for (int attempt = 0;; ++attempt) {
      const int result_code = sqlite3_prepare_v2(db_, sql_, -1, &statement_, nullptr);
      if (result_code == SQLITE_OK) return;

      sqlite3_finalize(statement_);
      statement_ = nullptr;
      if (!is_busy(result_code) || attempt >= kBusyRetries) {
        fail_sqlite(db_, path_, operation_, sql_, result_code, attempt + 1);
      }
      back_off(attempt);
    }
  }
  ~Statement() { sqlite3_finalize(statement_); }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  void bind(int index, int64_t value) { check_bind(sqlite3_bind_int64(statement_, index, value)); }

  /// NaN goes in as NULL: SQLite has no NaN, and NULL says "no value" in queries.
  void bind(int index, double value) {
    if (std::isnan(value)) {
      check_bind(sqlite3_bind_null(statement_, index));
      return;
    }
    check_bind(sqlite3_bind_double(statement_, index, value));
  }

  void bind(int index, const std::string& value) {
    check_bind(sqlite3_bind_text(statement_, index, value.data(), static_cast<int>(value.size()),
                                 SQLITE_TRANSIENT));
  }

  void bind(int index, const char* value) { bind(index, std::string(value)); }

  /// Advances to the next row; false when there are no more.
  bool step() {
    for (int attempt = 0;; ++attempt) {
      const int result_code = sqlite3_step(statement_);
      if (result_code == SQLITE_ROW) {
        row_seen_ = true;
        return true;
      }
      if (result_code == SQLITE_DONE) return false;

      // Restarting a query after it returned rows would hand those rows out twice.
      const bool can_retry = is_busy(result_code) && !row_seen_ && attempt < kBusyRetries;
      if (!can_retry) {
        check_constraint(result_code);
        fail_sqlite(db_, path_, operation_, sql_, result_code, attempt + 1);
      }
      sqlite3_reset(statement_);
      back_off(attempt);
    }
  }

  /// Runs a statement that returns no rows.
  void run() {
    if (step()) {
      fail(path_, operation_, fmt::format("no rows from `{}`", describe_sql(sql_)), "a row");
    }
  }

  /// Lets the caller turn a constraint violation into a message about the caller's data.
  void on_constraint(std::function<void(int)> handler) { constraint_handler_ = std::move(handler); }

  bool is_null(int column) const { return sqlite3_column_type(statement_, column) == SQLITE_NULL; }

  int64_t column_int(int column) const { return sqlite3_column_int64(statement_, column); }

  /// NULL comes back as NaN, the inverse of bind(double).
  double column_double(int column) const {
    if (is_null(column)) return std::numeric_limits<double>::quiet_NaN();
    return sqlite3_column_double(statement_, column);
  }

  std::string column_text(int column) const {
    const auto* text = reinterpret_cast<const char*>(sqlite3_column_text(statement_, column));
    if (text == nullptr) return {};
    return std::string(text, static_cast<size_t>(sqlite3_column_bytes(statement_, column)));
  }

 private:
  void check_bind(int result_code) {
    if (result_code != SQLITE_OK) fail_sqlite(db_, path_, operation_, sql_, result_code, 1);
  }

  void check_constraint(int result_code) {
    if ((result_code & 0xff) == SQLITE_CONSTRAINT && constraint_handler_) {
      constraint_handler_(result_code);
    }
  }

  sqlite3* db_;
  const std::string& path_;
  std::string_view operation_;
  const char* sql_;
  sqlite3_stmt* statement_ = nullptr;
  bool row_seen_ = false;
  std::function<void(int)> constraint_handler_;
};

/// Runs SQL text without parameters (schema scripts, BEGIN/COMMIT), retrying while busy.
void execute(sqlite3* db, const std::string& path, std::string_view operation, const char* sql) {
  for (int attempt = 0;; ++attempt) {
    const int result_code = sqlite3_exec(db, sql, nullptr, nullptr, nullptr);
    if (result_code == SQLITE_OK) return;
    if (!is_busy(result_code) || attempt >= kBusyRetries) {
      fail_sqlite(db, path, operation, sql, result_code, attempt + 1);
    }
    back_off(attempt);
  }
}

/// What an existing file holds, read before anything is written to it.
struct SchemaState {
  int64_t version = 0;
  std::vector<std::string> tables;  // sorted, without SQLite's own sqlite_* tables
};

SchemaState read_schema_state(sqlite3* db, const std::string& path) {
  SchemaState state;

  Statement version(db, path, "open", "PRAGMA user_version");
  if (version.step()) state.version = version.column_int(0);

  Statement tables(db, path, "open",
                   "SELECT name FROM sqlite_master WHERE type = 'table' "
                   "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name");
  while (tables.step()) state.tables.push_back(tables.column_text(0));
  return state;
}

/// What opening a file must do to its schema.
enum class SchemaAction { kNone, kCreate, kMigrate };

/// kCreate when the file is empty, kMigrate when it is a nascent store of an older version,
/// kNone when it is current. Throws when the file belongs to something else or to a newer
/// nascent, so that nothing is written to it.
SchemaAction schema_action(const SchemaState& state, const std::string& path) {
  const std::string found_tables =
      state.tables.empty() ? "no tables" : "tables " + join(state.tables, ", ");

  if (state.version > kSchemaVersion || state.version < 0) {
    fail(path, "open",
         fmt::format("schema version (PRAGMA user_version) {} or lower", kSchemaVersion),
         fmt::format("{}; the file was written by a newer nascent or another program",
                     state.version));
  }

  if (state.version == 0) {
    if (state.tables.empty()) return SchemaAction::kCreate;
    fail(path, "open",
         fmt::format("an empty database or a nascent store (schema version 1 to {})",
                     kSchemaVersion),
         fmt::format("schema version 0 with {}", found_tables));
  }

  std::vector<std::string> missing;
  for (std::string_view table : kRequiredTables) {
    if (!std::binary_search(state.tables.begin(), state.tables.end(), table)) {
      missing.emplace_back(table);
    }
  }
  if (!missing.empty()) {
    fail(path, "open", "tables epochs, study and trials of a nascent store",
         fmt::format("{} (missing: {})", found_tables, join(missing, ", ")));
  }
  return state.version < kSchemaVersion ? SchemaAction::kMigrate : SchemaAction::kNone;
}

void create_or_migrate_schema(sqlite3* db, const std::string& path) {
  // IMMEDIATE takes the write lock up front, so of two processes creating (or migrating) the
  // same study one waits, then sees the other's schema below and changes nothing.
  execute(db, path, "create schema", "BEGIN IMMEDIATE");
  try {
    const SchemaAction action = schema_action(read_schema_state(db, path), path);
    if (action == SchemaAction::kCreate) execute(db, path, "create schema", kCreateSchema);
    if (action == SchemaAction::kMigrate) {
      execute(db, path, "migrate schema from version 1", kMigrateFrom1);
    }
    execute(db, path, "create schema", "COMMIT");
  } catch (...) {
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

void set_pragmas(sqlite3* db, const std::string& path) {
  Statement journal_mode(db, path, "open", "PRAGMA journal_mode = WAL");
  const std::string mode = journal_mode.step() ? journal_mode.column_text(0) : "";
  // An in-memory database reports "memory"; it has no other processes to share with.
  if (mode != "wal" && mode != "memory") {
    fail(path, "open (`PRAGMA journal_mode = WAL`)", "journal mode wal",
         fmt::format("'{}'; the file system may not support WAL (network drives often do not)",
                     mode));
  }

  Statement(db, path, "open", "PRAGMA synchronous = NORMAL").run();
  Statement(db, path, "open", "PRAGMA foreign_keys = ON").run();
}

void require_final_state(const std::string& path, std::string_view operation,
                         const TrialRecord& record) {
  if (record.state != TrialState::kRunning && record.state != TrialState::kQueued) return;
  fail(path, operation,
       fmt::format("a final state (complete, failed, invalid, pruned or interrupted) for trial {}",
                   record.id),
       to_string(record.state));
}

/// Inserts every field of `record` except its id, which AUTOINCREMENT assigns; returns that id.
int64_t insert_trial(sqlite3* db, const std::string& path, std::string_view operation,
                     const TrialRecord& record) {
  Statement insert(db, path, operation,
                   "INSERT INTO trials (architecture, architecture_hash, state, "
                   "validation_accuracy, params, flops, train_seconds, started_at, finished_at, "
                   "error, result_json, attempt, heartbeat_at, worker) "
                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)");
  insert.bind(1, record.architecture);
  insert.bind(2, record.architecture_hash);
  insert.bind(3, to_string(record.state));
  insert.bind(4, record.validation_accuracy);
  insert.bind(5, record.params);
  insert.bind(6, record.flops);
  insert.bind(7, record.train_seconds);
  insert.bind(8, record.started_at);
  insert.bind(9, record.finished_at);
  insert.bind(10, record.error);
  insert.bind(11, record.result_json);
  insert.bind(12, record.attempt);
  insert.bind(13, record.heartbeat_at);
  insert.bind(14, record.worker);
  insert.run();

  // A Store's connection is used by one thread at a time, so the last rowid is this insert's.
  return sqlite3_last_insert_rowid(db);
}

/// The statement that writes a trial's final fields, ?1 to ?9 (bound by bind_final_fields),
/// followed by `condition`: the WHERE clause naming the trial as ?1.
std::string finish_trial_sql(std::string_view condition) {
  return fmt::format(
      "UPDATE trials SET state = ?2, validation_accuracy = ?3, params = ?4, flops = ?5, "
      "train_seconds = ?6, finished_at = ?7, error = ?8, result_json = ?9 {}",
      condition);
}

/// Binds ?1 (the id) and the final fields ?2 to ?9 of finish_trial_sql(). The architecture and
/// start time were written when the trial began and stay as they were.
void bind_final_fields(Statement& update, const TrialRecord& record) {
  update.bind(1, record.id);
  update.bind(2, to_string(record.state));
  update.bind(3, record.validation_accuracy);
  update.bind(4, record.params);
  update.bind(5, record.flops);
  update.bind(6, record.train_seconds);
  update.bind(7, record.finished_at);
  update.bind(8, record.error);
  update.bind(9, record.result_json);
}

/// Reads one row selected with kTrialColumns.
TrialRecord read_trial(const Statement& row, const std::string& path) {
  TrialRecord record;
  record.id = row.column_int(0);
  record.architecture = row.column_text(1);
  record.architecture_hash = row.column_text(2);
  try {
    record.state = trial_state_from_string(row.column_text(3));
  } catch (const StoreError& error) {
    throw StoreError(fmt::format("{}: reading trial {}: {}", path, record.id, error.what()));
  }
  record.validation_accuracy = row.column_double(4);
  record.params = row.column_int(5);
  record.flops = row.column_int(6);
  record.train_seconds = row.column_double(7);
  record.started_at = row.column_double(8);
  record.finished_at = row.column_double(9);
  record.error = row.column_text(10);
  record.result_json = row.column_text(11);
  record.attempt = row.column_int(12);
  record.heartbeat_at = row.column_double(13);
  record.worker = row.column_text(14);
  return record;
}

}  // namespace

const char* to_string(TrialState state) {
  switch (state) {
    case TrialState::kRunning:
      return "running";
    case TrialState::kComplete:
      return "complete";
    case TrialState::kFailed:
      return "failed";
    case TrialState::kInvalid:
      return "invalid";
    case TrialState::kPruned:
      return "pruned";
    case TrialState::kInterrupted:
      return "interrupted";
    case TrialState::kQueued:
      return "queued";
  }
  return "unknown";
}

TrialState trial_state_from_string(const std::string& name) {
  for (TrialState state : kAllStates) {
    if (name == to_string(state)) return state;
  }
  throw StoreError(fmt::format(
      "expected a trial state (running, complete, failed, invalid, pruned, interrupted or "
      "queued), "
      "found '{}'",
      name));
}

SqliteStore::SqliteStore(const std::string& path) : path_(path) {
  struct CloseDatabase {
    void operator()(sqlite3* db) const { sqlite3_close_v2(db); }
  };
  sqlite3* raw_db = nullptr;
  const int open_code =
      sqlite3_open_v2(path.c_str(), &raw_db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr);
  // The handle exists even when opening failed, and it must be closed either way.
  std::unique_ptr<sqlite3, CloseDatabase> db(raw_db);
  if (open_code != SQLITE_OK) {
    fail(path_, "open", "a readable and writable SQLite database or a place to create one",
         fmt::format("'{}'",
                     raw_db == nullptr ? sqlite3_errstr(open_code) : sqlite3_errmsg(raw_db)));
  }
  sqlite3_extended_result_codes(db.get(), 1);
  sqlite3_busy_timeout(db.get(), kBusyTimeoutMs);

  // Check before writing anything, so that a file belonging to another program stays untouched
  // (setting WAL mode would already change it).
  const SchemaAction action = schema_action(read_schema_state(db.get(), path_), path_);

  set_pragmas(db.get(), path_);

  if (action != SchemaAction::kNone) create_or_migrate_schema(db.get(), path_);

  db_ = db.release();
}

SqliteStore::~SqliteStore() { sqlite3_close_v2(db_); }

void SqliteStore::set_study_value(const std::string& key, const std::string& value) {
  Statement upsert(db_, path_, "set_study_value",
                   "INSERT INTO study (key, value) VALUES (?1, ?2) "
                   "ON CONFLICT (key) DO UPDATE SET value = excluded.value");
  upsert.bind(1, key);
  upsert.bind(2, value);
  upsert.run();
}

std::optional<std::string> SqliteStore::study_value(const std::string& key) const {
  Statement select(db_, path_, "study_value", "SELECT value FROM study WHERE key = ?1");
  select.bind(1, key);
  if (!select.step()) return std::nullopt;
  return select.column_text(0);
}

int64_t SqliteStore::begin_trial(const std::string& architecture,
                                 const std::string& architecture_hash, double started_at,
                                 const std::string& worker, int64_t params, int64_t flops) {
  const TrialRecord record =
      internal::started_trial(architecture, architecture_hash, started_at, worker, params, flops);
  return insert_trial(db_, path_, "begin_trial", record);
}

int64_t SqliteStore::insert_finished_trial(const TrialRecord& record) {
  require_final_state(path_, "insert_finished_trial", record);
  return insert_trial(db_, path_, "insert_finished_trial", record);
}

void SqliteStore::finish_trial(const TrialRecord& record) {
  require_final_state(path_, "finish_trial", record);

  const std::string sql = finish_trial_sql("WHERE id = ?1");
  Statement update(db_, path_, "finish_trial", sql.c_str());
  bind_final_fields(update, record);
  update.run();

  if (sqlite3_changes64(db_) != 1) {
    fail(path_, "finish_trial", fmt::format("a trial with id {}", record.id), "none");
  }
}

void SqliteStore::add_epoch(int64_t trial_id, const EpochMetrics& metrics) {
  Statement insert(db_, path_, "add_epoch",
                   "INSERT INTO epochs (trial_id, epoch, train_loss, train_accuracy, "
                   "validation_loss, validation_accuracy, learning_rate, seconds) "
                   "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)");
  insert.bind(1, trial_id);
  insert.bind(2, metrics.epoch);
  insert.bind(3, metrics.train_loss);
  insert.bind(4, metrics.train_accuracy);
  insert.bind(5, metrics.validation_loss);
  insert.bind(6, metrics.validation_accuracy);
  insert.bind(7, metrics.learning_rate);
  insert.bind(8, metrics.seconds);
  insert.on_constraint([&](int result_code) {
    if (result_code == SQLITE_CONSTRAINT_FOREIGNKEY) {
      fail(path_, "add_epoch", fmt::format("a trial with id {}", trial_id), "none");
    }
    if (result_code == SQLITE_CONSTRAINT_PRIMARYKEY) {
      fail(path_, "add_epoch",
           fmt::format("epoch {} of trial {} not to be stored yet", metrics.epoch, trial_id),
           "it stored already");
    }
  });
  insert.run();
}

int64_t SqliteStore::interrupt_running_trials(double now) {
  Statement update(db_, path_, "interrupt_running_trials",
                   "UPDATE trials SET state = ?1, finished_at = ?2, error = ?3 WHERE state = ?4");
  update.bind(1, to_string(TrialState::kInterrupted));
  update.bind(2, now);
  update.bind(3, kProcessStoppedError);
  update.bind(4, to_string(TrialState::kRunning));
  update.run();
  return sqlite3_changes64(db_);
}

std::vector<TrialRecord> SqliteStore::trials() const {
  const std::string sql = fmt::format("SELECT {} FROM trials ORDER BY id", kTrialColumns);
  Statement select(db_, path_, "trials", sql.c_str());
  std::vector<TrialRecord> records;
  while (select.step()) records.push_back(read_trial(select, path_));
  return records;
}

std::optional<TrialRecord> SqliteStore::trial(int64_t id) const {
  const std::string sql = fmt::format("SELECT {} FROM trials WHERE id = ?1", kTrialColumns);
  Statement select(db_, path_, "trial", sql.c_str());
  select.bind(1, id);
  if (!select.step()) return std::nullopt;
  return read_trial(select, path_);
}

std::vector<EpochMetrics> SqliteStore::epochs(int64_t trial_id) const {
  Statement select(db_, path_, "epochs",
                   "SELECT epoch, train_loss, train_accuracy, validation_loss, "
                   "validation_accuracy, learning_rate, seconds FROM epochs "
                   "WHERE trial_id = ?1 ORDER BY epoch");
  select.bind(1, trial_id);

  std::vector<EpochMetrics> metrics;
  while (select.step()) {
    EpochMetrics epoch;
    epoch.epoch = select.column_int(0);
    epoch.train_loss = select.column_double(1);
    epoch.train_accuracy = select.column_double(2);
    epoch.validation_loss = select.column_double(3);
    epoch.validation_accuracy = select.column_double(4);
    epoch.learning_rate = select.column_double(5);
    epoch.seconds = select.column_double(6);
    metrics.push_back(epoch);
  }
  return metrics;
}

std::map<TrialState, int64_t> SqliteStore::count_by_state() const {
  std::map<TrialState, int64_t> counts;
  for (TrialState state : kAllStates) counts[state] = 0;

  Statement select(db_, path_, "count_by_state",
                   "SELECT state, COUNT(*) FROM trials GROUP BY state");
  while (select.step()) {
    const std::string name = select.column_text(0);
    try {
      counts[trial_state_from_string(name)] = select.column_int(1);
    } catch (const StoreError& error) {
      throw StoreError(fmt::format("{}: count_by_state: {}", path_, error.what()));
    }
  }
  return counts;
}

std::string SqliteStore::integrity_check() const {
  Statement check(db_, path_, "integrity_check", "PRAGMA integrity_check");
  std::vector<std::string> messages;
  while (check.step()) {
    const std::string message = check.column_text(0);
    if (message != "ok") messages.push_back(message);
  }

  // The integrity check does not look at foreign keys; an epoch of a missing trial is a problem.
  Statement foreign_keys(db_, path_, "integrity_check", "PRAGMA foreign_key_check");
  while (foreign_keys.step()) {
    messages.push_back(fmt::format("row {} of table {} refers to a missing row of {}",
                                   foreign_keys.column_int(1), foreign_keys.column_text(0),
                                   foreign_keys.column_text(2)));
  }
  if (messages.empty()) return "ok";
  return join(messages, "; ");
}

bool SqliteStore::finish_claimed_trial(const TrialRecord& record) {
  require_final_state(path_, "finish_claimed_trial", record);

  const std::string sql = finish_trial_sql("WHERE id = ?1 AND state = ?10 AND attempt = ?11");
  Statement update(db_, path_, "finish_claimed_trial", sql.c_str());
  bind_final_fields(update, record);
  update.bind(10, to_string(TrialState::kRunning));
  update.bind(11, record.attempt);
  update.run();
  return sqlite3_changes64(db_) == 1;
}

void SqliteStore::in_transaction(const std::function<void()>& work) {
  if (sqlite3_get_autocommit(db_) == 0) {
    fail(path_, "in_transaction", "no transaction already open on this connection",
         "one (in_transaction calls do not nest)");
  }
  // IMMEDIATE takes the write lock now rather than at the first write, so two processes never
  // both read the same state and then both decide to act on it.
  execute(db_, path_, "in_transaction", "BEGIN IMMEDIATE");
  try {
    work();
    execute(db_, path_, "in_transaction", "COMMIT");
  } catch (...) {
    sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
    throw;
  }
}

double SqliteStore::now() const {
  // One machine shares an SQLite file, so its clock is the study's clock.
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::optional<TrialRecord> SqliteStore::claim_queued_trial(const std::string& worker, double now) {
  Statement oldest(db_, path_, "claim_queued_trial",
                   "SELECT id FROM trials WHERE state = ?1 ORDER BY id LIMIT 1");
  oldest.bind(1, to_string(TrialState::kQueued));
  if (!oldest.step()) return std::nullopt;
  const int64_t id = oldest.column_int(0);

  Statement claim(db_, path_, "claim_queued_trial",
                  "UPDATE trials SET state = ?2, attempt = attempt + 1, started_at = ?3, "
                  "heartbeat_at = ?3, worker = ?4 WHERE id = ?1 AND state = ?5");
  claim.bind(1, id);
  claim.bind(2, to_string(TrialState::kRunning));
  claim.bind(3, now);
  claim.bind(4, worker);
  claim.bind(5, to_string(TrialState::kQueued));
  claim.run();
  if (sqlite3_changes64(db_) != 1) return std::nullopt;

  // Epochs of the lost attempt are not part of this one's result, and would collide with it.
  Statement forget(db_, path_, "claim_queued_trial", "DELETE FROM epochs WHERE trial_id = ?1");
  forget.bind(1, id);
  forget.run();
  return trial(id);
}

bool SqliteStore::heartbeat(int64_t trial_id, int64_t attempt, double now) {
  Statement update(db_, path_, "heartbeat",
                   "UPDATE trials SET heartbeat_at = ?3 WHERE id = ?1 AND attempt = ?2 "
                   "AND state = ?4");
  update.bind(1, trial_id);
  update.bind(2, attempt);
  update.bind(3, now);
  update.bind(4, to_string(TrialState::kRunning));
  update.run();
  return sqlite3_changes64(db_) == 1;
}

std::vector<TrialRecord> SqliteStore::requeue_stale_trials(double now, double timeout_s,
                                                           int64_t max_attempts) {
  const std::string sql = fmt::format(
      "SELECT {} FROM trials WHERE state = ?1 AND heartbeat_at < ?2 ORDER BY id", kTrialColumns);
  std::vector<TrialRecord> stale;
  {
    Statement select(db_, path_, "requeue_stale_trials", sql.c_str());
    select.bind(1, to_string(TrialState::kRunning));
    select.bind(2, now - timeout_s);
    while (select.step()) stale.push_back(read_trial(select, path_));
  }

  std::vector<TrialRecord> changed;
  for (TrialRecord& trial : stale) {
    const bool give_up = trial.attempt >= max_attempts;
    Statement update(db_, path_, "requeue_stale_trials",
                     "UPDATE trials SET state = ?3, finished_at = ?4, error = ?5 "
                     "WHERE id = ?1 AND attempt = ?2 AND state = ?6");
    update.bind(1, trial.id);
    update.bind(2, trial.attempt);
    update.bind(3, to_string(give_up ? TrialState::kFailed : TrialState::kQueued));
    update.bind(4, give_up ? now : std::nan(""));
    update.bind(5, give_up ? internal::lost_worker_error(trial, now, timeout_s, max_attempts)
                           : std::string());
    update.bind(6, to_string(TrialState::kRunning));
    update.run();
    // Another process may have changed the trial between the select and this update.
    if (sqlite3_changes64(db_) == 1) changed.push_back(*this->trial(trial.id));
  }
  return changed;
}

}  // namespace nascent
