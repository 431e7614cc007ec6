#include "nascent/strategy/reinforce.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <numeric>
#include <string>
#include <vector>

#include "nascent/core/error.h"
#include "strategy/search_driver.h"

namespace nascent {
namespace {

using testing_support::complete;
using testing_support::easy_objective;
using testing_support::flat_space;
using testing_support::kNaN;
using testing_support::matching_fraction;
using testing_support::run_search;

/// REINFORCE with the default options.
Reinforce default_reinforce(const SearchSpace& space, uint64_t seed) {
  const StrategyOptions defaults;
  return Reinforce(space, seed, defaults.learning_rate, defaults.baseline_decay,
                   defaults.entropy_weight, defaults.enumeration_limit);
}

/// The probability the policy gives to `value` of `decision`.
double probability(const Reinforce& policy, const std::string& decision, const std::string& value) {
  const auto& values = policy.values(decision);
  const auto probabilities = policy.probabilities(decision);
  for (size_t i = 0; i < values.size(); ++i) {
    if (values[i] == value) return probabilities[i];
  }
  ADD_FAILURE() << "no value " << value << " for " << decision;
  return 0.0;
}

TEST(Reinforce, FindsTheOptimumOfAnEasyLandscape) {
  // Measured with the default options over seeds 0-199: 62 distinct queries on average, at most
  // 99 (random search needs about 7,800). Repeated samples are free and still teach the policy.
  const SearchSpace space = flat_space(6, 5);
  for (uint64_t seed = 0; seed < 10; ++seed) {
    Reinforce search = default_reinforce(space, seed);
    EXPECT_EQ(search.name(), "reinforce");
    const auto run = run_search(search, easy_objective, 200, 1.0);
    EXPECT_TRUE(run.queries_to_target.has_value())
        << "seed " << seed << ": best " << run.best << " after " << run.queries << " queries";
  }
}

TEST(Reinforce, SameSeedGivesTheSameSequence) {
  const SearchSpace space = flat_space(6, 5);
  const auto sequence = [&](uint64_t seed) {
    Reinforce search = default_reinforce(space, seed);
    return run_search(search, easy_objective, 40, 2.0).proposals;
  };
  EXPECT_EQ(sequence(21), sequence(21));
  EXPECT_NE(sequence(21), sequence(22));
}

TEST(Reinforce, RewardsMoveThePolicyEvenForArchitecturesItDidNotSample) {
  // A replayed history: tell() without ask().
  const SearchSpace space = flat_space(3, 4);
  Reinforce policy = default_reinforce(space, 1);
  EXPECT_FALSE(policy.baseline().has_value());
  EXPECT_DOUBLE_EQ(probability(policy, "d0", "c2"), 0.25);

  const Architecture good = space.parse("d0=c2 d1=c2 d2=c2");
  const Architecture bad = space.parse("d0=c3 d1=c3 d2=c3");
  for (int i = 0; i < 10; ++i) {
    policy.tell(good, complete(0.9));
    policy.tell(bad, complete(0.6));
  }
  ASSERT_TRUE(policy.baseline().has_value());
  EXPECT_GT(*policy.baseline(), 0.6);
  EXPECT_LT(*policy.baseline(), 0.9);
  for (const std::string decision : {"d0", "d1", "d2"}) {
    EXPECT_GT(probability(policy, decision, "c2"), 0.4) << decision;
    EXPECT_LT(probability(policy, decision, "c3"), 0.15) << decision;
    const auto probabilities = policy.probabilities(decision);
    EXPECT_NEAR(std::accumulate(probabilities.begin(), probabilities.end(), 0.0), 1.0, 1e-12);
  }
}

TEST(Reinforce, ResultsWithoutAnObjectiveGetTheLowestReward) {
  const SearchSpace space = flat_space(2, 3);
  Reinforce policy = default_reinforce(space, 2);
  const Architecture failing = space.parse("d0=c1 d1=c1");

  // Before any complete result there is no reward to give: nothing changes.
  policy.tell(failing, Observation{TrialState::kFailed, kNaN});
  policy.tell(failing, Observation{TrialState::kInvalid, kNaN});
  EXPECT_FALSE(policy.baseline().has_value());
  EXPECT_DOUBLE_EQ(probability(policy, "d0", "c1"), 1.0 / 3.0);

  policy.tell(space.parse("d0=c0 d1=c0"), complete(0.8));
  policy.tell(space.parse("d0=c2 d1=c2"), complete(0.7));
  for (int i = 0; i < 10; ++i) {
    policy.tell(failing, Observation{TrialState::kFailed, kNaN});
    policy.tell(failing, Observation{TrialState::kComplete, kNaN});
  }
  EXPECT_LT(probability(policy, "d0", "c1"), 0.2);
  for (const double p : policy.probabilities("d0")) EXPECT_TRUE(std::isfinite(p));
  EXPECT_TRUE(std::isfinite(*policy.baseline()));
  // The lowest reward was 0.7: the baseline cannot have fallen below it.
  EXPECT_GE(*policy.baseline(), 0.7 - 1e-12);
  EXPECT_NO_THROW(space.validate(*policy.ask()));
}

TEST(Reinforce, SamplesConditionalIntegerAndFloatDecisions) {
  SearchSpace space;
  space.add(Decision::integer("depth", 1, 3));
  space.add(Decision::categorical("op", {"conv", "pool"}));
  space.add(
      Decision::categorical("width", {"16", "32"}).when(Condition::one_of_values("op", {"conv"})));
  space.add(Decision::integer("layer3", 0, 1000).when(Condition::at_least_value("depth", 3)));
  space.add(Decision::real("dropout", 0.0, 0.5));
  space.add(Decision::real("lr", 1e-4, 1e-1, /*log_scale=*/true));

  Reinforce policy = default_reinforce(space, 3);
  // A large integer range and float ranges get 16 representative values, ends included.
  EXPECT_EQ(policy.values("layer3").size(), 16u);
  EXPECT_EQ(policy.values("layer3").front(), "0");
  EXPECT_EQ(policy.values("layer3").back(), "1000");
  EXPECT_EQ(policy.values("lr").front(), "0.0001");
  EXPECT_EQ(policy.values("lr").back(), "0.1");

  bool saw_width = false;
  bool saw_no_width = false;
  for (int i = 0; i < 200; ++i) {
    const auto architecture = policy.ask();
    ASSERT_TRUE(architecture.has_value());
    EXPECT_NO_THROW(space.validate(*architecture)) << architecture->to_string();
    (architecture->has("width") ? saw_width : saw_no_width) = true;
    const double reward = architecture->get_float("dropout") + (architecture->has("width") ? 1 : 0);
    policy.tell(*architecture, complete(reward));
  }
  EXPECT_TRUE(saw_width);
  EXPECT_TRUE(saw_no_width);
  EXPECT_GT(probability(policy, "op", "conv"), 0.5);

  // A value between representatives counts for the nearest one.
  EXPECT_NO_THROW(
      policy.tell(space.parse("depth=3 op=pool layer3=500 dropout=0.123 lr=0.003"), complete(0.5)));
  EXPECT_THROW(policy.probabilities("nope"), Error);
}

TEST(Reinforce, AnExhaustedSpaceEndsCleanly) {
  const SearchSpace space = flat_space(2, 2);
  Reinforce policy = default_reinforce(space, 4);
  const auto run = run_search(policy, easy_objective, 100, 2.0);
  EXPECT_TRUE(run.exhausted);
  EXPECT_EQ(run.queries, 4);
  EXPECT_EQ(policy.ask(), std::nullopt);
}

}  // namespace
}  // namespace nascent
