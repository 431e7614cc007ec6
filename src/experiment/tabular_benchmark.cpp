#include "nascent/experiment/tabular_benchmark.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <limits>
#include <set>
#include <utility>

#include "nascent/core/error.h"
#include "nascent/core/random.h"
#include "nascent/core/text.h"

namespace nascent {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::vector<double> curve_times(double budget_s, int64_t points) {
  std::vector<double> times;
  for (int64_t k = 1; k <= points; ++k) {
    times.push_back(budget_s * static_cast<double>(k) / static_cast<double>(points));
  }
  // The last point is the budget itself, whatever the rounding of the division.
  times.back() = budget_s;
  return times;
}

/// The incumbent's test accuracy at each time, from the moments the incumbent changed.
std::vector<double> incumbent_curve(const std::vector<std::pair<double, double>>& improvements,
                                    const std::vector<double>& times) {
  std::vector<double> curve;
  curve.reserve(times.size());
  size_t next = 0;
  double current = kNaN;
  for (double time : times) {
    while (next < improvements.size() && improvements[next].first <= time) {
      current = improvements[next++].second;
    }
    curve.push_back(current);
  }
  return curve;
}

void summarise(TabularStrategyResult& result, size_t curve_points) {
  std::vector<double> reported;
  double total_queries = 0.0;
  for (const auto& run : result.runs) {
    total_queries += static_cast<double>(run.queries);
    if (run.incumbent_row) reported.push_back(run.test_acc_200);
  }
  result.mean_queries = total_queries / static_cast<double>(result.runs.size());
  result.runs_with_result = static_cast<int64_t>(reported.size());

  // Two passes: the sample deviation of values near 94 loses digits in the one-pass formula.
  double sum = 0.0;
  for (double value : reported) sum += value;
  const double count = static_cast<double>(reported.size());
  result.mean_test_acc_200 = reported.empty() ? kNaN : sum / count;
  double squares = 0.0;
  for (double value : reported) {
    squares += (value - result.mean_test_acc_200) * (value - result.mean_test_acc_200);
  }
  result.std_test_acc_200 = reported.size() < 2 ? kNaN : std::sqrt(squares / (count - 1.0));

  // A mean over only the runs that have an incumbent would jump as runs join it; NaN instead.
  result.curve.assign(curve_points, 0.0);
  for (const auto& run : result.runs) {
    for (size_t i = 0; i < curve_points; ++i) result.curve[i] += run.curve[i];
  }
  for (double& value : result.curve) value /= static_cast<double>(result.runs.size());
}

nlohmann::ordered_json number_or_null(double value) {
  return std::isnan(value) ? nlohmann::ordered_json(nullptr) : nlohmann::ordered_json(value);
}

/// The table's fidelity for a proposal: 12 or 200 epochs as asked, or the strategy's default.
TabularFidelity query_fidelity(int64_t epochs, TabularFidelity default_fidelity) {
  if (epochs == 0) return default_fidelity;
  if (epochs == 12) return TabularFidelity::kEpochs12;
  if (epochs == 200) return TabularFidelity::kEpochs200;
  throw Error(fmt::format(
      "benchmark: expected a query at 12 or 200 epochs (the table's fidelities), found {}",
      epochs));
}

/// The settings a single run depends on.
void validate_run_settings(const TabularBenchmarkOptions& options) {
  if (!(options.budget_s > 0.0) || !std::isfinite(options.budget_s)) {
    throw Error(fmt::format("benchmark budget_s: expected a number of seconds > 0, found {}",
                            options.budget_s));
  }
  if (options.curve_points < 1) {
    throw Error(fmt::format("benchmark curve_points: expected an integer >= 1, found {}",
                            options.curve_points));
  }
  if (options.max_stalled_proposals < 1) {
    throw Error(fmt::format("benchmark max_stalled_proposals: expected an integer >= 1, found {}",
                            options.max_stalled_proposals));
  }
}

}  // namespace

TabularBenchmarkOptions& TabularBenchmarkOptions::add_strategy(const std::string& name) {
  TabularBenchmarkStrategy strategy;
  strategy.options.name = name;
  strategies.push_back(std::move(strategy));
  return *this;
}

