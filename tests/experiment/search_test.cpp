// End-to-end tests of `run_search`: a real (tiny) search on a synthetic IDX dataset, resume
// after kill -9 of the real command, determinism, exhaustion and bad input, including bad
// command-line values of the `nascent` command.

#include "nascent/experiment/experiment.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iterator>
#include <map>
#include <set>
#include <thread>
#include <tuple>

#include "error_expectations.h"
#include "nascent/core/error.h"
#include "nascent/core/interrupt.h"
#include "nascent/eval/training_evaluator.h"
#include "nascent/experiment/study_pareto.h"
#include "nascent/experiment/worker.h"
#include "nascent/export/model_export.h"
#include "nascent/store/store.h"
#include "nascent/strategy/weight_ranking.h"
#include "nascent/train/runtime.h"
#include "test_support.h"

namespace nascent {
namespace {

using testing_support::fresh_directory;
using testing_support::write_quadrant_dataset;
using testing_support::write_text;

std::string small_config(const std::string& data_dir, int64_t max_trials, int64_t epochs = 1,
                         const std::string& extra_space = "") {
  return fmt::format(R"(study: test
seed: 3
threads: 1
data:
  dataset: idx
  directory: {}
  validation_size: 200
space:
  stem_width: [8]
  stages: {{min: 1, max: 2}}
  depth: 1
  downsample: [max_pool, stride]
  op: [conv, sep_conv, max_pool]
  width: [8, 16]
  kernel: [3]
  activation: [relu]
  batch_norm: [true]
  skip: [none]
  dense_layers: 0
  dropout: [0]
{}strategy: {{name: evolution, population: 4, sample: 2}}
budget: {{max_trials: {}}}
train: {{epochs: {}, batch_size: 32, learning_rate: 0.05}}
final: {{epochs: 2}}
)",
                     data_dir, extra_space, max_trials, epochs);
}

std::vector<TrialRecord> finished_trials(const std::string& dir) {
  const Store store(dir + "/study.db");
  std::vector<TrialRecord> result;
  for (const auto& trial : store.trials()) {
    if (trial.state == TrialState::kComplete || trial.state == TrialState::kFailed) {
      result.push_back(trial);
    }
  }
  return result;
}

/// Starts `nascent search CONFIG --out OUT` as a child process with its output discarded.
pid_t start_search_process(const std::string& config_path, const std::string& out) {
  const pid_t child = fork();
  if (child == 0) {
    const int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, STDOUT_FILENO);
    dup2(devnull, STDERR_FILENO);
    execl(NASCENT_BINARY, NASCENT_BINARY, "search", config_path.c_str(), "--out", out.c_str(),
          static_cast<char*>(nullptr));
    _exit(127);
  }
  return child;
}

/// Polls the study's trial counts until `ready` holds or two minutes pass; returns whether it
/// held. The store may not exist yet, or be mid-creation, when polled.
bool wait_for_study(const std::string& out,
                    const std::function<bool(const std::map<TrialState, int64_t>&)>& ready) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::minutes(2);
  while (std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (!std::filesystem::exists(out + "/study.db")) continue;
    try {
      const Store store(out + "/study.db");
      if (ready(store.count_by_state())) return true;
    } catch (const StoreError&) {
    }
  }
  return false;
}

/// Runs `nascent ARGUMENTS` with its standard output discarded; returns its standard error and
/// sets `status` to its exit status.
std::string nascent_errors(const std::string& arguments, int& status) {
  const std::string command = fmt::format("{} {} 2>&1 >/dev/null", NASCENT_BINARY, arguments);
  FILE* pipe = popen(command.c_str(), "r");
  std::string errors;
  char buffer[256];
  while (pipe != nullptr && fgets(buffer, sizeof(buffer), pipe) != nullptr) errors += buffer;
  const int wait_status = pipe != nullptr ? pclose(pipe) : -1;
  status = WIFEXITED(wait_status) ? WEXITSTATUS(wait_status) : -1;
  return errors;
}

/// Runs `nascent ARGUMENTS` with its standard error discarded; returns its standard output.
std::string nascent_output(const std::string& arguments) {
  const std::string command = fmt::format("{} {} 2>/dev/null", NASCENT_BINARY, arguments);
  FILE* pipe = popen(command.c_str(), "r");
  std::string output;
  char buffer[256];
  while (pipe != nullptr && fgets(buffer, sizeof(buffer), pipe) != nullptr) output += buffer;
  if (pipe != nullptr) pclose(pipe);
  return output;
}

// Every numeric option: CLI11 refuses the value before any file is read, so the paths need not
// exist.
TEST(SearchCommand, ABadNumericValueNamesTheOptionWhatItTakesAndWhatItGot) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"search c.yaml --out d --max-trials abc",
       "--max-trials: expected an integer >= 0, found 'abc'"},
      {"search c.yaml --out d --max-trials 1.5",
       "--max-trials: expected an integer >= 0, found '1.5'"},
      {"search c.yaml --out d --max-trials -1",
       "--max-trials: expected an integer >= 0, found '-1'"},
      {"search c.yaml --out d --time-limit-min nan",
       "--time-limit-min: expected a number >= 0, found 'nan'"},
      {"search c.yaml --out d --final-epochs 0",
       "--final-epochs: expected an integer >= 1, found '0'"},
      {"search c.yaml --out d --seed ''", "--seed: expected an integer >= 0, found ''"},
      {"evaluate d --threads 300", "--threads: expected an integer in [1, 256], found '300'"},
      {"create-study c.yaml --storage s --study x --max-trials 1e3",
       "--max-trials: expected an integer >= 0, found '1e3'"},
      {"create-study c.yaml --storage s --study x --time-limit-min ten",
       "--time-limit-min: expected a number >= 0, found 'ten'"},
      {"create-study c.yaml --storage s --study x --seed 0x10",
       "--seed: expected an integer >= 0, found '0x10'"},
      {"create-study c.yaml --storage s --study x --heartbeat-timeout-s 0",
       "--heartbeat-timeout-s: expected a number of seconds in (0, 1e9], found '0'"},
      {"create-study c.yaml --storage s --study x --max-attempts 2x",
       "--max-attempts: expected an integer >= 1, found '2x'"},
      {"create-study c.yaml --storage s --study x --table-trial-s -1",
       "--table-trial-s: expected a number of seconds in [0, 1e9], found '-1'"},
      {"worker --storage s --study x --poll-s 5000",
       "--poll-s: expected a number of seconds in (0, 3600], found '5000'"},
      {"worker --storage s --study x --threads 0",
       "--threads: expected an integer in [1, 256], found '0'"},
      {"bench nasbench201 --table t.csv --runs two",
       "--runs: expected an integer >= 1, found 'two'"},
      {"bench nasbench201 --table t.csv --budget-s inf",
       "--budget-s: expected a number of seconds > 0, found 'inf'"},
      {"bench nasbench201 --table t.csv --seed -1", "--seed: expected an integer >= 0, found '-1'"},
      {"bench nasbench201 --table t.csv --curve-points 0",
       "--curve-points: expected an integer >= 1, found '0'"},
      {"proxies c.yaml --samples 2 --train-epochs 1",
       "--samples: expected an integer >= 3, found '2'"},
      {"proxies c.yaml --samples 3 --train-epochs one",
       "--train-epochs: expected an integer >= 1, found 'one'"},
      {"proxies c.yaml --samples 3 --train-epochs 1 --batch-size 1",
       "--batch-size: expected an integer >= 2, found '1'"},
      {"proxies c.yaml --samples 3 --train-epochs 1 --train-size all",
       "--train-size: expected an integer >= 0, found 'all'"},
      {"proxies c.yaml --samples 3 --train-epochs 1 --validation-size 0",
       "--validation-size: expected an integer >= 1, found '0'"},
      {"export d --trial first --output m.onnx",
       "--trial: expected an integer >= 1, found 'first'"},
  };
  for (const auto& [arguments, expected] : cases) {
    int status = 0;
    const std::string errors = nascent_errors(arguments, status);
    EXPECT_EQ(status, 2) << arguments;
    EXPECT_EQ(errors, "nascent: error: " + expected + "\n") << arguments;
  }
}

