#include "store/internal/postgres_store.h"

#include <fmt/format.h>
#include <libpq-fe.h>

#include <cmath>
#include <cstdlib>
#include <limits>
#include <memory>
#include <string_view>

#include "nascent/core/error.h"
#include "store/internal/trial_rules.h"

namespace nascent {

namespace {

/// Version held by nascent_schema. Raise it with every change of kCreateSchema and teach
/// prepare_schema() to migrate the versions before it.
constexpr int64_t kSchemaVersion = 1;

/// First key of every advisory lock nascent takes ("nasc" in ASCII), so that its locks never
/// collide with another application's on the same database. The second key is the study id,
/// or 0 for the lock that guards creating the schema.
constexpr int kLockClass = 0x6e617363;

constexpr const char* kCreateSchema = R"sql(
CREATE TABLE nascent_schema (version INTEGER NOT NULL);
CREATE TABLE nascent_studies (
  id BIGSERIAL PRIMARY KEY,
  name TEXT NOT NULL UNIQUE
);
CREATE TABLE nascent_study_values (
  study_id BIGINT NOT NULL REFERENCES nascent_studies(id) ON DELETE CASCADE,
  key TEXT NOT NULL,
  value TEXT NOT NULL,
  PRIMARY KEY (study_id, key)
);
CREATE TABLE nascent_trials (
  id BIGSERIAL PRIMARY KEY,
  study_id BIGINT NOT NULL REFERENCES nascent_studies(id) ON DELETE CASCADE,
  architecture TEXT NOT NULL,
  architecture_hash TEXT NOT NULL,
  state TEXT NOT NULL,
  validation_accuracy DOUBLE PRECISION,
  params BIGINT NOT NULL,
  flops BIGINT NOT NULL,
  train_seconds DOUBLE PRECISION,
  started_at DOUBLE PRECISION,
  finished_at DOUBLE PRECISION,
  error TEXT NOT NULL,
  result_json TEXT NOT NULL,
  attempt BIGINT NOT NULL DEFAULT 1,
  heartbeat_at DOUBLE PRECISION,
  worker TEXT NOT NULL DEFAULT ''
);
CREATE INDEX nascent_trials_by_state ON nascent_trials (study_id, state);
CREATE TABLE nascent_epochs (
  trial_id BIGINT NOT NULL REFERENCES nascent_trials(id) ON DELETE CASCADE,
  epoch BIGINT NOT NULL,
  train_loss DOUBLE PRECISION,
  train_accuracy DOUBLE PRECISION,
  validation_loss DOUBLE PRECISION,
  validation_accuracy DOUBLE PRECISION,
  learning_rate DOUBLE PRECISION,
  seconds DOUBLE PRECISION,
  PRIMARY KEY (trial_id, epoch)
);
INSERT INTO nascent_schema (version) VALUES (1);
)sql";

/// Column list shared by every query that reads whole trials; read_trial follows its order.
constexpr const char* kTrialColumns =
    "id, architecture, architecture_hash, state, validation_accuracy, params, flops, "
    "train_seconds, started_at, finished_at, error, result_json, attempt, heartbeat_at, worker";

/// A query parameter as libpq takes it: text, or nullopt for NULL.
using Parameter = std::optional<std::string>;

Parameter parameter(int64_t value) { return std::to_string(value); }

/// NaN goes in as NULL, as in the SQLite store, so that "no value" reads the same everywhere.
Parameter parameter(double value) {
  if (std::isnan(value)) return std::nullopt;
  return fmt::format("{:.17g}", value);
}

Parameter parameter(const std::string& value) { return value; }

Parameter parameter(const char* value) { return std::string(value); }

/// The first line of a libpq message, without its trailing newline.
std::string first_line(const char* message) {
  std::string text = message == nullptr ? "" : message;
  text = text.substr(0, text.find('\n'));
  return text.empty() ? "no message" : text;
}

struct ClearResult {
  void operator()(PGresult* result) const { PQclear(result); }
};

/// A query's result rows; values are read by row and column (both 0-based).
class Rows {
 public:
  explicit Rows(PGresult* result) : result_(result) {}