void TabularBenchmarkOptions::validate() const {
  if (strategies.empty()) {
    throw Error("benchmark strategies: expected at least one strategy, found none");
  }
  std::set<std::string> labels;
  for (const auto& strategy : strategies) {
    if (!labels.insert(strategy.display_name()).second) {
      throw Error(fmt::format("benchmark strategies: expected each strategy once, found '{}' twice",
                              strategy.display_name()));
    }
    strategy.options.validate();
    if (is_weight_sharing(strategy.options.name)) {
      // A table holds results, not images: there is nothing to train a supernet on.
      throw Error(
          fmt::format("benchmark strategies: expected strategies that query the table, "
                      "found '{}', which trains a supernet on images (nascent search "
                      "with space: nasbench201 runs it)",
                      strategy.options.name));
    }
  }
  if (runs < 1) {
    throw Error(fmt::format("benchmark runs: expected an integer >= 1, found {}", runs));
  }
  validate_run_settings(*this);
}

std::string to_string(TabularStop stop) {
  switch (stop) {
    case TabularStop::kBudget:
      return "budget";
    case TabularStop::kExhausted:
      return "exhausted";
    case TabularStop::kStalled:
      return "stalled";
  }
  return "unknown";
}

TabularRun run_tabular_search(const Nasbench201Table& table,
                              const TabularBenchmarkStrategy& strategy, uint64_t seed,
                              const TabularBenchmarkOptions& options) {
  validate_run_settings(options);
  TabularRun run;
  run.seed = seed;
  StrategyOptions strategy_options = strategy.options;
  if (is_multi_fidelity(strategy_options.name)) {
    strategy_options.fidelities = {12, 200};
  }
  const auto search = make_strategy(strategy_options, table.space(), seed);
  const bool multi_fidelity = is_multi_fidelity(strategy_options.name);

  // The run's cache, one per fidelity: a repeat is answered again from the table, but charged
  // nothing.
  std::vector<char> seen_12(static_cast<size_t>(table.size()), 0);
  std::vector<char> seen_200(static_cast<size_t>(table.size()), 0);
  // The incumbent is the best result at the highest fidelity queried so far: a 200-epoch
  // result outranks every 12-epoch one, as the strategy's own best signal.
  TabularFidelity incumbent_fidelity = TabularFidelity::kEpochs12;
  double best_objective = -std::numeric_limits<double>::infinity();
  // (simulated seconds, test_acc_200) each time the incumbent changed.
  std::vector<std::pair<double, double>> improvements;
  int64_t stalled = 0;

  while (true) {
    const auto candidate = search->propose();
    if (!candidate) {
      run.stop = TabularStop::kExhausted;
      break;
    }
    const int64_t row = table.row_of(candidate->architecture);
    const Nasbench201Record& record = table.records()[static_cast<size_t>(row)];
    const TabularFidelity fidelity = query_fidelity(candidate->fidelity, strategy.fidelity);
    const TabularAnswer answer = tabular_answer(record, fidelity);

    // A new query must finish within the budget to count at all.
    std::vector<char>& seen = fidelity == TabularFidelity::kEpochs200 ? seen_200 : seen_12;
    const bool is_new = seen[static_cast<size_t>(row)] == 0;
    if (is_new) {
      if (run.clock_s + answer.cost_s > options.budget_s) {
        run.stop = TabularStop::kBudget;
        break;
      }
      seen[static_cast<size_t>(row)] = 1;
      run.clock_s += answer.cost_s;
      ++run.queries;
      stalled = 0;
      // Strictly better only, so that ties keep the earlier query.
      const bool higher_fidelity = fidelity == TabularFidelity::kEpochs200 &&
                                   incumbent_fidelity == TabularFidelity::kEpochs12;
      if (higher_fidelity ||
          (fidelity == incumbent_fidelity && answer.objective > best_objective)) {
        incumbent_fidelity = fidelity;
        best_objective = answer.objective;
        run.incumbent_row = row;
        improvements.emplace_back(run.clock_s, record.test_acc_200);
      }
    } else {
      ++stalled;
    }
    ++run.proposals;
    if (options.record_queries) run.queries_log.push_back({row, is_new, run.clock_s});

    search->tell(
        candidate->architecture,
        Observation{TrialState::kComplete, answer.objective, candidate->fidelity, {}, 0.0});

    // Every architecture seen: at the strategy's fidelity, or at both for multi-fidelity ones.
    const int64_t queries_per_fidelity = multi_fidelity ? 2 * table.size() : table.size();
    if (run.queries == queries_per_fidelity) {
      run.stop = TabularStop::kExhausted;
      break;
    }
    if (stalled >= options.max_stalled_proposals) {
      run.stop = TabularStop::kStalled;
      break;
    }
  }

  run.test_acc_200 = run.incumbent_row
                         ? table.records()[static_cast<size_t>(*run.incumbent_row)].test_acc_200
                         : kNaN;
  run.curve = incumbent_curve(improvements, curve_times(options.budget_s, options.curve_points));
  return run;
}

