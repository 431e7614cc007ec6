#include "nascent/space/macro_space.h"

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

std::vector<std::string> decision_names(const SearchSpace& space) {
  std::vector<std::string> names;
  for (const auto& decision : space.decisions()) names.push_back(decision.name);
  return names;
}

/// Fills the decisions `partial` leaves open at random; the values given are kept.
Architecture complete(const SearchSpace& space, const std::vector<std::string>& assignments,
                      uint64_t seed = 0) {
  Architecture partial;
  for (const auto& assignment : assignments) {
    const size_t equals = assignment.find('=');
    partial.set(assignment.substr(0, equals), assignment.substr(equals + 1));
  }
  Rng rng(seed);
  Architecture architecture = space.resolve(partial, rng);
  for (const auto& [name, value] : partial.values()) {
    EXPECT_EQ(architecture.get(name), value) << "resolve() dropped " << name << "=" << value;
  }
  return architecture;
}

TEST(MacroSpace, DefaultOptionsGiveTheDocumentedDecisions) {
  const SearchSpace space = make_macro_space(MacroSpaceOptions());
  EXPECT_EQ(space.family(), "macro");

  // Default: up to 3 stages of up to 2 layers; every default op is present, so each layer has
  // all seven layer decisions.
  std::vector<std::string> expected = {"stem.width", "stages"};
  for (const std::string stage : {"s1", "s2", "s3"}) {
    expected.push_back(stage + ".depth");
    expected.push_back(stage + ".downsample");
    for (const std::string layer : {".l1", ".l2"}) {
      for (const std::string aspect :
           {".op", ".width", ".kernel", ".expansion", ".activation", ".batch_norm", ".skip"}) {
        expected.push_back(stage + layer + aspect);
      }
    }
  }
  expected.insert(expected.end(), {"head.dense_layers", "head.dense1.width", "head.dropout"});
  EXPECT_EQ(decision_names(space), expected);
}

TEST(MacroSpace, DefaultDomainsAreCopiedFromTheOptions) {
  const SearchSpace space = make_macro_space(MacroSpaceOptions());
  EXPECT_EQ(space.find("stem.width")->describe_domain(), "one of 16 or 32");
  EXPECT_EQ(space.find("stages")->describe_domain(), "an integer in [1, 3]");
  EXPECT_EQ(space.find("s2.depth")->describe_domain(), "an integer in [1, 2]");
  EXPECT_EQ(space.find("s3.downsample")->describe_domain(), "one of none, max_pool or stride");
  EXPECT_EQ(space.find("s1.l2.op")->describe_domain(),
            "one of conv, sep_conv, mbconv, max_pool or identity");
  EXPECT_EQ(space.find("s1.l1.expansion")->describe_domain(), "one of 3 or 6");
  EXPECT_EQ(space.find("head.dropout")->describe_domain(), "one of 0 or 0.2");
}

TEST(MacroSpace, SamplesOfTheDefaultSpaceRoundTrip) {
  const SearchSpace space = make_macro_space(MacroSpaceOptions());
  Rng rng(11);
  std::set<std::string> distinct;
  for (int i = 0; i < 200; ++i) {
    const Architecture architecture = space.sample(rng);
    EXPECT_EQ(space.parse(architecture.to_string()), architecture);
    distinct.insert(architecture.to_string());
  }
  EXPECT_GT(distinct.size(), 190u);
}

TEST(MacroSpace, StagesExistOnlyUpToTheChosenCount) {
  const SearchSpace space = make_macro_space(MacroSpaceOptions());
  const Architecture one_stage = complete(space, {"stages=1"});
  EXPECT_TRUE(one_stage.has("s1.depth"));
  EXPECT_FALSE(one_stage.has("s2.depth"));
  EXPECT_FALSE(one_stage.has("s2.l1.op"));

  const Architecture three_stages = complete(space, {"stages=3"});
  EXPECT_TRUE(three_stages.has("s3.downsample"));
  EXPECT_TRUE(three_stages.has("s3.l1.op"));
}

