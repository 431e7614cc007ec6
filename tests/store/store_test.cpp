#include "nascent/store/store.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

#include "nascent/core/error.h"

namespace nascent {
namespace {

namespace fs = std::filesystem;

/// Runs SQL on the file through a connection of its own, as another program would.
void execute_raw(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK) << path;
  char* message = nullptr;
  const int result_code = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &message);
  const std::string error = message == nullptr ? "" : message;
  sqlite3_free(message);
  sqlite3_close(db);
  ASSERT_EQ(result_code, SQLITE_OK) << sql << ": " << error;
}

/// The first column of the first row of `sql`, as text.
std::string query_raw(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_stmt* statement = nullptr;
  std::string value = "<no row>";
  if (sqlite3_prepare_v2(db, sql.c_str(), -1, &statement, nullptr) == SQLITE_OK &&
      sqlite3_step(statement) == SQLITE_ROW) {
    value = reinterpret_cast<const char*>(sqlite3_column_text(statement, 0));
  }
  sqlite3_finalize(statement);
  sqlite3_close(db);
  return value;
}

/// Gives each test an empty directory of its own, removed afterwards. The process id keeps
/// tests run in parallel by ctest apart.
class StoreTest : public testing::Test {
 protected:
  void SetUp() override {
    const auto* info = testing::UnitTest::GetInstance()->current_test_info();
    directory_ =
        fs::temp_directory_path() / fmt::format("nascent_store_test_{}_{}", getpid(), info->name());
    fs::remove_all(directory_);
    fs::create_directories(directory_);
    path_ = (directory_ / "study.db").string();
  }

  void TearDown() override { fs::remove_all(directory_); }

  fs::path directory_;
  std::string path_;
};

/// Expects `action` to throw StoreError whose message contains every one of `parts`.
template <typename Action>
void expect_store_error(Action action, const std::vector<std::string>& parts) {
  try {
    action();
    ADD_FAILURE() << "expected StoreError";
  } catch (const StoreError& error) {
    const std::string message = error.what();
    for (const auto& part : parts) {
      EXPECT_NE(message.find(part), std::string::npos) << "'" << part << "' not in: " << message;
    }
  }
}

TrialRecord finished_record(int64_t id) {
  TrialRecord record;
  record.id = id;
  record.state = TrialState::kComplete;
  record.validation_accuracy = 0.8125;
  record.params = 123456;
  record.flops = 9876543210;
  record.train_seconds = 42.5;
  record.finished_at = 1700000100.25;
  record.error = "";
  record.result_json = R"({"test_accuracy":0.8})";
  return record;
}

TEST(TrialStateTest, NamesRoundTrip) {
  const std::vector<std::pair<TrialState, std::string>> names = {
      {TrialState::kRunning, "running"}, {TrialState::kComplete, "complete"},
      {TrialState::kFailed, "failed"},   {TrialState::kInvalid, "invalid"},
      {TrialState::kPruned, "pruned"},   {TrialState::kInterrupted, "interrupted"},
      {TrialState::kQueued, "queued"}};
  for (const auto& [state, name] : names) {
    EXPECT_EQ(to_string(state), name);
    EXPECT_EQ(trial_state_from_string(name), state);
  }
}

TEST(TrialStateTest, UnknownNameThrows) {
  expect_store_error([] { trial_state_from_string("done"); }, {"expected a trial state", "'done'"});
}

TEST_F(StoreTest, StudyValuesRoundTrip) {
  Store store(path_);
  EXPECT_EQ(store.path(), path_);
  EXPECT_EQ(store.study_value("seed"), std::nullopt);

  store.set_study_value("seed", "7");
  store.set_study_value("config", "strategy: random\nbudget: 10\n");
  store.set_study_value("seed", "8");

  EXPECT_EQ(store.study_value("seed"), "8");
  EXPECT_EQ(store.study_value("config"), "strategy: random\nbudget: 10\n");
  EXPECT_EQ(store.study_value("missing"), std::nullopt);
}

