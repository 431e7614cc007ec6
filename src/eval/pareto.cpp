#include "nascent/eval/pareto.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <numeric>

#include "nascent/core/error.h"

namespace nascent {

namespace {

constexpr double kInfinity = std::numeric_limits<double>::infinity();

nlohmann::json number_or_null(double value) {
  return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr);
}

nlohmann::json entry_json(const ParetoEntry& entry) {
  return {{"trial_id", entry.trial.id},
          {"arch", entry.trial.architecture},
          {"arch_hash", entry.trial.architecture_hash},
          {"val_accuracy", number_or_null(entry.metrics.accuracy)},
          {"params", entry.trial.params},
          {"flops", entry.trial.flops},
          {"latency_ms", number_or_null(entry.metrics.latency_ms)},
          {"batch_latency_ms", number_or_null(entry.metrics.batch_latency_ms)},
          {"memory_mb", number_or_null(entry.metrics.memory_mb)},
          {"violation", number_or_null(entry.violation)}};
}

}  // namespace

bool dominates(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != b.size()) {
    throw Error(
        fmt::format("dominates: expected points with the same number of objectives, "
                    "found {} and {}",
                    a.size(), b.size()));
  }
  bool strictly_better = false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i] > b[i]) return false;
    if (a[i] < b[i]) strictly_better = true;
  }
  return strictly_better;
}

bool constrained_dominates(const std::vector<double>& a, double violation_a,
                           const std::vector<double>& b, double violation_b) {
  const bool a_feasible = violation_a == 0.0;
  const bool b_feasible = violation_b == 0.0;
  if (a_feasible && b_feasible) return dominates(a, b);
  if (a_feasible != b_feasible) return a_feasible;
  return violation_a < violation_b;
}

std::vector<std::vector<size_t>> non_dominated_sort(const std::vector<std::vector<double>>& costs,
                                                    const std::vector<double>& violations) {
  const size_t count = costs.size();
  if (!violations.empty() && violations.size() != count) {
    throw Error(fmt::format("non_dominated_sort: expected one violation per point ({}), found {}",
                            count, violations.size()));
  }
  const auto beats = [&](size_t a, size_t b) {
    if (violations.empty()) return dominates(costs[a], costs[b]);
    return constrained_dominates(costs[a], violations[a], costs[b], violations[b]);
  };

  // For each point: whom it dominates, and by how many it is dominated.
  std::vector<std::vector<size_t>> dominated(count);
  std::vector<int64_t> dominator_count(count, 0);
  std::vector<std::vector<size_t>> fronts(1);
  for (size_t p = 0; p < count; ++p) {
    for (size_t q = 0; q < count; ++q) {
      if (p == q) continue;
      if (beats(p, q)) {
        dominated[p].push_back(q);
      } else if (beats(q, p)) {
        ++dominator_count[p];
      }
    }
    if (dominator_count[p] == 0) fronts[0].push_back(p);
  }

  // Peel the fronts: removing one front frees the points only it dominated.
  while (!fronts.back().empty()) {
    std::vector<size_t> next;
    for (size_t p : fronts.back()) {
      for (size_t q : dominated[p]) {
        if (--dominator_count[q] == 0) next.push_back(q);
      }
    }
    std::sort(next.begin(), next.end());
    fronts.push_back(std::move(next));
  }
  fronts.pop_back();
  return fronts;
}

std::vector<double> crowding_distance(const std::vector<std::vector<double>>& costs,
                                      const std::vector<size_t>& front) {
  std::vector<double> distance(front.size(), 0.0);
  if (front.empty()) return distance;
  const size_t objectives = costs[front[0]].size();
  std::vector<size_t> order(front.size());
  for (size_t objective = 0; objective < objectives; ++objective) {
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
      return costs[front[a]][objective] < costs[front[b]][objective];
    });
    const double low = costs[front[order.front()]][objective];
    const double high = costs[front[order.back()]][objective];
    distance[order.front()] = kInfinity;
    distance[order.back()] = kInfinity;
    const double range = high - low;
    if (!(range > 0) || !std::isfinite(range)) continue;
    for (size_t i = 1; i + 1 < order.size(); ++i) {
      const double gap =
          costs[front[order[i + 1]]][objective] - costs[front[order[i - 1]]][objective];
      distance[order[i]] += gap / range;
    }
  }
  return distance;
}

