// Workers of one shared study as real `nascent worker` processes, on both store back ends,
// with the NAS-Bench-201 table as the evaluator (no training): the budget holds across workers,
// no architecture runs twice, a worker killed with SIGKILL loses no trial, SIGTERM records the
// trial as interrupted, and many workers may start at the same instant.

#include "nascent/experiment/worker.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "error_expectations.h"
#include "nascent/eval/tabular.h"
#include "nascent/experiment/config.h"
#include "nascent/store/store.h"
#include "test_support.h"

namespace nascent {
namespace {

using testing_support::error_message;
using testing_support::fresh_directory;

const std::string kTable = NASCENT_SOURCE_DIR "/../shared/data/nasbench201/cifar10.csv";

/// The table is read once for every test of this file.
const Nasbench201Table& table() {
  static const Nasbench201Table loaded = Nasbench201Table::load(kTable);
  return loaded;
}

std::string study_config(int64_t max_trials, const std::string& strategy = "evolution") {
  return fmt::format(R"(study: distributed
seed: 11
space: {{family: nasbench201}}
strategy: {{name: {}}}
budget: {{max_trials: {}}}
)",
                     strategy, max_trials);
}

/// A `nascent worker` child process whose output goes to files, read after it exits.
struct WorkerProcess {
  pid_t pid = -1;
  std::string name;
  std::string stdout_path;
  std::string stderr_path;
};

std::string read_text(const std::string& path) {
  std::ifstream file(path);
  std::stringstream text;
  text << file.rdbuf();
  return text.str();
}

/// What a `nascent` command printed, and how it exited.
struct CommandResult {
  int exit_code = -1;
  std::string output;
  std::string errors;
};

/// Runs `nascent ARGUMENTS` to the end; `scratch` is a directory for its captured output.
CommandResult run_nascent(const std::string& arguments, const std::string& scratch) {
  const std::string output_path = scratch + "/command.out";
  const std::string errors_path = scratch + "/command.err";
  const int status = std::system(
      fmt::format("{} {} >{} 2>{}", NASCENT_BINARY, arguments, output_path, errors_path).c_str());
  CommandResult result;
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  result.output = read_text(output_path);
  result.errors = read_text(errors_path);
  std::filesystem::remove(output_path);
  std::filesystem::remove(errors_path);
  return result;
}

class WorkerTest : public ::testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    std::string test_name = ::testing::UnitTest::GetInstance()->current_test_info()->name();
    for (char& c : test_name) c = c == '/' ? '_' : c;
    directory_ = fresh_directory("worker_" + test_name);
    study_ = fmt::format("{}_{}_{}", test_name, getpid(),
                         std::chrono::steady_clock::now().time_since_epoch().count());
    if (GetParam() == "sqlite") {
      url_ = "sqlite://" + directory_ + "/study.db";
      return;
    }
    const char* url = std::getenv("NASCENT_TEST_POSTGRES_URL");
    if (url == nullptr) {
      GTEST_SKIP() << "NASCENT_TEST_POSTGRES_URL is not set, so workers on PostgreSQL are not "
                      "tested here (scripts/test.sh starts a server and sets it)";
    }
    url_ = url;
  }

  void TearDown() override {
    // A failed assertion must not leave workers running after the test.
    for (const auto& worker : started_) {
      if (kill(worker.pid, 0) == 0) {
        kill(worker.pid, SIGKILL);
        waitpid(worker.pid, nullptr, 0);
      }
    }
  }

  void create(int64_t max_trials, double trial_s, double heartbeat_timeout_s = 30.0,
              const std::string& strategy = "evolution") {
    const ExperimentConfig config =
        parse_experiment_config(study_config(max_trials, strategy), "distributed.yaml");
    CreateStudyOptions options;
    options.storage_url = url_;
    options.study = study_;
    options.table_path = kTable;
    options.table_trial_s = trial_s;
    options.heartbeat_timeout_s = heartbeat_timeout_s;
    options.max_attempts = 3;
    ASSERT_TRUE(create_study(config, options)["created"].get<bool>());
  }

  WorkerProcess start_worker(const std::string& name) {
    WorkerProcess worker;
    worker.name = name;
    worker.stdout_path = directory_ + "/" + name + ".out";
    worker.stderr_path = directory_ + "/" + name + ".err";
    worker.pid = fork();
    if (worker.pid == 0) {
      const int out = open(worker.stdout_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      const int err = open(worker.stderr_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(out, STDOUT_FILENO);
      dup2(err, STDERR_FILENO);
      execl(NASCENT_BINARY, NASCENT_BINARY, "worker", "--storage", url_.c_str(), "--study",
            study_.c_str(), "--name", name.c_str(), "--poll-s", "0.05", "--threads", "1",
            static_cast<char*>(nullptr));
      _exit(127);
    }
    started_.push_back(worker);
    return worker;
  }

  /// The exit code of a worker, or -1 (after killing it) when it runs longer than a minute.
  int wait_exit(const WorkerProcess& worker) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(1);
    int status = 0;
    while (waitpid(worker.pid, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > deadline) {
        kill(worker.pid, SIGKILL);
        waitpid(worker.pid, &status, 0);
        ADD_FAILURE() << worker.name << " still running after a minute; stderr:\n"
                      << read_text(worker.stderr_path);
        return -1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }

  /// Polls the study until `ready` holds for its trials (at most 30 s); returns whether it did.
  bool wait_for_trials(const std::function<bool(const std::vector<TrialRecord>&)>& ready) {
    const Store store = Store::open(url_, study_, StudyOpenMode::kExisting);
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      if (ready(store.trials())) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

  /// Checks what must hold at the end of every study: exactly `max_trials` finished trials,
  /// none RUNNING or QUEUED, no architecture run twice, every result the table's, store intact.
  void expect_study_complete(int64_t max_trials) {
    const Store store = Store::open(url_, study_, StudyOpenMode::kExisting);
    const auto counts = store.count_by_state();
    EXPECT_EQ(counts.at(TrialState::kComplete), max_trials);
    EXPECT_EQ(counts.at(TrialState::kFailed), 0);
    EXPECT_EQ(counts.at(TrialState::kRunning), 0);
    EXPECT_EQ(counts.at(TrialState::kQueued), 0);

    std::set<std::string> completed_architectures;
    for (const auto& trial : store.trials()) {
      if (trial.state != TrialState::kComplete) continue;
      EXPECT_TRUE(completed_architectures.insert(trial.architecture_hash).second)
          << "architecture run twice: " << trial.architecture;
      const auto row = table().find(trial.architecture);
      ASSERT_TRUE(row.has_value()) << trial.architecture;
      EXPECT_DOUBLE_EQ(trial.validation_accuracy,
                       table().records()[static_cast<size_t>(*row)].val_acc_12 / 100.0);
      EXPECT_FALSE(trial.worker.empty());
    }
    EXPECT_EQ(store.integrity_check(), "ok");
  }

  /// Trials a worker reports having stored ("N trials stored by this worker").
  int64_t stored_by(const WorkerProcess& worker) {
    const std::string output = read_text(worker.stdout_path);
    const size_t at = output.find(" trials stored by this worker");
    if (at == std::string::npos) {
      ADD_FAILURE() << worker.name << " printed no summary: " << output;
      return 0;
    }
    const size_t start = output.rfind(' ', at - 1) + 1;
    return std::stoll(output.substr(start, at - start));
  }

  std::string directory_;
  std::string study_;
  std::string url_;
  std::vector<WorkerProcess> started_;
};

TEST_P(WorkerTest, FourWorkersSpendExactlyTheBudget) {
  constexpr int64_t kMaxTrials = 40;
  create(kMaxTrials, 0.02);
  std::vector<WorkerProcess> workers;
  for (int i = 0; i < 4; ++i) workers.push_back(start_worker(fmt::format("w{}", i)));

  int64_t reported = 0;
  std::set<std::string> workers_that_ran;
  for (const auto& worker : workers) {
    EXPECT_EQ(wait_exit(worker), 0) << read_text(worker.stderr_path);
    reported += stored_by(worker);
  }
  expect_study_complete(kMaxTrials);
  // Every result a worker stored is in the store, and nothing else is.
  EXPECT_EQ(reported, kMaxTrials);
  const Store store = Store::open(url_, study_, StudyOpenMode::kExisting);
  double best_accuracy = 0.0;
  for (const auto& trial : store.trials()) {
    workers_that_ran.insert(trial.worker);
    best_accuracy = std::max(best_accuracy, trial.validation_accuracy);
  }
  EXPECT_GE(workers_that_ran.size(), 2u) << "the work was not shared";

  const nlohmann::json status = shared_study_status(url_, study_);
  EXPECT_EQ(status["trials"]["complete"].get<int64_t>(), kMaxTrials);
  EXPECT_EQ(status["max_trials"].get<int64_t>(), kMaxTrials);
  EXPECT_EQ(status["best"]["val_accuracy"].get<double>(), best_accuracy);
  EXPECT_TRUE(status["running"].empty());
  EXPECT_GT(status["elapsed_s"].get<double>(), 0.0);
}

TEST_P(WorkerTest, TrialOfAKilledWorkerFinishesOnAnother) {
  create(2, 1.0, /*heartbeat_timeout_s=*/1.0);
  const WorkerProcess doomed = start_worker("doomed");
  int64_t doomed_trial = 0;
  ASSERT_TRUE(wait_for_trials([&](const std::vector<TrialRecord>& trials) {
    for (const auto& trial : trials) {
      if (trial.state == TrialState::kRunning && trial.worker == "doomed") {
        doomed_trial = trial.id;
        return true;
      }
    }
    return false;
  }));
  kill(doomed.pid, SIGKILL);
  EXPECT_EQ(wait_exit(doomed), 128 + SIGKILL);

  const WorkerProcess survivor = start_worker("survivor");
  EXPECT_EQ(wait_exit(survivor), 0) << read_text(survivor.stderr_path);

  expect_study_complete(2);
  const Store store = Store::open(url_, study_, StudyOpenMode::kExisting);
  const TrialRecord recovered = *store.trial(doomed_trial);
  EXPECT_EQ(recovered.state, TrialState::kComplete);
  EXPECT_EQ(recovered.worker, "survivor");
  EXPECT_EQ(recovered.attempt, 2);
  // spdlog writes warnings to stdout.
  EXPECT_CONTAINS(read_text(survivor.stdout_path),
                  fmt::format("trial {}: worker 'doomed' sent no heartbeat", doomed_trial));
}

TEST_P(WorkerTest, TrialsLongerThanTheTimeoutKeepTheirLiveWorkers) {
  // Each trial takes 2.5 heartbeat timeouts: only the heartbeats keep it from being re-queued
  // by the third worker, which has no trial of its own and looks for stale ones every 50 ms.
  create(2, 2.5, /*heartbeat_timeout_s=*/1.0);
  const WorkerProcess first = start_worker("first");
  const WorkerProcess second = start_worker("second");
  const WorkerProcess third = start_worker("third");
  for (const auto& worker : {first, second, third}) {
    EXPECT_EQ(wait_exit(worker), 0) << read_text(worker.stderr_path);
  }

  expect_study_complete(2);
  const Store store = Store::open(url_, study_, StudyOpenMode::kExisting);
  for (const auto& trial : store.trials()) EXPECT_EQ(trial.attempt, 1) << trial.id;
  EXPECT_EQ(stored_by(first) + stored_by(second) + stored_by(third), 2);
  for (const auto& worker : {first, second, third}) {
    const std::string output = read_text(worker.stdout_path);
    EXPECT_EQ(output.find("re-queued"), std::string::npos) << output;
    EXPECT_EQ(output.find("discarded:"), std::string::npos) << output;
  }
}

TEST_P(WorkerTest, SigtermRecordsTheTrialInterruptedAndItRunsAgain) {
  create(1, 30.0);
  const WorkerProcess stopped = start_worker("stopped");
  ASSERT_TRUE(wait_for_trials([](const std::vector<TrialRecord>& trials) {
    return !trials.empty() && trials[0].state == TrialState::kRunning;
  }));
  kill(stopped.pid, SIGTERM);
  EXPECT_EQ(wait_exit(stopped), 130);
  EXPECT_CONTAINS(read_text(stopped.stderr_path), "recorded as interrupted");

  const Store store = Store::open(url_, study_, StudyOpenMode::kExisting);
  auto trials = store.trials();
  ASSERT_EQ(trials.size(), 1u);
  EXPECT_EQ(trials[0].state, TrialState::kInterrupted);

  // Workers read the trial time from the store; a short one keeps the rerun quick.
  Store writable = Store::open(url_, study_, StudyOpenMode::kExisting);
  writable.set_study_value("table_trial_s", "0");
  const WorkerProcess resumed = start_worker("resumed");
  EXPECT_EQ(wait_exit(resumed), 0) << read_text(resumed.stderr_path);
  trials = store.trials();
  ASSERT_EQ(trials.size(), 2u);
  EXPECT_EQ(trials[1].architecture, trials[0].architecture);
  EXPECT_EQ(trials[1].state, TrialState::kComplete);
  EXPECT_EQ(trials[1].worker, "resumed");
}

TEST_P(WorkerTest, EightWorkersStartedAtTheSameInstant) {
  constexpr int64_t kMaxTrials = 48;
  create(kMaxTrials, 0.0);
  std::vector<WorkerProcess> workers;
  for (int i = 0; i < 8; ++i) workers.push_back(start_worker(fmt::format("w{}", i)));

  int64_t reported = 0;
  for (const auto& worker : workers) {
    EXPECT_EQ(wait_exit(worker), 0) << read_text(worker.stderr_path);
    const std::string output = read_text(worker.stdout_path) + read_text(worker.stderr_path);
    EXPECT_EQ(output.find("locked"), std::string::npos) << output;
    reported += stored_by(worker);
  }
  expect_study_complete(kMaxTrials);
  EXPECT_EQ(reported, kMaxTrials);
}

TEST_P(WorkerTest, ParetoAndReportReadAStudyFromItsStore) {
  create(3, 0.0);
  ASSERT_EQ(wait_exit(start_worker("only")), 0);
  const std::string source = fmt::format("--storage '{}' --study {}", url_, study_);

  const CommandResult pareto = run_nascent("pareto " + source, directory_);
  EXPECT_EQ(pareto.exit_code, 0) << pareto.errors;
  EXPECT_CONTAINS(pareto.output, fmt::format("study {} in ", study_));
  EXPECT_CONTAINS(pareto.output, "front:");

  const std::string html = directory_ + "/report.html";
  const CommandResult report =
      run_nascent(fmt::format("report {} --output {}", source, html), directory_);
  EXPECT_EQ(report.exit_code, 0) << report.errors;
  EXPECT_CONTAINS(report.output, "report of 3 trials written to " + html);
  EXPECT_CONTAINS(read_text(html), "chart-accuracy-trial");

  // Found by a fresh-user test: each of these said "found another combination".
  EXPECT_CONTAINS(run_nascent("pareto " + directory_ + " " + source, directory_).errors,
                  "pareto: expected a study directory, or --storage and --study, found both");
  EXPECT_CONTAINS(run_nascent("report --output x.html --study " + study_, directory_).errors,
                  "report: expected --storage with --study (the store that holds the study), "
                  "found --study alone");
  EXPECT_CONTAINS(run_nascent(fmt::format("status --storage '{}'", url_), directory_).errors,
                  "status: expected --study with --storage (the study's name in that store), "
                  "found --storage alone");
  EXPECT_CONTAINS(run_nascent("pareto", directory_).errors,
                  "pareto: expected a study directory, or --storage and --study, found neither");
}

INSTANTIATE_TEST_SUITE_P(BothBackEnds, WorkerTest,
                         ::testing::Values(std::string("sqlite"), std::string("postgresql")),
                         [](const auto& info) { return info.param; });

TEST(CreateStudyTest, SameSettingsAgainChangeNothingOtherSettingsAreRefused) {
  const std::string url = "sqlite://" + fresh_directory("create_study") + "/study.db";
  ExperimentConfig config = parse_experiment_config(study_config(10), "distributed.yaml");
  CreateStudyOptions options;
  options.storage_url = url;
  options.study = "same";
  options.table_path = kTable;
  EXPECT_TRUE(create_study(config, options)["created"].get<bool>());
  EXPECT_FALSE(create_study(config, options)["created"].get<bool>());

  config.budget.max_trials = 11;
  const std::string message = error_message([&] { create_study(config, options); });
  EXPECT_CONTAINS(message, "was 'budget.max_trials=10', now 'budget.max_trials=11'");
}

TEST(CreateStudyTest, TableNeedsTheTablesSpace) {
  const std::string url = "sqlite://" + fresh_directory("create_study_space") + "/study.db";
  const ExperimentConfig config = parse_experiment_config(
      "space: {family: nasbench201, operations: [none, skip_connect]}\nbudget: {max_trials: 3}\n",
      "small.yaml");
  CreateStudyOptions options;
  options.storage_url = url;
  options.study = "small";
  options.table_path = kTable;
  const std::string message = error_message([&] { create_study(config, options); });
  EXPECT_CONTAINS(message, "expected a space of family nasbench201 with the table's 15625");
  EXPECT_CONTAINS(message, "found family nasbench201 with 64");
}

// Found by a fresh-user test: create-study accepted a missing dataset and a space with no valid
// architecture, and every worker then failed, or stored 2000 invalid trials.
TEST(CreateStudyTest, TheDataAndTheSpaceAreCheckedAsSearchChecksThem) {
  const std::string data = fresh_directory("create_study_data");
  testing_support::write_quadrant_dataset(data, 40, 8);
  const auto refusal = [&](const std::string& directory, const std::string& space) {
    const ExperimentConfig config =
        parse_experiment_config(fmt::format("study: checked\n"                         // 1
                                            "data: {{dataset: idx, directory: {}}}\n"  // 2
                                            "space: {}\n"                              // 3
                                            "budget: {{max_trials: 3}}\n",
                                            directory, space),
                                "checked.yaml");
    CreateStudyOptions options;
    options.storage_url = "sqlite://" + fresh_directory("create_study_checked") + "/study.db";
    options.study = "checked";
    return error_message([&] { create_study(config, options); });
  };
  EXPECT_CONTAINS(
      refusal(data + "/missing", "{family: macro}"),
      "checked.yaml:2: data.directory: " + data + "/missing/train-images-idx3-ubyte.gz");
  EXPECT_CONTAINS(refusal(data, "{family: macro, stages: 5, downsample: [max_pool]}"),
                  "checked.yaml:3: space: expected a space with at least one architecture valid "
                  "for input [1, 12, 12], found none in 2000 samples");
}

TEST(CreateStudyTest, StrategiesWhoseWorkDoesNotSplitIntoTrialsAreRefused) {
  CreateStudyOptions options;
  options.storage_url = "sqlite://" + fresh_directory("create_study_strategies") + "/study.db";
  options.study = "split";
  options.table_path = kTable;
  const auto refusal = [&](const std::string& strategy) {
    const ExperimentConfig config = parse_experiment_config(study_config(10, strategy), "d.yaml");
    return error_message([&] { create_study(config, options); });
  };
  EXPECT_EQ(refusal("hyperband"),
            "d.yaml: strategy hyperband: expected a strategy whose trials workers can claim one at "
            "a time (random, evolution, local, reinforce, bo), found a multi-fidelity one; run it "
            "with `nascent search`");
  EXPECT_EQ(refusal("darts"),
            "d.yaml: strategy darts: expected a strategy whose trials workers can claim one at a "
            "time (random, evolution, local, reinforce, bo), found one that first trains a "
            "supernet; run it with `nascent search`");
}

TEST(CreateStudyTest, BadSettingsAreNamed) {
  const ExperimentConfig config = parse_experiment_config(study_config(10), "distributed.yaml");
  CreateStudyOptions options;
  options.storage_url = "sqlite://" + fresh_directory("create_study_bad") + "/study.db";
  options.study = "bad";
  options.max_attempts = 0;
  EXPECT_CONTAINS(error_message([&] { create_study(config, options); }),
                  "--max-attempts: expected an integer >= 1, found 0");
  options.max_attempts = 1;
  options.table_trial_s = 2.0;
  EXPECT_CONTAINS(error_message([&] { create_study(config, options); }),
                  "--table-trial-s: expected --table as well");
}

TEST(CreateStudyTest, ARefusedCreateStudyLeavesASearchDirectoryStudyAsItWas) {
  // Found by a new-user test: create-study on DIR/study.db of `nascent search --out DIR` was
  // refused, yet had already named the study in the file; and status called that study missing.
  const std::string directory = fresh_directory("create_study_on_search_directory");
  {
    Store search_store(directory + "/study.db");
    search_store.set_study_value("fingerprint", "space: nasbench201");
    search_store.set_study_value("config_text", study_config(5));
    search_store.begin_trial("arch-a", "hash-a", 1.0);
  }
  const std::string url = "sqlite://" + directory + "/study.db";
  CreateStudyOptions options;
  options.storage_url = url;
  options.study = "shared";
  const std::string message = error_message(
      [&] { create_study(parse_experiment_config(study_config(5), "distributed.yaml"), options); });
  EXPECT_CONTAINS(message,
                  "expected study 'shared', found the unnamed study of a search "
                  "directory (nascent search --out " +
                      directory + ")");

  const Store store(directory + "/study.db");
  for (const char* key : {"study_name", "worker_settings", "config_path", "created_at", "seed"}) {
    EXPECT_EQ(store.study_value(key), std::nullopt) << key;
  }
  EXPECT_EQ(store.study_value("fingerprint"), "space: nasbench201");
  EXPECT_EQ(store.trials().size(), 1u);

  // status agrees with create-study on what the file holds, and points to the directory.
  const CommandResult status =
      run_nascent(fmt::format("status --storage {} --study shared", url), directory);
  EXPECT_EQ(status.exit_code, 1);
  EXPECT_CONTAINS(status.errors, "found the unnamed study of a search directory");
  EXPECT_CONTAINS(status.errors, "read it with nascent status, pareto or report " + directory);
  EXPECT_EQ(store.study_value("study_name"), std::nullopt);
}

TEST(JoinStudyTest, AMissingSqliteFileIsRefusedAndNotCreated) {
  // Found by a new-user test: a mistyped path gave status and worker a new, empty store there.
  const std::string directory = fresh_directory("join_missing_file");
  const std::string scratch = fresh_directory("join_missing_file_scratch");
  for (const std::string command : {"status", "worker"}) {
    const std::string url = "sqlite://" + directory + "/typo_" + command + ".db";
    const CommandResult result =
        run_nascent(fmt::format("{} --storage {} --study x", command, url), scratch);
    EXPECT_EQ(result.exit_code, 1) << command;
    EXPECT_EQ(result.errors, fmt::format("nascent: error: --storage {}: expected an existing "
                                         "nascent store, found no file\n",
                                         url));
  }
  EXPECT_TRUE(std::filesystem::is_empty(directory));

  // An empty file is no store either, and stays empty.
  testing_support::write_text(directory + "/empty.db", "");
  EXPECT_CONTAINS(error_message([&] {
                    Store::open("sqlite://" + directory + "/empty.db", "x",
                                StudyOpenMode::kExisting);
                  }),
                  "expected an existing nascent store, found an empty file");
  EXPECT_EQ(std::filesystem::file_size(directory + "/empty.db"), 0u);
}

TEST(JoinStudyTest, AResultsDirectoryNamesTheStoreItsSearchUsed) {
  // `nascent search --out DIR --storage URL` leaves summary.json in DIR and the trials in URL.
  const std::string directory = fresh_directory("results_in_storage");
  testing_support::write_text(
      directory + "/summary.json",
      R"({"storage": {"url": "sqlite:///srv/studies.db", "study": "cifar"}, "best": null})");
  for (const std::string command : {"status", "pareto"}) {
    const CommandResult result = run_nascent(command + " " + directory, directory);
    EXPECT_EQ(result.exit_code, 1) << command;
    EXPECT_CONTAINS(result.errors,
                    directory +
                        ": expected a study directory holding study.db, found none; this "
                        "study's trials are in --storage sqlite:///srv/studies.db "
                        "--study cifar");
  }
  EXPECT_FALSE(std::filesystem::exists(directory + "/study.db"));
}

}  // namespace
}  // namespace nascent
