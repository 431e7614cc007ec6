// The PostgreSQL store's schema handling, each test in a database of its own (created and
// dropped on the server named by NASCENT_TEST_POSTGRES_URL), so that changing the schema does
// not disturb tests running at the same time.

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "error_expectations.h"
#include "nascent/store/store.h"

namespace nascent {
namespace {

using testing_support::error_message;

/// Runs SQL through a connection of its own, as another program would; fails the test on error.
void execute_raw(const std::string& url, const std::string& sql) {
  PGconn* connection = PQconnectdb(url.c_str());
  ASSERT_EQ(PQstatus(connection), CONNECTION_OK) << PQerrorMessage(connection);
  PGresult* result = PQexec(connection, sql.c_str());
  const ExecStatusType status = PQresultStatus(result);
  const std::string message = PQresultErrorMessage(result);
  PQclear(result);
  PQfinish(connection);
  ASSERT_TRUE(status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) << sql << ": " << message;
}

class PostgresSchemaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const char* url = std::getenv("NASCENT_TEST_POSTGRES_URL");
    if (url == nullptr) {
      GTEST_SKIP() << "NASCENT_TEST_POSTGRES_URL is not set, so the PostgreSQL schema is not "
                      "tested here (scripts/test.sh starts a server and sets it)";
    }
    server_url_ = url;
    database_ = fmt::format("nascent_schema_{}_{}", getpid(),
                            ::testing::UnitTest::GetInstance()->current_test_info()->line());
    execute_raw(server_url_, "CREATE DATABASE " + database_);
    // The test server's URL ends in its database's name; the same server, another database.
    url_ = server_url_.substr(0, server_url_.rfind('/') + 1) + database_;
  }

  void TearDown() override {
    if (!database_.empty()) execute_raw(server_url_, "DROP DATABASE IF EXISTS " + database_);
  }

  std::string server_url_;
  std::string database_;
  std::string url_;
};

TEST_F(PostgresSchemaTest, CreatesItsTablesOnceAndReopensThem) {
  {
    Store store = Store::open(url_, "first", StudyOpenMode::kCreateIfMissing);
    store.set_study_value("seed", "3");
  }
  Store again = Store::open(url_, "first", StudyOpenMode::kExisting);
  EXPECT_EQ(again.study_value("seed"), "3");
  EXPECT_EQ(again.integrity_check(), "ok");
}

TEST_F(PostgresSchemaTest, NewerSchemaVersionIsRefused) {
  { Store store = Store::open(url_, "first", StudyOpenMode::kCreateIfMissing); }
  execute_raw(url_, "UPDATE nascent_schema SET version = 7");
  const std::string message =
      error_message([&] { Store::open(url_, "first", StudyOpenMode::kExisting); });
  EXPECT_CONTAINS(message, "expected nascent schema version 1, found 7");
  EXPECT_CONTAINS(message, "written by a newer nascent");
}

TEST_F(PostgresSchemaTest, TablesOfAnotherProgramAreRefusedAndKept) {
  execute_raw(url_, "CREATE TABLE nascent_trials (id INTEGER)");
  const std::string message =
      error_message([&] { Store::open(url_, "first", StudyOpenMode::kCreateIfMissing); });
  EXPECT_CONTAINS(message, "expected an empty database or a nascent store");
  EXPECT_CONTAINS(message, "nascent_trials without nascent_schema");
  execute_raw(url_, "SELECT id FROM nascent_trials");
}

TEST_F(PostgresSchemaTest, IntegrityCheckFindsAFinishedTrialWithoutFinishTime) {
  Store store = Store::open(url_, "first", StudyOpenMode::kCreateIfMissing);
  const int64_t id = store.begin_trial("arch", "hash", 1.0, "host:1");
  execute_raw(
      url_,
      fmt::format("UPDATE nascent_trials SET state = 'complete', finished_at = NULL WHERE id = {}",
                  id));
  EXPECT_EQ(store.integrity_check(),
            fmt::format("trial {} is complete but has no finish time", id));
}

}  // namespace
}  // namespace nascent