  int64_t size() const { return PQntuples(result_.get()); }
  int64_t changed() const { return std::atoll(PQcmdTuples(result_.get())); }
  bool is_null(int64_t row, int column) const {
    return PQgetisnull(result_.get(), static_cast<int>(row), column) == 1;
  }
  std::string text(int64_t row, int column) const {
    return PQgetvalue(result_.get(), static_cast<int>(row), column);
  }
  int64_t integer(int64_t row, int column) const {
    return std::atoll(PQgetvalue(result_.get(), static_cast<int>(row), column));
  }
  /// NULL comes back as NaN, the inverse of parameter(double).
  double real(int64_t row, int column) const {
    if (is_null(row, column)) return std::numeric_limits<double>::quiet_NaN();
    return std::strtod(PQgetvalue(result_.get(), static_cast<int>(row), column), nullptr);
  }

 private:
  std::unique_ptr<PGresult, ClearResult> result_;
};

/// The rows of a statement's `result`, which they own from now on. When the statement failed
/// (a null result means libpq could not even send it), frees the result and throws
/// nascent::StoreError naming the store, the operation and the server's message.
Rows checked_rows(PGresult* result, PGconn* connection, const std::string& where,
                  std::string_view operation) {
  Rows rows(result);
  const ExecStatusType status = PQresultStatus(result);
  if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK) {
    const std::string message =
        first_line(result != nullptr ? PQresultErrorMessage(result) : PQerrorMessage(connection));
    throw StoreError(
        fmt::format("{}: {}: expected the statement to succeed, found PostgreSQL "
                    "error '{}'",
                    where, operation, message));
  }
  return rows;
}

/// Runs one statement with parameters $1, $2, ...; throws nascent::StoreError naming the store,
/// the operation and the server's message when it fails.
Rows run(PGconn* connection, const std::string& where, std::string_view operation, const char* sql,
         const std::vector<Parameter>& parameters = {}) {
  std::vector<const char*> values;
  for (const auto& value : parameters) values.push_back(value ? value->c_str() : nullptr);
  return checked_rows(PQexecParams(connection, sql, static_cast<int>(values.size()), nullptr,
                                   values.data(), nullptr, nullptr, 0),
                      connection, where, operation);
}

/// Runs SQL text without parameters (schema scripts, BEGIN/COMMIT).
void run_script(PGconn* connection, const std::string& where, std::string_view operation,
                const char* sql) {
  checked_rows(PQexec(connection, sql), connection, where, operation);
}

/// Reads row `row` of a query that selected kTrialColumns.
TrialRecord read_trial(const Rows& rows, int64_t row, const std::string& where) {
  TrialRecord record;
  record.id = rows.integer(row, 0);
  record.architecture = rows.text(row, 1);
  record.architecture_hash = rows.text(row, 2);
  try {
    record.state = trial_state_from_string(rows.text(row, 3));
  } catch (const StoreError& error) {
    throw StoreError(fmt::format("{}: reading trial {}: {}", where, record.id, error.what()));
  }
  record.validation_accuracy = rows.real(row, 4);
  record.params = rows.integer(row, 5);
  record.flops = rows.integer(row, 6);
  record.train_seconds = rows.real(row, 7);
  record.started_at = rows.real(row, 8);
  record.finished_at = rows.real(row, 9);
  record.error = rows.text(row, 10);
  record.result_json = rows.text(row, 11);
  record.attempt = rows.integer(row, 12);
  record.heartbeat_at = rows.real(row, 13);
  record.worker = rows.text(row, 14);
  return record;
}

void require_final_state(const std::string& where, std::string_view operation,
                         const TrialRecord& record) {
  if (record.state != TrialState::kRunning && record.state != TrialState::kQueued) return;
  throw StoreError(fmt::format(
      "{}: {}: expected a final state (complete, failed, invalid, pruned or interrupted) for "
      "trial {}, found {}",
      where, operation, record.id, to_string(record.state)));
}