TEST(SearchCommand, AStudyWithoutAModelSaysWhetherItsSearchEndedEmpty) {
  // A search that stopped before any trial completed wrote best: null and its stop reason;
  // "run the search to the end" would be wrong advice for it.
  const std::string directory = fresh_directory("no_model");
  testing_support::write_text(
      directory + "/summary.json",
      R"({"study": "s", "stop_reason": "time_limit", "best": null, "message": "no trial completed"})");
  const std::string advice =
      "its search stopped (time_limit) before any trial completed; run nascent search again "
      "with a larger budget";
  try {
    evaluate_study(directory);
    ADD_FAILURE() << "expected nascent::Error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find(advice), std::string::npos) << error.what();
  }
  ModelExportOptions options;
  options.study_dir = directory;
  options.output = directory + "/model.onnx";
  try {
    export_model(options);
    ADD_FAILURE() << "expected nascent::Error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find(advice), std::string::npos) << error.what();
  }

  // A search still under way (no stop reason yet) is told to finish.
  testing_support::write_text(directory + "/summary.json", R"({"study": "s", "best": null})");
  try {
    evaluate_study(directory);
    ADD_FAILURE() << "expected nascent::Error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("run nascent search to the end first"),
              std::string::npos)
        << error.what();
  }
}

TEST(SearchCommand, AnOutDirectoryThatCannotBeCreatedIsRefusedBeforeTheDataIsRead) {
  const std::string directory = fresh_directory("impossible_out");
  const std::string config_path = directory + "/search.yaml";
  // No dataset: had the search looked for it first, the error would be about the data.
  write_text(config_path, small_config(directory + "/no_dataset_here", 1));
  const std::string file = directory + "/plain_file";
  write_text(file, "not a directory\n");

  for (const std::string& out : {file + "/study", file + "/deeper/study"}) {
    int status = 0;
    const std::string errors =
        nascent_errors(fmt::format("search {} --out {}", config_path, out), status);
    EXPECT_EQ(status, 1) << out;
    EXPECT_EQ(errors, fmt::format("nascent: error: --out {}: expected a directory nascent can "
                                  "create and write, found that {} is not a directory\n",
                                  out, file));
  }
}

class SearchTest : public testing_support::QuadrantDataTest<800, 200> {};

