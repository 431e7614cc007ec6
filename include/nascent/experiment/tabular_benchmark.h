#pragma once

/// Strategies compared on a tabular benchmark (NAS-Bench-201): many seeded runs of each
/// strategy on a simulated clock, reported by the test accuracy of what each run returns.

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "nascent/eval/tabular.h"
#include "nascent/strategy/strategy.h"

namespace nascent {

/// One strategy of a comparison.
struct TabularBenchmarkStrategy {
  /// Its name in the results; empty means `options.name`. Labels must differ, so that the
  /// same strategy with different options can be compared.
  std::string label;
  /// Passed to make_strategy() with the table's space.
  StrategyOptions options;
  /// What each query returns and costs. A strategy that searches on 200-epoch results sees
  /// val_acc_200 and is charged train_cost_12_s * 200 / 12. Multi-fidelity strategies (sh,
  /// hyperband, bohb) choose per query between the table's fidelities, 12 and 200 epochs
  /// (their options.fidelities is set to {12, 200}); this is their default for a query at 0.
  TabularFidelity fidelity = TabularFidelity::kEpochs12;

  /// The label, or the strategy's name when no label is set.
  const std::string& display_name() const { return label.empty() ? options.name : label; }
};

/// Settings of a comparison; validated once by run_tabular_benchmark().
struct TabularBenchmarkOptions {
  std::vector<TabularBenchmarkStrategy> strategies;
  /// Runs per strategy. Run r of every strategy uses seed derive_seed(seed, r), so the
  /// strategies are compared on paired seeds.
  int64_t runs = 100;
  /// Simulated seconds each run may spend on training.
  double budget_s = 12000.0;
  uint64_t seed = 0;
  /// Points of the anytime curve: every budget_s / curve_points seconds up to budget_s.
  int64_t curve_points = 100;
  /// A run ends when this many proposals in a row were all architectures it had already seen
  /// (a strategy that keeps proposing duplicates would otherwise never spend its budget).
  int64_t max_stalled_proposals = 10000;
  /// Keep every query of every run in TabularRun::queries (for tests and traces).
  bool record_queries = false;
  /// Called after each finished run with (runs done, runs in all).
  std::function<void(int64_t done, int64_t total)> on_progress;

  /// Chained setter: adds a strategy with default options.
  TabularBenchmarkOptions& add_strategy(const std::string& name);

  /// Throws nascent::Error naming the field: no strategy, a repeated label, an unknown
  /// strategy (with a suggestion), runs < 1, budget_s <= 0, curve_points < 1,
  /// max_stalled_proposals < 1.
  void validate() const;
};

/// Why a run ended.
enum class TabularStop {
  /// The next new architecture would have finished after budget_s.
  kBudget,
  /// The strategy had nothing left to propose, or every architecture of the table was seen.
  kExhausted,
  /// max_stalled_proposals proposals in a row brought no new architecture.
  kStalled,
};

/// "budget", "exhausted" or "stalled".
std::string to_string(TabularStop stop);

/// One proposal of a run, as recorded with TabularBenchmarkOptions::record_queries.
struct TabularQuery {
  /// The table row of the proposed architecture.
  int64_t row = 0;
  /// True for a new architecture (charged to the clock), false for a repeat (answered from the
  /// run's cache for free).
  bool charged = false;
  /// The simulated clock after the query.
  double clock_s = 0.0;
};

/// One seeded run of one strategy.
struct TabularRun {
  uint64_t seed = 0;
  TabularStop stop = TabularStop::kBudget;
  /// Distinct architectures charged.
  int64_t queries = 0;
  /// Proposals answered, repeats included.
  int64_t proposals = 0;
  /// Simulated seconds spent (at most budget_s).
  double clock_s = 0.0;
  /// The incumbent: the row with the best objective seen (the earlier on ties); nullopt when
  /// not even one architecture fitted the budget.
  std::optional<int64_t> incumbent_row;
  /// test_acc_200 of the incumbent (NaN without one): the run's result.
  double test_acc_200 = 0.0;
  /// test_acc_200 of the incumbent at each curve time (NaN before the first query finished).
  std::vector<double> curve;
  /// Every proposal, when TabularBenchmarkOptions::record_queries is set.
  std::vector<TabularQuery> queries_log;
};

/// All runs of one strategy and their summary.
struct TabularStrategyResult {
  std::string label;
  std::vector<TabularRun> runs;
  /// Runs that reported an architecture (all of them unless the budget is below the cost of
  /// the first query).
  int64_t runs_with_result = 0;
  /// Mean and sample standard deviation of test_acc_200 over the runs with a result (NaN
  /// for the deviation of a single run).
  double mean_test_acc_200 = 0.0;
  double std_test_acc_200 = 0.0;
  /// Mean number of distinct architectures charged per run.
  double mean_queries = 0.0;
  /// Mean of the runs' curves; NaN at times when some run had no incumbent yet.
  std::vector<double> curve;
  /// Wall-clock seconds of all its runs: the strategy's own cost, since the table answers at
  /// once.
  double wall_seconds = 0.0;
};

/// The outcome of a comparison.
struct TabularBenchmarkResult {
  /// The times of the anytime curve, in simulated seconds.
  std::vector<double> curve_seconds;
  /// In the order of TabularBenchmarkOptions::strategies.
  std::vector<TabularStrategyResult> strategies;
};

/// The simulated search, identical for every strategy:
///
/// - propose() a candidate; the table answers it (tabular_answer() at the fidelity proposed,
///   or the strategy's) and tell() passes the answer as the objective (a fraction:
///   val_acc_12 / 100 by default) with the fidelity;
/// - a new architecture starts when the previous query finishes and is charged its cost; if it
///   would finish after budget_s, the run ends before it (it is neither charged nor told), so
///   every result a run uses was available within the budget;
/// - a repeat (the same architecture at the same fidelity) is answered from the run's cache,
///   told again, and charged nothing; the same architecture at another fidelity is a new query;
/// - the run also ends when the strategy has nothing to propose, every architecture of the
///   table has been seen, or max_stalled_proposals proposals in a row were repeats;
/// - the run reports the incumbent by the objective it was told at the highest fidelity queried
///   (ties: the earlier query), and its test_acc_200 is the result. Test accuracy never
///   influences the search.
TabularRun run_tabular_search(const Nasbench201Table& table,
                              const TabularBenchmarkStrategy& strategy, uint64_t seed,
                              const TabularBenchmarkOptions& options);

/// Runs every strategy options.runs times (see run_tabular_search()). Throws nascent::Error
/// from options.validate() before any run starts.
TabularBenchmarkResult run_tabular_benchmark(const Nasbench201Table& table,
                                             const TabularBenchmarkOptions& options);

/// One object per strategy, keyed by label, in the order run:
/// `{"random": {"mean": .., "std": .., "runs": .., "queries": .., "runs_with_result": ..,
/// "wall_s": ..,
/// "stops": {"budget": n, ...}, "curve": [{"seconds": .., "test_acc_200": ..}, ...]}}`.
/// `queries` is the mean number of distinct architectures charged per run; NaN is null.
nlohmann::ordered_json tabular_benchmark_json(const TabularBenchmarkResult& result);

/// The anytime curves as CSV: a header `seconds,<label>,...`, then one line per curve time;
/// a cell is empty while some run of that strategy had no incumbent yet.
std::string tabular_curve_csv(const TabularBenchmarkResult& result);

}  // namespace nascent