/// Creates the tables on an empty database, or checks the version of existing ones. Holds an
/// advisory lock so that of several processes starting at once exactly one creates them.
void prepare_schema(PGconn* connection, const std::string& where) {
  run_script(connection, where, "create schema", "BEGIN");
  try {
    run(connection, where, "create schema", "SELECT pg_advisory_xact_lock($1, 0)",
        {parameter(int64_t{kLockClass})});
    const Rows exists = run(connection, where, "open",
                            "SELECT to_regclass('nascent_schema') IS NOT NULL, "
                            "to_regclass('nascent_trials') IS NOT NULL");
    const bool has_version_table = exists.text(0, 0) == "t";
    const bool has_trials_table = exists.text(0, 1) == "t";
    if (!has_version_table && has_trials_table) {
      throw StoreError(
          fmt::format("{}: open: expected an empty database or a nascent store, found table "
                      "nascent_trials without nascent_schema (written by another program?)",
                      where));
    }
    if (!has_version_table) {
      run_script(connection, where, "create schema", kCreateSchema);
    } else {
      const Rows version = run(connection, where, "open", "SELECT version FROM nascent_schema");
      const int64_t found = version.size() == 1 ? version.integer(0, 0) : -1;
      if (found != kSchemaVersion) {
        throw StoreError(fmt::format(
            "{}: open: expected nascent schema version {}, found {}; {}", where, kSchemaVersion,
            found < 0 ? "no version row" : std::to_string(found),
            found > kSchemaVersion ? "the database was written by a newer nascent; upgrade this one"
                                   : "this nascent knows no migration from it"));
      }
    }
    run_script(connection, where, "create schema", "COMMIT");
  } catch (...) {
    PQclear(PQexec(connection, "ROLLBACK"));
    throw;
  }
}

/// libpq prints server notices on stderr by default; nascent's library stays quiet.
void ignore_notice(void*, const char*) {}

}  // namespace

std::string redact_url_password(const std::string& url) {
  const size_t authority = url.find("://");
  if (authority == std::string::npos) return url;
  const size_t at = url.find('@', authority + 3);
  if (at == std::string::npos) return url;
  const size_t colon = url.find(':', authority + 3);
  if (colon == std::string::npos || colon > at) return url;
  return url.substr(0, colon + 1) + "***" + url.substr(at);
}

namespace {

struct Finish {
  void operator()(PGconn* connection) const { PQfinish(connection); }
};
using Connection = std::unique_ptr<PGconn, Finish>;

/// A connection to the server of `url`; throws naming the URL (without its password) when the
/// server cannot be reached or refuses the user.
Connection connect(const std::string& url) {
  Connection connection(PQconnectdb(url.c_str()));
  if (connection == nullptr || PQstatus(connection.get()) != CONNECTION_OK) {
    throw StoreError(fmt::format(
        "{}: open: expected a reachable PostgreSQL server accepting this user, found '{}'",
        redact_url_password(url),
        connection == nullptr ? "out of memory" : first_line(PQerrorMessage(connection.get()))));
  }
  PQsetNoticeProcessor(connection.get(), ignore_notice, nullptr);
  return connection;
}

}  // namespace

bool PostgresStore::has_study(const std::string& url, const std::string& study) {
  const Connection connection = connect(url);
  const std::string where = fmt::format("{} (study {})", redact_url_password(url), study);
  const Rows tables =
      run(connection.get(), where, "open", "SELECT to_regclass('nascent_studies') IS NOT NULL");
  if (tables.text(0, 0) != "t") return false;
  return run(connection.get(), where, "open", "SELECT 1 FROM nascent_studies WHERE name = $1",
             {parameter(study)})
             .size() > 0;
}

