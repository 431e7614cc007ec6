#include "nascent/eval/pruner.h"

#include <gtest/gtest.h>

#include "error_expectations.h"

namespace nascent {
namespace {

using testing_support::error_message;

PruningOptions median_options(int64_t warmup_epochs) {
  PruningOptions options;
  options.rule = "median";
  options.min_trials = 5;
  options.warmup_epochs = warmup_epochs;
  return options;
}

PruningOptions asha_options(int64_t min_epochs) {
  PruningOptions options;
  options.rule = "asha";
  options.min_trials = 5;
  options.min_epochs = min_epochs;
  options.reduction_factor = 3;
  return options;
}

/// Runs scripted trials one after another, as the search loop does: each trial asks for a
/// decision after every epoch but its last and sees the (possibly cut) curves of the trials
/// before it. Returns the curves as they ran.
std::vector<std::vector<double>> run_trials(const PruningOptions& options,
                                            const std::vector<std::vector<double>>& scripts) {
  std::vector<std::vector<double>> history;
  for (const auto& script : scripts) {
    std::vector<double> curve;
    for (size_t epoch = 0; epoch < script.size(); ++epoch) {
      curve.push_back(script[epoch]);
      if (epoch + 1 < script.size() && decide_pruning(options, curve, history).prune) break;
    }
    history.push_back(curve);
  }
  return history;
}

// Five steady trials, then a late bloomer (worst for two epochs, best from the third), then a
// trial that is poor throughout.
const std::vector<std::vector<double>> kScripts = {
    {0.60, 0.65, 0.70, 0.72}, {0.62, 0.66, 0.69, 0.71}, {0.58, 0.63, 0.68, 0.70},
    {0.61, 0.64, 0.67, 0.69}, {0.59, 0.62, 0.66, 0.68}, {0.40, 0.55, 0.74, 0.80},
    {0.35, 0.40, 0.42, 0.44},
};
constexpr size_t kLateBloomer = 5;
constexpr size_t kPoor = 6;

// The median rule compares the trial's best so far with the others' running means. With a
// warm-up of 2 epochs the late bloomer is first judged at epoch 3, where its 0.74 beats the
// median running mean (0.64); the poor trial's best, 0.42, does not and it stops there.
TEST(PruningTest, MedianRuleWithWarmUpKeepsTheLateBloomerAndStopsThePoorTrial) {
  const auto ran = run_trials(median_options(2), kScripts);
  EXPECT_EQ(ran[kLateBloomer], kScripts[kLateBloomer]);
  EXPECT_EQ(ran[kPoor], (std::vector<double>{0.35, 0.40, 0.42}));
  for (size_t i = 0; i < kLateBloomer; ++i) EXPECT_EQ(ran[i], kScripts[i]);
}

// Without a warm-up the same rule stops the late bloomer at epoch 1 (0.40 < median 0.60):
// the warm-up is what protects it.
TEST(PruningTest, MedianRuleWithoutWarmUpStopsTheLateBloomer) {
  const auto ran = run_trials(median_options(0), kScripts);
  EXPECT_EQ(ran[kLateBloomer], (std::vector<double>{0.40}));
}

// ASHA with its first rung at epoch 3 (rungs 3, 9, ...): at epoch 3 the late bloomer's 0.74
// is in the top max(1, 6 / 3) = 2 of the six; the poor trial's 0.42 is not. With the first rung
// at epoch 1 the late bloomer is cut there.
TEST(PruningTest, AshaWithALateFirstRungKeepsTheLateBloomer) {
  const auto late = run_trials(asha_options(3), kScripts);
  EXPECT_EQ(late[kLateBloomer], kScripts[kLateBloomer]);
  EXPECT_EQ(late[kPoor], (std::vector<double>{0.35, 0.40, 0.42}));

  const auto early = run_trials(asha_options(1), kScripts);
  EXPECT_EQ(early[kLateBloomer], (std::vector<double>{0.40}));
}

TEST(PruningTest, NothingIsPrunedBeforeMinTrialsReachedTheEpoch) {
  for (const auto& options : {median_options(0), asha_options(1)}) {
    // Four earlier trials reached epoch 1: too few, however bad the trial is.
    std::vector<std::vector<double>> history = {{0.9}, {0.9, 0.9}, {0.9}, {0.9, 0.9, 0.9}};
    EXPECT_FALSE(decide_pruning(options, {0.1}, history).prune) << options.rule;
    // A fifth one that reached epoch 1 makes five.
    history.push_back({0.9});
    const PruningDecision decision = decide_pruning(options, {0.1}, history);
    EXPECT_TRUE(decision.prune) << options.rule;
    EXPECT_FALSE(decision.reason.empty());
  }
  // Only two of the five reached epoch 2.
  const std::vector<std::vector<double>> history = {{0.9}, {0.9, 0.9}, {0.9}, {0.9, 0.9}, {0.9}};
  EXPECT_FALSE(decide_pruning(median_options(0), {0.1, 0.1}, history).prune);
}

TEST(PruningTest, DecisionsDependOnlyOnTheGivenHistory) {
  const PruningOptions options = median_options(0);
  const std::vector<std::vector<double>> history = {
      {0.5, 0.6}, {0.6, 0.7}, {0.7, 0.8}, {0.4}, {0.55, 0.65}};
  const PruningDecision first = decide_pruning(options, {0.52}, history);
  const PruningDecision again = decide_pruning(options, {0.52}, history);
  EXPECT_TRUE(first.prune);
  EXPECT_EQ(first.reason,
            "pruned at epoch 1 by the median rule: best accuracy 52.00% is below the median "
            "55.00% of the running means of 5 earlier trials");
  EXPECT_EQ(again.reason, first.reason);
}

TEST(PruningTest, BadOptionsAreRefusedNamingTheField) {
  PruningOptions options;
  options.rule = "hyperband";
  EXPECT_EQ(error_message([&] { options.validate(); }),
            "pruning.rule: expected none, median or asha, found 'hyperband'");
  options = asha_options(1);
  options.reduction_factor = 1;
  EXPECT_EQ(error_message([&] { options.validate(); }),
            "pruning.reduction_factor: expected an integer >= 2, found 1");
  options = median_options(0);
  options.min_trials = 0;
  EXPECT_EQ(error_message([&] { options.validate(); }),
            "pruning.min_trials: expected an integer >= 1, found 0");
}

}  // namespace
}  // namespace nascent
