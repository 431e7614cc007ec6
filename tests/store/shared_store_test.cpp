// The contract of nascent::Store that workers rely on (claims, heartbeats, re-queueing,
// results recorded once, the study lock), run on both back ends: SQLite always, PostgreSQL when
// NASCENT_TEST_POSTGRES_URL names a server (scripts/test.sh starts one).

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdlib>
#include <string>
#include <thread>
#include <vector>

#include "error_expectations.h"
#include "nascent/core/error.h"
#include "nascent/store/store.h"
#include "test_support.h"

namespace nascent {
namespace {

using testing_support::error_message;
using testing_support::fresh_directory;

/// The PostgreSQL URL of the test server, or empty when none is configured.
std::string postgres_url() {
  const char* url = std::getenv("NASCENT_TEST_POSTGRES_URL");
  return url == nullptr ? "" : url;
}

/// Runs each test on "sqlite" and on "postgresql".
class SharedStoreTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    const std::string test_name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    // Names of parameterised tests hold a '/', which a file name cannot.
    std::string safe_name;
    for (char c : test_name) safe_name += (c == '/' ? '_' : c);
    study_ = fmt::format("{}_{}_{}", safe_name, getpid(),
                         std::chrono::steady_clock::now().time_since_epoch().count());
    if (GetParam() == "sqlite") {
      url_ = "sqlite://" + fresh_directory(safe_name) + "/study.db";
      return;
    }
    url_ = postgres_url();
    if (url_.empty()) {
      GTEST_SKIP() << "NASCENT_TEST_POSTGRES_URL is not set, so the PostgreSQL store is not "
                      "tested here (scripts/test.sh starts a server and sets it)";
    }
  }

  Store open_study() const { return Store::open(url_, study_, StudyOpenMode::kCreateIfMissing); }

  TrialRecord result_of(const TrialRecord& claimed, double accuracy) const {
    TrialRecord record = claimed;
    record.state = TrialState::kComplete;
    record.validation_accuracy = accuracy;
    record.finished_at = claimed.started_at + 5.0;
    return record;
  }

  std::string url_;
  std::string study_;
};

TEST_P(SharedStoreTest, ClaimHeartbeatRequeueAndResultRecordedOnce) {
  Store store = open_study();
  const double start = 1'700'000'000.0;
  const int64_t id = store.begin_trial("arch-a", "hash-a", start, "host:1");
  const TrialRecord first = *store.trial(id);
  EXPECT_EQ(first.state, TrialState::kRunning);
  EXPECT_EQ(first.attempt, 1);
  EXPECT_EQ(first.worker, "host:1");
  EXPECT_EQ(first.heartbeat_at, start);

  EXPECT_TRUE(store.heartbeat(id, 1, start + 10.0));
  EXPECT_TRUE(store.requeue_stale_trials(start + 15.0, 10.0, 3).empty());

  const auto requeued = store.requeue_stale_trials(start + 30.0, 10.0, 3);
  ASSERT_EQ(requeued.size(), 1u);
  EXPECT_EQ(requeued[0].id, id);
  EXPECT_EQ(requeued[0].state, TrialState::kQueued);
  EXPECT_EQ(store.count_by_state().at(TrialState::kQueued), 1);
  EXPECT_FALSE(store.heartbeat(id, 1, start + 31.0));

  const auto second = store.claim_queued_trial("host:2", start + 32.0);
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->id, id);
  EXPECT_EQ(second->state, TrialState::kRunning);
  EXPECT_EQ(second->attempt, 2);
  EXPECT_EQ(second->worker, "host:2");
  EXPECT_EQ(second->started_at, start + 32.0);
  EXPECT_FALSE(store.claim_queued_trial("host:3", start + 33.0).has_value());

  // The presumed-dead first worker reports late; then the second reports, twice.
  EXPECT_FALSE(store.finish_claimed_trial(result_of(first, 0.25)));
  EXPECT_TRUE(store.finish_claimed_trial(result_of(*second, 0.75)));
  EXPECT_FALSE(store.finish_claimed_trial(result_of(*second, 0.5)));

  const TrialRecord stored = *store.trial(id);
  EXPECT_EQ(stored.state, TrialState::kComplete);
  EXPECT_EQ(stored.validation_accuracy, 0.75);
  EXPECT_EQ(stored.attempt, 2);
  EXPECT_EQ(store.trials().size(), 1u);
  EXPECT_EQ(store.integrity_check(), "ok");
}