PostgresStore::PostgresStore(const std::string& url, const std::string& study, StudyOpenMode mode)
    : description_(fmt::format("{} (study {})", redact_url_password(url), study)) {
  Connection connection = connect(url);

  prepare_schema(connection.get(), description_);

  if (mode == StudyOpenMode::kCreateIfMissing) {
    run(connection.get(), description_, "create study",
        "INSERT INTO nascent_studies (name) VALUES ($1) ON CONFLICT (name) DO NOTHING",
        {parameter(study)});
  }
  const Rows id = run(connection.get(), description_, "open",
                      "SELECT id FROM nascent_studies WHERE name = $1", {parameter(study)});
  if (id.size() == 0) {
    throw StoreError(fmt::format(
        "{}: expected study '{}', found no study of that name; create it first with nascent "
        "create-study",
        redact_url_password(url), study));
  }
  study_id_ = id.integer(0, 0);
  connection_ = connection.release();
}

PostgresStore::~PostgresStore() { PQfinish(connection_); }

void PostgresStore::set_study_value(const std::string& key, const std::string& value) {
  run(connection_, description_, "set_study_value",
      "INSERT INTO nascent_study_values (study_id, key, value) VALUES ($1, $2, $3) "
      "ON CONFLICT (study_id, key) DO UPDATE SET value = excluded.value",
      {parameter(study_id_), parameter(key), parameter(value)});
}

std::optional<std::string> PostgresStore::study_value(const std::string& key) const {
  const Rows rows = run(connection_, description_, "study_value",
                        "SELECT value FROM nascent_study_values WHERE study_id = $1 AND key = $2",
                        {parameter(study_id_), parameter(key)});
  if (rows.size() == 0) return std::nullopt;
  return rows.text(0, 0);
}

namespace {

Rows insert_trial(PGconn* connection, const std::string& where, std::string_view operation,
                  int64_t study_id, const TrialRecord& record) {
  return run(
      connection, where, operation,
      "INSERT INTO nascent_trials (study_id, architecture, architecture_hash, state, "
      "validation_accuracy, params, flops, train_seconds, started_at, finished_at, error, "
      "result_json, attempt, heartbeat_at, worker) VALUES ($1, $2, $3, $4, $5, $6, $7, "
      "$8, $9, $10, $11, $12, $13, $14, $15) RETURNING id",
      {parameter(study_id), parameter(record.architecture), parameter(record.architecture_hash),
       parameter(to_string(record.state)), parameter(record.validation_accuracy),
       parameter(record.params), parameter(record.flops), parameter(record.train_seconds),
       parameter(record.started_at), parameter(record.finished_at), parameter(record.error),
       parameter(record.result_json), parameter(record.attempt), parameter(record.heartbeat_at),
       parameter(record.worker)});
}

/// The parameters $1..$9 of an update that writes a trial's final fields.
std::vector<Parameter> final_fields(const TrialRecord& record, int64_t study_id) {
  return {parameter(record.id),
          parameter(to_string(record.state)),
          parameter(record.validation_accuracy),
          parameter(record.params),
          parameter(record.flops),
          parameter(record.train_seconds),
          parameter(record.finished_at),
          parameter(record.error),
          parameter(record.result_json),
          parameter(study_id)};
}

constexpr const char* kSetFinalFields =
    "UPDATE nascent_trials SET state = $2, validation_accuracy = $3, params = $4, flops = $5, "
    "train_seconds = $6, finished_at = $7, error = $8, result_json = $9 "
    "WHERE id = $1 AND study_id = $10";

}  // namespace

int64_t PostgresStore::begin_trial(const std::string& architecture,
                                   const std::string& architecture_hash, double started_at,
                                   const std::string& worker, int64_t params, int64_t flops) {
  const TrialRecord record =
      internal::started_trial(architecture, architecture_hash, started_at, worker, params, flops);
  return insert_trial(connection_, description_, "begin_trial", study_id_, record).integer(0, 0);
}

int64_t PostgresStore::insert_finished_trial(const TrialRecord& record) {
  require_final_state(description_, "insert_finished_trial", record);
  return insert_trial(connection_, description_, "insert_finished_trial", study_id_, record)
      .integer(0, 0);
}

void PostgresStore::finish_trial(const TrialRecord& record) {
  require_final_state(description_, "finish_trial", record);
  const Rows rows = run(connection_, description_, "finish_trial", kSetFinalFields,
                        final_fields(record, study_id_));
  if (rows.changed() != 1) {
    throw StoreError(fmt::format("{}: finish_trial: expected a trial with id {}, found none",
                                 description_, record.id));
  }
}