ParetoReport pareto_report(const std::vector<TrialRecord>& trials, const ObjectivesConfig& config,
                           int64_t least_violating_count) {
  ParetoReport report;
  std::vector<ParetoEntry> feasible;
  std::vector<ParetoEntry> infeasible;
  for (const auto& trial : trials) {
    if (trial.state != TrialState::kComplete || std::isnan(trial.validation_accuracy)) continue;
    ParetoEntry entry{trial, trial_metrics(trial), 0.0};
    entry.violation = constraint_violation(entry.metrics, config);
    ++report.complete;
    (entry.violation == 0.0 ? feasible : infeasible).push_back(std::move(entry));
  }
  report.feasible = static_cast<int64_t>(feasible.size());

  if (feasible.empty()) {
    std::sort(infeasible.begin(), infeasible.end(), [](const auto& a, const auto& b) {
      if (a.violation != b.violation) return a.violation < b.violation;
      if (a.metrics.accuracy != b.metrics.accuracy) return a.metrics.accuracy > b.metrics.accuracy;
      return a.trial.id < b.trial.id;
    });
    if (static_cast<int64_t>(infeasible.size()) > least_violating_count) {
      infeasible.resize(static_cast<size_t>(least_violating_count));
    }
    report.least_violating = std::move(infeasible);
    report.message = report.complete == 0
                         ? "no trial completed, so there is no front"
                         : fmt::format(
                               "no trial is feasible: all {} complete trials break a constraint; "
                               "least_violating lists those closest to feasible",
                               report.complete);
    return report;
  }

  std::vector<std::vector<double>> costs;
  for (const auto& entry : feasible) costs.push_back(objective_costs(entry.metrics, config));
  const auto fronts = non_dominated_sort(costs);
  for (size_t index : fronts.front()) report.front.push_back(feasible[index]);
  std::sort(report.front.begin(), report.front.end(), [&](const auto& a, const auto& b) {
    const auto cost_a = objective_costs(a.metrics, config);
    const auto cost_b = objective_costs(b.metrics, config);
    if (cost_a != cost_b) return cost_a < cost_b;
    return a.trial.id < b.trial.id;
  });
  report.message = fmt::format("{} of {} complete trials feasible; {} on the front",
                               report.feasible, report.complete, report.front.size());
  return report;
}

std::optional<TrialRecord> best_feasible_trial(const std::vector<TrialRecord>& trials,
                                               const ObjectivesConfig& config) {
  std::optional<TrialRecord> best;
  double best_score = 0.0;
  for (const auto& trial : trials) {
    if (trial.state != TrialState::kComplete || std::isnan(trial.validation_accuracy)) continue;
    const double score = scalar_objective(trial_metrics(trial), config);
    if (!best || score > best_score) {
      best = trial;
      best_score = score;
    }
  }
  return best;
}

nlohmann::json pareto_json(const ParetoReport& report, const ObjectivesConfig& config) {
  nlohmann::json front = nlohmann::json::array();
  for (const auto& entry : report.front) front.push_back(entry_json(entry));
  nlohmann::json least = nlohmann::json::array();
  for (const auto& entry : report.least_violating) least.push_back(entry_json(entry));
  return {{"objectives", config.optimize},
          {"constraints", config.to_json()["constraints"]},
          {"complete", report.complete},
          {"feasible", report.feasible},
          {"any_feasible", report.feasible > 0},
          {"message", report.message},
          {"front", front},
          {"least_violating", least}};
}

}  // namespace nascent
