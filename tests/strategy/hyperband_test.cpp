#include "nascent/strategy/hyperband.h"

#include <gtest/gtest.h>

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "nascent/core/error.h"
#include "strategy/search_driver.h"

namespace nascent {
namespace {

using testing_support::complete;
using testing_support::flat_space;
using testing_support::kNaN;
using testing_support::matching_fraction;
using testing_support::run_multi_fidelity_search;

MultiFidelityOptions ladder_options(MultiFidelityKind kind) {
  MultiFidelityOptions options;
  options.kind = kind;
  options.fidelities = {1, 3, 9};
  options.eta = 3.0;
  return options;
}

/// The easy landscape, seen more faintly at lower fidelities: the order of architectures is the
/// same at every fidelity, but a short training reaches only part of the final accuracy.
Observation graded_objective(const Architecture& architecture, int64_t fidelity) {
  const double reached = static_cast<double>(fidelity) / (static_cast<double>(fidelity) + 1.0);
  return complete(matching_fraction(architecture, 5) * reached);
}

/// The fidelities of a run's proposals, in order.
std::vector<int64_t> fidelities_of(const testing_support::MultiFidelityRun& run) {
  std::vector<int64_t> fidelities;
  for (const auto& proposal : run.proposals) fidelities.push_back(proposal.second);
  return fidelities;
}

TEST(Hyperband, SuccessiveHalvingPromotesTheBestThirdOfEachRung) {
  const SearchSpace space = flat_space(6, 5);
  Hyperband search(space, /*seed=*/1, ladder_options(MultiFidelityKind::kSuccessiveHalving));
  EXPECT_EQ(search.name(), "sh");

  // One bracket: 9 architectures at 1 epoch, the best 3 at 3, the best 1 at 9 (9 + 9 + 9 epochs).
  const auto run = run_multi_fidelity_search(search, graded_objective, 9, 27, 2.0);
  const std::vector<int64_t> expected = {1, 1, 1, 1, 1, 1, 1, 1, 1, 3, 3, 3, 9};
  EXPECT_EQ(fidelities_of(run), expected);

  // The promoted ones are the best of the rung below, best first.
  std::vector<std::pair<double, std::string>> first_rung;
  for (size_t i = 0; i < 9; ++i) {
    const Architecture architecture = space.parse(run.proposals[i].first);
    first_rung.emplace_back(matching_fraction(architecture, 5), run.proposals[i].first);
  }
  std::stable_sort(first_rung.begin(), first_rung.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  std::set<std::string> best_three = {first_rung[0].second, first_rung[1].second,
                                      first_rung[2].second};
  std::set<std::string> promoted = {run.proposals[9].first, run.proposals[10].first,
                                    run.proposals[11].first};
  EXPECT_EQ(promoted, best_three);
  EXPECT_EQ(run.proposals[12].first, first_rung[0].second);
}

TEST(Hyperband, CyclesThroughItsBrackets) {
  const SearchSpace space = flat_space(6, 5);
  Hyperband search(space, /*seed=*/2, ladder_options(MultiFidelityKind::kHyperband));
  EXPECT_EQ(search.name(), "hyperband");

  // s = 2: 9 at 1, 3 at 3, 1 at 9. s = 1: ceil(3 / 2 * 3) = 5 at 3, 1 at 9. s = 0: 3 at 9.
  // Then s = 2 again.
  const auto run = run_multi_fidelity_search(search, graded_objective, 9, 27 + 24 + 27 + 1, 2.0);
  std::vector<int64_t> expected = {1, 1, 1, 1, 1, 1, 1, 1, 1, 3, 3, 3, 9};
  for (int64_t fidelity : {3, 3, 3, 3, 3, 9, 9, 9, 9, 1}) expected.push_back(fidelity);
  EXPECT_EQ(fidelities_of(run), expected);
  EXPECT_EQ(search.brackets_opened(), 4);
}

TEST(Hyperband, EveryKindFindsTheOptimumOfAnEasyLandscape) {
  // 5^6 = 15,625 architectures. Random search at full fidelity needs 7,812.5 evaluations of 9
  // epochs on average: 70,312 epochs. Measured over seeds 0-19: BOHB needs 60 to 819 epochs;
  // successive halving about 25,000 on average, Hyperband about 52,000 (it spends a third of
  // its brackets at full fidelity). The bounds leave room for other random streams.
  const SearchSpace space = flat_space(6, 5);
  const double random_search_epochs = 15625.0 / 2.0 * 9.0;
  for (auto kind : {MultiFidelityKind::kSuccessiveHalving, MultiFidelityKind::kHyperband}) {
    double total = 0.0;
    for (uint64_t seed = 0; seed < 20; ++seed) {
      Hyperband search(space, seed, ladder_options(kind));
      const auto run = run_multi_fidelity_search(search, graded_objective, 9, 1000000, 0.9);
      ASSERT_TRUE(run.cost_to_target.has_value()) << search.name() << " seed " << seed;
      total += static_cast<double>(*run.cost_to_target);
    }
    const double bound = kind == MultiFidelityKind::kSuccessiveHalving ? random_search_epochs / 2
                                                                       : random_search_epochs;
    EXPECT_LT(total / 20.0, bound) << static_cast<int>(kind);
  }
  for (uint64_t seed = 0; seed < 20; ++seed) {
    Hyperband bohb(space, seed, ladder_options(MultiFidelityKind::kBohb));
    const auto run = run_multi_fidelity_search(bohb, graded_objective, 9, 2000, 0.9);
    EXPECT_TRUE(run.cost_to_target.has_value())
        << "seed " << seed << ": best " << run.best_at_full << " after " << run.cost << " epochs";
  }
}

TEST(Hyperband, BohbDrawsEachNewArchitectureFromTheNewestModel) {
  // One bracket of 60 at the lowest fidelity. Drawn all at once when the bracket opens, none
  // could come from the model (no result yet) and their mean would be 1/5; drawn one at a time,
  // every member after the model's first d + 3 = 9 results comes from a model of the results.
  const SearchSpace space = flat_space(6, 5);
  MultiFidelityOptions options = ladder_options(MultiFidelityKind::kBohb);
  options.fidelities = {1, 3};
  options.bracket_size = 60;
  options.random_fraction = 0.0;
  Hyperband search(space, /*seed=*/3, options);
  const auto run = run_multi_fidelity_search(search, graded_objective, 3, 60, 2.0);
  ASSERT_EQ(run.proposals.size(), 60u);

  double first_nine = 0.0;
  double last_thirty = 0.0;
  for (size_t i = 0; i < 60; ++i) {
    ASSERT_EQ(run.proposals[i].second, 1) << i;
    const double matching = matching_fraction(space.parse(run.proposals[i].first), 5);
    if (i < 9) first_nine += matching / 9.0;
    if (i >= 30) last_thirty += matching / 30.0;
  }
  EXPECT_LT(first_nine, 0.4);
  EXPECT_GT(last_thirty, 0.4);
}

TEST(Hyperband, EtaDefaultsToTheRatioOfTheFidelities) {
  EXPECT_DOUBLE_EQ(default_eta({1, 3, 9}), 3.0);
  EXPECT_DOUBLE_EQ(default_eta({12, 200}), 200.0 / 12.0);
  EXPECT_DOUBLE_EQ(default_eta({5}), kDefaultLadderEta);

  // 12 and 200 epochs, as on the NAS-Bench-201 table: eta = 200 / 12, so a bracket starts
  // ceil(2 / 2 * 16.7) = 17 architectures at 12 epochs and promotes floor(17 / 16.7) = 1, and
  // each rung costs about the same (17 x 12 epochs, 1 x 200).
  const SearchSpace space = flat_space(6, 5);
  StrategyOptions options;
  options.name = "sh";
  options.fidelities = {12, 200};
  const auto search = make_strategy(options, space, 0);
  const auto run = run_multi_fidelity_search(*search, graded_objective, 200, 17 * 12 + 200, 2.0);
  std::vector<int64_t> expected(17, 12);
  expected.push_back(200);
  EXPECT_EQ(fidelities_of(run), expected);
}

TEST(Hyperband, RepeatsItsProposalsForTheSameSeed) {
  const SearchSpace space = flat_space(6, 5);
  for (auto kind : {MultiFidelityKind::kSuccessiveHalving, MultiFidelityKind::kHyperband,
                    MultiFidelityKind::kBohb}) {
    Hyperband first(space, 7, ladder_options(kind));
    Hyperband second(space, 7, ladder_options(kind));
    const auto a = run_multi_fidelity_search(first, graded_objective, 9, 400, 2.0);
    const auto b = run_multi_fidelity_search(second, graded_objective, 9, 400, 2.0);
    EXPECT_EQ(a.proposals, b.proposals);
    Hyperband other(space, 8, ladder_options(kind));
    EXPECT_NE(run_multi_fidelity_search(other, graded_objective, 9, 400, 2.0).proposals,
              a.proposals);
  }
}

TEST(Hyperband, DoesNotProposeWhatItAlreadyKnows) {
  // A replayed history: the strategy is told results it did not ask for. None of those
  // architectures is proposed again at the fidelity it is known at.
  const SearchSpace space = flat_space(2, 3);
  Hyperband search(space, 3, ladder_options(MultiFidelityKind::kSuccessiveHalving));
  std::set<std::string> known;
  Rng rng(11);
  for (int i = 0; i < 5; ++i) {
    const Architecture architecture = space.sample(rng);
    Observation observation = complete(matching_fraction(architecture, 3));
    observation.fidelity = 1;
    search.tell(architecture, observation);
    known.insert(architecture.to_string());
  }
  std::set<std::string> proposed_at_lowest;
  while (auto proposal = search.propose()) {
    if (proposal->fidelity == 1) {
      EXPECT_FALSE(known.contains(proposal->architecture.to_string()))
          << proposal->architecture.to_string();
      EXPECT_TRUE(proposed_at_lowest.insert(proposal->architecture.to_string()).second)
          << "proposed twice at 1 epoch: " << proposal->architecture.to_string();
    }
    Observation observation = complete(matching_fraction(proposal->architecture, 3));
    observation.fidelity = proposal->fidelity;
    search.tell(proposal->architecture, observation);
  }
  // The space has 9 architectures: the others were started at 1 epoch, and then it ran out.
  EXPECT_EQ(proposed_at_lowest.size(), 9u - known.size());
}

TEST(Hyperband, EndsCleanlyWhenTheSpaceIsExhausted) {
  const SearchSpace space = flat_space(2, 3);
  for (auto kind : {MultiFidelityKind::kSuccessiveHalving, MultiFidelityKind::kHyperband,
                    MultiFidelityKind::kBohb}) {
    Hyperband search(space, 5, ladder_options(kind));
    const auto run = run_multi_fidelity_search(search, graded_objective, 9, 100000, 2.0);
    EXPECT_TRUE(run.exhausted);
    // Each (architecture, fidelity) evaluated at most once: 9 architectures x 3 fidelities.
    std::set<std::pair<std::string, int64_t>> distinct(run.proposals.begin(), run.proposals.end());
    EXPECT_EQ(distinct.size(), run.proposals.size());
    EXPECT_LE(run.proposals.size(), 27u);
  }
}

TEST(Hyperband, NeverPromotesAFailedResult) {
  const SearchSpace space = flat_space(6, 5);
  Hyperband search(space, 4, ladder_options(MultiFidelityKind::kSuccessiveHalving));
  // Everything fails except one architecture per rung: only that one moves on.
  int64_t told = 0;
  std::string survivor;
  while (auto proposal = search.propose()) {
    Observation observation{TrialState::kFailed, kNaN, proposal->fidelity, {}, 0.0};
    if (proposal->fidelity == 1 && told == 4) {
      observation = complete(0.5);
      observation.fidelity = 1;
      survivor = proposal->architecture.to_string();
    }
    if (proposal->fidelity > 1) {
      EXPECT_EQ(proposal->architecture.to_string(), survivor);
      if (proposal->fidelity == 9) break;
      observation = complete(0.6);
      observation.fidelity = proposal->fidelity;
    }
    search.tell(proposal->architecture, observation);
    ++told;
  }
  EXPECT_FALSE(survivor.empty());
}

TEST(Hyperband, MakeStrategyNeedsAFidelityLadder) {
  const SearchSpace space = flat_space(3, 3);
  StrategyOptions options;
  options.name = "bohb";
  testing::internal::CaptureStderr();
  try {
    make_strategy(options, space, 0);
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_STREQ(error.what(),
                 "strategy bohb: expected a fidelity ladder (training epochs) from the study, "
                 "found none");
  }
  testing::internal::GetCapturedStderr();
  options.fidelities = {3, 3};
  EXPECT_THROW(make_strategy(options, space, 0), Error);
  options.fidelities = {1, 3};
  options.eta = 1.0;
  EXPECT_THROW(make_strategy(options, space, 0), Error);
  options.eta = 3.0;
  EXPECT_EQ(make_strategy(options, space, 0)->name(), "bohb");
}

}  // namespace
}  // namespace nascent