TEST_F(StoreTest, OpenSetsPragmasAndSchemaVersion) {
  { Store store(path_); }
  EXPECT_EQ(query_raw(path_, "PRAGMA journal_mode"), "wal");
  EXPECT_EQ(query_raw(path_, "PRAGMA user_version"), "2");
}

TEST_F(StoreTest, VersionOneFileIsMigratedKeepingItsTrials) {
  // A study as nascent wrote it before workers existed (schema version 1).
  execute_raw(path_, R"sql(
CREATE TABLE study (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL);
CREATE TABLE trials (
  id INTEGER PRIMARY KEY AUTOINCREMENT, architecture TEXT NOT NULL,
  architecture_hash TEXT NOT NULL, state TEXT NOT NULL, validation_accuracy REAL,
  params INTEGER NOT NULL, flops INTEGER NOT NULL, train_seconds REAL, started_at REAL,
  finished_at REAL, error TEXT NOT NULL, result_json TEXT NOT NULL);
CREATE TABLE epochs (
  trial_id INTEGER NOT NULL REFERENCES trials(id) ON DELETE CASCADE, epoch INTEGER NOT NULL,
  train_loss REAL, train_accuracy REAL, validation_loss REAL, validation_accuracy REAL,
  learning_rate REAL, seconds REAL, PRIMARY KEY (trial_id, epoch)) WITHOUT ROWID;
INSERT INTO study VALUES ('seed', '4');
INSERT INTO trials (architecture, architecture_hash, state, validation_accuracy, params, flops,
  train_seconds, started_at, finished_at, error, result_json)
  VALUES ('old-arch', 'old-hash', 'complete', 0.5, 10, 20, 1.5, 100.0, 101.5, '', '{}');
PRAGMA user_version = 1;
)sql");

  Store store(path_);
  EXPECT_EQ(query_raw(path_, "PRAGMA user_version"), "2");
  EXPECT_EQ(store.study_value("seed"), "4");
  const auto trials = store.trials();
  ASSERT_EQ(trials.size(), 1u);
  EXPECT_EQ(trials[0].architecture, "old-arch");
  EXPECT_EQ(trials[0].validation_accuracy, 0.5);
  EXPECT_EQ(trials[0].attempt, 1);
  EXPECT_TRUE(std::isnan(trials[0].heartbeat_at));
  EXPECT_EQ(trials[0].worker, "");
  EXPECT_EQ(store.integrity_check(), "ok");
}

TEST_F(StoreTest, BeginAndFinishTrialKeepEveryField) {
  Store store(path_);
  const int64_t id = store.begin_trial("s1.l1=conv3x3 s1.w=16", "abc123", 1700000000.5);

  const auto running = store.trial(id);
  ASSERT_TRUE(running.has_value());
  EXPECT_EQ(running->id, id);
  EXPECT_EQ(running->state, TrialState::kRunning);
  EXPECT_TRUE(std::isnan(running->validation_accuracy));
  EXPECT_EQ(running->started_at, 1700000000.5);
  EXPECT_EQ(running->result_json, "{}");

  store.finish_trial(finished_record(id));
  const auto finished = store.trial(id);
  ASSERT_TRUE(finished.has_value());
  EXPECT_EQ(finished->id, id);
  EXPECT_EQ(finished->architecture, "s1.l1=conv3x3 s1.w=16");
  EXPECT_EQ(finished->architecture_hash, "abc123");
  EXPECT_EQ(finished->state, TrialState::kComplete);
  EXPECT_EQ(finished->validation_accuracy, 0.8125);
  EXPECT_EQ(finished->params, 123456);
  EXPECT_EQ(finished->flops, 9876543210);
  EXPECT_EQ(finished->train_seconds, 42.5);
  EXPECT_EQ(finished->started_at, 1700000000.5);
  EXPECT_EQ(finished->finished_at, 1700000100.25);
  EXPECT_EQ(finished->error, "");
  EXPECT_EQ(finished->result_json, R"({"test_accuracy":0.8})");
  EXPECT_EQ(store.trial(id + 1), std::nullopt);
}