bool PostgresStore::finish_claimed_trial(const TrialRecord& record) {
  require_final_state(description_, "finish_claimed_trial", record);
  const std::string sql = std::string(kSetFinalFields) + " AND state = $11 AND attempt = $12";
  std::vector<Parameter> parameters = final_fields(record, study_id_);
  parameters.push_back(parameter(to_string(TrialState::kRunning)));
  parameters.push_back(parameter(record.attempt));
  return run(connection_, description_, "finish_claimed_trial", sql.c_str(), parameters)
             .changed() == 1;
}

void PostgresStore::add_epoch(int64_t trial_id, const EpochMetrics& metrics) {
  // The trial must belong to this study; the foreign key alone would accept any study's trial.
  const Rows rows =
      run(connection_, description_, "add_epoch",
          "INSERT INTO nascent_epochs (trial_id, epoch, train_loss, train_accuracy, "
          "validation_loss, validation_accuracy, learning_rate, seconds) "
          "SELECT id, $2::bigint, $3::float8, $4::float8, $5::float8, $6::float8, $7::float8, "
          "$8::float8 FROM nascent_trials WHERE id = $1 AND study_id = $9 "
          "ON CONFLICT (trial_id, epoch) DO NOTHING",
          {parameter(trial_id), parameter(metrics.epoch), parameter(metrics.train_loss),
           parameter(metrics.train_accuracy), parameter(metrics.validation_loss),
           parameter(metrics.validation_accuracy), parameter(metrics.learning_rate),
           parameter(metrics.seconds), parameter(study_id_)});
  if (rows.changed() == 1) return;
  if (!trial(trial_id)) {
    throw StoreError(fmt::format("{}: add_epoch: expected a trial with id {}, found none",
                                 description_, trial_id));
  }
  throw StoreError(fmt::format(
      "{}: add_epoch: expected epoch {} of trial {} not to be stored yet, found it stored already",
      description_, metrics.epoch, trial_id));
}

int64_t PostgresStore::interrupt_running_trials(double now) {
  return run(connection_, description_, "interrupt_running_trials",
             "UPDATE nascent_trials SET state = $1, finished_at = $2, error = $3 "
             "WHERE study_id = $4 AND state = $5",
             {parameter(to_string(TrialState::kInterrupted)), parameter(now),
              parameter(kProcessStoppedError), parameter(study_id_),
              parameter(to_string(TrialState::kRunning))})
      .changed();
}

void PostgresStore::in_transaction(const std::function<void()>& work) {
  if (in_transaction_) {
    throw StoreError(fmt::format(
        "{}: in_transaction: expected no transaction already open on this connection, found "
        "one (in_transaction calls do not nest)",
        description_));
  }
  run_script(connection_, description_, "in_transaction", "BEGIN");
  in_transaction_ = true;
  try {
    // Held until COMMIT or ROLLBACK; every process working on this study queues here.
    run(connection_, description_, "in_transaction", "SELECT pg_advisory_xact_lock($1, $2)",
        {parameter(int64_t{kLockClass}), parameter(study_id_)});
    work();
    run_script(connection_, description_, "in_transaction", "COMMIT");
    in_transaction_ = false;
  } catch (...) {
    PQclear(PQexec(connection_, "ROLLBACK"));
    in_transaction_ = false;
    throw;
  }
}

double PostgresStore::now() const {
  return run(connection_, description_, "now",
             "SELECT extract(epoch FROM clock_timestamp())::float8")
      .real(0, 0);
}