TEST(MacroSpace, LayerFiveWidthExistsOnlyWhenDepthIsAtLeastFive) {
  MacroSpaceOptions options;
  options.depth = Decision::integer("", 1, 5);
  options.op = Decision::categorical("", {"conv"});
  const SearchSpace space = make_macro_space(options);
  ASSERT_NE(space.find("s1.l5.width"), nullptr);

  for (int64_t depth = 1; depth <= 5; ++depth) {
    SCOPED_TRACE(depth);
    const Architecture architecture =
        complete(space, {"stages=1", "s1.depth=" + std::to_string(depth)});
    for (int64_t layer = 1; layer <= 5; ++layer) {
      const std::string prefix = "s1.l" + std::to_string(layer);
      EXPECT_EQ(architecture.has(prefix + ".op"), layer <= depth) << prefix;
      EXPECT_EQ(architecture.has(prefix + ".width"), layer <= depth) << prefix;
    }
  }

  // Written by hand: layer 5's width is refused at depth 4 and required at depth 5.
  const std::string stem = "stem.width=16 stages=1 s1.depth=4 s1.downsample=none ";
  std::string layers;
  for (int layer = 1; layer <= 4; ++layer) {
    const std::string prefix = "s1.l" + std::to_string(layer);
    layers += prefix + ".op=conv " + prefix + ".width=32 " + prefix + ".kernel=3 " + prefix +
              ".activation=relu " + prefix + ".batch_norm=true " + prefix + ".skip=none ";
  }
  const std::string head = "head.dense_layers=0 head.dropout=0";
  EXPECT_NO_THROW(space.parse(stem + layers + head));
  EXPECT_EQ(error_message([&] { space.parse(stem + layers + "s1.l5.width=32 " + head); }),
            "architecture: decision 's1.l5.width' is set to '32' but is inactive given the "
            "earlier decisions");
  std::string depth_five = stem + layers + head;
  depth_five.replace(depth_five.find("s1.depth=4"), 10, "s1.depth=5");
  EXPECT_EQ(error_message([&] { space.parse(depth_five); }),
            "architecture: decision 's1.l5.op' is active but has no value; expected one of conv");
}

TEST(MacroSpace, PoolingLayersHaveAKernelButNoWidth) {
  MacroSpaceOptions options;
  options.op = Decision::categorical("", {"conv", "mbconv", "max_pool", "avg_pool", "identity"});
  const SearchSpace space = make_macro_space(options);

  for (const std::string pool : {"max_pool", "avg_pool"}) {
    const Architecture architecture = complete(space, {"stages=1", "s1.l1.op=" + pool});
    EXPECT_TRUE(architecture.has("s1.l1.kernel")) << pool;
    EXPECT_FALSE(architecture.has("s1.l1.width")) << pool;
    EXPECT_FALSE(architecture.has("s1.l1.expansion")) << pool;
    EXPECT_FALSE(architecture.has("s1.l1.activation")) << pool;
    EXPECT_FALSE(architecture.has("s1.l1.batch_norm")) << pool;
  }

  const Architecture conv = complete(space, {"stages=1", "s1.l1.op=conv"});
  EXPECT_TRUE(conv.has("s1.l1.width"));
  EXPECT_TRUE(conv.has("s1.l1.kernel"));
  EXPECT_TRUE(conv.has("s1.l1.activation"));
  EXPECT_FALSE(conv.has("s1.l1.expansion"));

  const Architecture mbconv = complete(space, {"stages=1", "s1.l1.op=mbconv"});
  EXPECT_TRUE(mbconv.has("s1.l1.width"));
  EXPECT_TRUE(mbconv.has("s1.l1.expansion"));
}

TEST(MacroSpace, IdentityHasNeitherKernelNorWidth) {
  const SearchSpace space = make_macro_space(MacroSpaceOptions());
  const Architecture architecture = complete(space, {"stages=1", "s1.l1.op=identity"});
  EXPECT_FALSE(architecture.has("s1.l1.kernel"));
  EXPECT_FALSE(architecture.has("s1.l1.width"));
  EXPECT_FALSE(architecture.has("s1.l1.expansion"));
  EXPECT_FALSE(architecture.has("s1.l1.activation"));
}

TEST(MacroSpace, FirstLayerSkipExistsOnlyWhenTheStageDoesNotDownsample) {
  const SearchSpace space = make_macro_space(MacroSpaceOptions());
  for (const std::string mode : {"none", "max_pool", "stride"}) {
    SCOPED_TRACE(mode);
    const Architecture architecture = complete(
        space,
        {"stages=2", "s1.depth=2", "s1.downsample=" + mode, "s2.downsample=" + mode, "s2.depth=2"});
    EXPECT_EQ(architecture.has("s1.l1.skip"), mode == "none");
    EXPECT_EQ(architecture.has("s2.l1.skip"), mode == "none");
    // Later layers keep the shape whatever the stage does on entry.
    EXPECT_TRUE(architecture.has("s1.l2.skip"));
    EXPECT_TRUE(architecture.has("s2.l2.skip"));
  }
}