TEST_F(StoreTest, NanAccuracyIsStoredAsNull) {
  Store store(path_);
  const int64_t id = store.begin_trial("a", "h", 1.0);
  TrialRecord failed = finished_record(id);
  failed.state = TrialState::kFailed;
  failed.validation_accuracy = std::numeric_limits<double>::quiet_NaN();
  failed.error = "training diverged: loss is nan at epoch 1";
  store.finish_trial(failed);

  EXPECT_EQ(query_raw(path_, fmt::format("SELECT typeof(validation_accuracy) FROM trials "
                                         "WHERE id = {}",
                                         id)),
            "null");
  const auto record = store.trial(id);
  ASSERT_TRUE(record.has_value());
  EXPECT_TRUE(std::isnan(record->validation_accuracy));
  EXPECT_EQ(record->state, TrialState::kFailed);
  EXPECT_EQ(record->error, "training diverged: loss is nan at epoch 1");
}

TEST_F(StoreTest, InsertFinishedTrialKeepsEveryField) {
  Store store(path_);
  TrialRecord invalid;
  invalid.id = 999;  // ignored: the store assigns ids
  invalid.architecture = "s1.l1=dense";
  invalid.architecture_hash = "ffee";
  invalid.state = TrialState::kInvalid;
  invalid.started_at = 10.0;
  invalid.finished_at = 10.0;
  invalid.error = "layer s1.l1 (kernel): kernel 7 exceeds input 4x4";

  const int64_t id = store.insert_finished_trial(invalid);
  EXPECT_EQ(id, 1);
  const auto record = store.trial(id);
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->architecture, "s1.l1=dense");
  EXPECT_EQ(record->architecture_hash, "ffee");
  EXPECT_EQ(record->state, TrialState::kInvalid);
  EXPECT_TRUE(std::isnan(record->validation_accuracy));
  EXPECT_EQ(record->params, 0);
  EXPECT_EQ(record->flops, 0);
  EXPECT_EQ(record->started_at, 10.0);
  EXPECT_EQ(record->finished_at, 10.0);
  EXPECT_EQ(record->error, "layer s1.l1 (kernel): kernel 7 exceeds input 4x4");
  EXPECT_EQ(record->result_json, "{}");
}

TEST_F(StoreTest, RunningIsNotAFinalState) {
  Store store(path_);
  const int64_t id = store.begin_trial("a", "h", 1.0);
  TrialRecord record = finished_record(id);
  record.state = TrialState::kRunning;
  expect_store_error([&] { store.finish_trial(record); },
                     {path_, "finish_trial", "expected a final state", "found running"});
  expect_store_error([&] { store.insert_finished_trial(record); },
                     {path_, "insert_finished_trial", "found running"});
}

TEST_F(StoreTest, FinishingAnUnknownTrialThrows) {
  Store store(path_);
  expect_store_error([&] { store.finish_trial(finished_record(41)); },
                     {path_, "finish_trial", "expected a trial with id 41", "found none"});
}

TEST_F(StoreTest, TrialsAreOrderedById) {
  Store store(path_);
  for (int i = 0; i < 3; ++i) store.begin_trial(fmt::format("arch{}", i), "h", 1.0);
  const auto trials = store.trials();
  ASSERT_EQ(trials.size(), 3u);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(trials[i].id, i + 1);
    EXPECT_EQ(trials[i].architecture, fmt::format("arch{}", i));
  }
}