TabularBenchmarkResult run_tabular_benchmark(const Nasbench201Table& table,
                                             const TabularBenchmarkOptions& options) {
  options.validate();

  TabularBenchmarkResult result;
  result.curve_seconds = curve_times(options.budget_s, options.curve_points);
  const int64_t total_runs = options.runs * static_cast<int64_t>(options.strategies.size());
  int64_t done = 0;
  for (const auto& strategy : options.strategies) {
    TabularStrategyResult strategy_result;
    strategy_result.label = strategy.display_name();
    const auto start = std::chrono::steady_clock::now();
    for (int64_t r = 0; r < options.runs; ++r) {
      // Same seeds for every strategy: run r of each starts from the same stream.
      const uint64_t seed = derive_seed(options.seed, static_cast<uint64_t>(r));
      strategy_result.runs.push_back(run_tabular_search(table, strategy, seed, options));
      if (options.on_progress) options.on_progress(++done, total_runs);
    }
    strategy_result.wall_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    summarise(strategy_result, result.curve_seconds.size());
    result.strategies.push_back(std::move(strategy_result));
  }
  return result;
}

nlohmann::ordered_json tabular_benchmark_json(const TabularBenchmarkResult& result) {
  nlohmann::ordered_json json = nlohmann::ordered_json::object();
  for (const auto& strategy : result.strategies) {
    nlohmann::ordered_json stops = nlohmann::ordered_json::object();
    for (auto stop : {TabularStop::kBudget, TabularStop::kExhausted, TabularStop::kStalled}) {
      int64_t count = 0;
      for (const auto& run : strategy.runs) count += run.stop == stop ? 1 : 0;
      stops[to_string(stop)] = count;
    }
    nlohmann::ordered_json curve = nlohmann::ordered_json::array();
    for (size_t i = 0; i < result.curve_seconds.size(); ++i) {
      curve.push_back({{"seconds", result.curve_seconds[i]},
                       {"test_acc_200", number_or_null(strategy.curve[i])}});
    }
    json[strategy.label] = {{"mean", number_or_null(strategy.mean_test_acc_200)},
                            {"std", number_or_null(strategy.std_test_acc_200)},
                            {"runs", static_cast<int64_t>(strategy.runs.size())},
                            {"queries", strategy.mean_queries},
                            {"runs_with_result", strategy.runs_with_result},
                            {"wall_s", strategy.wall_seconds},
                            {"stops", stops},
                            {"curve", curve}};
  }
  return json;
}

std::string tabular_curve_csv(const TabularBenchmarkResult& result) {
  std::string csv = "seconds";
  for (const auto& strategy : result.strategies) csv += "," + strategy.label;
  csv += "\n";
  for (size_t i = 0; i < result.curve_seconds.size(); ++i) {
    csv += format_double(result.curve_seconds[i]);
    for (const auto& strategy : result.strategies) {
      const double value = strategy.curve[i];
      csv += std::isnan(value) ? std::string(",") : fmt::format(",{:.4f}", value);
    }
    csv += "\n";
  }
  return csv;
}

}  // namespace nascent