TEST_P(SharedStoreTest, LostWorkerTooOftenFailsTheTrialWithReason) {
  Store store = open_study();
  const double start = 1'700'000'000.0;
  const int64_t id = store.begin_trial("arch-b", "hash-b", start, "host:1");
  ASSERT_EQ(store.requeue_stale_trials(start + 20.0, 10.0, 2).size(), 1u);
  ASSERT_TRUE(store.claim_queued_trial("host:2", start + 21.0).has_value());

  const auto given_up = store.requeue_stale_trials(start + 40.0, 10.0, 2);
  ASSERT_EQ(given_up.size(), 1u);
  EXPECT_EQ(given_up[0].state, TrialState::kFailed);
  EXPECT_EQ(given_up[0].finished_at, start + 40.0);
  EXPECT_CONTAINS(given_up[0].error, "worker lost");
  EXPECT_CONTAINS(given_up[0].error, "worker 'host:2' on attempt 2 of 2");
  EXPECT_CONTAINS(given_up[0].error, "found none for 19.0 s");
  EXPECT_EQ(store.trial(id)->state, TrialState::kFailed);
  EXPECT_FALSE(store.claim_queued_trial("host:3", start + 41.0).has_value());
}

TEST_P(SharedStoreTest, EpochsOfALostAttemptAreDroppedWhenReclaimed) {
  Store store = open_study();
  const double start = 1'700'000'000.0;
  const int64_t id = store.begin_trial("arch-c", "hash-c", start, "host:1");
  EpochMetrics epoch;
  epoch.epoch = 1;
  epoch.validation_accuracy = 0.3;
  store.add_epoch(id, epoch);
  ASSERT_EQ(store.requeue_stale_trials(start + 20.0, 10.0, 3).size(), 1u);
  ASSERT_TRUE(store.claim_queued_trial("host:2", start + 21.0).has_value());

  EXPECT_TRUE(store.epochs(id).empty());
  epoch.validation_accuracy = 0.4;
  store.add_epoch(id, epoch);
  ASSERT_EQ(store.epochs(id).size(), 1u);
  EXPECT_EQ(store.epochs(id)[0].validation_accuracy, 0.4);
}

TEST_P(SharedStoreTest, TransactionRollsBackWhatItWroteWhenItThrows) {
  Store store = open_study();
  EXPECT_THROW(store.in_transaction([&] {
    store.set_study_value("half-done", "yes");
    store.begin_trial("arch-d", "hash-d", 1.0, "host:1");
    throw Error("stopped midway");
  }),
               Error);
  EXPECT_EQ(store.study_value("half-done"), std::nullopt);
  EXPECT_TRUE(store.trials().empty());

  const std::string message =
      error_message([&] { store.in_transaction([&] { store.in_transaction([] {}); }); });
  EXPECT_CONTAINS(message, "do not nest");
  // The failed inner call left the connection usable.
  store.in_transaction([&] { store.set_study_value("after", "ok"); });
  EXPECT_EQ(store.study_value("after"), "ok");
}

