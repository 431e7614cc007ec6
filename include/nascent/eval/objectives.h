#pragma once

/// What a multi-objective study judges trials on: the objectives of its Pareto front, hard
/// constraints, and how inference latency and memory are measured. Torch-free.

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "nascent/store/trial.h"

namespace nascent {

/// The metrics a trial can be judged on, as written in experiment files and summary.json:
/// accuracy (validation accuracy, a fraction, maximised), params, flops (multiply-accumulates
/// per image), latency_ms (batch 1), batch_latency_ms (batch `latency_batch_size`) and memory_mb
/// (peak inference memory at batch 1), all minimised.
const std::vector<std::string>& metric_names();

/// True for metrics where larger is better (only accuracy).
bool metric_is_maximised(const std::string& metric);

/// The objectives, constraints and measurement settings of a study.
struct ObjectivesConfig {
  /// The objectives of the Pareto front, each one of metric_names(), no repeats.
  std::vector<std::string> optimize = {"accuracy", "params"};
  /// Hard constraints (metric, bound): an upper bound for minimised metrics, a lower bound for
  /// accuracy. A trial that breaks one is infeasible: never on the front, never the best.
  std::vector<std::pair<std::string, double>> constraints;
  /// Batch of the batch_latency_ms metric.
  int64_t latency_batch_size = 32;
  /// Untimed forward passes before timing.
  int64_t latency_warmup = 5;
  /// Timed forward passes; the median is kept.
  int64_t latency_repeats = 20;

  /// True when some objective or constraint uses `metric`.
  bool uses(const std::string& metric) const;
  /// True when the settings are the defaults (the search is then single-objective accuracy).
  bool is_default() const;
  /// One line naming every setting, for the study's fingerprint.
  std::string describe() const;
  /// Throws nascent::Error naming the field ("objectives.optimize: ...").
  void validate() const;
  nlohmann::json to_json() const;
};

/// Every metric of one trial; NaN when unknown (not measured, or no accuracy).
struct TrialMetrics {
  double accuracy = 0.0;
  double params = 0.0;
  double flops = 0.0;
  double latency_ms = 0.0;
  double batch_latency_ms = 0.0;
  double memory_mb = 0.0;

  /// The value of one of metric_names().
  double value(const std::string& metric) const;
};

/// The metrics of a stored trial: accuracy, params and flops from its columns; latency and
/// memory from its result_json (NaN when the search did not measure them).
TrialMetrics trial_metrics(const TrialRecord& trial);

/// The sum over constraints of the relative amount by which the trial breaks each one
/// ((value - bound) / |bound| for upper bounds), 0 when feasible. An unknown value of a
/// constrained metric counts as infinitely far from feasible.
double constraint_violation(const TrialMetrics& metrics, const ObjectivesConfig& config);

/// The objectives as costs to minimise (accuracy negated), in `config.optimize` order. An
/// unknown value becomes +infinity (the worst).
std::vector<double> objective_costs(const TrialMetrics& metrics, const ObjectivesConfig& config);

/// The single number that single-objective strategies maximise: the accuracy of a feasible
/// trial, minus the violation for an infeasible one (so every infeasible trial ranks below
/// every feasible one, and a smaller violation ranks higher). NaN without an accuracy.
double scalar_objective(const TrialMetrics& metrics, const ObjectivesConfig& config);

}  // namespace nascent
