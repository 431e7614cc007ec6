#include "nascent/eval/objectives.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>

#include "nascent/core/error.h"
#include "nascent/core/text.h"

namespace nascent {

namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();

/// A number from the trial's result_json, NaN when absent or not a number.
double result_number(const nlohmann::json& result, const char* key) {
  const auto found = result.find(key);
  if (found == result.end() || !found->is_number()) return std::nan("");
  return found->get<double>();
}

}  // namespace

const std::vector<std::string>& metric_names() {
  static const std::vector<std::string> names = {"accuracy",   "params",           "flops",
                                                 "latency_ms", "batch_latency_ms", "memory_mb"};
  return names;
}

bool metric_is_maximised(const std::string& metric) { return metric == "accuracy"; }

bool ObjectivesConfig::uses(const std::string& metric) const {
  if (std::find(optimize.begin(), optimize.end(), metric) != optimize.end()) return true;
  return std::any_of(constraints.begin(), constraints.end(),
                     [&](const auto& constraint) { return constraint.first == metric; });
}

bool ObjectivesConfig::is_default() const { return describe() == ObjectivesConfig{}.describe(); }

std::string ObjectivesConfig::describe() const {
  std::string text = "optimize=" + fmt::format("{}", fmt::join(optimize, ","));
  for (const auto& [metric, bound] : constraints) {
    text += fmt::format(" {}{}{}", metric,
                        metric_is_maximised(metric) ? ">=" : "<=", format_double(bound));
  }
  text += fmt::format(" latency_batch_size={} latency_warmup={} latency_repeats={}",
                      latency_batch_size, latency_warmup, latency_repeats);
  return text;
}

void ObjectivesConfig::validate() const {
  const auto& names = metric_names();
  const auto check_name = [&](const std::string& metric, const std::string& key) {
    if (std::find(names.begin(), names.end(), metric) != names.end()) return;
    const auto hint = closest_match(metric, names);
    throw Error(fmt::format("{}: expected {}, found '{}'{}", key, join_choices(names), metric,
                            hint ? fmt::format(" (did you mean '{}'?)", *hint) : ""));
  };
  if (optimize.empty()) {
    throw Error("objectives.optimize: expected at least one metric, found none");
  }
  for (size_t i = 0; i < optimize.size(); ++i) {
    check_name(optimize[i], "objectives.optimize");
    if (std::find(optimize.begin(), optimize.begin() + static_cast<int64_t>(i), optimize[i]) !=
        optimize.begin() + static_cast<int64_t>(i)) {
      throw Error(fmt::format("objectives.optimize: expected each metric once, found '{}' twice",
                              optimize[i]));
    }
  }
  for (const auto& [metric, bound] : constraints) {
    check_name(metric, "objectives.constraints");
    if (!std::isfinite(bound) || (metric == "accuracy" ? bound < 0 || bound > 1 : bound <= 0)) {
      throw Error(fmt::format("objectives.constraints: expected {} for {}, found {}",
                              metric == "accuracy" ? "a fraction in [0, 1]" : "a number > 0",
                              metric, bound));
    }
  }
  if (latency_batch_size < 1) {
    throw Error(fmt::format("objectives.latency_batch_size: expected an integer >= 1, found {}",
                            latency_batch_size));
  }
  if (latency_warmup < 0) {
    throw Error(fmt::format("objectives.latency_warmup: expected an integer >= 0, found {}",
                            latency_warmup));
  }
  if (latency_repeats < 1) {
    throw Error(fmt::format("objectives.latency_repeats: expected an integer >= 1, found {}",
                            latency_repeats));
  }
}

nlohmann::json ObjectivesConfig::to_json() const {
  nlohmann::json bounds = nlohmann::json::object();
  for (const auto& [metric, bound] : constraints) bounds[metric] = bound;
  return {{"optimize", optimize},
          {"constraints", bounds},
          {"latency_batch_size", latency_batch_size},
          {"latency_warmup", latency_warmup},
          {"latency_repeats", latency_repeats}};
}

double TrialMetrics::value(const std::string& metric) const {
  if (metric == "accuracy") return accuracy;
  if (metric == "params") return params;
  if (metric == "flops") return flops;
  if (metric == "latency_ms") return latency_ms;
  if (metric == "batch_latency_ms") return batch_latency_ms;
  if (metric == "memory_mb") return memory_mb;
  throw Error(fmt::format("metric: expected {}, found '{}'", join_choices(metric_names()), metric));
}

TrialMetrics trial_metrics(const TrialRecord& trial) {
  TrialMetrics metrics;
  metrics.accuracy = trial.validation_accuracy;
  metrics.params = static_cast<double>(trial.params);
  metrics.flops = static_cast<double>(trial.flops);
  nlohmann::json result = nlohmann::json::object();
  try {
    result = nlohmann::json::parse(trial.result_json.empty() ? "{}" : trial.result_json);
  } catch (const nlohmann::json::exception&) {
    // A malformed result leaves the measured metrics unknown rather than inventing them.
  }
  if (!result.is_object()) result = nlohmann::json::object();
  metrics.latency_ms = result_number(result, "latency_ms");
  metrics.batch_latency_ms = result_number(result, "batch_latency_ms");
  metrics.memory_mb = result_number(result, "memory_mb");
  return metrics;
}

double constraint_violation(const TrialMetrics& metrics, const ObjectivesConfig& config) {
  double violation = 0.0;
  for (const auto& [metric, bound] : config.constraints) {
    const double value = metrics.value(metric);
    if (std::isnan(value)) return kInfinity;
    const double excess = metric_is_maximised(metric) ? bound - value : value - bound;
    if (excess > 0) violation += excess / std::max(std::abs(bound), 1e-12);
  }
  return violation;
}

std::vector<double> objective_costs(const TrialMetrics& metrics, const ObjectivesConfig& config) {
  std::vector<double> costs;
  costs.reserve(config.optimize.size());
  for (const auto& metric : config.optimize) {
    const double value = metrics.value(metric);
    if (std::isnan(value)) {
      costs.push_back(kInfinity);
    } else {
      costs.push_back(metric_is_maximised(metric) ? -value : value);
    }
  }
  return costs;
}

double scalar_objective(const TrialMetrics& metrics, const ObjectivesConfig& config) {
  if (std::isnan(metrics.accuracy)) return std::nan("");
  const double violation = constraint_violation(metrics, config);
  if (violation == 0.0) return metrics.accuracy;
  // Accuracies are fractions in [0, 1]; anything below 0 ranks under every feasible trial.
  return std::isinf(violation) ? -1e30 : -violation;
}

}  // namespace nascent
