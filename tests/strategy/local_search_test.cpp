#include "nascent/strategy/local_search.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "strategy/search_driver.h"

namespace nascent {
namespace {

using testing_support::complete;
using testing_support::easy_objective;
using testing_support::flat_space;
using testing_support::kNaN;
using testing_support::matching_fraction;
using testing_support::run_search;

/// How many decisions of two architectures over the same flat space differ.
int64_t distance(const Architecture& a, const Architecture& b) {
  int64_t differing = 0;
  for (const auto& [name, value] : a.values()) {
    if (b.get(name) != value) ++differing;
  }
  return differing;
}

TEST(LocalSearch, FindsTheOptimumOfAnEasyLandscape) {
  // 5^6 = 15,625 architectures; random search needs about 7,800 queries on average.
  const SearchSpace space = flat_space(6, 5);
  for (const bool first_improvement : {true, false}) {
    // Measured over seeds 0-199: first improvement 34 queries on average (at most 60),
    // whole neighbourhoods 90 (at most 120). The bounds leave room for other random streams.
    const int64_t bound = first_improvement ? 100 : 200;
    for (uint64_t seed = 0; seed < 10; ++seed) {
      LocalSearch search(space, seed, first_improvement, 100000, /*initial_random=*/1);
      EXPECT_EQ(search.name(), "local");
      const auto run = run_search(search, easy_objective, bound, 1.0);
      EXPECT_TRUE(run.queries_to_target.has_value())
          << "seed " << seed << ", first_improvement " << first_improvement << ": best " << run.best
          << " after " << run.queries << " queries";
    }
  }
}

TEST(LocalSearch, ProposesNeighboursOfTheCurrentArchitecture) {
  const SearchSpace space = flat_space(6, 5);
  LocalSearch search(space, /*seed=*/3, /*first_improvement=*/true, 100000);
  int64_t neighbours = 0;
  for (int i = 0; i < 60; ++i) {
    const auto proposal = search.ask();
    ASSERT_TRUE(proposal.has_value());
    // Apart from starting points (no current architecture), every proposal is one decision
    // away from the architecture being climbed from.
    if (search.current()) {
      EXPECT_EQ(distance(*proposal, *search.current()), 1) << proposal->to_string();
      ++neighbours;
    }
    search.tell(*proposal, easy_objective(*proposal));
  }
  EXPECT_GE(neighbours, 50);
}

TEST(LocalSearch, RestartsWhenNoNeighbourIsBetter) {
  // A flat objective: the start is a local optimum once its 6 * 4 neighbours are evaluated.
  const SearchSpace space = flat_space(6, 5);
  for (const bool first_improvement : {true, false}) {
    LocalSearch search(space, /*seed=*/5, first_improvement, 100000);
    std::set<std::string> proposed;
    for (int i = 0; i < 25; ++i) {
      const auto proposal = search.ask();
      ASSERT_TRUE(proposal.has_value());
      EXPECT_TRUE(proposed.insert(proposal->to_string()).second) << proposal->to_string();
      search.tell(*proposal, complete(0.5));
    }
    EXPECT_EQ(search.local_optima(), 0);

    const auto restart = search.ask();
    ASSERT_TRUE(restart.has_value());
    EXPECT_EQ(search.local_optima(), 1);
    EXPECT_FALSE(search.current().has_value());
    EXPECT_FALSE(proposed.contains(restart->to_string())) << restart->to_string();
  }
}

TEST(LocalSearch, TheFirstClimbStartsFromTheBestOfTheInitialRandomArchitectures) {
  const SearchSpace space = flat_space(6, 5);
  LocalSearch search(space, /*seed=*/9, /*first_improvement=*/true, 100000, /*initial_random=*/8);
  std::optional<Architecture> best;
  double best_objective = -1.0;
  std::set<std::string> initial;
  for (int i = 0; i < 8; ++i) {
    const auto proposal = search.ask();
    ASSERT_TRUE(proposal.has_value());
    EXPECT_FALSE(search.current().has_value()) << "proposal " << i << " is not a random start";
    EXPECT_TRUE(initial.insert(proposal->to_string()).second);
    const double objective = matching_fraction(*proposal, 5);
    if (objective > best_objective) {
      best_objective = objective;
      best = *proposal;
    }
    search.tell(*proposal, complete(objective));
  }
  const auto next = search.ask();
  ASSERT_TRUE(next.has_value());
  ASSERT_TRUE(search.current().has_value());
  EXPECT_EQ(search.current()->to_string(), best->to_string());
  EXPECT_EQ(distance(*next, *best), 1);
}

TEST(LocalSearch, SameSeedGivesTheSameSequence) {
  const SearchSpace space = flat_space(6, 5);
  const auto sequence = [&](uint64_t seed) {
    LocalSearch search(space, seed, true, 100000);
    return run_search(search, easy_objective, 40, 2.0).proposals;
  };
  EXPECT_EQ(sequence(11), sequence(11));
  EXPECT_NE(sequence(11), sequence(12));
}

TEST(LocalSearch, AResumedSearchClimbsFromTheBestToldArchitecture) {
  const SearchSpace space = flat_space(6, 5);
  LocalSearch search(space, /*seed=*/2, true, 100000);
  const Architecture best = space.parse("d0=c1 d1=c4 d2=c2 d3=c0 d4=c3 d5=c0");
  const Architecture other = space.parse("d0=c0 d1=c0 d2=c0 d3=c0 d4=c0 d5=c0");
  ASSERT_DOUBLE_EQ(matching_fraction(best, 5), 5.0 / 6.0);
  // Told out of the space's order: the same architecture all the same.
  Architecture shuffled;
  for (auto it = best.values().rbegin(); it != best.values().rend(); ++it) {
    shuffled.set(it->first, it->second);
  }
  search.tell(other, complete(0.0));
  search.tell(shuffled, complete(5.0 / 6.0));
  search.tell(other, Observation{TrialState::kFailed, kNaN});

  const auto proposal = search.ask();
  ASSERT_TRUE(proposal.has_value());
  ASSERT_TRUE(search.current().has_value());
  EXPECT_EQ(*search.current(), best);
  EXPECT_EQ(distance(*proposal, best), 1) << proposal->to_string();

  // Its one better neighbour is d5=c1; the search gets there.
  const auto run = run_search(search, easy_objective, 30, 1.0);
  EXPECT_TRUE(run.queries_to_target.has_value()) << "best " << run.best;
}

TEST(LocalSearch, KnownNeighboursAreJudgedWithoutBeingProposed) {
  const SearchSpace space = flat_space(3, 3);
  LocalSearch search(space, /*seed=*/4, true, 100000);
  const Architecture start = space.parse("d0=c0 d1=c0 d2=c0");
  search.tell(start, complete(0.9));
  Rng rng(0);
  const auto neighbours = space.neighbours(start, rng);
  for (const auto& neighbour : neighbours) search.tell(neighbour, complete(0.1));

  // The told start is a local optimum already: the first proposal is a fresh restart.
  const auto proposal = search.ask();
  ASSERT_TRUE(proposal.has_value());
  EXPECT_EQ(search.local_optima(), 1);
  EXPECT_NE(*proposal, start);
  for (const auto& neighbour : neighbours) EXPECT_NE(*proposal, neighbour);
}

TEST(LocalSearch, FailedResultsAreNeverClimbedTo) {
  const SearchSpace space = flat_space(6, 5);
  // Architectures with d1=c0 fail; the optimum (d1=c4) does not.
  const auto objective = [](const Architecture& architecture) {
    if (architecture.get("d1") == "c0") return Observation{TrialState::kFailed, kNaN};
    return easy_objective(architecture);
  };
  for (uint64_t seed = 0; seed < 5; ++seed) {
    LocalSearch search(space, seed, true, 100000);
    const auto run = run_search(search, objective, 100, 1.0);
    EXPECT_TRUE(run.queries_to_target.has_value()) << "seed " << seed << ": best " << run.best;
    if (search.current()) EXPECT_NE(search.current()->get("d1"), "c0");
  }

  // Everything fails: the search keeps restarting at new architectures.
  LocalSearch failing(space, /*seed=*/9, true, 100000);
  const auto run = run_search(
      failing,
      [](const Architecture&) {
        return Observation{TrialState::kInvalid, kNaN};
      },
      50, 1.0);
  EXPECT_EQ(run.queries, 50);
  EXPECT_EQ(run.proposals.size(), 50u);
}

TEST(LocalSearch, AnExhaustedSpaceEndsCleanly) {
  const SearchSpace space = flat_space(2, 3);
  LocalSearch search(space, /*seed=*/1, true, 100000);
  const auto run = run_search(
      search, [](const Architecture&) { return complete(0.5); }, 100, 2.0);
  EXPECT_TRUE(run.exhausted);
  EXPECT_EQ(run.queries, 9);
  EXPECT_EQ(run.proposals.size(), 9u);
  EXPECT_EQ(search.ask(), std::nullopt);
}

}  // namespace
}  // namespace nascent
