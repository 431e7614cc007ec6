#pragma once

/// Pareto dominance, fast non-dominated sorting and crowding distance (Deb, Pratap, Agarwal
/// and Meyarivan, "A Fast and Elitist Multiobjective Genetic Algorithm: NSGA-II", IEEE TEC
/// 2002), and the front of a study. Torch-free.

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "nascent/eval/objectives.h"
#include "nascent/store/trial.h"

namespace nascent {

/// True when `a` is no worse than `b` in every cost and strictly better in at least one (all
/// costs are minimised). Equal points do not dominate each other.
bool dominates(const std::vector<double>& a, const std::vector<double>& b);

/// Constrained domination (Deb et al. 2002, section VI): a feasible point (violation 0)
/// dominates an infeasible one; of two infeasible points the smaller violation dominates; of
/// two feasible points, ordinary dominance decides.
bool constrained_dominates(const std::vector<double>& a, double violation_a,
                           const std::vector<double>& b, double violation_b);

/// Fast non-dominated sort: the indices of `costs` split into fronts, the first holding the
/// points no other point dominates, the next those only the first dominates, and so on. Each
/// front lists indices in increasing order. With `violations` (one per point) constrained
/// domination is used.
std::vector<std::vector<size_t>> non_dominated_sort(const std::vector<std::vector<double>>& costs,
                                                    const std::vector<double>& violations = {});

/// Crowding distance of each member of `front` (same order): the sum over objectives of the
/// normalised gap between its two neighbours; the extremes of each objective get infinity.
std::vector<double> crowding_distance(const std::vector<std::vector<double>>& costs,
                                      const std::vector<size_t>& front);

/// One trial on a front or in the least-violating list.
struct ParetoEntry {
  TrialRecord trial;
  TrialMetrics metrics;
  double violation = 0.0;
};

/// The front of a study.
struct ParetoReport {
  /// Complete trials considered (failed, pruned, invalid and interrupted never are).
  int64_t complete = 0;
  /// Complete trials meeting every constraint.
  int64_t feasible = 0;
  /// The non-dominated feasible trials, by the first objective (best first), then by id.
  std::vector<ParetoEntry> front;
  /// When no trial is feasible: the complete trials closest to feasible, least violation
  /// first (ties: higher accuracy, then lower id). Empty otherwise.
  std::vector<ParetoEntry> least_violating;
  /// What the report means in one sentence (for example why the front is empty).
  std::string message;
};

/// The Pareto front of `trials` under `config`. When no complete trial is feasible, the front
/// is empty and `least_violating` holds up to `least_violating_count` trials.
ParetoReport pareto_report(const std::vector<TrialRecord>& trials, const ObjectivesConfig& config,
                           int64_t least_violating_count = 5);

/// The feasible complete trial with the highest accuracy (ties: lowest id); when none is
/// feasible, the least-violating one. Nothing when no trial is complete.
std::optional<TrialRecord> best_feasible_trial(const std::vector<TrialRecord>& trials,
                                               const ObjectivesConfig& config);

/// The report as JSON, as written into summary.json under "pareto" (see docs/summary.md).
nlohmann::json pareto_json(const ParetoReport& report, const ObjectivesConfig& config);

}  // namespace nascent