TEST_F(StoreTest, EpochsComeBackOrderedByEpoch) {
  Store store(path_);
  const int64_t id = store.begin_trial("a", "h", 1.0);
  const int64_t other = store.begin_trial("b", "h", 1.0);
  for (int64_t epoch : {3, 1, 2}) {
    EpochMetrics metrics;
    metrics.epoch = epoch;
    metrics.train_loss = 2.0 / epoch;
    metrics.train_accuracy = 0.25 * epoch;
    metrics.validation_loss = 3.0 / epoch;
    metrics.validation_accuracy = 0.2 * epoch;
    metrics.learning_rate = 0.1 / epoch;
    metrics.seconds = 1.5 * epoch;
    store.add_epoch(id, metrics);
  }
  EpochMetrics diverged;
  diverged.epoch = 1;
  diverged.train_loss = std::numeric_limits<double>::quiet_NaN();
  store.add_epoch(other, diverged);

  const auto epochs = store.epochs(id);
  ASSERT_EQ(epochs.size(), 3u);
  for (int64_t i = 0; i < 3; ++i) {
    const int64_t epoch = i + 1;
    EXPECT_EQ(epochs[i].epoch, epoch);
    EXPECT_EQ(epochs[i].train_loss, 2.0 / epoch);
    EXPECT_EQ(epochs[i].train_accuracy, 0.25 * epoch);
    EXPECT_EQ(epochs[i].validation_loss, 3.0 / epoch);
    EXPECT_EQ(epochs[i].validation_accuracy, 0.2 * epoch);
    EXPECT_EQ(epochs[i].learning_rate, 0.1 / epoch);
    EXPECT_EQ(epochs[i].seconds, 1.5 * epoch);
  }
  const auto other_epochs = store.epochs(other);
  ASSERT_EQ(other_epochs.size(), 1u);
  EXPECT_TRUE(std::isnan(other_epochs[0].train_loss));
  EXPECT_TRUE(store.epochs(other + 1).empty());
}

TEST_F(StoreTest, BadEpochsThrow) {
  Store store(path_);
  const int64_t id = store.begin_trial("a", "h", 1.0);
  EpochMetrics metrics;
  metrics.epoch = 1;
  store.add_epoch(id, metrics);

  expect_store_error([&] { store.add_epoch(id, metrics); },
                     {path_, "add_epoch", "epoch 1 of trial 1", "stored already"});
  expect_store_error([&] { store.add_epoch(77, metrics); },
                     {path_, "add_epoch", "expected a trial with id 77", "found none"});
}

TEST_F(StoreTest, IdsAreNotReusedAfterDeletingTheLastRow) {
  {
    Store store(path_);
    EXPECT_EQ(store.begin_trial("a", "h", 1.0), 1);
    EXPECT_EQ(store.begin_trial("b", "h", 1.0), 2);
    EXPECT_EQ(store.begin_trial("c", "h", 1.0), 3);
    execute_raw(path_, "DELETE FROM trials WHERE id = 3");
    EXPECT_EQ(store.begin_trial("d", "h", 1.0), 4);
  }

  execute_raw(path_, "DELETE FROM trials WHERE id = 4");
  Store reopened(path_);
  EXPECT_EQ(reopened.begin_trial("e", "h", 1.0), 5);
}

TEST_F(StoreTest, InterruptRunningTrials) {
  Store store(path_);
  const int64_t finished = store.begin_trial("a", "h", 1.0);
  store.finish_trial(finished_record(finished));
  const int64_t first = store.begin_trial("b", "h", 2.0);
  const int64_t second = store.begin_trial("c", "h", 3.0);

  EXPECT_EQ(store.interrupt_running_trials(50.0), 2);

  for (int64_t id : {first, second}) {
    const auto record = store.trial(id);
    ASSERT_TRUE(record.has_value());
    EXPECT_EQ(record->state, TrialState::kInterrupted);
    EXPECT_EQ(record->finished_at, 50.0);
    EXPECT_EQ(record->error,
              "interrupted: the process running this trial stopped before it finished");
  }
  const auto untouched = store.trial(finished);
  ASSERT_TRUE(untouched.has_value());
  EXPECT_EQ(untouched->state, TrialState::kComplete);
  EXPECT_EQ(untouched->error, "");
  EXPECT_EQ(store.interrupt_running_trials(60.0), 0);
}