std::optional<TrialRecord> PostgresStore::claim_queued_trial(const std::string& worker,
                                                             double now) {
  const std::string sql = fmt::format(
      "UPDATE nascent_trials SET state = $1, attempt = attempt + 1, started_at = $2, "
      "heartbeat_at = $2, worker = $3 WHERE id = (SELECT id FROM nascent_trials "
      "WHERE study_id = $4 AND state = $5 ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED) "
      "RETURNING {}",
      kTrialColumns);
  const Rows rows =
      run(connection_, description_, "claim_queued_trial", sql.c_str(),
          {parameter(to_string(TrialState::kRunning)), parameter(now), parameter(worker),
           parameter(study_id_), parameter(to_string(TrialState::kQueued))});
  if (rows.size() == 0) return std::nullopt;
  TrialRecord claimed = read_trial(rows, 0, description_);

  // Epochs of the lost attempt are not part of this one's result, and would collide with it.
  run(connection_, description_, "claim_queued_trial",
      "DELETE FROM nascent_epochs WHERE trial_id = $1", {parameter(claimed.id)});
  return claimed;
}

bool PostgresStore::heartbeat(int64_t trial_id, int64_t attempt, double now) {
  return run(connection_, description_, "heartbeat",
             "UPDATE nascent_trials SET heartbeat_at = $3 WHERE id = $1 AND attempt = $2 "
             "AND state = $4 AND study_id = $5",
             {parameter(trial_id), parameter(attempt), parameter(now),
              parameter(to_string(TrialState::kRunning)), parameter(study_id_)})
             .changed() == 1;
}

std::vector<TrialRecord> PostgresStore::requeue_stale_trials(double now, double timeout_s,
                                                             int64_t max_attempts) {
  const std::string select = fmt::format(
      "SELECT {} FROM nascent_trials WHERE study_id = $1 AND state = $2 AND heartbeat_at < $3 "
      "ORDER BY id",
      kTrialColumns);
  const Rows stale = run(connection_, description_, "requeue_stale_trials", select.c_str(),
                         {parameter(study_id_), parameter(to_string(TrialState::kRunning)),
                          parameter(now - timeout_s)});

  std::vector<TrialRecord> changed;
  for (int64_t row = 0; row < stale.size(); ++row) {
    const TrialRecord trial = read_trial(stale, row, description_);
    const bool give_up = trial.attempt >= max_attempts;
    const std::string update = fmt::format(
        "UPDATE nascent_trials SET state = $3, finished_at = $4, error = $5 "
        "WHERE id = $1 AND attempt = $2 AND state = $6 RETURNING {}",
        kTrialColumns);
    const Rows result =
        run(connection_, description_, "requeue_stale_trials", update.c_str(),
            {parameter(trial.id), parameter(trial.attempt),
             parameter(to_string(give_up ? TrialState::kFailed : TrialState::kQueued)),
             parameter(give_up ? now : std::nan("")),
             parameter(give_up ? internal::lost_worker_error(trial, now, timeout_s, max_attempts)
                               : std::string()),
             parameter(to_string(TrialState::kRunning))});
    // Another process may have changed the trial between the select and this update.
    if (result.size() == 1) changed.push_back(read_trial(result, 0, description_));
  }
  return changed;
}

std::vector<TrialRecord> PostgresStore::trials() const {
  const std::string sql =
      fmt::format("SELECT {} FROM nascent_trials WHERE study_id = $1 ORDER BY id", kTrialColumns);
  const Rows rows = run(connection_, description_, "trials", sql.c_str(), {parameter(study_id_)});
  std::vector<TrialRecord> records;
  for (int64_t row = 0; row < rows.size(); ++row) {
    records.push_back(read_trial(rows, row, description_));
  }
  return records;
}

std::optional<TrialRecord> PostgresStore::trial(int64_t id) const {
  const std::string sql =
      fmt::format("SELECT {} FROM nascent_trials WHERE id = $1 AND study_id = $2", kTrialColumns);
  const Rows rows =
      run(connection_, description_, "trial", sql.c_str(), {parameter(id), parameter(study_id_)});
  if (rows.size() == 0) return std::nullopt;
  return read_trial(rows, 0, description_);
}

