#include "nascent/eval/pareto.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <vector>

#include "nascent/core/error.h"

#include "error_expectations.h"

namespace nascent {
namespace {

using testing_support::error_message;
using Points = std::vector<std::vector<double>>;

TEST(Dominance, HandMadePointsIncludingTies) {
  EXPECT_TRUE(dominates({1, 1}, {2, 2}));
  EXPECT_TRUE(dominates({1, 2}, {2, 2}));  // better in one, equal in the other
  EXPECT_FALSE(dominates({2, 2}, {1, 2}));
  EXPECT_FALSE(dominates({1, 3}, {3, 1}));  // a trade-off
  EXPECT_FALSE(dominates({3, 1}, {1, 3}));
  EXPECT_FALSE(dominates({2, 2}, {2, 2}));  // equal points never dominate each other
  EXPECT_TRUE(dominates({-0.9, 100, 5}, {-0.8, 100, 5}));
  EXPECT_CONTAINS(error_message([] {
                    dominates({1, 2}, {1});
                  }),
                  "expected points with the same number of objectives, found 2 and 1");
}

TEST(NonDominatedSort, HandMadeFrontsKeepEqualPoints) {
  // 0 and 4 are equal and both on the first front; 1 trades off with them; 2 is dominated by
  // 0 and 4 only; 3 is dominated by 2.
  const Points points = {{1, 4}, {4, 1}, {2, 5}, {3, 6}, {1, 4}};
  const auto fronts = non_dominated_sort(points);
  ASSERT_EQ(fronts.size(), 3u);
  EXPECT_EQ(fronts[0], (std::vector<size_t>{0, 1, 4}));
  EXPECT_EQ(fronts[1], (std::vector<size_t>{2}));
  EXPECT_EQ(fronts[2], (std::vector<size_t>{3}));
}

/// Brute force: a point's front is 1 + the largest front of any point dominating it.
std::vector<int64_t> brute_force_ranks(const Points& points) {
  std::vector<int64_t> rank(points.size(), -1);
  std::set<size_t> remaining;
  for (size_t i = 0; i < points.size(); ++i) remaining.insert(i);
  for (int64_t level = 0; !remaining.empty(); ++level) {
    std::vector<size_t> current;
    for (size_t p : remaining) {
      bool dominated = false;
      for (size_t q : remaining) dominated = dominated || dominates(points[q], points[p]);
      if (!dominated) current.push_back(p);
    }
    for (size_t p : current) {
      rank[p] = level;
      remaining.erase(p);
    }
  }
  return rank;
}

TEST(NonDominatedSort, MatchesBruteForceOn500RandomPointsWithTies) {
  std::mt19937 generator(2002);
  // Few distinct values per objective so that ties and duplicates are common.
  std::uniform_int_distribution<int> coordinate(0, 9);
  for (int objectives : {2, 3}) {
    Points points(500);
    for (auto& point : points) {
      for (int i = 0; i < objectives; ++i) point.push_back(coordinate(generator));
    }
    const auto fronts = non_dominated_sort(points);
    const auto expected = brute_force_ranks(points);
    std::vector<int64_t> rank(points.size(), -1);
    size_t total = 0;
    for (size_t level = 0; level < fronts.size(); ++level) {
      for (size_t index : fronts[level]) rank[index] = static_cast<int64_t>(level);
      total += fronts[level].size();
    }
    EXPECT_EQ(total, points.size());
    EXPECT_EQ(rank, expected) << objectives << " objectives";

    // Every first-front point is undominated; every other point is dominated by some point.
    for (size_t p = 0; p < points.size(); ++p) {
      bool dominated = false;
      for (size_t q = 0; q < points.size(); ++q) {
        dominated = dominated || dominates(points[q], points[p]);
      }
      EXPECT_EQ(dominated, rank[p] > 0) << "point " << p;
    }
  }
}

TEST(NonDominatedSort, ConstrainedDominationPutsFeasiblePointsFirst) {
  const Points points = {{5, 5}, {1, 1}, {2, 2}, {0, 0}};
  // 1 and 3 break a constraint (3 by more); 0 and 2 are feasible.
  const std::vector<double> violations = {0, 0.5, 0, 2.0};
  const auto fronts = non_dominated_sort(points, violations);
  ASSERT_EQ(fronts.size(), 4u);
  EXPECT_EQ(fronts[0], (std::vector<size_t>{2}));
  EXPECT_EQ(fronts[1], (std::vector<size_t>{0}));
  EXPECT_EQ(fronts[2], (std::vector<size_t>{1}));
  EXPECT_EQ(fronts[3], (std::vector<size_t>{3}));
}

TEST(CrowdingDistance, ExtremesAreInfiniteAndInnerPointsSumNormalisedGaps) {
  const Points points = {{0, 4}, {1, 3}, {3, 1}, {4, 0}};
  const auto distance = crowding_distance(points, {0, 1, 2, 3});
  EXPECT_TRUE(std::isinf(distance[0]));
  EXPECT_TRUE(std::isinf(distance[3]));
  EXPECT_DOUBLE_EQ(distance[1], 3.0 / 4 + 3.0 / 4);
  EXPECT_DOUBLE_EQ(distance[2], 3.0 / 4 + 3.0 / 4);
}

TrialRecord trial(int64_t id, TrialState state, double accuracy, int64_t params,
                  const std::string& result_json = "{}") {
  TrialRecord record;
  record.id = id;
  record.state = state;
  record.validation_accuracy = accuracy;
  record.params = params;
  record.flops = params * 10;
  record.architecture = "arch" + std::to_string(id);
  record.result_json = result_json;
  return record;
}

std::vector<int64_t> ids(const std::vector<ParetoEntry>& entries) {
  std::vector<int64_t> result;
  for (const auto& entry : entries) result.push_back(entry.trial.id);
  return result;
}

TEST(ParetoReport, FrontOfCompleteFeasibleTrialsOnly) {
  const double nan = std::nan("");
  const std::vector<TrialRecord> trials = {
      trial(1, TrialState::kComplete, 0.80, 1000),   trial(2, TrialState::kComplete, 0.90, 5000),
      trial(3, TrialState::kComplete, 0.85, 6000),  // dominated by 2
      trial(4, TrialState::kFailed, nan, 10),        trial(5, TrialState::kInvalid, nan, 1),
      trial(6, TrialState::kPruned, 0.99, 1),         // a pruned trial never appears
      trial(7, TrialState::kComplete, 0.90, 5000),    // equal to 2: both kept
      trial(8, TrialState::kComplete, 0.95, 200000),  // breaks the params constraint
  };
  ObjectivesConfig config;
  config.optimize = {"accuracy", "params"};
  config.constraints = {{"params", 100000}};
  const ParetoReport report = pareto_report(trials, config);
  EXPECT_EQ(report.complete, 5);
  EXPECT_EQ(report.feasible, 4);
  EXPECT_EQ(ids(report.front), (std::vector<int64_t>{2, 7, 1}));
  EXPECT_TRUE(report.least_violating.empty());

  const nlohmann::json json = pareto_json(report, config);
  EXPECT_TRUE(json["any_feasible"].get<bool>());
  EXPECT_EQ(json["front"].size(), 3u);
  EXPECT_EQ(json["constraints"]["params"].get<double>(), 100000);
  EXPECT_EQ(best_feasible_trial(trials, config)->id, 2);
}

TEST(ParetoReport, NoFeasibleTrialShowsTheLeastViolating) {
  const std::vector<TrialRecord> trials = {
      trial(1, TrialState::kComplete, 0.80, 1000, R"({"latency_ms": 3.0})"),
      trial(2, TrialState::kComplete, 0.90, 5000, R"({"latency_ms": 2.5})"),
      trial(3, TrialState::kComplete, 0.70, 500, R"({"latency_ms": 8.0})"),
      trial(4, TrialState::kComplete, 0.95, 500),  // latency never measured: unknown
  };
  ObjectivesConfig config;
  config.optimize = {"accuracy", "latency_ms"};
  config.constraints = {{"latency_ms", 2.0}, {"accuracy", 0.75}};
  const ParetoReport report = pareto_report(trials, config, 3);
  EXPECT_EQ(report.feasible, 0);
  EXPECT_TRUE(report.front.empty());
  EXPECT_EQ(ids(report.least_violating), (std::vector<int64_t>{2, 1, 3}));
  EXPECT_DOUBLE_EQ(report.least_violating[0].violation, 0.25);
  EXPECT_DOUBLE_EQ(report.least_violating[1].violation, 0.5);
  EXPECT_DOUBLE_EQ(report.least_violating[2].violation, 3.0 + 0.05 / 0.75);
  EXPECT_CONTAINS(report.message, "no trial is feasible: all 4 complete trials break");

  const nlohmann::json json = pareto_json(report, config);
  EXPECT_FALSE(json["any_feasible"].get<bool>());
  EXPECT_EQ(json["least_violating"][0]["trial_id"].get<int64_t>(), 2);
  // With nothing feasible, the best is the least violating.
  EXPECT_EQ(best_feasible_trial(trials, config)->id, 2);
}

TEST(ParetoReport, NoCompleteTrialSaysSo) {
  const ParetoReport report =
      pareto_report({trial(1, TrialState::kFailed, std::nan(""), 1)}, ObjectivesConfig{});
  EXPECT_TRUE(report.front.empty());
  EXPECT_TRUE(report.least_violating.empty());
  EXPECT_EQ(report.message, "no trial completed, so there is no front");
}

TEST(Objectives, ScalarObjectiveRanksInfeasibleBelowFeasible) {
  ObjectivesConfig config;
  config.constraints = {{"params", 1000}};
  TrialMetrics feasible;
  feasible.accuracy = 0.1;
  feasible.params = 1000;
  TrialMetrics slightly_over = feasible;
  slightly_over.accuracy = 0.99;
  slightly_over.params = 1001;
  TrialMetrics far_over = slightly_over;
  far_over.params = 5000;
  EXPECT_DOUBLE_EQ(scalar_objective(feasible, config), 0.1);
  EXPECT_LT(scalar_objective(slightly_over, config), 0.0);
  EXPECT_LT(scalar_objective(far_over, config), scalar_objective(slightly_over, config));
}

TEST(Objectives, ValidateNamesTheField) {
  ObjectivesConfig config;
  config.optimize = {"accuracy", "latency"};
  EXPECT_CONTAINS(error_message([&] { config.validate(); }),
                  "objectives.optimize: expected accuracy, params, flops, latency_ms, "
                  "batch_latency_ms or memory_mb, found 'latency'");
  config.optimize = {"accuracy"};
  config.constraints = {{"params", -5}};
  EXPECT_CONTAINS(error_message([&] { config.validate(); }),
                  "objectives.constraints: expected a number > 0 for params, found -5");
}

}  // namespace
}  // namespace nascent