TEST_F(StoreTest, CountByStateListsEveryState) {
  Store store(path_);
  auto counts = store.count_by_state();
  ASSERT_EQ(counts.size(), 7u);
  for (const auto& [state, count] : counts) EXPECT_EQ(count, 0) << to_string(state);

  const int64_t complete = store.begin_trial("a", "h", 1.0);
  store.finish_trial(finished_record(complete));
  TrialRecord pruned = finished_record(store.begin_trial("b", "h", 1.0));
  pruned.state = TrialState::kPruned;
  store.finish_trial(pruned);
  store.begin_trial("c", "h", 1.0);
  store.begin_trial("d", "h", 1.0);

  counts = store.count_by_state();
  ASSERT_EQ(counts.size(), 7u);
  EXPECT_EQ(counts[TrialState::kRunning], 2);
  EXPECT_EQ(counts[TrialState::kComplete], 1);
  EXPECT_EQ(counts[TrialState::kPruned], 1);
  EXPECT_EQ(counts[TrialState::kFailed], 0);
  EXPECT_EQ(counts[TrialState::kInvalid], 0);
  EXPECT_EQ(counts[TrialState::kInterrupted], 0);
  EXPECT_EQ(counts[TrialState::kQueued], 0);
}

TEST_F(StoreTest, ReopeningKeepsData) {
  int64_t id = 0;
  {
    Store store(path_);
    store.set_study_value("seed", "3");
    id = store.begin_trial("a", "h", 1.0);
    EpochMetrics metrics;
    metrics.epoch = 1;
    metrics.validation_accuracy = 0.5;
    store.add_epoch(id, metrics);
    store.finish_trial(finished_record(id));
  }

  Store store(path_);
  EXPECT_EQ(store.study_value("seed"), "3");
  ASSERT_EQ(store.trials().size(), 1u);
  EXPECT_EQ(store.trials()[0].state, TrialState::kComplete);
  ASSERT_EQ(store.epochs(id).size(), 1u);
  EXPECT_EQ(store.epochs(id)[0].validation_accuracy, 0.5);
  EXPECT_EQ(store.integrity_check(), "ok");
}

TEST_F(StoreTest, TwoStoresOnOneFileSeeEachOther) {
  Store first(path_);
  Store second(path_);

  const int64_t a = first.begin_trial("a", "h", 1.0);
  const int64_t b = second.begin_trial("b", "h", 1.0);
  EXPECT_NE(a, b);
  first.set_study_value("owner", "first");
  first.finish_trial(finished_record(a));

  EXPECT_EQ(second.study_value("owner"), "first");
  ASSERT_EQ(second.trials().size(), 2u);
  EXPECT_EQ(second.trial(a)->state, TrialState::kComplete);
  EXPECT_EQ(first.trial(b)->architecture, "b");
  EXPECT_EQ(first.integrity_check(), "ok");
}

TEST_F(StoreTest, GarbageFileThrowsWithPath) {
  {
    std::ofstream file(path_, std::ios::binary);
    for (int i = 0; i < 256; ++i) file << "this is not a database; ";
  }
  expect_store_error([&] { Store store(path_); },
                     {path_, "expected an SQLite database", "not a database"});
}

TEST_F(StoreTest, NewerSchemaVersionThrows) {
  { Store store(path_); }
  execute_raw(path_, "PRAGMA user_version = 3");
  expect_store_error([&] { Store store(path_); }, {path_, "schema version", "found 3"});
}

TEST_F(StoreTest, ForeignDatabaseThrowsAndStaysUntouched) {
  execute_raw(path_, "CREATE TABLE customers (name TEXT)");
  expect_store_error([&] { Store store(path_); },
                     {path_, "an empty database or a nascent store", "tables customers"});
  EXPECT_EQ(query_raw(path_, "PRAGMA journal_mode"), "delete");
}

TEST_F(StoreTest, MissingTablesThrow) {
  { Store store(path_); }
  execute_raw(path_, "DROP TABLE epochs");
  expect_store_error([&] { Store store(path_); }, {path_, "missing: epochs"});
}

TEST_F(StoreTest, UnopenablePathThrowsWithPath) {
  const std::string path = (directory_ / "no_such_directory" / "study.db").string();
  expect_store_error([&] { Store store(path); }, {path, "open"});
}

}  // namespace
}  // namespace nascent