// Found by a fresh-user test: 3 validation images for 10 classes used to run, "stratified".
TEST_F(SearchTest, SplitsSmallerThanTheClassesAreRefused) {
  const auto error_for = [&](const std::string& from, const std::string& to) {
    std::string text = small_config(data_dir_, 1);
    text.replace(text.find(from), from.size(), to);
    const ExperimentConfig config = parse_experiment_config(text, "test.yaml");
    SearchRunOptions options;
    options.output_dir = fresh_directory("tiny_split");
    options.skip_final = true;
    try {
      run_search(config, options);
    } catch (const ConfigError& error) {
      return std::string(error.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(error_for("validation_size: 200", "validation_size: 3"),
            fmt::format("test.yaml:7: data.validation_size: expected at least one image per class, "
                        "4 for the 4 classes of {}, found 3",
                        data_dir_));
  // Found by a fresh-user test: validation could leave fewer training images than classes.
  EXPECT_EQ(error_for("validation_size: 200", "validation_size: 797"),
            fmt::format("test.yaml:7: data.validation_size: expected at most 796 (the 800 "
                        "training examples of {} less one per class to train on), found 797",
                        data_dir_));
  EXPECT_CONTAINS(error_for("seed: 3", "seed: 3\nfidelity: {data_fraction: 0.005}"),
                  ": fidelity.data_fraction: expected a fraction that keeps at least one image "
                  "per class, 4 of the 600 search-training images, found 0.005 (3 images)");
  EXPECT_EQ(error_for("validation_size: 200", "validation_size: 200\n  search_train_size: 2"),
            fmt::format("test.yaml:8: data.search_train_size: expected 0 (all) or at least one "
                        "image per class, 4 for the 4 classes of {}, found 2",
                        data_dir_));
}

// Found by a fresh-user test: status said "search elapsed 0s" 30 s into a first trial, because
// the clock is stored only after each epoch.
TEST(StudyStatus, ASearchesClockRunsOnBetweenItsSaves) {
  const std::string out = fresh_directory("running_clock");
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  {
    Store store(out + "/study.db");
    store.set_study_value("search_elapsed_s", "5");
    store.set_study_value("clock_saved_at", fmt::format("{}", now - 10.0));
    store.set_study_value("search_clock_running", "1");
  }

  // Not held by a search: the stored clock.
  EXPECT_DOUBLE_EQ(study_status(out)["search_elapsed_s"].get<double>(), 5.0);

  // Held, as a search holds it: 10 more seconds.
  const int lock = open((out + "/study.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(lock, 0);
  ASSERT_EQ(flock(lock, LOCK_EX | LOCK_NB), 0);
  const double running = study_status(out)["search_elapsed_s"].get<double>();
  EXPECT_GE(running, 15.0);
  EXPECT_LT(running, 25.0);

  EXPECT_EQ(study_status(out)["stop_reason"], "");

  // The search's part over (retraining the final model): the stored clock again.
  Store(out + "/study.db").set_study_value("search_clock_running", "0");
  Store(out + "/study.db").set_study_value("stop_reason", "max_trials");
  EXPECT_DOUBLE_EQ(study_status(out)["search_elapsed_s"].get<double>(), 5.0);
  EXPECT_EQ(study_status(out)["stop_reason"], "max_trials");
  EXPECT_EQ(study_status(out)["final_model_state"], "being trained");
  close(lock);

  // Killed while retraining (found by a fresh-user test: status said "not yet trained").
  {
    Store store(out + "/study.db");
    TrialRecord trial;
    trial.id = store.begin_trial("stem.width=8", "hash", 0.0);
    trial.state = TrialState::kComplete;
    trial.validation_accuracy = 0.5;
    store.finish_trial(trial);
  }
  EXPECT_EQ(study_status(out)["final_model_state"],
            "none: its training was cut off; run the same nascent search to train it");

  // Killed during a resumed run's search, with the stop reason of the run before still stored.
  Store(out + "/study.db").set_study_value("search_clock_running", "1");
  EXPECT_EQ(study_status(out)["final_model_state"], "not yet trained");
}

TEST_F(SearchTest, FindsTrainsStoresAndReloadsAModel) {
  const std::string out = fresh_directory("end_to_end");
  const ExperimentConfig config = parse_experiment_config(small_config(data_dir_, 4), "test.yaml");
  SearchRunOptions options;
  options.output_dir = out;
  const nlohmann::json summary = run_search(config, options);

  EXPECT_EQ(summary["stop_reason"], "max_trials");
  EXPECT_EQ(
      summary["trials"]["complete"].get<int64_t>() + summary["trials"]["failed"].get<int64_t>(), 4);
  const auto& best = summary["best"];
  ASSERT_TRUE(best.is_object());
  for (const char* key :
       {"arch", "val_accuracy", "test_accuracy", "params", "flops", "latency_ms"}) {
    EXPECT_TRUE(best.contains(key)) << key;
  }
  EXPECT_GT(best["test_accuracy"].get<double>(), 0.5);  // chance is 0.25
  EXPECT_GT(best["latency_ms"].get<double>(), 0.0);
  EXPECT_TRUE(summary.contains("elapsed_s"));
  EXPECT_TRUE(std::filesystem::exists(out + "/summary.json"));
  EXPECT_TRUE(std::filesystem::exists(out + "/model.pt"));

  // The checkpoint reproduces the test accuracy exactly, here and in a fresh process.
  const nlohmann::json reloaded = evaluate_study(out);
  EXPECT_EQ(reloaded["test_accuracy"].get<double>(), best["test_accuracy"].get<double>());
  const std::string command = std::string(NASCENT_BINARY) + " evaluate " + out + " --threads 1";
  EXPECT_EQ(std::system(command.c_str()), 0);
}

TEST_F(SearchTest, SameSeedSamplesTheSameArchitecturesAndStoresTheSameMetrics) {
  const ExperimentConfig config = parse_experiment_config(small_config(data_dir_, 5), "test.yaml");
  std::vector<std::vector<TrialRecord>> runs;
  for (const char* name : {"seed_a", "seed_b"}) {
    SearchRunOptions options;
    options.output_dir = fresh_directory(name);
    options.skip_final = true;
    run_search(config, options);
    runs.push_back(finished_trials(options.output_dir));
  }
  ASSERT_EQ(runs[0].size(), runs[1].size());
  for (size_t i = 0; i < runs[0].size(); ++i) {
    EXPECT_EQ(runs[0][i].architecture, runs[1][i].architecture);
    EXPECT_EQ(runs[0][i].validation_accuracy, runs[1][i].validation_accuracy);
  }
}

TEST_F(SearchTest, ASpaceSmallerThanTheBudgetEndsExhaustedWithEachArchitectureOnce) {
  // stages 1 and op conv only: two architectures (width 8 or 16) times two downsampling modes.
  std::string text = small_config(data_dir_, 20);
  text.replace(text.find("stages: {min: 1, max: 2}"), 24, "stages: 1");
  text.replace(text.find("op: [conv, sep_conv, max_pool]"), 30, "op: [conv]");
  const ExperimentConfig config = parse_experiment_config(text, "test.yaml");
  ASSERT_EQ(config.space.count(1000), 4);

  for (const char* strategy : {"random", "evolution"}) {
    ExperimentConfig variant = config;
    variant.strategy.name = strategy;
    SearchRunOptions options;
    options.output_dir = fresh_directory(std::string("exhausted_") + strategy);
    options.skip_final = true;
    const nlohmann::json summary = run_search(variant, options);
    EXPECT_EQ(summary["stop_reason"], "exhausted") << strategy;
    const auto trials = finished_trials(options.output_dir);
    EXPECT_EQ(trials.size(), 4u) << strategy;
    std::set<std::string> unique;
    for (const auto& trial : trials) unique.insert(trial.architecture_hash);
    EXPECT_EQ(unique.size(), trials.size()) << strategy;
  }
}

/// An evaluator that fails every architecture whose first layer is a pooling, as a diverging
/// network would, so that the test can check the search goes on.
class FailingPoolEvaluator : public Evaluator {
 public:
  ArchitectureCheck check(const Architecture& architecture) const override {
    return check_macro_architecture(architecture, {1, 12, 12}, 4);
  }
  Evaluation evaluate(const Architecture& architecture, const TrialContext&) override {
    Evaluation evaluation;
    if (architecture.get("s1.l1.op") == "max_pool") {
      evaluation.state = TrialState::kFailed;
      evaluation.validation_accuracy = std::nan("");
      evaluation.error = "training diverged: the loss became non-finite at step 3";
    } else {
      evaluation.validation_accuracy = architecture.get_int("s1.l1.width") / 100.0;
    }
    return evaluation;
  }
};

TEST_F(SearchTest, StorageUrlPutsTheTrialsInThatStoreAndResumesFromIt) {
  const std::string store_dir = fresh_directory("search_storage");
  const std::string url = "sqlite://" + store_dir + "/elsewhere.db";
  ExperimentConfig config = parse_experiment_config(small_config(data_dir_, 3), "test.yaml");
  SearchRunOptions options;
  options.output_dir = fresh_directory("search_storage_out");
  options.storage_url = url;
  options.study_name = "named";
  options.skip_final = true;
  options.evaluator_factory = [](const ExperimentConfig&) {
    return std::make_unique<FailingPoolEvaluator>();
  };
  run_search(config, options);

  EXPECT_FALSE(std::filesystem::exists(options.output_dir + "/study.db"));
  const Store store = Store::open(url, "named", StudyOpenMode::kExisting);
  const auto counts = store.count_by_state();
  EXPECT_EQ(counts.at(TrialState::kComplete) + counts.at(TrialState::kFailed), 3);

  // The directory's readers point to the store, and the store reads as that study.
  try {
    study_status(options.output_dir);
    ADD_FAILURE() << "expected nascent::Error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what())
                  .find("this study's trials are in --storage " + url + " --study named"),
              std::string::npos)
        << error.what();
  }
  EXPECT_EQ(study_pareto(store, options.output_dir)["directory"], options.output_dir);

  // A larger budget resumes from the same store.
  config.budget.max_trials = 5;
  const nlohmann::json summary = run_search(config, options);
  EXPECT_EQ(
      summary["trials"]["complete"].get<int64_t>() + summary["trials"]["failed"].get<int64_t>(), 5);
}

// `status --storage URL --study NAME` of a search's study used to read it as a workers' study:
// the seconds since a worker's start (which no search records) instead of the search's clock.
TEST_F(SearchTest, StatusOfAStoredSearchShowsTheSearchesBudgetAndClock) {
  const std::string url = "sqlite://" + fresh_directory("stored_status") + "/store.db";
  ExperimentConfig config = parse_experiment_config(small_config(data_dir_, 2), "test.yaml");
  config.budget.time_limit_min = 30;
  SearchRunOptions options;
  options.output_dir = fresh_directory("stored_status_out");
  options.storage_url = url;
  options.study_name = "stored";
  options.skip_final = true;
  options.evaluator_factory = [](const ExperimentConfig&) {
    return std::make_unique<FailingPoolEvaluator>();
  };
  run_search(config, options);
  const double stored_clock = std::stod(
      *Store::open(url, "stored", StudyOpenMode::kExisting).study_value("search_elapsed_s"));

  nlohmann::json status = shared_study_status(url, "stored");
  EXPECT_EQ(status["kind"], "search");
  EXPECT_EQ(status["max_trials"], 2);
  EXPECT_EQ(status["time_limit_min"], 30.0);
  EXPECT_EQ(status["search_elapsed_s"], stored_clock);
  EXPECT_EQ(status["stop_reason"], "max_trials");
  EXPECT_EQ(status["search_running"], false);
  EXPECT_EQ(status["directory"], options.output_dir);
  // As status DIR says of a search that skipped its final model.
  EXPECT_EQ(status["final_model_state"],
            "none: its training was cut off; run the same nascent search to train it");
  EXPECT_NE(nascent_output(fmt::format("status --storage {} --study stored", url))
                .find("budget: 2 trials, 30 minutes; search elapsed"),
            std::string::npos);

  // While a search holds its directory, the clock runs on between saves, as for status DIR.
  {
    Store store = Store::open(url, "stored", StudyOpenMode::kExisting);
    store.set_study_value("clock_saved_at", fmt::format("{}", store.now() - 10.0));
    store.set_study_value("search_clock_running", "1");
  }
  const int lock = open((options.output_dir + "/study.lock").c_str(), O_RDWR | O_CLOEXEC);
  ASSERT_GE(lock, 0);
  ASSERT_EQ(flock(lock, LOCK_EX | LOCK_NB), 0);
  status = shared_study_status(url, "stored");
  EXPECT_EQ(status["search_running"], true);
  EXPECT_GE(status["search_elapsed_s"].get<double>(), stored_clock + 10.0);
  EXPECT_EQ(status["stop_reason"], "");
  close(lock);

  // Its directory on another machine: whether a search runs is unknown; the stored clock stands.
  std::filesystem::remove_all(options.output_dir);
  status = shared_study_status(url, "stored");
  EXPECT_TRUE(status["search_running"].is_null());
  EXPECT_EQ(status["search_elapsed_s"], stored_clock);
  EXPECT_EQ(status["final_model_state"],
            "unknown here: its directory " + options.output_dir + " is not on this machine");
}

TEST_F(SearchTest, StudyCreatedForWorkersIsRefused) {
  const std::string url = "sqlite://" + fresh_directory("search_worker_study") + "/study.db";
  {
    Store store = Store::open(url, "shared", StudyOpenMode::kCreateIfMissing);
    store.set_study_value("worker_settings", "made by create-study");
  }
  const ExperimentConfig config = parse_experiment_config(small_config(data_dir_, 3), "test.yaml");
  SearchRunOptions options;
  options.output_dir = fresh_directory("search_worker_study_out");
  options.storage_url = url;
  options.study_name = "shared";
  options.skip_final = true;
  try {
    run_search(config, options);
    ADD_FAILURE() << "expected nascent::Error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("created for workers"), std::string::npos)
        << error.what();
  }
}

TEST_F(SearchTest, ARefusedSearchLeavesNothingBehind) {
  // Found by a new-user test: refused searches left study.lock, and a new --out directory.
  const ExperimentConfig config = parse_experiment_config(small_config(data_dir_, 1), "test.yaml");
  const std::string parent = fresh_directory("refused_search");
  SearchRunOptions options;
  options.output_dir = parent + "/new/deeper";
  options.storage_url = "mysql://localhost/studies";
  options.skip_final = true;
  const auto expect_refused = [&](const std::string& expected) {
    try {
      run_search(config, options);
      ADD_FAILURE() << "no error; expected one containing: " << expected;
    } catch (const Error& error) {
      EXPECT_NE(std::string(error.what()).find(expected), std::string::npos) << error.what();
    }
  };
  expect_refused("--storage: expected sqlite://PATH or postgresql://");
  EXPECT_TRUE(std::filesystem::is_empty(parent));

  // An existing directory stays, as it was.
  options.output_dir = parent;
  expect_refused("--storage: expected sqlite://PATH or postgresql://");
  EXPECT_TRUE(std::filesystem::is_empty(parent));

  // A study.db that is no nascent store is refused, and left alone with nothing beside it.
  options.storage_url.clear();
  write_text(parent + "/study.db", "not a database, but not empty either");
  expect_refused(parent + "/study.db");
  EXPECT_FALSE(std::filesystem::exists(parent + "/study.lock"));
  EXPECT_EQ(std::distance(std::filesystem::directory_iterator(parent),
                          std::filesystem::directory_iterator()),
            1);
}

// The store used to be opened only after the data had loaded (seconds for a real dataset). Here
// the dataset is missing, so a refusal that names the store shows that the store came first.
TEST_F(SearchTest, AStoreItCannotUseIsRefusedBeforeTheDataIsRead) {
  ExperimentConfig config = parse_experiment_config(small_config(data_dir_, 1), "test.yaml");
  const std::string parent = fresh_directory("store_before_data");
  config.data.directory = parent + "/no_dataset_here";
  const auto error_of = [&](const std::string& out, const std::string& storage_url,
                            const std::string& study) {
    SearchRunOptions options;
    options.output_dir = out;
    options.storage_url = storage_url;
    options.study_name = study;
    options.skip_final = true;
    try {
      run_search(config, options);
    } catch (const std::exception& error) {
      return std::string(error.what());
    }
    return std::string("no error");
  };

  // A study of another config.
  std::filesystem::create_directories(parent + "/changed");
  Store(parent + "/changed/study.db").set_study_value("fingerprint", "seed=99\n");
  EXPECT_EQ(error_of(parent + "/changed", "", ""),
            parent +
                "/changed/study.db: expected the config this study was created with, found a "
                "different one (first difference: was 'seed=99', now 'seed=3'); use a new --out "
                "directory, or the original config");

  // A study made for workers.
  const std::string workers_url = "sqlite://" + parent + "/workers.db";
  Store::open(workers_url, "shared", StudyOpenMode::kCreateIfMissing)
      .set_study_value("worker_settings", "made by create-study");
  EXPECT_NE(error_of(parent + "/workers_out", workers_url, "shared").find("created for workers"),
            std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(parent + "/workers_out"));

  // A study another search holds.
  std::filesystem::create_directories(parent + "/held");
  const int lock = open((parent + "/held/study.lock").c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  ASSERT_GE(lock, 0);
  ASSERT_EQ(flock(lock, LOCK_EX | LOCK_NB), 0);
  EXPECT_NE(error_of(parent + "/held", "", "").find("expected no other nascent search"),
            std::string::npos);
  close(lock);

  // A store that does not exist yet is created only once the data has loaded: a missing
  // dataset leaves no store, no lock and no --out directory.
  const std::string new_url = "sqlite://" + parent + "/new.db";
  EXPECT_NE(error_of(parent + "/new/deeper", new_url, "fresh").find("no_dataset_here"),
            std::string::npos);
  EXPECT_NE(error_of(parent + "/new/deeper", "", "").find("no_dataset_here"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(parent + "/new.db"));
  EXPECT_FALSE(std::filesystem::exists(parent + "/new"));
  EXPECT_FALSE(std::filesystem::exists(parent + "/changed/study.lock"));

  // On PostgreSQL, no study is created either.
  if (const char* postgres_url = std::getenv("NASCENT_TEST_POSTGRES_URL")) {
    const std::string study = fmt::format("search_before_data_{}", getpid());
    EXPECT_NE(error_of(parent + "/postgres_out", postgres_url, study).find("no_dataset_here"),
              std::string::npos);
    EXPECT_FALSE(Store::open_if_present(postgres_url, study).has_value());
    EXPECT_FALSE(std::filesystem::exists(parent + "/postgres_out"));
  }
}

// A study directory's name used to follow the config: resumed after `study:` changed, its
// summary.json said the new name while the report, from the stored config, said the old one.
TEST_F(SearchTest, AResumedStudyDirectoryKeepsTheNameItWasCreatedWith) {
  SearchRunOptions options;
  options.output_dir = fresh_directory("kept_name");
  options.skip_final = true;
  options.evaluator_factory = [](const ExperimentConfig&) {
    return std::make_unique<FailingPoolEvaluator>();
  };
  ExperimentConfig config = parse_experiment_config(small_config(data_dir_, 1), "test.yaml");
  EXPECT_EQ(run_search(config, options)["study"], "test");

  config.study = "renamed";
  config.budget.max_trials = 2;
  std::vector<std::string> lines;
  SearchEvents events;
  events.on_info = [&](const std::string& line) { lines.push_back(line); };
  const nlohmann::json summary = run_search(config, options, events);
  EXPECT_EQ(summary["study"], "test");
  EXPECT_EQ(
      summary["trials"]["complete"].get<int64_t>() + summary["trials"]["failed"].get<int64_t>(), 2);
  EXPECT_NE(std::find(lines.begin(), lines.end(),
                      "study: the config names it 'renamed'; it keeps the name 'test' it was "
                      "created with, since a name chooses no data in a study directory"),
            lines.end());
}

// In --storage a name chooses the study. A resume of --out DIR under another name used to start
// another study there (on PostgreSQL, or in another SQLite file), and overwrite DIR's
// summary.json and model.pt with that study's.
TEST_F(SearchTest, AStoredStudyResumedUnderAnotherNameIsRefused) {
  const std::string store_dir = fresh_directory("renamed_storage");
  ExperimentConfig config = parse_experiment_config(small_config(data_dir_, 1), "test.yaml");
  SearchRunOptions options;
  options.output_dir = fresh_directory("renamed_storage_out");
  options.storage_url = "sqlite://" + store_dir + "/first.db";
  options.study_name = "first";
  options.skip_final = true;
  options.evaluator_factory = [](const ExperimentConfig&) {
    return std::make_unique<FailingPoolEvaluator>();
  };
  const nlohmann::json summary = run_search(config, options);
  EXPECT_EQ(summary["study"], "first");
  EXPECT_EQ(summary["storage"]["study"], "first");

  const auto refusal = [&](const std::string& storage_url, const std::string& study) {
    SearchRunOptions renamed = options;
    renamed.storage_url = storage_url;
    renamed.study_name = study;
    try {
      run_search(config, renamed);
    } catch (const Error& error) {
      return std::string(error.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(refusal("sqlite://" + store_dir + "/second.db", "second"),
            "--out " + options.output_dir +
                ": expected study 'first', which its summary.json records, found study 'second' "
                "(from --study); in --storage a name chooses the study, so resume with --study "
                "first, or use another --out");
  EXPECT_FALSE(std::filesystem::exists(store_dir + "/second.db"));
  // The config's name, when no --study is given.
  EXPECT_NE(refusal(options.storage_url, "").find("found study 'test' (from the config's study:)"),
            std::string::npos);
  if (const char* postgres_url = std::getenv("NASCENT_TEST_POSTGRES_URL")) {
    const std::string study = fmt::format("renamed_{}", getpid());
    EXPECT_NE(refusal(postgres_url, study).find("expected study 'first'"), std::string::npos);
    EXPECT_FALSE(Store::open_if_present(postgres_url, study).has_value());
  }
  EXPECT_EQ(nlohmann::json::parse(std::ifstream(options.output_dir + "/summary.json"))["study"],
            "first");
}

TEST_F(SearchTest, AFailedTrialIsRecordedAndTheSearchGoesOn) {
  const ExperimentConfig config = parse_experiment_config(small_config(data_dir_, 8), "test.yaml");
  SearchRunOptions options;
  options.output_dir = fresh_directory("failing");
  options.skip_final = true;
  options.evaluator_factory = [](const ExperimentConfig&) {
    return std::make_unique<FailingPoolEvaluator>();
  };
  const nlohmann::json summary = run_search(config, options);
  EXPECT_GT(summary["trials"]["failed"].get<int64_t>(), 0);
  EXPECT_GT(summary["trials"]["complete"].get<int64_t>(), 0);
  EXPECT_EQ(
      summary["trials"]["failed"].get<int64_t>() + summary["trials"]["complete"].get<int64_t>(), 8);
  for (const auto& trial : finished_trials(options.output_dir)) {
    if (trial.state == TrialState::kFailed) {
      EXPECT_EQ(trial.error, "training diverged: the loss became non-finite at step 3");
    }
  }
}

/// An evaluator that answers from the architecture and the epochs it is asked to train for:
/// wider first layers are better, and a shorter training reaches part of the final accuracy.
class FidelityRecordingEvaluator : public Evaluator {
 public:
  explicit FidelityRecordingEvaluator(std::vector<int64_t>* epochs_seen)
      : epochs_seen_(epochs_seen) {}
  ArchitectureCheck check(const Architecture& architecture) const override {
    return check_macro_architecture(architecture, {1, 12, 12}, 4);
  }
  Evaluation evaluate(const Architecture& architecture, const TrialContext& context) override {
    epochs_seen_->push_back(context.epochs);
    const double epochs = static_cast<double>(context.epochs);
    Evaluation evaluation;
    evaluation.validation_accuracy =
        (architecture.get_int("s1.l1.width") / 100.0 + (architecture.has("s2.l1.op") ? 0.3 : 0.0)) *
        epochs / (epochs + 1.0);
    return evaluation;
  }

 private:
  std::vector<int64_t>* epochs_seen_;
};

TEST_F(SearchTest, HyperbandTrainsEachRungForItsEpochsAndResumesItsBrackets) {
  std::string text = small_config(data_dir_, 13, 9);
  const std::string evolution = "{name: evolution, population: 4, sample: 2}";
  text.replace(text.find(evolution), evolution.size(), "{name: hyperband, min_epochs: 1, eta: 3}");
  const ExperimentConfig config = parse_experiment_config(text, "test.yaml");
  EXPECT_EQ(config.strategy.fidelities, (std::vector<int64_t>{1, 3, 9}));

  std::vector<int64_t> epochs_seen;
  SearchRunOptions options;
  options.output_dir = fresh_directory("hyperband");
  options.skip_final = true;
  options.evaluator_factory = [&](const ExperimentConfig&) {
    return std::make_unique<FidelityRecordingEvaluator>(&epochs_seen);
  };
  std::vector<std::string> descriptions;
  SearchEvents events;
  events.on_trial = [&](const TrialRecord&, const std::string& description) {
    descriptions.push_back(description);
  };
  run_search(config, options, events);

  // The first bracket: 9 architectures for 1 epoch, the best 3 for 3, the best one for 9.
  EXPECT_EQ(epochs_seen, (std::vector<int64_t>{1, 1, 1, 1, 1, 1, 1, 1, 1, 3, 3, 3, 9}));
  // A lower rung is named in the trial's line, in the singular for one epoch.
  ASSERT_EQ(descriptions.size(), 13u);
  EXPECT_TRUE(descriptions[0].ends_with(" (1 epoch)")) << descriptions[0];
  EXPECT_TRUE(descriptions[9].ends_with(" (3 epochs)")) << descriptions[9];
  const auto first_run = finished_trials(options.output_dir);
  ASSERT_EQ(first_run.size(), 13u);
  EXPECT_EQ(first_run[0].result_json, R"({"epochs":1})");
  EXPECT_EQ(first_run[12].result_json, "{}");  // the full fidelity, as in any other study

  // The best trial is the one trained for 9 epochs, although it is compared with nothing else.
  const nlohmann::json status = study_status(options.output_dir);
  EXPECT_EQ(status["best"]["trial_id"].get<int64_t>(), first_run[12].id);

  // Resumed with a larger budget, the next bracket starts at 3 epochs: 5 architectures, then
  // the best one at 9. Nothing is trained twice for the same epochs.
  ExperimentConfig more = config;
  more.budget.max_trials = 19;
  epochs_seen.clear();
  run_search(more, options);
  EXPECT_EQ(epochs_seen, (std::vector<int64_t>{3, 3, 3, 3, 3, 9}));
  std::set<std::pair<std::string, std::string>> trained;
  for (const auto& trial : finished_trials(options.output_dir)) {
    EXPECT_TRUE(trained.emplace(trial.architecture_hash, trial.result_json).second)
        << trial.architecture << " " << trial.result_json;
  }
}

TEST_F(SearchTest, ResumesAfterKillMinus9WithoutLosingOrReusingTrials) {
  // Slower trials (more data, more epochs) so that the kill lands in the middle of one.
  write_quadrant_dataset(data_dir_, 4000, 200);
  const std::string out = fresh_directory("killed");
  const std::string config_path =
      out + "/../nascent_kill_test_config_" + std::to_string(getpid()) + ".yaml";
  write_text(config_path, small_config(data_dir_, 6, 4));

  const pid_t child = start_search_process(config_path, out);
  ASSERT_GT(child, 0);

  // Wait until at least one trial is complete and another is running, then kill -9.
  const bool ready = wait_for_study(out, [](const auto& counts) {
    return counts.at(TrialState::kComplete) >= 1 && counts.at(TrialState::kRunning) == 1;
  });
  // And until the running trial has stored an epoch, so that its time is on the clock.
  const bool epoch_stored = ready && wait_for_study(out, [&out](const auto& counts) {
                              if (counts.at(TrialState::kRunning) != 1) return false;
                              const Store store(out + "/study.db");
                              for (const auto& trial : store.trials()) {
                                if (trial.state == TrialState::kRunning)
                                  return !store.epochs(trial.id).empty();
                              }
                              return false;
                            });
  const bool running_before_kill = study_status(out)["search_running"].get<bool>();
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(ready) << "the search never had a complete and a running trial";
  ASSERT_TRUE(epoch_stored) << "the running trial never stored an epoch";
  EXPECT_TRUE(running_before_kill);

  std::vector<TrialRecord> before;
  {
    const Store store(out + "/study.db");
    before = store.trials();
  }
  const auto running = std::find_if(before.begin(), before.end(), [](const TrialRecord& trial) {
    return trial.state == TrialState::kRunning;
  });
  ASSERT_NE(running, before.end());
  const int64_t max_id_before = before.back().id;
  // Its size was stored when it started, so the cut-off trial shows it.
  EXPECT_GT(running->params, 0);
  EXPECT_GT(running->flops, 0);

  // The search clock includes the cut-off trial's stored epochs (found by a fresh-user test: the
  // clock was saved only when a trial ended, so a killed trial's time was never charged).
  {
    const Store store(out + "/study.db");
    double trained_seconds = 0.0;
    for (const auto& trial : before) {
      for (const auto& epoch : store.epochs(trial.id)) trained_seconds += epoch.seconds;
    }
    EXPECT_GE(std::stod(store.study_value("search_elapsed_s").value()), trained_seconds);
  }

  // Nothing holds the study any more: status says the running trial's process is gone.
  const nlohmann::json study = study_status(out);
  EXPECT_FALSE(study["search_running"].get<bool>());
  EXPECT_EQ(study["trials"]["running"].get<int64_t>(), 0);
  EXPECT_EQ(study["trials"]["abandoned"].get<int64_t>(), 1);
  bool flagged = false;
  for (const auto& trial : study["trial_list"]) {
    if (trial["id"].get<int64_t>() == running->id) flagged = trial["state"] == "abandoned";
  }
  EXPECT_TRUE(flagged) << study["trial_list"].dump();

  // Resume in this process.
  ExperimentConfig config = load_experiment_config(config_path);
  SearchRunOptions options;
  options.output_dir = out;
  options.skip_final = true;
  const nlohmann::json summary = run_search(config, options);

  const Store store(out + "/study.db");
  const auto after = store.trials();
  // Every trial finished before the kill is still there, unchanged.
  for (const auto& old_trial : before) {
    if (old_trial.state != TrialState::kComplete) continue;
    const auto kept = store.trial(old_trial.id);
    ASSERT_TRUE(kept.has_value());
    EXPECT_EQ(kept->validation_accuracy, old_trial.validation_accuracy);
  }
  // The cut-off trial is recorded as interrupted and its architecture ran again under a new id.
  EXPECT_EQ(store.trial(running->id)->state, TrialState::kInterrupted);
  const bool rerun = std::any_of(after.begin(), after.end(), [&](const TrialRecord& trial) {
    return trial.id > max_id_before && trial.architecture_hash == running->architecture_hash &&
           trial.state == TrialState::kComplete;
  });
  EXPECT_TRUE(rerun);
  // The budget counts what was done before the kill.
  EXPECT_EQ(
      summary["trials"]["complete"].get<int64_t>() + summary["trials"]["failed"].get<int64_t>(), 6);
  EXPECT_EQ(summary["trials"]["interrupted"].get<int64_t>(), 1);
  std::set<int64_t> ids;
  for (const auto& trial : after) ids.insert(trial.id);
  EXPECT_EQ(ids.size(), after.size());
  EXPECT_EQ(store.integrity_check(), "ok");
  std::filesystem::remove(config_path);
}

TEST_F(SearchTest, ResumingWithADifferentConfigIsRefused) {
  const std::string out = fresh_directory("mismatch");
  SearchRunOptions options;
  options.output_dir = out;
  options.skip_final = true;
  run_search(parse_experiment_config(small_config(data_dir_, 1), "a.yaml"), options);

  const auto refusal = [&](const std::string& from, const std::string& to) {
    std::string text = small_config(data_dir_, 1);
    text.replace(text.find(from), from.size(), to);
    try {
      run_search(parse_experiment_config(text, "b.yaml"), options);
    } catch (const Error& error) {
      return std::string(error.what());
    }
    return std::string("no error");
  };

  // A line of the space's decisions is shown whole.
  const std::string width = refusal("width: [8, 16]", "width: [8, 32]");
  EXPECT_NE(width.find("now 'space: s1.l1.width one of 8 or 32 if s1.l1.op in conv or sep_conv'"),
            std::string::npos)
      << width;
  // On a line of key=value settings, the setting (found by a fresh-user test: the difference
  // used to be two whole lines of 200 characters).
  const std::string epochs = refusal("train: {epochs: 1,", "train: {epochs: 3,");
  EXPECT_NE(epochs.find("(first difference: in train was 'epochs=1', now 'epochs=3')"),
            std::string::npos)
      << epochs;
  const std::string added =
      refusal("learning_rate: 0.05}", "learning_rate: 0.05, precise_batch_norm: false}");
  EXPECT_NE(added.find("(first difference: in train was nothing, now 'precise_batch_norm=false')"),
            std::string::npos)
      << added;
  EXPECT_EQ(finished_trials(out).size(), 1u);
}

TEST_F(SearchTest, AMissingDatasetNamesTheLinePathAndPackage) {
  std::string text = small_config(data_dir_, 1);
  text.replace(text.find(data_dir_), data_dir_.size(), "/nonexistent/fashion");
  ExperimentConfig config = parse_experiment_config(text, "test.yaml");
  config.data.debian_package = "dataset-fashion-mnist";
  SearchRunOptions options;
  options.output_dir = fresh_directory("missing_data");
  try {
    run_search(config, options);
    FAIL() << "expected an error";
  } catch (const ConfigError& error) {
    const std::string message = error.what();
    EXPECT_EQ(message.rfind("test.yaml:6: data.directory: /nonexistent/fashion", 0), 0u) << message;
    EXPECT_NE(message.find("apt-get install dataset-fashion-mnist"), std::string::npos) << message;
  }
}

TEST_F(SearchTest, ASpaceWithNoValidArchitectureIsRefusedNamingTheDecision) {
  // 12 -> 6 -> 3 -> 1 -> 0: five stages of 2x2 pooling cannot fit a 12x12 image.
  std::string text = small_config(data_dir_, 1);
  text.replace(text.find("stages: {min: 1, max: 2}"), 24, "stages: 5");
  text.replace(text.find("downsample: [max_pool, stride]"), 30, "downsample: [max_pool]");
  const ExperimentConfig config = parse_experiment_config(text, "test.yaml");
  SearchRunOptions options;
  options.output_dir = fresh_directory("no_valid");
  try {
    run_search(config, options);
    FAIL() << "expected an error";
  } catch (const ConfigError& error) {
    const std::string message = error.what();
    EXPECT_EQ(error.key_path(), "space");
    EXPECT_NE(message.find("s4.downsample"), std::string::npos) << message;
    EXPECT_NE(message.find("[1, 12, 12]"), std::string::npos) << message;
  }
}

}  // namespace
}  // namespace nascent

namespace nascent {
namespace {

TEST_F(SearchTest, ASecondSearchOnTheSameStudyIsRefusedWhileTheFirstRuns) {
  // Slow trials so the first process is surely still searching when the second starts.
  write_quadrant_dataset(data_dir_, 4000, 200);
  const std::string out = fresh_directory("locked");
  const std::string config_path =
      out + "/../nascent_lock_test_config_" + std::to_string(getpid()) + ".yaml";
  write_text(config_path, small_config(data_dir_, 4, 4));

  const pid_t child = start_search_process(config_path, out);
  ASSERT_GT(child, 0);

  // Wait for the first trial to start, so the child surely holds the lock.
  const bool running =
      wait_for_study(out, [](const auto& counts) { return counts.at(TrialState::kRunning) == 1; });

  SearchRunOptions options;
  options.output_dir = out;
  options.skip_final = true;
  std::string message;
  try {
    run_search(load_experiment_config(config_path), options);
  } catch (const Error& error) {
    message = error.what();
  }
  kill(child, SIGKILL);
  waitpid(child, nullptr, 0);
  ASSERT_TRUE(running);
  EXPECT_NE(message.find("expected no other nascent search on this study, found one running "
                         "(pid " +
                         std::to_string(child) + ")"),
            std::string::npos)
      << message;

  // The refused process changed nothing: the child's trial is still marked running.
  const Store store(out + "/study.db");
  EXPECT_EQ(store.count_by_state().at(TrialState::kInterrupted), 0);
  std::filesystem::remove(config_path);
}

}  // namespace
}  // namespace nascent

namespace nascent {
namespace {

TEST_F(SearchTest, SigtermRecordsTheRunningTrialAsInterruptedAndExits130) {
  write_quadrant_dataset(data_dir_, 4000, 200);
  const std::string out = fresh_directory("sigterm");
  const std::string config_path =
      out + "/../nascent_sigterm_test_config_" + std::to_string(getpid()) + ".yaml";
  write_text(config_path, small_config(data_dir_, 4, 4));

  const pid_t child = start_search_process(config_path, out);
  ASSERT_GT(child, 0);

  const bool running =
      wait_for_study(out, [](const auto& counts) { return counts.at(TrialState::kRunning) == 1; });
  kill(child, SIGTERM);
  int status = 0;
  waitpid(child, &status, 0);
  ASSERT_TRUE(running);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 130);

  const Store store(out + "/study.db");
  const auto counts = store.count_by_state();
  EXPECT_EQ(counts.at(TrialState::kRunning), 0);
  EXPECT_EQ(counts.at(TrialState::kInterrupted), 1);
  std::filesystem::remove(config_path);
}

}  // namespace
}  // namespace nascent

namespace nascent {
namespace {

TEST_F(SearchTest, NoTrialStartsAfterTheTimeLimitAndResumedTimeCounts) {
  ExperimentConfig config = parse_experiment_config(small_config(data_dir_, 50), "test.yaml");
  config.budget.max_trials = 0;
  config.budget.time_limit_min = 0.2 / 60.0;  // 0.2 s: the first trial alone exceeds it
  SearchRunOptions options;
  options.output_dir = fresh_directory("time_limit");
  options.skip_final = true;

  const nlohmann::json first = run_search(config, options);
  EXPECT_EQ(first["stop_reason"], "time_limit");
  const auto trials = finished_trials(options.output_dir).size();
  EXPECT_GE(trials, 1u);
  EXPECT_GE(first["search_elapsed_s"].get<double>(), 0.2);

  // Resuming: the time already spent counts, so no further trial starts.
  const nlohmann::json second = run_search(config, options);
  EXPECT_EQ(second["stop_reason"], "time_limit");
  EXPECT_EQ(finished_trials(options.output_dir).size(), trials);
}

}  // namespace
}  // namespace nascent

namespace nascent {
namespace {

TEST_F(SearchTest, FinalRetrainingIsNotChargedToTheSearchClockOfAResumedStudy) {
  // Found by a fresh-user test: the stored search time included the final retraining, so a
  // resumed study's time limit was charged for it.
  ExperimentConfig config = parse_experiment_config(small_config(data_dir_, 2), "test.yaml");
  config.final.train.epochs = 30;  // long next to two one-epoch trials
  SearchRunOptions options;
  options.output_dir = fresh_directory("final_not_search");

  const nlohmann::json summary = run_search(config, options);
  const double search_seconds = summary["search_elapsed_s"].get<double>();
  const double final_seconds = summary["final_elapsed_s"].get<double>();
  ASSERT_GT(final_seconds, 0.2);
  const Store store(options.output_dir + "/study.db");
  const double stored_search_seconds = std::stod(store.study_value("search_elapsed_s").value());
  const double stored_study_seconds = std::stod(store.study_value("elapsed_s").value());
  EXPECT_NEAR(stored_search_seconds, search_seconds, 0.05);
  EXPECT_GE(stored_study_seconds, search_seconds + final_seconds);
}

TEST_F(SearchTest, ResultsWithoutTheirStoreAreNeitherOverwrittenNorReadAsAStudy) {
  // Found by a fresh-user test: with study.db emptied or deleted, a search started a new study
  // and overwrote model.pt and summary.json, and status wrote a schema into the empty file.
  ExperimentConfig config = parse_experiment_config(small_config(data_dir_, 1), "test.yaml");
  config.final.train.epochs = 1;
  SearchRunOptions options;
  options.output_dir = fresh_directory("results_without_store");
  run_search(config, options);
  const std::string db = options.output_dir + "/study.db";
  const auto model_before = std::filesystem::last_write_time(options.output_dir + "/model.pt");
  const auto expect_error = [](const std::function<void()>& run, const std::string& expected) {
    try {
      run();
      ADD_FAILURE() << "no error; expected one containing: " << expected;
    } catch (const Error& error) {
      EXPECT_NE(std::string(error.what()).find(expected), std::string::npos) << error.what();
    }
  };

  std::filesystem::resize_file(db, 0);
  expect_error([&] { run_search(config, options); },
               "expected study.db beside summary.json (the store of the study that wrote it), "
               "found an empty file");
  expect_error([&] { study_status(options.output_dir); },
               "expected a study's SQLite database, found an empty file");
  EXPECT_EQ(std::filesystem::file_size(db), 0u);

  std::filesystem::remove(db);
  expect_error([&] { run_search(config, options); }, "found none; nascent will not start");
  EXPECT_EQ(std::filesystem::last_write_time(options.output_dir + "/model.pt"), model_before);
}

TEST_F(SearchTest, TheNasbench201SpaceTrainsForRealThroughTheWholePipeline) {
  const std::string text = fmt::format(R"(study: cells
seed: 1
threads: 1
data: {{dataset: idx, directory: {}, validation_size: 200}}
space: {{family: nasbench201, cells_per_stage: 1, channels: 4}}
strategy: {{name: bo}}
budget: {{max_trials: 3}}
train: {{epochs: 1, batch_size: 32, learning_rate: 0.05}}
final: {{epochs: 2}}
)",
                                       data_dir_);
  const ExperimentConfig config = parse_experiment_config(text, "cells.yaml");
  SearchRunOptions options;
  options.output_dir = fresh_directory("nasbench201");
  const nlohmann::json summary = run_search(config, options);

  EXPECT_EQ(summary["trials"]["complete"].get<int64_t>(), 3);
  EXPECT_EQ(summary["space"]["family"], "nasbench201");
  const std::string arch = summary["best"]["arch"].get<std::string>();
  EXPECT_EQ(arch.front(), '|') << arch;  // the benchmark's own cell string
  EXPECT_EQ(finished_trials(options.output_dir).front().architecture.front(), '|');

  const nlohmann::json reloaded = evaluate_study(options.output_dir);
  EXPECT_EQ(reloaded["test_accuracy"].get<double>(),
            summary["best"]["test_accuracy"].get<double>());
}

// Found by a fresh-user test: an architecture whose activations exhausted memory got the
// process killed by the OOM killer, and every resume trained it again and was killed again.
TEST_F(SearchTest, AnArchitectureThatKilledTheProcessTwiceIsRecordedFailedNotTrainedAgain) {
  const ExperimentConfig config = parse_experiment_config(small_config(data_dir_, 1), "t.yaml");
  SearchRunOptions options;
  options.output_dir = fresh_directory("process_deaths");
  options.skip_final = true;
  run_search(config, options);

  // Two runs that died while training the same architecture leave two RUNNING trials, which
  // the next run records as interrupted by a dead process.
  Rng rng(5);
  Architecture deadly = config.space.sample(rng);
  while (deadly.hash_hex() == finished_trials(options.output_dir).front().architecture_hash) {
    deadly = config.space.sample(rng);
  }
  {
    Store store(options.output_dir + "/study.db");
    for (int death = 0; death < 2; ++death) {
      store.begin_trial(config.space.format(deadly), deadly.hash_hex(), 1.0, "", 100, 100);
      if (death == 0) store.interrupt_running_trials(2.0);
    }
  }

  ExperimentConfig more = config;
  more.budget.max_trials = 2;
  run_search(more, options);
  const std::vector<TrialRecord> finished = finished_trials(options.output_dir);
  ASSERT_EQ(finished.size(), 2u);
  EXPECT_EQ(finished[1].architecture_hash, deadly.hash_hex());
  EXPECT_EQ(finished[1].state, TrialState::kFailed);
  EXPECT_EQ(finished[1].error,
            "not trained again: the process training it died 2 times (out of memory? the system "
            "log says; the kernel's OOM killer leaves no other trace)");
  EXPECT_EQ(finished[1].train_seconds, 0.0);
}

TEST_F(SearchTest, DartsTrainsASupernetResumesItAndTrainsItsTopCellsAsTrials) {
  const std::string text = fmt::format(R"(study: darts
seed: 1
threads: 1
data: {{dataset: idx, directory: {}, validation_size: 200}}
space: {{family: nasbench201, cells_per_stage: 1, channels: 4}}
strategy: {{name: darts, supernet_epochs: 2}}
budget: {{max_trials: 2}}
train: {{epochs: 1, batch_size: 32, learning_rate: 0.05}}
final: {{epochs: 1}}
)",
                                       data_dir_);
  const ExperimentConfig config = parse_experiment_config(text, "darts.yaml");
  SearchRunOptions options;
  options.output_dir = fresh_directory("darts");
  const std::string checkpoint = options.output_dir + "/supernet.pt";

  // Stopped (as by Ctrl-C) once the first supernet epoch is saved.
  std::vector<std::string> lines;
  SearchEvents events;
  events.on_info = [&](const std::string& line) {
    lines.push_back(line);
    if (line.rfind("supernet epoch", 0) == 0) request_stop();
  };
  const std::string stopped =
      testing_support::error_message([&] { run_search(config, options, events); });
  clear_stop_request();
  EXPECT_EQ(stopped, fmt::format("interrupted in supernet epoch 2 of 2; run the same command to "
                                 "resume {} from its last supernet epoch",
                                 options.output_dir));
  EXPECT_TRUE(std::filesystem::exists(checkpoint));
  EXPECT_TRUE(finished_trials(options.output_dir).empty());
  EXPECT_EQ(study_status(options.output_dir)["supernet"],
            nlohmann::json({{"epochs", 2}, {"epochs_done", 1}, {"trained", false}}));

  // The same command again: the second epoch only, then the two most probable cells as trials.
  lines.clear();
  events.on_info = [&](const std::string& line) { lines.push_back(line); };
  const nlohmann::json summary = run_search(config, options, events);
  const auto count_lines = [&](const std::string& start) {
    return std::count_if(lines.begin(), lines.end(),
                         [&](const std::string& line) { return line.rfind(start, 0) == 0; });
  };
  EXPECT_EQ(count_lines("supernet epoch   1/2"), 0);
  EXPECT_EQ(count_lines("supernet epoch   2/2"), 1);
  EXPECT_FALSE(std::filesystem::exists(checkpoint));
  EXPECT_EQ(summary["trials"]["complete"].get<int64_t>(), 2);
  EXPECT_EQ(study_status(options.output_dir)["supernet"]["trained"], true);

  const Store store(options.output_dir + "/study.db");
  const auto stored = store.study_value("darts_probabilities");
  ASSERT_TRUE(stored);
  WeightRanking ranking(config.space, nlohmann::json::parse(*stored).get<DecisionProbabilities>(),
                        "darts");
  const std::vector<TrialRecord> trials = finished_trials(options.output_dir);
  ASSERT_EQ(trials.size(), 2u);
  EXPECT_EQ(trials[0].architecture, config.space.format(*ranking.ask()));
  EXPECT_EQ(trials[1].architecture, config.space.format(*ranking.ask()));
  EXPECT_TRUE(summary["best"].contains("test_accuracy"));

  // A larger budget resumes from the stored weights: no supernet training, the third cell next.
  ExperimentConfig more = config;
  more.budget.max_trials = 3;
  lines.clear();
  run_search(more, options, events);
  EXPECT_EQ(count_lines("supernet trained by an earlier run"), 1);
  EXPECT_EQ(count_lines("supernet epoch"), 0);
  const std::vector<TrialRecord> after = finished_trials(options.output_dir);
  ASSERT_EQ(after.size(), 3u);
  EXPECT_EQ(after[2].architecture, config.space.format(*ranking.ask()));
}

}  // namespace
}  // namespace nascent

namespace nascent {
namespace {

std::string read_bytes(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
}

// Found by a fresh-user test: export and report with --output naming the study's own files
// exited 0 having replaced the final model, the store or the summary with their output; and an
// existing directory as --output failed with the filesystem's words, leaving DIR.partial.
TEST_F(SearchTest, ExportAndReportRefuseToWriteOverTheStudy) {
  const std::string out = fresh_directory("export_over_study");
  const ExperimentConfig config = parse_experiment_config(small_config(data_dir_, 1), "test.yaml");
  SearchRunOptions options;
  options.output_dir = out;
  const nlohmann::json summary = run_search(config, options);
  ASSERT_TRUE(summary["best"].is_object());
  const int64_t best_id = summary["best"]["trial_id"].get<int64_t>();
  std::map<std::string, std::string> study_bytes;
  for (const char* name : {"model.pt", "study.db", "summary.json"}) {
    study_bytes[name] = read_bytes(out + "/" + name);
  }

  const std::string name = std::filesystem::path(out).filename().string();
  const std::vector<std::tuple<std::string, std::string, std::string>> cases = {
      {fmt::format("export {} --trial {} --format onnx --output {}/model.pt", out, best_id, out),
       out + "/model.pt", out + "/model.pt"},
      {fmt::format("export {} --trial {} --format torch --output {}/study.db", out, best_id, out),
       out + "/study.db", out + "/study.db"},
      {fmt::format("export {} --trial {} --output {}/../{}/summary.json", out, best_id, out, name),
       fmt::format("{}/../{}/summary.json", out, name), out + "/summary.json"},
      {fmt::format("report {} --output {}/study.db", out, out), out + "/study.db",
       out + "/study.db"}};
  for (const auto& [arguments, output, study_file] : cases) {
    int status = 0;
    const std::string errors = nascent_errors(arguments, status);
    EXPECT_EQ(status, 1) << arguments;
    EXPECT_EQ(errors, fmt::format("nascent: error: --output {}: expected a file outside the "
                                  "study, found the study's own {}, which writing would destroy; "
                                  "choose another file\n",
                                  output, study_file))
        << arguments;
  }
  for (const auto& [file, bytes] : study_bytes) {
    EXPECT_EQ(read_bytes(out + "/" + file), bytes) << file;
  }

  const std::string directory = fresh_directory("export_output_directory");
  for (const std::string& arguments :
       {fmt::format("export {} --trial {} --output {}", out, best_id, directory),
        fmt::format("report {} --output {}", out, directory)}) {
    int status = 0;
    const std::string errors = nascent_errors(arguments, status);
    EXPECT_EQ(status, 1) << arguments;
    EXPECT_EQ(errors, fmt::format("nascent: error: --output {}: expected a file to write, found "
                                  "a directory\n",
                                  directory))
        << arguments;
    EXPECT_FALSE(std::filesystem::exists(directory + ".partial")) << arguments;
  }
}

// Found by a fresh-user test: an experiment file named in Latin-1 trained every trial and the
// final model, then failed writing summary.json, and every rerun failed the same way.
TEST_F(SearchTest, AnExperimentFileNameThatIsNotUtf8IsRefusedBeforeAnythingTrains) {
  const ExperimentConfig config =
      parse_experiment_config(small_config(data_dir_, 1), "caf\xe9.yaml");
  SearchRunOptions options;
  options.output_dir = fresh_directory("latin1_config") + "/study";
  EXPECT_EQ(testing_support::error_message([&] { run_search(config, options); }),
            "caf\\xE9.yaml: expected an experiment file name in UTF-8 (the study records it in "
            "JSON), found byte 4 (0xE9), which is not UTF-8");
  EXPECT_FALSE(std::filesystem::exists(options.output_dir));
}

// Found by a fresh-user test: JSON of a path that is not UTF-8 failed with the JSON library's
// "incomplete UTF-8 string"; the commands' JSON replaces such bytes instead.
TEST(StudyStatus, JsonOfADirectoryNamedInLatin1IsWritten) {
  const std::string directory = fresh_directory("status_latin1") + "/caf\xe9";
  std::filesystem::create_directories(directory);
  { const Store store(directory + "/study.db"); }
  int status = 0;
  const std::string errors = nascent_errors("status --json '" + directory + "'", status);
  EXPECT_EQ(status, 0) << errors;
  EXPECT_CONTAINS(nascent_output("status --json '" + directory + "'"), "caf\xef\xbf\xbd");
}

// Found by a fresh-user test: a test label of a class the training labels lack was reported as a
// problem of the training labels.
TEST_F(SearchTest, ATestLabelWithoutTrainingExamplesNamesTheTestLabels) {
  std::vector<uint8_t> labels(200);
  for (size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<uint8_t>(i % 4);
  labels[7] = 4;
  testing_support::write_idx_gz(data_dir_ + "/t10k-labels-idx1-ubyte.gz", {200}, labels);
  const ExperimentConfig config = parse_experiment_config(small_config(data_dir_, 1), "t.yaml");
  SearchRunOptions options;
  options.output_dir = fresh_directory("test_label");
  try {
    run_search(config, options);
    FAIL() << "expected an error";
  } catch (const DataError& error) {
    EXPECT_EQ(std::string(error.what()),
              data_dir_ +
                  ": expected test labels (t10k-labels-idx1-ubyte) of classes with training "
                  "examples, found test label 4, whose class has no training example (the "
                  "largest training label is 3)");
  }
}

TEST_F(SearchTest, AStrayLabelIsRefusedInsteadOfAddingClasses) {
  // Labels 0..3 plus one 9: classes 4..8 would have no example.
  std::vector<uint8_t> labels(100);
  for (size_t i = 0; i < labels.size(); ++i) labels[i] = static_cast<uint8_t>(i % 4);
  labels[5] = 9;
  testing_support::write_idx_gz(data_dir_ + "/train-labels-idx1-ubyte.gz", {100}, labels);
  testing_support::write_idx_gz(data_dir_ + "/train-images-idx3-ubyte.gz", {100, 12, 12},
                                std::vector<uint8_t>(100 * 144, 7));
  const ExperimentConfig config = parse_experiment_config(small_config(data_dir_, 1), "t.yaml");
  SearchRunOptions options;
  options.output_dir = fresh_directory("stray_label");
  try {
    run_search(config, options);
    FAIL() << "expected an error";
  } catch (const DataError& error) {
    EXPECT_NE(std::string(error.what()).find("found no example of class 4"), std::string::npos)
        << error.what();
  }
}

TEST_F(SearchTest, ASearchSubsetLargerThanTheDataIsRefused) {
  ExperimentConfig config = parse_experiment_config(small_config(data_dir_, 1), "t.yaml");
  config.data.search_train_size = 5000;
  SearchRunOptions options;
  options.output_dir = fresh_directory("subset_too_large");
  try {
    run_search(config, options);
    FAIL() << "expected an error";
  } catch (const ConfigError& error) {
    EXPECT_EQ(error.key_path(), "data.search_train_size");
    // The file has no search_train_size: the error points at its data section.
    EXPECT_EQ(error.line(), 4);
    EXPECT_NE(std::string(error.what()).find("expected at most the 600 training examples"),
              std::string::npos)
        << error.what();
  }
}

}  // namespace
}  // namespace nascent