TEST(MacroSpace, FirstLayerSkipFollowsTheDownsamplingChoices) {
  // Only "none": the first layer's skip needs no condition.
  MacroSpaceOptions never;
  never.downsample = Decision::categorical("", {"none"});
  const SearchSpace never_space = make_macro_space(never);
  ASSERT_NE(never_space.find("s1.l1.skip"), nullptr);
  EXPECT_TRUE(never_space.find("s1.l1.skip")->conditions.empty());

  // No "none": a stage always downsamples, so its first layer never has a skip.
  MacroSpaceOptions always;
  always.downsample = Decision::categorical("", {"max_pool", "avg_pool", "stride"});
  const SearchSpace always_space = make_macro_space(always);
  EXPECT_EQ(always_space.find("s1.l1.skip"), nullptr);
  EXPECT_EQ(always_space.find("s3.l1.skip"), nullptr);
  EXPECT_NE(always_space.find("s1.l2.skip"), nullptr);
}

TEST(MacroSpace, HeadDenseWidthsFollowTheDenseLayerCount) {
  MacroSpaceOptions options;
  options.dense_layers = Decision::integer("", 0, 2);
  const SearchSpace space = make_macro_space(options);
  for (int64_t count = 0; count <= 2; ++count) {
    const Architecture architecture =
        complete(space, {"head.dense_layers=" + std::to_string(count)});
    EXPECT_EQ(architecture.has("head.dense1.width"), count >= 1) << count;
    EXPECT_EQ(architecture.has("head.dense2.width"), count >= 2) << count;
  }
}

TEST(MacroSpace, UnknownOperationSuggestsTheClosest) {
  MacroSpaceOptions options;
  options.op = Decision::categorical("", {"conv", "sepconv"});
  EXPECT_EQ(error_message([&] { make_macro_space(options); }),
            "macro space: 'op' expected conv, sep_conv, mbconv, max_pool, avg_pool or identity, "
            "found 'sepconv' (did you mean 'sep_conv'?)");

  options.op = Decision::categorical("", {"transformer"});
  EXPECT_EQ(error_message([&] { make_macro_space(options); }),
            "macro space: 'op' expected conv, sep_conv, mbconv, max_pool, avg_pool or identity, "
            "found 'transformer'");
}

TEST(MacroSpace, EvenKernelIsRefused) {
  MacroSpaceOptions options;
  options.kernel = Decision::categorical("", {"3", "4"});
  EXPECT_EQ(error_message([&] { make_macro_space(options); }),
            "macro space: 'kernel' expected odd sizes (so padding keeps the shape), found 4");
}

TEST(MacroSpace, FewerThanOneStageIsRefused) {
  MacroSpaceOptions options;
  options.stages = Decision::integer("", 0, 2);
  EXPECT_EQ(error_message([&] { make_macro_space(options); }),
            "macro space: 'stages' expected values >= 1, found 0");

  options.stages = Decision::categorical("", {"2", "-1"});
  EXPECT_EQ(error_message([&] { make_macro_space(options); }),
            "macro space: 'stages' expected values >= 1, found -1");
}

TEST(MacroSpace, OtherUnusableDomainsAreRefused) {
  MacroSpaceOptions depth;
  depth.depth = Decision::categorical("", {"two"});
  EXPECT_EQ(error_message([&] { make_macro_space(depth); }),
            "macro space: 'depth' expected integer values, found 'two'");

  MacroSpaceOptions skip;
  skip.skip = Decision::categorical("", {"none", "0"});
  EXPECT_EQ(error_message([&] { make_macro_space(skip); }),
            "macro space: 'skip' expected 'none' or a positive integer, found '0'");

  MacroSpaceOptions dropout;
  dropout.dropout = Decision::real("", 0.0, 1.0);
  EXPECT_EQ(error_message([&] { make_macro_space(dropout); }),
            "macro space: 'dropout' expected a range within [0, 1), found [0, 1]");
}

}  // namespace
}  // namespace nascent