std::vector<EpochMetrics> PostgresStore::epochs(int64_t trial_id) const {
  const Rows rows = run(connection_, description_, "epochs",
                        "SELECT e.epoch, e.train_loss, e.train_accuracy, e.validation_loss, "
                        "e.validation_accuracy, e.learning_rate, e.seconds FROM nascent_epochs e "
                        "JOIN nascent_trials t ON t.id = e.trial_id "
                        "WHERE e.trial_id = $1 AND t.study_id = $2 ORDER BY e.epoch",
                        {parameter(trial_id), parameter(study_id_)});
  std::vector<EpochMetrics> metrics;
  for (int64_t row = 0; row < rows.size(); ++row) {
    EpochMetrics epoch;
    epoch.epoch = rows.integer(row, 0);
    epoch.train_loss = rows.real(row, 1);
    epoch.train_accuracy = rows.real(row, 2);
    epoch.validation_loss = rows.real(row, 3);
    epoch.validation_accuracy = rows.real(row, 4);
    epoch.learning_rate = rows.real(row, 5);
    epoch.seconds = rows.real(row, 6);
    metrics.push_back(epoch);
  }
  return metrics;
}

std::map<TrialState, int64_t> PostgresStore::count_by_state() const {
  std::map<TrialState, int64_t> counts;
  for (TrialState state :
       {TrialState::kRunning, TrialState::kComplete, TrialState::kFailed, TrialState::kInvalid,
        TrialState::kPruned, TrialState::kInterrupted, TrialState::kQueued}) {
    counts[state] = 0;
  }
  const Rows rows = run(connection_, description_, "count_by_state",
                        "SELECT state, COUNT(*) FROM nascent_trials WHERE study_id = $1 "
                        "GROUP BY state",
                        {parameter(study_id_)});
  for (int64_t row = 0; row < rows.size(); ++row) {
    try {
      counts[trial_state_from_string(rows.text(row, 0))] = rows.integer(row, 1);
    } catch (const StoreError& error) {
      throw StoreError(fmt::format("{}: count_by_state: {}", description_, error.what()));
    }
  }
  return counts;
}

std::string PostgresStore::integrity_check() const {
  std::vector<std::string> problems;

  // PostgreSQL checks its pages itself; what can go wrong is the data nascent wrote.
  const Rows unknown_states =
      run(connection_, description_, "integrity_check",
          "SELECT id, state FROM nascent_trials WHERE study_id = $1 AND state NOT IN "
          "('running', 'complete', 'failed', 'invalid', 'pruned', 'interrupted', 'queued')",
          {parameter(study_id_)});
  for (int64_t row = 0; row < unknown_states.size(); ++row) {
    problems.push_back(fmt::format("trial {} has unknown state '{}'",
                                   unknown_states.integer(row, 0), unknown_states.text(row, 1)));
  }

  const Rows unfinished =
      run(connection_, description_, "integrity_check",
          "SELECT id, state FROM nascent_trials WHERE study_id = $1 AND finished_at IS NULL "
          "AND state IN ('complete', 'failed', 'invalid', 'pruned', 'interrupted')",
          {parameter(study_id_)});
  for (int64_t row = 0; row < unfinished.size(); ++row) {
    problems.push_back(fmt::format("trial {} is {} but has no finish time",
                                   unfinished.integer(row, 0), unfinished.text(row, 1)));
  }

  const Rows orphans = run(connection_, description_, "integrity_check",
                           "SELECT count(*) FROM nascent_epochs e LEFT JOIN nascent_trials t "
                           "ON t.id = e.trial_id WHERE t.id IS NULL");
  if (orphans.integer(0, 0) > 0) {
    problems.push_back(fmt::format("{} epoch rows belong to no trial", orphans.integer(0, 0)));
  }

  const Rows invalid_indexes = run(connection_, description_, "integrity_check",
                                   "SELECT c.relname FROM pg_index i JOIN pg_class c "
                                   "ON c.oid = i.indexrelid WHERE NOT i.indisvalid "
                                   "AND c.relname LIKE 'nascent%'");
  for (int64_t row = 0; row < invalid_indexes.size(); ++row) {
    problems.push_back(fmt::format("index {} is invalid", invalid_indexes.text(row, 0)));
  }

  if (problems.empty()) return "ok";
  std::string text;
  for (const auto& problem : problems) text += (text.empty() ? "" : "; ") + problem;
  return text;
}

}  // namespace nascent
