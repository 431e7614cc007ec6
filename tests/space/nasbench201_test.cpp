#include "nascent/space/nasbench201.h"

#include <gtest/gtest.h>

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "nascent/core/error.h"
#include "nascent/core/random.h"

#include "error_expectations.h"

namespace nascent {
namespace {

using testing_support::error_message;

const std::string kAllNone = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|";

TEST(Nasbench201Space, SixEdgeDecisionsInTheBenchmarkOrder) {
  const SearchSpace space = make_nasbench201_space();
  EXPECT_EQ(space.family(), "nasbench201");

  std::vector<std::string> names;
  for (const auto& decision : space.decisions()) {
    names.push_back(decision.name);
    EXPECT_EQ(decision.kind, DecisionKind::kCategorical);
    EXPECT_EQ(decision.choices, (std::vector<std::string>{"none", "skip_connect", "nor_conv_1x1",
                                                          "nor_conv_3x3", "avg_pool_3x3"}));
    EXPECT_TRUE(decision.conditions.empty());
  }
  EXPECT_EQ(names, (std::vector<std::string>{"edge_0_1", "edge_0_2", "edge_1_2", "edge_0_3",
                                             "edge_1_3", "edge_2_3"}));
  EXPECT_EQ(space.count(100000), 15625);
}

TEST(Nasbench201Space, FormatsTheBenchmarkCellString) {
  const SearchSpace space = make_nasbench201_space();
  Architecture architecture;
  architecture.set("edge_0_1", "avg_pool_3x3");
  architecture.set("edge_0_2", "skip_connect");
  architecture.set("edge_1_2", "none");
  architecture.set("edge_0_3", "nor_conv_1x1");
  architecture.set("edge_1_3", "nor_conv_3x3");
  architecture.set("edge_2_3", "skip_connect");

  // Row 3 of the benchmark's table has this shape: node 1's input edge first, node 3's last.
  const std::string expected =
      "|avg_pool_3x3~0|+|skip_connect~0|none~1|+|nor_conv_1x1~0|nor_conv_3x3~1|skip_connect~2|";
  EXPECT_EQ(space.format(architecture), expected);
  EXPECT_EQ(nasbench201_arch_str(architecture), expected);
  EXPECT_EQ(space.parse(expected), architecture);
  EXPECT_EQ(parse_nasbench201_arch_str(expected), architecture);
}

TEST(Nasbench201Space, EveryArchitectureRoundTripsThroughItsString) {
  const SearchSpace space = make_nasbench201_space();
  const std::vector<Architecture> all = space.enumerate(100000);
  ASSERT_EQ(all.size(), 15625u);

  std::set<std::string> strings;
  for (const auto& architecture : all) {
    const std::string text = space.format(architecture);
    ASSERT_EQ(space.parse(text), architecture) << text;
    strings.insert(text);
  }
  EXPECT_EQ(strings.size(), 15625u);
}

TEST(Nasbench201Space, SampledArchitecturesAreValidAndRoundTrip) {
  const SearchSpace space = make_nasbench201_space();
  Rng rng(5);
  for (int i = 0; i < 200; ++i) {
    const Architecture architecture = space.sample(rng);
    EXPECT_NO_THROW(space.validate(architecture));
    EXPECT_EQ(space.parse(space.format(architecture)), architecture);
  }
}

TEST(Nasbench201Space, PathEncodingMarksTheOperationSequencesFromInputToOutput) {
  const SearchSpace space = make_nasbench201_space();
  const FeatureEncoding& encoding = space.feature_encoding();
  ASSERT_TRUE(static_cast<bool>(encoding.encode));
  EXPECT_EQ(encoding.name, "path");
  EXPECT_EQ(encoding.size, 4 + 16 + 64);  // sequences of 1, 2, 3 of the 4 carrying operations

  // Carrying operations are numbered skip_connect 0, nor_conv_1x1 1, nor_conv_3x3 2,
  // avg_pool_3x3 3; a sequence of length L is a base-4 number after the shorter blocks.
  const auto ones = [&](const std::string& arch_str) {
    const std::vector<double> features = encoding.encode(space.parse(arch_str));
    EXPECT_EQ(static_cast<int64_t>(features.size()), encoding.size);
    std::vector<int64_t> set;
    for (size_t i = 0; i < features.size(); ++i) {
      if (features[i] != 0.0) set.push_back(static_cast<int64_t>(i));
    }
    return set;
  };
  // Every edge a skip: the routes 0-3, 0-1-3 and 0-2-3, 0-1-2-3 give (s), (s,s), (s,s,s).
  EXPECT_EQ(ones("|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|"
                 "skip_connect~2|"),
            (std::vector<int64_t>{0, 4, 20}));
  // Only 0->1 (conv3x3) and 1->3 (pool) carry data to the output: one route, (c3, pool).
  EXPECT_EQ(ones("|nor_conv_3x3~0|+|none~0|none~1|+|none~0|avg_pool_3x3~1|none~2|"),
            (std::vector<int64_t>{4 + 2 * 4 + 3}));
  // Edges no data reaches the output through do not change the encoding.
  EXPECT_EQ(ones("|nor_conv_3x3~0|+|none~0|nor_conv_1x1~1|+|none~0|avg_pool_3x3~1|none~2|"),
            ones("|nor_conv_3x3~0|+|none~0|none~1|+|none~0|avg_pool_3x3~1|none~2|"));
  EXPECT_TRUE(ones("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|").empty());
}

TEST(Nasbench201Space, ParseErrorsSayWhatWasExpectedWhereAndWhatWasFound) {
  const SearchSpace space = make_nasbench201_space();
  const auto parse_error = [&](const std::string& text) {
    return error_message([&] { space.parse(text); });
  };

  EXPECT_EQ(parse_error(""), "arch_str '': expected '|' at character 1, found end of text");
  EXPECT_EQ(parse_error("none~0|+|none~0|none~1|+|none~0|none~1|none~2|"),
            "arch_str 'none~0|+|none~0|none~1|+|none~0|none~1|none~2|': expected '|' at "
            "character 1, found 'n'");
  EXPECT_EQ(parse_error("|none~0|+|none~0|nor_conv_3x4~1|+|none~0|none~1|none~2|"),
            "arch_str '|none~0|+|none~0|nor_conv_3x4~1|+|none~0|none~1|none~2|': expected an "
            "operation (none, skip_connect, nor_conv_1x1, nor_conv_3x3 or avg_pool_3x3) at "
            "character 18, found 'nor_conv_3x4' (did you mean 'nor_conv_3x3'?)");
  EXPECT_EQ(parse_error("||+|none~0|none~1|+|none~0|none~1|none~2|"),
            "arch_str '||+|none~0|none~1|+|none~0|none~1|none~2|': expected an operation (none, "
            "skip_connect, nor_conv_1x1, nor_conv_3x3 or avg_pool_3x3) at character 2, found "
            "'|'");
  EXPECT_EQ(parse_error("|none~1|+|none~0|none~1|+|none~0|none~1|none~2|"),
            "arch_str '|none~1|+|none~0|none~1|+|none~0|none~1|none~2|': expected source node 0 "
            "at character 7, found '1'");
  EXPECT_EQ(parse_error("|none|+|none~0|none~1|+|none~0|none~1|none~2|"),
            "arch_str '|none|+|none~0|none~1|+|none~0|none~1|none~2|': expected '~' at "
            "character 6, found '|'");
  EXPECT_EQ(parse_error("|none~0||none~0|none~1|+|none~0|none~1|none~2|"),
            "arch_str '|none~0||none~0|none~1|+|none~0|none~1|none~2|': expected '+' at "
            "character 9, found '|'");
  EXPECT_EQ(parse_error("|none~0|+|none~0|none~1|+|none~0|none~1|none~2"),
            "arch_str '|none~0|+|none~0|none~1|+|none~0|none~1|none~2': expected '|' at "
            "character 47, found end of text");
  EXPECT_EQ(
      parse_error(kAllNone + "+|none~0|"),
      "arch_str '" + kAllNone + "+|none~0|': expected end of text at character 48, found '+'");
  EXPECT_EQ(parse_error("|none~0|+|none~0|none~12|+|none~0|none~1|none~2|"),
            "arch_str '|none~0|+|none~0|none~12|+|none~0|none~1|none~2|': expected source node "
            "1 at character 23, found '12'");
}

TEST(Nasbench201Space, ASubsetOfOperationsGivesASmallerSpaceWithTheSameNotation) {
  const SearchSpace space = make_nasbench201_space(
      Nasbench201SpaceOptions().with_operations({"skip_connect", "nor_conv_3x3", "none"}));
  EXPECT_EQ(space.count(100000), 729);
  EXPECT_EQ(space.decisions().front().choices,
            (std::vector<std::string>{"skip_connect", "nor_conv_3x3", "none"}));
  EXPECT_EQ(space.format(space.parse(kAllNone)), kAllNone);

  // An operation of the benchmark that this space lacks is pointed at like a typo.
  EXPECT_EQ(error_message([&] {
              space.parse(
                  "|avg_pool_3x3~0|+|none~0|none~1|+|none~0|none~1|"
                  "none~2|");
            }),
            "arch_str '|avg_pool_3x3~0|+|none~0|none~1|+|none~0|none~1|none~2|': expected an "
            "operation (skip_connect, nor_conv_3x3 or none) at character 2, found "
            "'avg_pool_3x3'");
}

TEST(Nasbench201Space, RejectsUnknownRepeatedOrNoOperations) {
  EXPECT_EQ(error_message([] {
              make_nasbench201_space(Nasbench201SpaceOptions().with_operations({"nor_conv_3x"}));
            }),
            "nasbench201 space: operations: expected none, skip_connect, nor_conv_1x1, "
            "nor_conv_3x3 or avg_pool_3x3, found 'nor_conv_3x' (did you mean 'nor_conv_3x3'?)");
  EXPECT_EQ(error_message([] {
              make_nasbench201_space(
                  Nasbench201SpaceOptions().with_operations({"none", "skip_connect", "none"}));
            }),
            "nasbench201 space: operations: expected each operation once, found 'none' twice");
  EXPECT_EQ(
      error_message([] { make_nasbench201_space(Nasbench201SpaceOptions().with_operations({})); }),
      "nasbench201 space: operations: expected at least one of none, skip_connect, "
      "nor_conv_1x1, nor_conv_3x3 or avg_pool_3x3, found none");
}

TEST(Nasbench201Space, FormattingAnIncompleteArchitectureNamesTheMissingEdge) {
  Architecture architecture;
  architecture.set("edge_0_1", "none");
  EXPECT_EQ(error_message([&] { nasbench201_arch_str(architecture); }),
            "arch_str: expected a value for decision 'edge_0_2', found none in 'edge_0_1=none'");
}

}  // namespace
}  // namespace nascent
