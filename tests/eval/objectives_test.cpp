// The `objectives` section of experiment files, and NSGA-II's selection.

#include <gtest/gtest.h>

#include <cmath>
#include <set>

#include "nascent/core/error.h"
#include "nascent/experiment/config.h"
#include "nascent/strategy/nsga2.h"

#include "error_expectations.h"

namespace nascent {
namespace {

/// The message of the ConfigError that parsing `text` as "exp.yaml" throws.
std::string config_message(const std::string& text) {
  try {
    parse_experiment_config(text, "exp.yaml");
  } catch (const ConfigError& error) {
    return error.what();
  }
  ADD_FAILURE() << "expected nascent::ConfigError for:\n" << text;
  return "";
}

const std::string kBase =
    "space: {family: macro}\n"    // 1
    "budget: {max_trials: 5}\n";  // 2

TEST(ObjectivesConfig, ReadsObjectivesConstraintsAndLatencySettings) {
  const ExperimentConfig config =
      parse_experiment_config(kBase +
                                  "objectives:\n"
                                  "  optimize: [accuracy, params, latency_ms]\n"
                                  "  constraints: {params: 100000, latency_ms: 2, accuracy: 0.5}\n"
                                  "  latency_batch_size: 64\n"
                                  "  latency_repeats: 7\n",
                              "exp.yaml");
  EXPECT_EQ(config.objectives.optimize,
            (std::vector<std::string>{"accuracy", "params", "latency_ms"}));
  ASSERT_EQ(config.objectives.constraints.size(), 3u);
  EXPECT_EQ(config.objectives.constraints[0], (std::pair<std::string, double>{"params", 100000}));
  EXPECT_EQ(config.objectives.constraints[2], (std::pair<std::string, double>{"accuracy", 0.5}));
  EXPECT_EQ(config.objectives.latency_batch_size, 64);
  EXPECT_EQ(config.objectives.latency_repeats, 7);
  EXPECT_TRUE(config.objectives.uses("latency_ms"));
  EXPECT_FALSE(config.objectives.uses("memory_mb"));
  // A study with objectives has them in its fingerprint; one without keeps the old one.
  EXPECT_CONTAINS(search_fingerprint(config), "objectives: optimize=accuracy,params,latency_ms");
  EXPECT_EQ(search_fingerprint(parse_experiment_config(kBase, "exp.yaml")).find("objectives"),
            std::string::npos);
}

TEST(ObjectivesConfig, BadValuesNameFileLineAndKey) {
  EXPECT_EQ(config_message(kBase + "objectives:\n  optimize: [accuracy, latency]\n"),
            "exp.yaml:4: objectives.optimize[1]: expected accuracy, params, flops, latency_ms, "
            "batch_latency_ms or memory_mb, found 'latency'");
  EXPECT_EQ(config_message(kBase + "objectives:\n  optimize: [params, params]\n"),
            "exp.yaml:4: objectives.optimize[1]: expected each metric once, found 'params' twice");
  EXPECT_EQ(config_message(kBase + "objectives:\n  constraints: {parms: 5}\n"),
            "exp.yaml:4: objectives.constraints.parms: unknown key; expected one of accuracy, "
            "params, flops, latency_ms, batch_latency_ms or memory_mb (did you mean 'params'?)");
  EXPECT_EQ(config_message(kBase + "objectives:\n  constraints:\n    latency_ms: -2\n"),
            "exp.yaml:5: objectives.constraints.latency_ms: expected a number > 0 (an upper "
            "bound), found -2");
  EXPECT_EQ(config_message(kBase + "objectives:\n  constraints: {accuracy: 92.5}\n"),
            "exp.yaml:4: objectives.constraints.accuracy: expected a fraction in [0, 1] (a lower "
            "bound), found 92.5");
  EXPECT_EQ(config_message(kBase + "objectives:\n  latency_batch_size: 0\n"),
            "exp.yaml:4: objectives.latency_batch_size: expected an integer >= 1, found 0");
  EXPECT_EQ(config_message(kBase + "objectives:\n  optimise: [params]\n"),
            "exp.yaml:4: objectives.optimise: unknown key; expected one of optimize, constraints, "
            "latency_batch_size, latency_warmup or latency_repeats (did you mean 'optimize'?)");
  EXPECT_EQ(config_message(kBase + "objectives:\n  optimize: []\n"),
            "exp.yaml:4: objectives.optimize: expected a list of at least one metric, found an "
            "empty list");
}

Nsga2::Member member(const std::string& name, std::vector<double> costs, double violation = 0) {
  Nsga2::Member result;
  result.architecture.set("id", name);
  result.costs = std::move(costs);
  result.violation = violation;
  return result;
}

std::set<std::string> names(const std::vector<Nsga2::Member>& members) {
  std::set<std::string> result;
  for (const auto& m : members) result.insert(m.architecture.get("id"));
  return result;
}

TEST(Nsga2, SurvivorsAreWholeFrontsThenTheLeastCrowded) {
  // Front 1: a, b, c, d (a trade-off line); front 2: e; infeasible: f (dominates all if counted).
  const std::vector<Nsga2::Member> candidates = {
      member("a", {0, 4}), member("b", {1, 3}), member("c", {1.1, 2.9}),
      member("d", {4, 0}), member("e", {5, 5}), member("f", {-10, -10}, 0.5)};
  EXPECT_EQ(names(Nsga2::select_survivors(candidates, 5)),
            (std::set<std::string>{"a", "b", "c", "d", "e"}));
  // Keeping 3 of the first front: both extremes (infinite crowding), then the less crowded of
  // b and c... b and c are equally crowded in sum, so the earlier one by stable order.
  const auto three = Nsga2::select_survivors(candidates, 3);
  EXPECT_TRUE(names(three).count("a"));
  EXPECT_TRUE(names(three).count("d"));
  EXPECT_EQ(three[0].rank, 0);
  // The infeasible point comes last even though its costs are the lowest.
  const auto all = Nsga2::select_survivors(candidates, 6);
  EXPECT_EQ(all.back().architecture.get("id"), "f");
  EXPECT_EQ(all.back().rank, 2);
}

TEST(Nsga2, ConvergesTowardsTheFrontOfTwoConflictingTargets) {
  // Six decisions of 4 values; cost 1 = decisions differing from all-c0, cost 2 = from all-c3.
  // The true front: every architecture using only c0 and c3 (costs k and 6 - k).
  SearchSpace space;
  for (int i = 0; i < 6; ++i) {
    space.add(Decision::categorical("d" + std::to_string(i), {"c0", "c1", "c2", "c3"}));
  }
  Nsga2 strategy(space, 7, 12);
  EXPECT_EQ(strategy.name(), "nsga2");
  for (int step = 0; step < 400; ++step) {
    const Architecture architecture = *strategy.ask();
    double first = 0;
    double second = 0;
    for (const auto& [name, value] : architecture.values()) {
      first += value != "c0";
      second += value != "c3";
    }
    Observation observation{TrialState::kComplete, -first};
    observation.costs = {first, second};
    strategy.tell(architecture, observation);
  }
  // The population has converged to true front members (cost sum 6) of diverse trade-offs.
  std::set<double> trade_offs;
  for (const auto& m : strategy.population()) {
    EXPECT_DOUBLE_EQ(m.costs[0] + m.costs[1], 6.0);
    trade_offs.insert(m.costs[0]);
  }
  EXPECT_GE(trade_offs.size(), 5u);
}

}  // namespace
}  // namespace nascent
