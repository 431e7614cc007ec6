// The nascent command line: parses arguments, calls the library, prints. Nothing else.

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>

#include "nascent/core/allocator.h"
#include "nascent/core/error.h"
#include "nascent/core/interrupt.h"
#include "nascent/core/text.h"
#include "nascent/experiment/config.h"
#include "nascent/experiment/experiment.h"
#include "nascent/experiment/proxy_study.h"
#include "nascent/experiment/study_pareto.h"
#include "nascent/experiment/tabular_benchmark.h"
#include "nascent/experiment/worker.h"
#include "nascent/export/model_export.h"
#include "nascent/report/html_report.h"
#include "nascent/store/store.h"
#include "nascent/store/study_files.h"
#include "nascent/strategy/lstm_controller.h"
#include "nascent/train/runtime.h"

namespace {

/// An in-place progress bar on stderr, drawn only when stderr is a terminal.
class ProgressBar {
 public:
  ProgressBar() : enabled_(isatty(STDERR_FILENO) == 1) {}

  void update(int64_t step, int64_t total) {
    if (!enabled_ || total <= 0) return;
    const int64_t width = 30;
    const int64_t filled = step * width / total;
    if (filled == last_filled_ && step != total) return;
    last_filled_ = filled;
    std::fprintf(stderr, "\r  [%s%s] %3lld%%", std::string(filled, '#').c_str(),
                 std::string(width - filled, '.').c_str(),
                 static_cast<long long>(step * 100 / total));
    if (step == total) clear();
    std::fflush(stderr);
  }

  void clear() {
    if (!enabled_) return;
    std::fprintf(stderr, "\r%s\r", std::string(50, ' ').c_str());
    last_filled_ = -1;
  }

