#include "nascent/strategy/strategy.h"

#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <set>
#include <string>
#include <vector>

#include "nascent/core/error.h"
#include "nascent/strategy/random_search.h"
#include "nascent/strategy/regularized_evolution.h"

#include "error_expectations.h"

namespace nascent {
namespace {

using testing_support::error_message;

/// `count` categorical decisions d0, d1, ... with `choices` values c0, c1, ... each.
SearchSpace flat_space(int64_t count, int64_t choices) {
  SearchSpace space;
  for (int64_t i = 0; i < count; ++i) {
    std::vector<std::string> values;
    for (int64_t c = 0; c < choices; ++c) values.push_back("c" + std::to_string(c));
    space.add(Decision::categorical("d" + std::to_string(i), values));
  }
  return space;
}

/// A small conditional space of 3 * (2 + 2 * 2) = 18 architectures.
SearchSpace small_space() {
  SearchSpace space;
  space.add(Decision::integer("depth", 1, 3));
  space.add(Decision::categorical("op", {"conv", "pool"}));
  space.add(
      Decision::categorical("width", {"16", "32"}).when(Condition::one_of_values("op", {"conv"})));
  space.add(Decision::categorical("kernel", {"3", "5"}));
  return space;
}

/// How many decisions of two architectures over the same flat space differ.
int64_t distance(const Architecture& a, const Architecture& b) {
  int64_t differing = 0;
  for (const auto& [name, value] : a.values()) {
    if (b.get(name) != value) ++differing;
  }
  return differing;
}

Observation complete(double objective) { return Observation{TrialState::kComplete, objective}; }

TEST(RandomSearch, ProposesEverySmallSpaceArchitectureOnceThenStops) {
  const SearchSpace space = small_space();
  ASSERT_EQ(space.count(100), 18);
  RandomSearch search(space, /*seed=*/1, /*enumeration_limit=*/100);
  EXPECT_EQ(search.name(), "random");

  std::set<std::string> proposed;
  for (int i = 0; i < 18; ++i) {
    const auto architecture = search.ask();
    ASSERT_TRUE(architecture.has_value()) << "after " << i << " proposals";
    EXPECT_NO_THROW(space.validate(*architecture));
    EXPECT_TRUE(proposed.insert(architecture->to_string()).second)
        << "proposed twice: " << architecture->to_string();
    search.tell(*architecture, complete(0.5));
  }
  EXPECT_EQ(search.ask(), std::nullopt);
  EXPECT_EQ(search.ask(), std::nullopt);

  std::set<std::string> all;
  for (const auto& architecture : space.enumerate(100)) all.insert(architecture.to_string());
  EXPECT_EQ(proposed, all);
}

TEST(RandomSearch, SameSeedGivesTheSameSequence) {
  const SearchSpace space = small_space();
  const auto sequence = [&](uint64_t seed, int64_t enumeration_limit) {
    RandomSearch search(space, seed, enumeration_limit);
    std::vector<std::string> texts;
    for (int i = 0; i < 18; ++i) texts.push_back(search.ask()->to_string());
    return texts;
  };
  // Enumerated and shuffled:
  EXPECT_EQ(sequence(7, 100), sequence(7, 100));
  EXPECT_NE(sequence(7, 100), sequence(8, 100));
  // Sampled (the space is larger than the enumeration limit):
  EXPECT_EQ(sequence(7, 10), sequence(7, 10));
  EXPECT_NE(sequence(7, 10), sequence(8, 10));
}

TEST(RandomSearch, SamplesForeverWhenTheSpaceIsTooLargeToEnumerate) {
  const SearchSpace space = small_space();
  RandomSearch search(space, /*seed=*/3, /*enumeration_limit=*/10);
  for (int i = 0; i < 100; ++i) {
    const auto architecture = search.ask();
    ASSERT_TRUE(architecture.has_value());
    EXPECT_NO_THROW(space.validate(*architecture));
  }
}

TEST(RegularizedEvolution, PopulationAgesOutTheOldestAndKeepsItsSize) {
  const SearchSpace space = flat_space(4, 3);
  RegularizedEvolution evolution(space, /*seed=*/1, /*population_size=*/4, /*sample_size=*/2);
  EXPECT_EQ(evolution.name(), "evolution");

  std::vector<Architecture> told;
  for (int i = 0; i < 10; ++i) {
    const auto architecture = evolution.ask();
    ASSERT_TRUE(architecture.has_value());
    told.push_back(*architecture);
    // The best objective comes first: even the best member is retired when it is oldest.
    evolution.tell(*architecture, complete(i == 0 ? 1.0 : 0.1 * i));

    const auto& population = evolution.population();
    ASSERT_EQ(population.size(), static_cast<size_t>(std::min(i + 1, 4)));
    // Oldest first: the members are the last ones told, in order.
    const size_t first = told.size() - population.size();
    for (size_t j = 0; j < population.size(); ++j) {
      EXPECT_EQ(population[j].first, told[first + j]) << "member " << j << " after " << i + 1;
    }
  }
  EXPECT_DOUBLE_EQ(evolution.population().front().second, 0.6);
  EXPECT_DOUBLE_EQ(evolution.population().back().second, 0.9);
}

TEST(RegularizedEvolution, ChildrenAreOneMutationFromAMember) {
  const SearchSpace space = flat_space(6, 4);
  RegularizedEvolution evolution(space, /*seed=*/2, /*population_size=*/3, /*sample_size=*/2);
  const Architecture parent = space.parse("d0=c0 d1=c1 d2=c2 d3=c3 d4=c0 d5=c1");
  for (int i = 0; i < 3; ++i) evolution.tell(parent, complete(0.5));

  // Every member is `parent`, so every child is exactly one decision away from it.
  for (int i = 0; i < 50; ++i) {
    const auto child = evolution.ask();
    ASSERT_TRUE(child.has_value());
    EXPECT_EQ(distance(*child, parent), 1) << child->to_string();
  }
}

TEST(RegularizedEvolution, TournamentPrefersTheBetterMember) {
  const SearchSpace space = flat_space(6, 4);
  RegularizedEvolution evolution(space, /*seed=*/3, /*population_size=*/2, /*sample_size=*/2);
  const Architecture good = space.parse("d0=c0 d1=c0 d2=c0 d3=c0 d4=c0 d5=c0");
  const Architecture bad = space.parse("d0=c1 d1=c1 d2=c1 d3=c1 d4=c1 d5=c1");
  evolution.tell(good, complete(0.9));
  evolution.tell(bad, complete(0.1));

  // Two draws with replacement miss `good` with probability 1/4, so about 3/4 of the
  // children come from it (a child is one step from its parent and five from the other).
  int64_t from_good = 0;
  constexpr int kChildren = 400;
  for (int i = 0; i < kChildren; ++i) {
    const Architecture child = *evolution.ask();
    ASSERT_TRUE(distance(child, good) == 1 || distance(child, bad) == 1) << child.to_string();
    if (distance(child, good) == 1) ++from_good;
  }
  // Binomial(400, 0.75): standard deviation about 8.7; allow five.
  EXPECT_NEAR(from_good, 300, 45);
}

TEST(RegularizedEvolution, FailedAndInvalidObservationsAreIgnored) {
  const SearchSpace space = flat_space(4, 3);
  RegularizedEvolution evolution(space, /*seed=*/4, /*population_size=*/3, /*sample_size=*/2);
  const Architecture member = space.parse("d0=c0 d1=c0 d2=c0 d3=c0");
  const Architecture other = space.parse("d0=c2 d1=c2 d2=c2 d3=c2");
  evolution.tell(member, complete(0.5));

  const double nan = std::numeric_limits<double>::quiet_NaN();
  evolution.tell(other, Observation{TrialState::kFailed, nan});
  evolution.tell(other, Observation{TrialState::kInvalid, nan});
  evolution.tell(other, Observation{TrialState::kPruned, 0.3});
  evolution.tell(other, Observation{TrialState::kInterrupted, 0.3});
  evolution.tell(other, Observation{TrialState::kComplete, nan});

  ASSERT_EQ(evolution.population().size(), 1u);
  EXPECT_EQ(evolution.population().front().first, member);

  // The population is not full, so asking still samples at random.
  EXPECT_NO_THROW(space.validate(*evolution.ask()));
}

/// The toy objective: the fraction of decisions equal to a hidden target, plus up to 0.005 of
/// noise derived from the architecture's hash (deterministic, breaks ties).
double toy_objective(const Architecture& architecture) {
  int64_t matches = 0;
  int64_t decision = 0;
  for (const auto& [name, value] : architecture.values()) {
    // Hidden target: decision i should be c((3 i + 1) mod 5).
    if (value == "c" + std::to_string((3 * decision + 1) % 5)) ++matches;
    ++decision;
  }
  const double noise = static_cast<double>(architecture.hash() % 1000) / 200000.0;
  return static_cast<double>(matches) / static_cast<double>(decision) + noise;
}

/// The best toy objective `strategy_name` finds in `budget` evaluations.
double best_toy_objective(const SearchSpace& space, const std::string& strategy_name, uint64_t seed,
                          int64_t budget) {
  StrategyOptions options;
  options.name = strategy_name;
  const auto strategy = make_strategy(options, space, seed);
  double best = -1.0;
  for (int64_t evaluation = 0; evaluation < budget; ++evaluation) {
    const auto architecture = strategy->ask();
    if (!architecture) break;
    const double objective = toy_objective(*architecture);
    best = std::max(best, objective);
    strategy->tell(*architecture, complete(objective));
  }
  return best;
}

TEST(Strategies, EvolutionBeatsRandomOnAToyObjective) {
  // 5^10 (about 9.8 million) architectures: random search samples, it cannot enumerate.
  const SearchSpace space = flat_space(10, 5);
  constexpr int kSeeds = 10;
  constexpr int64_t kBudget = 300;
  double random_total = 0.0;
  double evolution_total = 0.0;
  for (uint64_t seed = 0; seed < kSeeds; ++seed) {
    random_total += best_toy_objective(space, "random", seed, kBudget);
    evolution_total += best_toy_objective(space, "evolution", seed, kBudget);
  }
  const double random_mean = random_total / kSeeds;
  const double evolution_mean = evolution_total / kSeeds;
  RecordProperty("random_mean_best", std::to_string(random_mean));
  RecordProperty("evolution_mean_best", std::to_string(evolution_mean));

  // Measured with default StrategyOptions (population 16, sample 4) for seeds 0-9: random
  // 0.613, evolution 0.942 (difference 0.33). Over ten such groups of ten seeds (0-99) the
  // difference ranged from 0.25 to 0.34: random's best of 300 is 6 or 7 matches of 10,
  // evolution reaches 8 to 10. The margin leaves room for changes to the random streams.
  EXPECT_GT(evolution_mean, random_mean + 0.15)
      << "random " << random_mean << ", evolution " << evolution_mean;
}

TEST(Strategies, MakeStrategyBuildsTheNamedStrategy) {
  const SearchSpace space = small_space();
  StrategyOptions options;
  options.name = "random";
  EXPECT_EQ(make_strategy(options, space, 0)->name(), "random");
  options.name = "evolution";
  EXPECT_EQ(make_strategy(options, space, 0)->name(), "evolution");
  options.name = "local";
  EXPECT_EQ(make_strategy(options, space, 0)->name(), "local");
  options.name = "reinforce";
  EXPECT_EQ(make_strategy(options, space, 0)->name(), "reinforce");
  options.name = "bo";
  EXPECT_EQ(make_strategy(options, space, 0)->name(), "bo");
  options.surrogate = "ensemble";
  EXPECT_EQ(make_strategy(options, space, 0)->name(), "bo");
  options.fidelities = {1, 3, 9};
  for (const std::string name : {"sh", "hyperband", "bohb"}) {
    options.name = name;
    EXPECT_EQ(make_strategy(options, space, 0)->name(), name);
    EXPECT_TRUE(is_multi_fidelity(name));
  }
  EXPECT_FALSE(is_multi_fidelity("bo"));
  options.name = "nsga2";
  EXPECT_EQ(make_strategy(options, space, 0)->name(), "nsga2");
  EXPECT_EQ(strategy_names(),
            (std::vector<std::string>{"random", "evolution", "local", "reinforce", "bo", "sh",
                                      "hyperband", "bohb", "nsga2", "darts"}));

  // DARTS trains a supernet on the study's images, which make_strategy() has not got.
  options.name = "darts";
  EXPECT_TRUE(is_weight_sharing("darts"));
  EXPECT_FALSE(is_weight_sharing("bo"));
  EXPECT_EQ(error_message([&] { make_strategy(options, space, 0); }),
            "strategy darts: expected a strategy that proposes without training, found one that "
            "trains a supernet on images: it runs only in nascent search");
}

TEST(Strategies, TheLstmControllerNeedsTheLibTorchPart) {
  // This test binary links only the torch-free library, which never registers the controller.
  const SearchSpace space = small_space();
  StrategyOptions options;
  options.name = "reinforce";
  options.controller = "lstm";
  EXPECT_EQ(error_message([&] { make_strategy(options, space, 0); }),
            "strategy.controller: lstm needs the LibTorch part of nascent; expected "
            "nascent::register_torch_strategies() to have been called, found no LSTM controller");
  options.controller = "gru";
  EXPECT_EQ(error_message([&] { make_strategy(options, space, 0); }),
            "strategy.controller: expected factorised or lstm, found 'gru'");
}

TEST(Strategies, MakeStrategyRejectsAnUnknownNameWithASuggestion) {
  const SearchSpace space = small_space();
  StrategyOptions options;
  options.name = "evolutoin";
  EXPECT_EQ(error_message([&] { make_strategy(options, space, 0); }),
            "strategy.name: expected random, evolution, local, reinforce, bo, sh, hyperband, "
            "bohb, nsga2 or darts, found 'evolutoin' (did you mean 'evolution'?)");
  options.name = "bayesian";
  EXPECT_EQ(error_message([&] { make_strategy(options, space, 0); }),
            "strategy.name: expected random, evolution, local, reinforce, bo, sh, hyperband, "
            "bohb, nsga2 or darts, found 'bayesian'");
}

TEST(Strategies, MakeStrategyRejectsBadEvolutionSizes) {
  const SearchSpace space = small_space();
  StrategyOptions options;
  options.population_size = 1;
  EXPECT_EQ(error_message([&] { make_strategy(options, space, 0); }),
            "strategy.population: expected an integer >= 2, found 1");
  options.population_size = 8;
  options.sample_size = 9;
  EXPECT_EQ(error_message([&] { make_strategy(options, space, 0); }),
            "strategy.sample: expected an integer in [1, population=8], found 9");
  // NSGA-II has no tournament size: a population below the default sample is fine.
  options.name = "nsga2";
  options.population_size = 3;
  options.sample_size = 4;
  EXPECT_EQ(make_strategy(options, space, 0)->name(), "nsga2");
}

TEST(Strategies, MakeStrategyRejectsBadReinforceAndBoOptions) {
  const SearchSpace space = small_space();
  const auto message = [&](const std::function<void(StrategyOptions&)>& change) {
    StrategyOptions options;
    change(options);
    return error_message([&] { make_strategy(options, space, 0); });
  };
  EXPECT_EQ(message([](StrategyOptions& o) { o.learning_rate = 0; }),
            "strategy.learning_rate: expected a number > 0, found 0");
  EXPECT_EQ(message([](StrategyOptions& o) { o.learning_rate = std::nan(""); }),
            "strategy.learning_rate: expected a number > 0, found nan");
  EXPECT_EQ(message([](StrategyOptions& o) { o.baseline_decay = 1; }),
            "strategy.baseline_decay: expected a number in [0, 1), found 1");
  EXPECT_EQ(message([](StrategyOptions& o) { o.entropy_weight = -0.5; }),
            "strategy.entropy_weight: expected a number >= 0, found -0.5");
  EXPECT_EQ(message([](StrategyOptions& o) { o.initial_random = 0; }),
            "strategy.initial_random: expected an integer >= 1, found 0");
  EXPECT_EQ(message([](StrategyOptions& o) { o.candidates = 0; }),
            "strategy.candidates: expected an integer >= 1, found 0");
  EXPECT_EQ(message([](StrategyOptions& o) { o.parents = -2; }),
            "strategy.parents: expected an integer >= 1, found -2");
  EXPECT_EQ(message([](StrategyOptions& o) { o.acquisition = "pi"; }),
            "strategy.acquisition: expected ei, ucb or its, found 'pi'");
  EXPECT_EQ(message([](StrategyOptions& o) { o.ucb_beta = -1; }),
            "strategy.ucb_beta: expected a number >= 0, found -1");
  EXPECT_EQ(message([](StrategyOptions& o) { o.surrogate = "forest"; }),
            "strategy.surrogate: expected gp or ensemble, found 'forest'");
  EXPECT_EQ(message([](StrategyOptions& o) { o.batch = -1; }),
            "strategy.batch: expected an integer >= 1 (0: automatic), found -1");
}

TEST(Strategies, EveryStrategyBeatsRandomOnAToyObjective) {
  // The same 5^10 space and budget as EvolutionBeatsRandomOnAToyObjective (random: 0.61).
  const SearchSpace space = flat_space(10, 5);
  constexpr int kSeeds = 5;
  constexpr int64_t kBudget = 150;
  double random_total = 0.0;
  for (uint64_t seed = 0; seed < kSeeds; ++seed) {
    random_total += best_toy_objective(space, "random", seed, kBudget);
  }
  for (const std::string name : {"local", "reinforce", "bo"}) {
    double total = 0.0;
    for (uint64_t seed = 0; seed < kSeeds; ++seed) {
      total += best_toy_objective(space, name, seed, kBudget);
    }
    RecordProperty(name + "_mean_best", std::to_string(total / kSeeds));
    EXPECT_GT(total / kSeeds, random_total / kSeeds + 0.15)
        << name << " " << total / kSeeds << ", random " << random_total / kSeeds;
  }
}

}  // namespace
}  // namespace nascent