TEST_P(SharedStoreTest, TransactionsOfManyConnectionsNeverInterleave) {
  { Store store = open_study(); }
  constexpr int kThreads = 4;
  constexpr int kIncrements = 25;
  std::vector<std::thread> threads;
  std::vector<std::string> errors(kThreads);
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      try {
        Store store = Store::open(url_, study_, StudyOpenMode::kExisting);
        for (int i = 0; i < kIncrements; ++i) {
          // Read, then write: without the lock two connections would read the same value.
          store.in_transaction([&] {
            const int64_t value = std::stoll(store.study_value("counter").value_or("0"));
            store.set_study_value("counter", std::to_string(value + 1));
          });
        }
      } catch (const std::exception& error) {
        errors[static_cast<size_t>(t)] = error.what();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (const auto& error : errors) EXPECT_EQ(error, "");
  const Store store = Store::open(url_, study_, StudyOpenMode::kExisting);
  EXPECT_EQ(store.study_value("counter"), std::to_string(kThreads * kIncrements));
}

TEST_P(SharedStoreTest, JoiningAMissingStudyNamesIt) {
  // A SQLite file holds no study until one is created in it; a missing file is another error.
  if (GetParam() == "sqlite") {
    const Store empty(url_.substr(std::string("sqlite://").size()));
  }
  const std::string message =
      error_message([&] { Store::open(url_, study_ + "_missing", StudyOpenMode::kExisting); });
  EXPECT_CONTAINS(message, "expected study '" + study_ + "_missing'");
  EXPECT_CONTAINS(message, "nascent create-study");
}

TEST_P(SharedStoreTest, StudiesDoNotMix) {
  Store first = open_study();
  first.set_study_value("owner", "first");
  first.begin_trial("arch-e", "hash-e", 1.0, "host:1");

  if (GetParam() == "sqlite") {
    const std::string message = error_message(
        [&] { Store::open(url_, study_ + "_other", StudyOpenMode::kCreateIfMissing); });
    EXPECT_CONTAINS(message, "expected study '" + study_ + "_other', found study '" + study_ + "'");
    return;
  }
  const Store other = Store::open(url_, study_ + "_other", StudyOpenMode::kCreateIfMissing);
  EXPECT_EQ(other.study_value("owner"), std::nullopt);
  EXPECT_TRUE(other.trials().empty());
  EXPECT_EQ(other.count_by_state().at(TrialState::kRunning), 0);
}

TEST_P(SharedStoreTest, ClockIsTheStoresAndCloseToThisMachines) {
  const Store store = open_study();
  const double local =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  EXPECT_NEAR(store.now(), local, 5.0);
}

INSTANTIATE_TEST_SUITE_P(BothBackEnds, SharedStoreTest,
                         ::testing::Values(std::string("sqlite"), std::string("postgresql")),
                         [](const auto& info) { return info.param; });

TEST(StoreUrlTest, UnknownSchemeIsRefusedWithoutThePassword) {
  const std::string message = error_message(
      [] { Store::open("mysql://me:secret@localhost/db", "s", StudyOpenMode::kExisting); });
  EXPECT_CONTAINS(message, "expected sqlite://PATH or postgresql://");
  EXPECT_CONTAINS(message, "mysql://me:***@localhost/db");
  EXPECT_EQ(message.find("secret"), std::string::npos) << message;
}

TEST(StoreUrlTest, UnreachablePostgresServerIsNamed) {
  // Port 1 on loopback: nothing listens there, so the connection is refused at once.
  const std::string message = error_message([] {
    Store::open("postgresql://nascent:secret@127.0.0.1:1/none?connect_timeout=2", "s",
                StudyOpenMode::kExisting);
  });
  EXPECT_CONTAINS(message, "postgresql://nascent:***@127.0.0.1:1/none");
  EXPECT_CONTAINS(message, "expected a reachable PostgreSQL server");
  EXPECT_EQ(message.find("secret"), std::string::npos) << message;
}

TEST(StoreUrlTest, EmptySqlitePathIsRefused) {
  EXPECT_CONTAINS(error_message([] { Store::open("sqlite://", "s", StudyOpenMode::kExisting); }),
                  "found no path");
}

}  // namespace
}  // namespace nascent