 private:
  bool enabled_;
  int64_t last_filled_ = -1;
};

std::string format_count(int64_t value) {
  std::string digits = std::to_string(value);
  for (int64_t i = static_cast<int64_t>(digits.size()) - 3; i > 0; i -= 3) {
    digits.insert(static_cast<size_t>(i), ",");
  }
  return digits;
}

/// "40 trials, 15 minutes", "40 trials, no time limit" or "no trial limit, 15 minutes".
std::string describe_budget(int64_t max_trials, double time_limit_min) {
  const std::string trials = max_trials > 0
                                 ? fmt::format("{} trial{}", max_trials, max_trials == 1 ? "" : "s")
                                 : std::string("no trial limit");
  const std::string minutes = time_limit_min > 0 ? fmt::format("{} minute{}", time_limit_min,
                                                               time_limit_min == 1.0 ? "" : "s")
                                                 : std::string("no time limit");
  return trials + ", " + minutes;
}

/// A numeric option's check, run on its text before CLI11 converts it, so that a bad value gets
/// one line saying what was expected and what was found ("--seed: expected an integer >= 0,
/// found 'abc'") instead of CLI11's wording. `expected` names the accepted values, here and in
/// --help; `accepts` tests a parsed value. The text is read strictly (decimal, finite, nothing
/// around it) and handed on in canonical form: CLI11 itself would read "010" as octal 8 and "-1"
/// as 2^64 - 1 for an unsigned option. Attach it with transform(), which keeps that rewrite.
template <typename T>
CLI::Validator expect_value(const std::string& expected, std::function<bool(T)> accepts) {
  return CLI::Validator(
      [expected, accepts](std::string& text) {
        T value{};
        const char* end = text.data() + text.size();
        const auto [stop, error] = std::from_chars(text.data(), end, value);
        bool parsed = error == std::errc() && stop == end;
        if constexpr (std::is_floating_point_v<T>) parsed = parsed && std::isfinite(value);
        if (!parsed || !accepts(value)) {
          return fmt::format("expected {}, found '{}'", expected, text);
        }
        text = fmt::format("{}", value);
        return std::string();
      },
      expected);
}

CLI::Validator integer_at_least(int64_t minimum) {
  return expect_value<int64_t>(fmt::format("an integer >= {}", minimum),
                               [minimum](int64_t value) { return value >= minimum; });
}

CLI::Validator integer_in(int64_t low, int64_t high) {
  return expect_value<int64_t>(
      fmt::format("an integer in [{}, {}]", low, high),
      [low, high](int64_t value) { return value >= low && value <= high; });
}

/// `noun` says what the number counts: "a number", "a number of seconds".
CLI::Validator number_at_least(double minimum, const std::string& noun) {
  return expect_value<double>(fmt::format("{} >= {}", noun, minimum),
                              [minimum](double value) { return value >= minimum; });
}

CLI::Validator number_above(double minimum, const std::string& noun) {
  return expect_value<double>(fmt::format("{} > {}", noun, minimum),
                              [minimum](double value) { return value > minimum; });
}

/// JSON as the commands print and write it, indented. Bytes that are not UTF-8 (in a path,
/// say) become U+FFFD rather than an exception that would lose the output.
std::string json_text(const nlohmann::json& value) {
  return value.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string format_accuracy(const nlohmann::json& value) {
  return value.is_number() ? fmt::format("{:.2f}%", value.get<double>() * 100.0) : "-";
}

/// Where a reading command (status, pareto, report) finds its study: a study directory, or
/// --storage and --study together.
struct StudySource {
  std::string directory;
  std::string storage_url;
  std::string study;

  /// Refuses any other combination, naming `command`.
  void validate(const std::string& command) const {
    if (!storage_url.empty() || !study.empty()) {
      if (storage_url.empty()) {
        throw nascent::Error(fmt::format(
            "{}: expected --storage with --study (the store that holds the study), found "
            "--study alone",
            command));
      }
      if (study.empty()) {
        throw nascent::Error(fmt::format(
            "{}: expected --study with --storage (the study's name in that store), found "
            "--storage alone",
            command));
      }
      if (!directory.empty()) {
        throw nascent::Error(fmt::format(
            "{}: expected a study directory, or --storage and --study, found both", command));
      }
      return;
    }
    if (directory.empty()) {
      throw nascent::Error(fmt::format(
          "{}: expected a study directory, or --storage and --study, found neither", command));
    }
  }

  bool in_storage() const { return !storage_url.empty(); }

  /// The study as the commands print it: "DIR" or "NAME in STORE".
  std::string describe(const nascent::Store& store) const {
    return in_storage() ? fmt::format("{} in {}", study, store.path()) : directory;
  }
};

/// Adds the dir argument and the --storage and --study options of a reading command.
void add_study_source_options(CLI::App* command, StudySource& source) {
  command->add_option("dir", source.directory, "Study directory (or --storage and --study)");
  command->add_option("--storage", source.storage_url,
                      "Store of a study run by workers or by search --storage: "
                      "sqlite:///path/study.db or postgresql://user@host:port/database");
  command->add_option("--study", source.study, "Study name in --storage");
}

/// The store of an existing study; nothing is created.
nascent::Store open_study_source(const StudySource& source) {
  return source.in_storage() ? nascent::Store::open(source.storage_url, source.study,
                                                    nascent::StudyOpenMode::kExisting)
                             : nascent::Store::open_study_directory(source.directory);
}

int run_search_command(const std::string& config_path, const std::string& output_dir,
                       const std::optional<int64_t>& max_trials,
                       const std::optional<double>& time_limit_min,
                       const std::optional<int64_t>& final_epochs,
                       const std::optional<int64_t>& seed, const std::string& storage_url,
                       const std::string& study_name) {
  nascent::ExperimentConfig config = nascent::load_experiment_config(config_path);
  if (max_trials) config.budget.max_trials = *max_trials;
  if (time_limit_min) config.budget.time_limit_min = *time_limit_min;
  if (final_epochs) config.final.train.epochs = *final_epochs;
  if (seed) config.seed = static_cast<uint64_t>(*seed);
  if (config.budget.max_trials <= 0 && config.budget.time_limit_min <= 0) {
    throw nascent::Error(
        "budget: expected --max-trials or --time-limit-min above 0, found no "
        "limit");
  }
  config.final.train.validate();
  nascent::set_torch_threads(config.threads);

  // With --storage, --study names the study; a study directory keeps the name it was created
  // with, and the search says so when the config now names it otherwise.
  spdlog::info("study '{}' in {}: strategy {}, budget {}, seed {}",
               study_name.empty() ? config.study : study_name, output_dir, config.strategy.name,
               describe_budget(config.budget.max_trials, config.budget.time_limit_min),
               config.seed);

  ProgressBar progress;
  nascent::SearchEvents events;
  events.on_info = [&](const std::string& line) {
    progress.clear();
    spdlog::info("{}", line);
  };
  events.on_step = [&](int64_t step, int64_t total) { progress.update(step, total); };
  // With a proxy as the evaluator, a trial's objective is the proxy's score, not an accuracy.
  const bool proxy_scores = config.proxy.use == "evaluator";
  events.on_trial = [&](const nascent::TrialRecord& trial, const std::string& description) {
    progress.clear();
    std::string objective = "-";
    if (!std::isnan(trial.validation_accuracy)) {
      objective = proxy_scores ? fmt::format("{:.4g}", trial.validation_accuracy)
                               : fmt::format("{:.2f}%", trial.validation_accuracy * 100);
    }
    spdlog::info("trial {:>3} {:<8} {} {:>7} params {:>9} {:>6.1f}s  {}", trial.id,
                 nascent::to_string(trial.state), proxy_scores ? config.proxy.name : "val",
                 objective, format_count(trial.params), trial.train_seconds, description);
    if (!trial.error.empty()) spdlog::warn("trial {}: {}", trial.id, trial.error);
  };
  events.on_final_epoch = [&](const nascent::EpochMetrics& epoch) {
    progress.clear();
    spdlog::info("final epoch {:>2}: loss {:.4f}, train accuracy {:.2f}%, {:.1f}s", epoch.epoch,
                 epoch.train_loss, epoch.train_accuracy * 100, epoch.seconds);
  };

  nascent::SearchRunOptions options;
  options.output_dir = output_dir;
  options.storage_url = storage_url;
  options.study_name = study_name;
  const nlohmann::json summary = nascent::run_search(config, options, events);

  const auto& trials = summary["trials"];
  std::cout << fmt::format(
      "\nsearch finished ({}): {} complete, {} failed, {} invalid, {} pruned, {} interrupted; "
      "budget {}; search {:.0f}s, final {:.0f}s, total {:.0f}s\n",
      summary["stop_reason"].get<std::string>(), trials["complete"].get<int64_t>(),
      trials["failed"].get<int64_t>(), trials["invalid"].get<int64_t>(),
      trials["pruned"].get<int64_t>(), trials["interrupted"].get<int64_t>(),
      describe_budget(summary["budget"]["max_trials"].get<int64_t>(),
                      summary["budget"]["time_limit_min"].get<double>()),
      summary["search_elapsed_s"].get<double>(), summary["final_elapsed_s"].get<double>(),
      summary["elapsed_s"].get<double>());
  if (summary["best"].is_null()) {
    std::cout << summary["message"].get<std::string>() << "\n";
    return 0;
  }
  const auto& best = summary["best"];
  std::cout << fmt::format("best: trial {}  {}\n", best["trial_id"].get<int64_t>(),
                           best["short"].get<std::string>());
  std::cout << fmt::format("  arch            {}\n", best["arch"].get<std::string>());
  if (proxy_scores) {
    std::cout << fmt::format(
        "  {:<15} {:.4g} (the search's objective; candidates were not trained)\n",
        config.proxy.name, best["val_accuracy"].get<double>());
  } else {
    std::cout << fmt::format("  val accuracy    {}\n", format_accuracy(best["val_accuracy"]));
  }
  std::cout << fmt::format("  test accuracy   {}\n",
                           format_accuracy(best.value("test_accuracy", nlohmann::json())));
  std::cout << fmt::format("  params          {}\n", format_count(best["params"].get<int64_t>()));
  std::cout << fmt::format("  flops (MACs)    {}\n", format_count(best["flops"].get<int64_t>()));
  if (best.contains("latency_ms")) {
    std::cout << fmt::format("  latency         {:.3f} ms (batch 1, median)\n",
                             best["latency_ms"].get<double>());
  }
  std::cout << fmt::format("  summary         {}/summary.json, model {}/model.pt\n", output_dir,
                           output_dir);
  return 0;
}

/// Prints the status of a search's study; `study` names it as the user gave it.
void print_search_status(const nlohmann::json& status, const std::string& study) {
  const auto& trials = status["trials"];
  std::string running = "whether a search is running is unknown here";
  if (status["search_running"].is_boolean()) {
    running = status["search_running"].get<bool>() ? "a search is running" : "no search running";
  }
  std::cout << fmt::format("study {} ({})\n", study, running);
  // Without a search holding the study, a trial left RUNNING was cut off by a crash or a kill.
  std::cout << fmt::format(
      "  trials: {} complete, {} failed, {} invalid, {} pruned, {} interrupted, {} running{}\n",
      trials["complete"].get<int64_t>(), trials["failed"].get<int64_t>(),
      trials["invalid"].get<int64_t>(), trials["pruned"].get<int64_t>(),
      trials["interrupted"].get<int64_t>(), trials["running"].get<int64_t>(),
      trials.contains("abandoned")
          ? fmt::format(", {} abandoned", trials["abandoned"].get<int64_t>())
          : std::string());
  if (status.contains("supernet")) {
    const auto& supernet = status["supernet"];
    std::cout << fmt::format("  supernet: {} of {}{}\n", supernet["epochs_done"].get<int64_t>(),
                             nascent::count_of(supernet["epochs"].get<int64_t>(), "epoch"),
                             supernet["trained"].get<bool>() ? ", trained" : "");
  }
  // Name the trials in progress, or cut off by a search that was killed.
  for (const auto& trial : status["trial_list"]) {
    const std::string state = trial["state"].get<std::string>();
    if (state != "running" && state != "abandoned") continue;
    std::cout << fmt::format("  {}: trial {}, params {}{}\n", state, trial["id"].get<int64_t>(),
                             format_count(trial["params"].get<int64_t>()),
                             state == "abandoned"
                                 ? " (its search stopped; resuming records it as interrupted and "
                                   "trains it again)"
                                 : "");
  }
  std::cout << fmt::format(
      "  budget: {}; search elapsed {:.0f}s; stop: {}\n",
      describe_budget(status["max_trials"].get<int64_t>(), status["time_limit_min"].get<double>()),
      status["search_elapsed_s"].get<double>(),
      status["stop_reason"].get<std::string>().empty() ? std::string("not finished")
                                                       : status["stop_reason"].get<std::string>());
  if (!status["best"].is_null()) {
    const auto& best = status["best"];
    std::cout << fmt::format("  best: trial {} val {} params {}\n        {}\n",
                             best["trial_id"].get<int64_t>(), format_accuracy(best["val_accuracy"]),
                             format_count(best["params"].get<int64_t>()),
                             best["arch"].get<std::string>());
  }
  std::cout << fmt::format("  final model: {}\n", status["final_model_state"].get<std::string>());
}

int run_status_command(const std::string& output_dir, bool as_json) {
  const nlohmann::json status = nascent::study_status(output_dir);
  if (as_json) {
    std::cout << json_text(status) << "\n";
    return 0;
  }
  print_search_status(status, output_dir);
  return 0;
}

int run_shared_status_command(const std::string& storage_url, const std::string& study,
                              bool as_json) {
  const nlohmann::json status = nascent::shared_study_status(storage_url, study);
  if (as_json) {
    std::cout << json_text(status) << "\n";
    return 0;
  }
  if (status["kind"] == "search") {
    // A search older than the recorded directory leaves it empty.
    const std::string directory = status["directory"].get<std::string>();
    std::string name = fmt::format("{} in {}", study, status["storage"].get<std::string>());
    if (!directory.empty()) name += ", searched with --out " + directory;
    print_search_status(status, name);
    return 0;
  }
  const auto& trials = status["trials"];
  std::cout << fmt::format("study {} in {}\n", study, status["storage"].get<std::string>());
  std::cout << fmt::format(
      "  trials: {} complete, {} failed, {} invalid, {} pruned, {} interrupted, {} running, {} "
      "queued\n",
      trials["complete"].get<int64_t>(), trials["failed"].get<int64_t>(),
      trials["invalid"].get<int64_t>(), trials["pruned"].get<int64_t>(),
      trials["interrupted"].get<int64_t>(), trials["running"].get<int64_t>(),
      trials["queued"].get<int64_t>());
  std::cout << fmt::format(
      "  budget: {}; {:.0f}s since the first worker joined\n",
      describe_budget(status["max_trials"].get<int64_t>(), status["time_limit_min"].get<double>()),
      status["elapsed_s"].get<double>());
  if (!status["best"].is_null()) {
    const auto& best = status["best"];
    std::cout << fmt::format("  best: trial {} val {} params {} (worker {})\n        {}\n",
                             best["trial_id"].get<int64_t>(), format_accuracy(best["val_accuracy"]),
                             format_count(best["params"].get<int64_t>()),
                             best["worker"].get<std::string>(), best["arch"].get<std::string>());
  }
  for (const auto& trial : status["running"]) {
    std::cout << fmt::format(
        "  running: trial {} on {} (attempt {}, last heartbeat {})\n", trial["id"].get<int64_t>(),
        trial["worker"].get<std::string>(), trial["attempt"].get<int64_t>(),
        trial["heartbeat_age_s"].is_number()
            ? fmt::format("{:.1f}s ago", trial["heartbeat_age_s"].get<double>())
            : std::string("never"));
  }
  return 0;
}

int run_evaluate_command(const std::string& output_dir, int64_t threads) {
  nascent::set_torch_threads(threads);
  const nlohmann::json result = nascent::evaluate_study(output_dir);
  std::cout << fmt::format("test accuracy {} on {} images (summary.json: {}){}\n",
                           format_accuracy(result["test_accuracy"]),
                           result["test_size"].get<int64_t>(),
                           format_accuracy(result["summary_test_accuracy"]),
                           result["matches"].get<bool>() ? ", identical" : ", DIFFERENT");
  return result["matches"].get<bool>() ? 0 : 3;
}

/// Writes `text` to `path`; `what` names the option in the error.
void write_file(const std::string& path, const std::string& text, const std::string& what) {
  std::ofstream file(path);
  file << text;
  if (!file)
    throw nascent::Error(fmt::format("{}: expected a writable file, found '{}'", what, path));
}

/// Refuses an output file that cannot be written (`option` names the flag) before a long run
/// rather than after it. An empty path is no output. Leaves no file behind.
void check_writable_output(const std::string& path, const char* option) {
  if (path.empty()) return;
  const bool existed = std::filesystem::exists(path);
  if (!std::ofstream(path, std::ios::app)) {
    throw nascent::Error(
        fmt::format("{}: expected a writable file, found '{}' cannot be opened", option, path));
  }
  if (!existed) std::filesystem::remove(path);
}

int run_bench_nasbench201_command(const std::string& table_path,
                                  nascent::TabularBenchmarkOptions options,
                                  const std::string& json_path, const std::string& curve_csv_path) {
  options.validate();
  check_writable_output(json_path, "--json");
  check_writable_output(curve_csv_path, "--curve-csv");
  const nascent::Nasbench201Table table = nascent::Nasbench201Table::load(table_path);
  double cheapest_s = std::numeric_limits<double>::infinity();
  for (const auto& record : table.records()) {
    cheapest_s = std::min(cheapest_s, record.train_cost_12_s);
  }
  if (options.budget_s < cheapest_s) {
    throw nascent::Error(fmt::format(
        "--budget-s: expected at least the cheapest architecture's train_cost_12_s in {} ({} s), "
        "found {} s: no run could query anything",
        table_path, cheapest_s, options.budget_s));
  }
  spdlog::info("{}: {} architectures; {} per strategy, budget {} s, seed {}", table_path,
               table.size(), nascent::count_of(options.runs, "run"), options.budget_s,
               options.seed);

  ProgressBar progress;
  options.on_progress = [&](int64_t done, int64_t total) {
    if (nascent::stop_requested()) {
      throw nascent::Error(
          fmt::format("bench: stopped by a signal after {} of {} runs", done, total));
    }
    progress.update(done, total);
  };
  const auto start = std::chrono::steady_clock::now();
  const nascent::TabularBenchmarkResult result = nascent::run_tabular_benchmark(table, options);
  const double wall_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  progress.clear();

  size_t label_width = 20;
  for (const auto& strategy : result.strategies) {
    label_width = std::max(label_width, strategy.label.size());
  }
  std::cout << fmt::format("{:<{}} {:>22} {:>9} {:>8}\n", "strategy", label_width,
                           "test_acc_200 mean ± std", "queries", "wall s");
  for (const auto& strategy : result.strategies) {
    const std::string deviation = std::isnan(strategy.std_test_acc_200)
                                      ? std::string("-")
                                      : fmt::format("{:.2f}", strategy.std_test_acc_200);
    std::cout << fmt::format("{:<{}} {:>15.2f} ± {:>4} {:>9.1f} {:>8.1f}\n", strategy.label,
                             label_width, strategy.mean_test_acc_200, deviation,
                             strategy.mean_queries, strategy.wall_seconds);
  }
  spdlog::info(
      "{} in {:.1f} s of wall time",
      nascent::count_of(options.runs * static_cast<int64_t>(result.strategies.size()), "run"),
      wall_s);
  // A run ends without a result when its first architecture alone costs more than the budget:
  // say so, rather than leave a bare "nan" to be read as a failure.
  for (const auto& strategy : result.strategies) {
    if (strategy.runs_with_result == options.runs) continue;
    spdlog::warn(
        "{}: {} of {} queried no architecture within --budget-s {} (their first "
        "one cost more); {}",
        strategy.label, options.runs - strategy.runs_with_result,
        nascent::count_of(options.runs, "run"), options.budget_s,
        strategy.runs_with_result == 0 ? "no mean" : "the mean is over the other runs");
  }

  if (!json_path.empty()) {
    write_file(json_path, json_text(nascent::tabular_benchmark_json(result)) + "\n", "--json");
  }
  const std::string curve = nascent::tabular_curve_csv(result);
  if (curve_csv_path.empty()) {
    std::cout << "\nanytime curve (mean test_acc_200 of the incumbent):\n" << curve;
  } else {
    write_file(curve_csv_path, curve, "--curve-csv");
  }
  return 0;
}

int run_create_study_command(const std::string& config_path,
                             const nascent::CreateStudyOptions& options,
                             const std::optional<int64_t>& max_trials,
                             const std::optional<double>& time_limit_min,
                             const std::optional<int64_t>& seed) {
  nascent::ExperimentConfig config = nascent::load_experiment_config(config_path);
  if (max_trials) config.budget.max_trials = *max_trials;
  if (time_limit_min) config.budget.time_limit_min = *time_limit_min;
  if (seed) config.seed = static_cast<uint64_t>(*seed);

  const nlohmann::json result = nascent::create_study(config, options);
  std::cout << fmt::format(
      "study '{}' {} in {}: strategy {}, budget {}; start workers with: nascent worker "
      "--storage URL --study {}\n",
      options.study, result["created"].get<bool>() ? "created" : "already exists, unchanged,",
      result["storage"].get<std::string>(), config.strategy.name,
      describe_budget(config.budget.max_trials, config.budget.time_limit_min), options.study);
  return 0;
}

int run_worker_command(nascent::WorkerOptions options, int64_t threads) {
  nascent::set_torch_threads(threads);
  options.evaluator_factory = [](const nascent::ExperimentConfig& config) {
    return nascent::make_study_evaluator(config);
  };

  ProgressBar progress;
  nascent::WorkerEvents events;
  events.on_info = [&](const std::string& line) {
    progress.clear();
    spdlog::info("{}", line);
  };
  events.on_warning = [&](const std::string& line) {
    progress.clear();
    spdlog::warn("{}", line);
  };
  events.on_trial = [&](const nascent::TrialRecord& trial, const std::string& description) {
    progress.clear();
    const std::string accuracy = std::isnan(trial.validation_accuracy)
                                     ? std::string("-")
                                     : fmt::format("{:.2f}%", trial.validation_accuracy * 100);
    spdlog::info("trial {:>3} {:<8} val {:>7} params {:>9} {:>6.1f}s  {}", trial.id,
                 nascent::to_string(trial.state), accuracy, format_count(trial.params),
                 trial.train_seconds, description);
    if (!trial.error.empty()) spdlog::warn("trial {}: {}", trial.id, trial.error);
  };

  const nascent::WorkerSummary summary = nascent::run_worker(options, events);
  std::cout << fmt::format(
      "worker finished ({}): {} trials stored by this worker, {} results discarded\n",
      summary.stop_reason, summary.trials_finished, summary.results_discarded);
  return 0;
}

std::string format_correlation(double value) {
  return std::isnan(value) ? std::string("-") : fmt::format("{:+.3f}", value);
}

int run_proxies_command(const std::string& config_path, const nascent::ProxyStudyOptions& options,
                        const std::optional<int64_t>& train_size,
                        const std::optional<int64_t>& validation_size,
                        const std::string& json_path) {
  nascent::ExperimentConfig config = nascent::load_experiment_config(config_path);
  if (train_size) config.data.search_train_size = *train_size;
  if (validation_size) config.data.validation_size = *validation_size;
  options.validate();
  // Now rather than after every architecture has trained.
  check_writable_output(json_path, "--json");
  nascent::set_torch_threads(config.threads);
  spdlog::info("proxies of '{}': {} architectures, each trained {} epoch(s); proxy batch {}",
               config.study, options.samples, options.train_epochs, options.batch_size);

  ProgressBar progress;
  const auto report = [&](const nascent::ProxyStudyRow& row, int64_t index, int64_t total) {
    progress.clear();
    const std::string accuracy = std::isnan(row.validation_accuracy)
                                     ? std::string("failed")
                                     : fmt::format("{:.2f}%", row.validation_accuracy * 100);
    spdlog::info("{:>3}/{} val {:>7} params {:>9} {:>6.1f}s  {}", index + 1, total, accuracy,
                 format_count(row.params), row.train_seconds, row.short_description);
  };
  const nascent::ProxyStudyResult result = nascent::run_proxy_study(config, options, report);

  std::cout << fmt::format(
      "\n{} architectures of {}, trained {} epoch(s) on {} images, validated on {}\n",
      result.rows.size(), config_path, options.train_epochs, result.search_train_size,
      result.validation_size);
  std::cout << fmt::format("{:<10} {:>9} {:>9} {:>10}\n", "proxy", "spearman", "kendall",
                           "seconds");
  for (const auto& correlation : result.correlations) {
    std::cout << fmt::format("{:<10} {:>9} {:>9} {:>10.2f}\n", correlation.proxy,
                             format_correlation(correlation.spearman),
                             format_correlation(correlation.kendall), correlation.seconds);
  }
  std::cout << fmt::format("{:<10} {:>9} {:>9} {:>10.2f}\n", "training", "", "",
                           result.train_seconds);
  if (!json_path.empty()) {
    write_file(json_path, json_text(nascent::proxy_study_json(result)) + "\n", "--json");
  }
  return 0;
}

std::string format_optional(const nlohmann::json& value, const char* format) {
  return value.is_number() ? fmt::format(fmt::runtime(format), value.get<double>()) : "-";
}

int run_pareto_command(const StudySource& source, bool as_json) {
  const nascent::Store store = open_study_source(source);
  const nlohmann::json pareto = nascent::study_pareto(store, source.directory);
  if (as_json) {
    std::cout << json_text(pareto) << "\n";
    return 0;
  }
  std::string constraints;
  for (const auto& [metric, bound] : pareto["constraints"].items()) {
    constraints +=
        fmt::format(" {} {} {};", metric, metric == "accuracy" ? ">=" : "<=", bound.get<double>());
  }
  std::cout << fmt::format("study {}: objectives {}; constraints:{}\n", source.describe(store),
                           fmt::join(pareto["objectives"].get<std::vector<std::string>>(), ", "),
                           constraints.empty() ? " none" : constraints);
  std::cout << pareto["message"].get<std::string>() << "\n";
  const bool feasible = pareto["any_feasible"].get<bool>();
  const auto& entries = feasible ? pareto["front"] : pareto["least_violating"];
  if (entries.empty()) return 0;
  std::cout << fmt::format("{}\n{:>6} {:>8} {:>9} {:>11} {:>10} {:>10} {:>9}  {}\n",
                           feasible ? "front:" : "least violating:", "trial", "val acc", "params",
                           "flops", "latency ms", "batch ms", "memory MB",
                           feasible ? "architecture" : "violation / architecture");
  for (const auto& entry : entries) {
    std::cout << fmt::format(
        "{:>6} {:>8} {:>9} {:>11} {:>10} {:>10} {:>9}  {}{}\n", entry["trial_id"].get<int64_t>(),
        format_accuracy(entry["val_accuracy"]), format_count(entry["params"].get<int64_t>()),
        format_count(entry["flops"].get<int64_t>()), format_optional(entry["latency_ms"], "{:.3f}"),
        format_optional(entry["batch_latency_ms"], "{:.3f}"),
        format_optional(entry["memory_mb"], "{:.2f}"),
        feasible ? "" : format_optional(entry["violation"], "{:.3g} ") + " ",
        entry.value("short", entry["arch"].get<std::string>()));
  }
  return 0;
}

int run_export_command(const nascent::ModelExportOptions& options) {
  const nlohmann::json result = nascent::export_model(options);
  std::cout << fmt::format("exported trial {} as {} to {} ({} bytes)\n",
                           result["trial_id"].get<int64_t>(), result["format"].get<std::string>(),
                           result["output"].get<std::string>(), result["bytes"].get<int64_t>());
  return 0;
}

int run_report_command(const StudySource& source, const std::string& output) {
  // Before the store is opened: with --storage, the report must not replace the store's file.
  nascent::check_study_output(output, "--output", source.directory, source.storage_url);
  const nlohmann::json result =
      nascent::write_study_report(open_study_source(source), source.directory, output);
  if (result.contains("warning")) spdlog::warn("{}", result["warning"].get<std::string>());
  std::cout << fmt::format("report of {} trials written to {} ({} bytes)\n",
                           result["trials"].get<int64_t>(), result["output"].get<std::string>(),
                           result["bytes"].get<int64_t>());
  return 0;
}

}  // namespace

/// First Ctrl-C or SIGTERM: finish the current step, record the trial as interrupted, exit.
/// A second one: stop at once (the next run still recovers, from the stored RUNNING trial).
void handle_stop_signal(int signal_number) {
  if (nascent::stop_requested()) {
    std::signal(signal_number, SIG_DFL);
    std::raise(signal_number);
    return;
  }
  nascent::request_stop();
}

int main(int argc, char** argv) {
  nascent::configure_allocator_for_training();
  nascent::register_torch_strategies();
  std::signal(SIGINT, handle_stop_signal);
  std::signal(SIGTERM, handle_stop_signal);
  CLI::App app{"nascent: neural architecture search on LibTorch"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "nascent 0.1.0");
  spdlog::set_pattern("%H:%M:%S %^%l%$ %v");

  std::string config_path;
  std::string output_dir;
  std::optional<int64_t> max_trials;
  std::optional<double> time_limit_min;
  std::optional<int64_t> final_epochs;
  std::optional<int64_t> seed;
  auto* search = app.add_subcommand("search", "Run or resume a search; retrain and test the best");
  search->add_option("config", config_path, "Experiment file (YAML)")->required();
  search->add_option("--out", output_dir, "Study directory (created, or resumed if it exists)")
      ->required();
  search->add_option("--max-trials", max_trials, "Override budget.max_trials")
      ->transform(integer_at_least(0));
  search->add_option("--time-limit-min", time_limit_min, "Override budget.time_limit_min")
      ->transform(number_at_least(0, "a number"));
  search->add_option("--final-epochs", final_epochs, "Override final.epochs")
      ->transform(integer_at_least(1));
  search->add_option("--seed", seed, "Override seed")->transform(integer_at_least(0));
  std::string search_storage;
  std::string search_study;
  search->add_option("--storage", search_storage,
                     "Store the trials here instead of DIR/study.db: sqlite:///path/study.db or "
                     "postgresql://user@host:port/database");
  search->add_option("--study", search_study, "Study name in --storage (default: the config's)");

  StudySource status_source;
  bool status_json = false;
  auto* status = app.add_subcommand("status", "Show the state of a study directory");
  add_study_source_options(status, status_source);
  status->add_flag("--json", status_json, "Print the status as JSON");

  std::string evaluate_dir;
  int64_t evaluate_threads = 2;
  auto* evaluate =
      app.add_subcommand("evaluate", "Reload a study's final model and measure its test accuracy");
  evaluate->add_option("dir", evaluate_dir, "Study directory")->required();
  evaluate->add_option("--threads", evaluate_threads, "LibTorch threads")
      ->transform(integer_in(1, 256));

  std::string create_config_path;
  nascent::CreateStudyOptions create_options;
  std::optional<int64_t> create_max_trials;
  std::optional<double> create_time_limit_min;
  std::optional<int64_t> create_seed;
  auto* create_study = app.add_subcommand(
      "create-study", "Create a study in a shared store (SQLite file or PostgreSQL) for workers");
  create_study->add_option("config", create_config_path, "Experiment file (YAML)")->required();
  create_study
      ->add_option("--storage", create_options.storage_url,
                   "sqlite:///path/study.db or postgresql://user@host:port/database")
      ->required();
  create_study->add_option("--study", create_options.study, "Study name in the store")->required();
  create_study->add_option("--max-trials", create_max_trials, "Override budget.max_trials")
      ->transform(integer_at_least(0));
  create_study
      ->add_option("--time-limit-min", create_time_limit_min,
                   "Override budget.time_limit_min (counted from the first worker)")
      ->transform(number_at_least(0, "a number"));
  create_study->add_option("--seed", create_seed, "Override seed")->transform(integer_at_least(0));
  create_study
      ->add_option("--heartbeat-timeout-s", create_options.heartbeat_timeout_s,
                   "Re-queue a running trial after this long without a heartbeat")
      ->capture_default_str()
      // Bounded: a quarter of it is a heartbeat thread's wait, which must fit the clock.
      ->transform(expect_value<double>("a number of seconds in (0, 1e9]", [](double seconds) {
        return seconds > 0 && seconds <= 1e9;
      }));
  create_study
      ->add_option("--max-attempts", create_options.max_attempts,
                   "Claims of a trial before a lost worker marks it failed")
      ->capture_default_str()
      ->transform(integer_at_least(1));
  create_study->add_option("--table", create_options.table_path,
                           "Look architectures up in this NAS-Bench-201 CSV instead of training");
  create_study
      ->add_option("--table-trial-s", create_options.table_trial_s,
                   "With --table: seconds each lookup takes, standing in for training")
      ->capture_default_str()
      // Bounded: workers wait this long for each lookup.
      ->transform(expect_value<double>("a number of seconds in [0, 1e9]", [](double seconds) {
        return seconds >= 0 && seconds <= 1e9;
      }));

  nascent::WorkerOptions worker_options;
  int64_t worker_threads = 2;
  auto* worker = app.add_subcommand(
      "worker", "Join a study in a shared store and run its trials until its budget is spent");
  worker
      ->add_option("--storage", worker_options.storage_url,
                   "sqlite:///path/study.db or postgresql://user@host:port/database")
      ->required();
  worker->add_option("--study", worker_options.study, "Study name in the store")->required();
  worker->add_option("--name", worker_options.name, "Worker name in the store (default host:pid)");
  worker
      ->add_option("--poll-s", worker_options.poll_interval_s,
                   "Pause between looks while the remaining trials run elsewhere")
      ->capture_default_str()
      ->transform(expect_value<double>("a number of seconds in (0, 3600]", [](double seconds) {
        return seconds > 0 && seconds <= 3600;
      }));
  worker->add_option("--threads", worker_threads, "LibTorch threads")
      ->capture_default_str()
      ->transform(integer_in(1, 256));

  std::string bench_table;
  std::vector<std::string> bench_strategies = {"random", "evolution"};
  std::string bench_json;
  std::string bench_curve_csv;
  nascent::TabularBenchmarkOptions bench_options;
  auto* bench = app.add_subcommand("bench", "Compare search strategies on a benchmark");
  bench->require_subcommand(1);
  auto* nasbench201 = bench->add_subcommand(
      "nasbench201", "Strategies on a NAS-Bench-201 table, on a simulated clock");
  nasbench201->add_option("--table", bench_table, "CSV with the NAS-Bench-201 schema")->required();
  nasbench201
      ->add_option("--strategies", bench_strategies,
                   "Comma-separated strategies: NAME or NAME:KEY=VALUE:... with the keys of the "
                   "config's strategy section (reinforce:controller=lstm)")
      ->delimiter(',')
      ->capture_default_str();
  nasbench201->add_option("--runs", bench_options.runs, "Runs per strategy")
      ->capture_default_str()
      ->transform(integer_at_least(1));
  nasbench201->add_option("--budget-s", bench_options.budget_s, "Simulated seconds per run")
      ->capture_default_str()
      ->transform(number_above(0, "a number of seconds"));
  nasbench201->add_option("--seed", bench_options.seed, "Run r uses derive_seed(seed, r)")
      ->capture_default_str()
      ->transform(expect_value<uint64_t>("an integer >= 0", [](uint64_t) { return true; }));
  nasbench201
      ->add_option("--curve-points", bench_options.curve_points, "Points of the anytime curve")
      ->capture_default_str()
      ->transform(integer_at_least(1));
  nasbench201->add_option("--json", bench_json, "Also write the results as JSON to this file");
  nasbench201->add_option("--curve-csv", bench_curve_csv,
                          "Write the anytime curve to this file instead of stdout");

  std::string proxies_config;
  nascent::ProxyStudyOptions proxies_options;
  std::optional<int64_t> proxies_train_size;
  std::optional<int64_t> proxies_validation_size;
  std::string proxies_json;
  auto* proxies = app.add_subcommand(
      "proxies", "Rank correlation of zero-cost proxies with trained accuracy in a space");
  proxies->add_option("config", proxies_config, "Experiment file (YAML)")->required();
  proxies->add_option("--samples", proxies_options.samples, "Architectures to sample")
      ->required()
      ->transform(integer_at_least(3));
  proxies->add_option("--train-epochs", proxies_options.train_epochs, "Epochs to train each")
      ->required()
      ->transform(integer_at_least(1));
  proxies
      ->add_option("--batch-size", proxies_options.batch_size, "Images in the proxies' minibatch")
      ->capture_default_str()
      ->transform(integer_at_least(2));
  proxies
      ->add_option("--train-size", proxies_train_size,
                   "Override data.search_train_size (images each architecture trains on)")
      ->transform(integer_at_least(0));
  proxies
      ->add_option("--validation-size", proxies_validation_size,
                   "Override data.validation_size (images each architecture is validated on)")
      ->transform(integer_at_least(1));
  proxies->add_option("--json", proxies_json, "Also write every score and accuracy to this file");
  StudySource pareto_source;
  bool pareto_json = false;
  auto* pareto = app.add_subcommand("pareto", "Print the Pareto front of a study");
  add_study_source_options(pareto, pareto_source);
  pareto->add_flag("--json", pareto_json, "Print the front as JSON");

  nascent::ModelExportOptions export_options;
  auto* export_command =
      app.add_subcommand("export", "Write a study's trained model as ONNX or LibTorch");
  export_command->add_option("dir", export_options.study_dir, "Study directory")->required();
  export_command->add_option("--trial", export_options.trial_id, "Trial id (the final model's)")
      ->required()
      ->transform(integer_at_least(1));
  export_command->add_option("--format", export_options.format, "onnx or torch")
      ->capture_default_str();
  export_command->add_option("--output", export_options.output, "File to write")->required();

  StudySource report_source;
  std::string report_output;
  auto* report = app.add_subcommand("report", "Write a self-contained HTML report of a study");
  add_study_source_options(report, report_source);
  report->add_option("--output", report_output, "HTML file to write")->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& help) {
    return app.exit(help);
  } catch (const CLI::CallForAllHelp& help) {
    return app.exit(help);
  } catch (const CLI::CallForVersion& version) {
    return app.exit(version);
  } catch (const CLI::RequiredError& error) {
    // "nascent bogus" reaches here as a missing subcommand; name the word instead.
    const std::vector<std::string> commands = {"search",       "status", "evaluate", "bench",
                                               "proxies",      "pareto", "export",   "report",
                                               "create-study", "worker"};
    if (argc > 1 && argv[1][0] != '-' &&
        std::find(commands.begin(), commands.end(), argv[1]) == commands.end()) {
      std::cerr << "nascent: error: unknown command '" << argv[1]
                << "'; expected search, status, evaluate, bench, proxies, pareto, export, report, "
                   "create-study or worker (see nascent --help)\n";
      return 2;
    }
    std::cerr << "nascent: error: " << error.what() << " (see nascent --help)\n";
    return 2;
  } catch (const CLI::ValidationError& error) {
    // A bad value: expect_value's message names the option, what it takes and what was given.
    std::cerr << "nascent: error: " << error.what() << "\n";
    return 2;
  } catch (const CLI::ParseError& error) {
    // One line, like every other nascent error; CLI11's own text names the option.
    std::string message = error.what();
    message = message.substr(0, message.find('\n'));
    std::cerr << "nascent: error: " << message << " (see nascent --help)\n";
    return 2;
  }

