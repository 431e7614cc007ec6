#include "nascent/strategy/lstm_controller.h"

#include <gtest/gtest.h>

#include <map>
#include <numeric>
#include <set>
#include <string>

#include "strategy/search_driver.h"

namespace nascent {
namespace {

using testing_support::complete;
using testing_support::easy_objective;
using testing_support::flat_space;
using testing_support::run_search;

StrategyOptions lstm_options() {
  StrategyOptions options;
  options.name = "reinforce";
  options.controller = "lstm";
  options.controller_learning_rate = 0.03;
  return options;
}

TEST(LstmReinforce, MakeStrategyBuildsItOnceRegistered) {
  register_torch_strategies();
  const SearchSpace space = flat_space(3, 3);
  const auto strategy = make_strategy(lstm_options(), space, 0);
  EXPECT_EQ(strategy->name(), "reinforce");
  EXPECT_NE(dynamic_cast<LstmReinforce*>(strategy.get()), nullptr);
}

TEST(LstmReinforce, StartsNearUniform) {
  const SearchSpace space = flat_space(3, 5);
  LstmReinforce controller(space, 1, lstm_options());
  const std::vector<double> probabilities = controller.first_decision_probabilities();
  ASSERT_EQ(probabilities.size(), 5u);
  EXPECT_NEAR(std::accumulate(probabilities.begin(), probabilities.end(), 0.0), 1.0, 1e-6);
  for (double p : probabilities) EXPECT_NEAR(p, 0.2, 0.02);
}

TEST(LstmReinforce, LearnsADecisionThatDependsOnAnEarlierOne) {
  // Results told for every value of d0 alike, rewarded only when d1 repeats d0. Every value of
  // d1 is rewarded equally often, so a factorised policy stays uniform (copying a fifth of the
  // time); the controller sees d0 before choosing d1 and learns to copy it, for every d0.
  const SearchSpace space = flat_space(2, 5);
  // Not counted, so that the controller keeps sampling after all 25 have been told.
  StrategyOptions options = lstm_options();
  options.enumeration_limit = 1;
  LstmReinforce controller(space, 4, options);
  Rng rng(5);
  for (int step = 0; step < 2000; ++step) {
    const int64_t first = rng.index(5);
    const bool copies = rng.uniform() < 0.5;
    const int64_t second = copies ? first : (first + 1 + rng.index(4)) % 5;
    Architecture architecture;
    architecture.set("d0", testing_support::numbered("c", first));
    architecture.set("d1", testing_support::numbered("c", second));
    controller.tell(architecture, complete(copies ? 1.0 : 0.0));
  }
  std::map<std::string, std::pair<int64_t, int64_t>> by_first;  // d0 -> (samples, copies)
  for (int i = 0; i < 500; ++i) {
    const auto proposal = controller.ask();
    ASSERT_TRUE(proposal.has_value());
    auto& [samples, copies] = by_first[proposal->get("d0")];
    ++samples;
    if (proposal->get("d1") == proposal->get("d0")) ++copies;
  }
  // A factorised policy copies value v with the probability p(d1 = v): these sum to 1 over
  // the five values, so their mean is 1/5 and at most one can exceed 1/2.
  ASSERT_EQ(by_first.size(), 5u);
  double mean_copied = 0.0;
  for (const auto& [value, counts] : by_first) {
    const double copied = static_cast<double>(counts.second) / static_cast<double>(counts.first);
    mean_copied += copied / 5.0;
    EXPECT_GT(copied, 0.3) << "d0 = " << value << ": copied in " << counts.second << " of "
                           << counts.first;
  }
  EXPECT_GT(mean_copied, 0.5);
}

TEST(LstmReinforce, FindsTheOptimumOfAnEasyLandscape) {
  // 5^6 = 15,625 architectures; random search needs about 7,800 queries on average.
  const SearchSpace space = flat_space(6, 5);
  int64_t found = 0;
  for (uint64_t seed = 0; seed < 5; ++seed) {
    LstmReinforce controller(space, seed, lstm_options());
    const auto run = run_search(controller, easy_objective, 1500, 1.0);
    if (run.queries_to_target) ++found;
  }
  EXPECT_EQ(found, 5);
}

TEST(LstmReinforce, SameSeedGivesTheSameSequence) {
  const SearchSpace space = flat_space(6, 5);
  const auto sequence = [&](uint64_t seed) {
    LstmReinforce controller(space, seed, lstm_options());
    return run_search(controller, easy_objective, 40, 2.0).proposals;
  };
  EXPECT_EQ(sequence(11), sequence(11));
  EXPECT_NE(sequence(11), sequence(12));
}

TEST(LstmReinforce, AnExhaustedSpaceEndsCleanly) {
  const SearchSpace space = flat_space(2, 2);
  LstmReinforce controller(space, 3, lstm_options());
  const auto run = run_search(controller, easy_objective, 100, 2.0, false);
  EXPECT_TRUE(run.exhausted);
  EXPECT_EQ(run.queries, 4);
}

}  // namespace
}  // namespace nascent
