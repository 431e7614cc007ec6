#include "nascent/strategy/weight_ranking.h"

#include <gtest/gtest.h>

#include <cmath>
#include <set>
#include <string>

#include "error_expectations.h"
#include "nascent/core/error.h"
#include "nascent/space/nasbench201.h"

namespace nascent {
namespace {

/// A 3-operation NAS-Bench-201 space (729 cells) and probabilities that differ per edge.
struct RankedCells {
  SearchSpace space = make_nasbench201_space(
      Nasbench201SpaceOptions().with_operations({"none", "skip_connect", "nor_conv_3x3"}));
  DecisionProbabilities probabilities = {
      {"edge_0_1", {0.1, 0.3, 0.6}}, {"edge_0_2", {0.5, 0.25, 0.25}},
      {"edge_1_2", {0.2, 0.7, 0.1}}, {"edge_0_3", {0.05, 0.15, 0.8}},
      {"edge_1_3", {0.4, 0.4, 0.2}}, {"edge_2_3", {0.34, 0.33, 0.33}}};

  double probability(const Architecture& architecture) const {
    double product = 1.0;
    for (const Decision& decision : space.decisions()) {
      const std::string& value = architecture.get(decision.name);
      const auto choice = std::find(decision.choices.begin(), decision.choices.end(), value);
      product *=
          probabilities.at(decision.name)[static_cast<size_t>(choice - decision.choices.begin())];
    }
    return product;
  }
};

TEST(WeightRanking, TheFirstProposalTakesEachEdgesMostProbableOperation) {
  const RankedCells cells;
  WeightRanking ranking(cells.space, cells.probabilities, "darts");
  const auto first = ranking.ask();
  ASSERT_TRUE(first);
  // Ties (edge_0_2's skip and conv, edge_1_3's none and skip) go to the earlier choice.
  EXPECT_EQ(cells.space.format(*first),
            "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|nor_conv_3x3~0|none~1|none~2|");
  EXPECT_EQ(ranking.name(), "darts");
}

TEST(WeightRanking, ProposesEveryArchitectureOnceByDecreasingProbabilityThenEnds) {
  const RankedCells cells;
  WeightRanking ranking(cells.space, cells.probabilities, "darts");
  std::set<std::string> proposed;
  double previous = 1.0;
  while (const auto architecture = ranking.ask()) {
    const double probability = cells.probability(*architecture);
    EXPECT_LE(probability, previous * (1.0 + 1e-12)) << cells.space.format(*architecture);
    previous = probability;
    EXPECT_TRUE(proposed.insert(cells.space.format(*architecture)).second);
    ranking.tell(*architecture, Observation{});
  }
  EXPECT_EQ(proposed.size(), 729u);
  EXPECT_FALSE(ranking.ask());
}

TEST(WeightRanking, RefusesProbabilitiesThatDoNotFitTheSpace) {
  const RankedCells cells;
  DecisionProbabilities missing = cells.probabilities;
  missing.erase("edge_1_2");
  EXPECT_EQ(testing_support::error_message([&] { WeightRanking(cells.space, missing, "darts"); }),
            "strategy darts: expected 3 probabilities for decision 'edge_1_2', found none");

  DecisionProbabilities negative = cells.probabilities;
  negative["edge_0_1"] = {0.5, -0.1, 0.6};
  EXPECT_EQ(testing_support::error_message([&] { WeightRanking(cells.space, negative, "darts"); }),
            "strategy darts: expected probabilities >= 0 for decision 'edge_0_1', found -0.1");

  SearchSpace depths;
  depths.add(Decision::integer("depth", 1, 3));
  EXPECT_EQ(testing_support::error_message([&] {
              WeightRanking(depths, {{"depth", {1.0}}}, "bo");
            }),
            "strategy bo: expected unconditional categorical decisions, found decision 'depth' of "
            "another kind");
}

}  // namespace
}  // namespace nascent