  try {
    if (*search) {
      return run_search_command(config_path, output_dir, max_trials, time_limit_min, final_epochs,
                                seed, search_storage, search_study);
    }
    if (*status) {
      status_source.validate("status");
      if (status_source.in_storage()) {
        return run_shared_status_command(status_source.storage_url, status_source.study,
                                         status_json);
      }
      return run_status_command(status_source.directory, status_json);
    }
    if (*evaluate) return run_evaluate_command(evaluate_dir, evaluate_threads);
    if (*create_study) {
      return run_create_study_command(create_config_path, create_options, create_max_trials,
                                      create_time_limit_min, create_seed);
    }
    if (*worker) return run_worker_command(worker_options, worker_threads);
    if (*proxies) {
      return run_proxies_command(proxies_config, proxies_options, proxies_train_size,
                                 proxies_validation_size, proxies_json);
    }
    if (*pareto) {
      pareto_source.validate("pareto");
      return run_pareto_command(pareto_source, pareto_json);
    }
    if (*export_command) return run_export_command(export_options);
    if (*report) {
      report_source.validate("report");
      return run_report_command(report_source, report_output);
    }
    if (*nasbench201) {
      for (const auto& spec : bench_strategies) {
        nascent::TabularBenchmarkStrategy strategy;
        strategy.options = nascent::parse_strategy_spec(spec);
        if (spec != strategy.options.name) strategy.label = spec;
        bench_options.strategies.push_back(std::move(strategy));
      }
      return run_bench_nasbench201_command(bench_table, bench_options, bench_json, bench_curve_csv);
    }
  } catch (const std::exception& error) {
    // One line: LibTorch errors carry a multi-line C++ trace after the first line.
    std::string message = error.what();
    message = message.substr(0, message.find('\n'));
    std::cerr << "nascent: error: " << message << "\n";
    return nascent::stop_requested() ? 130 : 1;
  }
  return 0;
}
