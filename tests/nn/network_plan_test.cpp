#include "nascent/nn/network_plan.h"
#include "nascent/eval/training_evaluator.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <functional>
#include <nlohmann/json.hpp>
#include <string>

#include "nascent/core/error.h"
#include "nascent/eval/training_evaluator.h"
#include "nascent/space/macro_space.h"

namespace nascent {
namespace {

/// The default macro space; every architecture below is parsed (and so validated) by it.
const SearchSpace& macro_space() {
  static const SearchSpace space = make_macro_space(MacroSpaceOptions());
  return space;
}

/// The InvalidArchitecture that planning `text` for `input` throws; fails the test otherwise.
InvalidArchitecture invalid_architecture(const std::string& text, const ImageShape& input) {
  const Architecture architecture = macro_space().parse(text);
  try {
    plan_network(architecture, input, 10);
  } catch (const InvalidArchitecture& error) {
    return error;
  }
  ADD_FAILURE() << "expected nascent::InvalidArchitecture for " << text;
  return InvalidArchitecture("", "", "");
}

// Two stages of two layers, then a third stage that downsamples by stride:
//   stem 3x3 -> 16 channels
//   s1: conv3 -> 32, sep_conv5 -> 32 with a residual
//   s2: 2x2 max pooling, mbconv3 (x6) -> 64, max_pool3 with a residual
//   s3: conv5 -> 64 with stride 2
//   head: dense 128, dropout 0.2
constexpr const char* kThreeStages =
    "stem.width=16 stages=3 "
    "s1.depth=2 s1.downsample=none "
    "s1.l1.op=conv s1.l1.width=32 s1.l1.kernel=3 s1.l1.activation=relu s1.l1.batch_norm=true "
    "s1.l1.skip=none "
    "s1.l2.op=sep_conv s1.l2.width=32 s1.l2.kernel=5 s1.l2.activation=silu "
    "s1.l2.batch_norm=true s1.l2.skip=1 "
    "s2.depth=2 s2.downsample=max_pool "
    "s2.l1.op=mbconv s2.l1.width=64 s2.l1.kernel=3 s2.l1.expansion=6 s2.l1.activation=relu "
    "s2.l1.batch_norm=true "
    "s2.l2.op=max_pool s2.l2.kernel=3 s2.l2.skip=1 "
    "s3.depth=1 s3.downsample=stride "
    "s3.l1.op=conv s3.l1.width=64 s3.l1.kernel=5 s3.l1.activation=silu s3.l1.batch_norm=true "
    "head.dense_layers=1 head.dense1.width=128 head.dropout=0.2";

TEST(NetworkPlan, ShapesFollowEachLayer) {
  const NetworkPlan plan =
      plan_network(macro_space().parse(kThreeStages), ImageShape{1, 28, 28}, 10);

  EXPECT_EQ(plan.input, (ImageShape{1, 28, 28}));
  EXPECT_EQ(plan.num_classes, 10);
  EXPECT_EQ(plan.stem_channels, 16);
  EXPECT_EQ(plan.stem_output, (ImageShape{16, 28, 28}));
  ASSERT_EQ(plan.layers.size(), 5u);

  const LayerPlan& conv = plan.layers[0];
  EXPECT_EQ(conv.name, "s1.l1");
  EXPECT_EQ(conv.op, "conv");
  EXPECT_EQ(conv.input, (ImageShape{16, 28, 28}));
  EXPECT_EQ(conv.output, (ImageShape{32, 28, 28}));
  EXPECT_EQ(conv.stride, 1);
  EXPECT_EQ(conv.skip_from, -1);
  EXPECT_TRUE(conv.batch_norm);

  const LayerPlan& sep = plan.layers[1];
  EXPECT_EQ(sep.name, "s1.l2");
  EXPECT_EQ(sep.kernel, 5);
  EXPECT_EQ(sep.activation, "silu");
  EXPECT_EQ(sep.output, (ImageShape{32, 28, 28}));
  EXPECT_EQ(sep.skip_from, 1);  // node 1 is s1.l1's output, this layer's input

  // The stage's 2x2 pooling halves the input before the mbconv.
  const LayerPlan& mbconv = plan.layers[2];
  EXPECT_EQ(mbconv.name, "s2.l1");
  EXPECT_EQ(mbconv.pre_pool, "max_pool");
  EXPECT_EQ(mbconv.input, (ImageShape{32, 14, 14}));
  EXPECT_EQ(mbconv.output, (ImageShape{64, 14, 14}));
  EXPECT_EQ(mbconv.expansion, 6);
  // Hidden width 32 * 6 = 192; batch norm after each of the three convolutions, no biases:
  //   expand 1x1:      32 * 192 = 6144,  BN 2 * 192 = 384
  //   depthwise 3x3:   9 * 192  = 1728,  BN 2 * 192 = 384
  //   project 1x1:     192 * 64 = 12288, BN 2 * 64  = 128
  //   params = 6144 + 384 + 1728 + 384 + 12288 + 128 = 21056
  //   FLOPs  = (6144 + 1728 + 12288) * 14 * 14 = 20160 * 196 = 3951360
  EXPECT_EQ(mbconv.params, 21056);
  EXPECT_EQ(mbconv.flops, 3951360);

  // A pooling layer keeps the channels and (with padding) the size.
  const LayerPlan& pool = plan.layers[3];
  EXPECT_EQ(pool.name, "s2.l2");
  EXPECT_EQ(pool.op, "max_pool");
  EXPECT_EQ(pool.output, (ImageShape{64, 14, 14}));
  EXPECT_EQ(pool.params, 0);
  EXPECT_EQ(pool.skip_from, 3);

  // Stride 2 with kernel 5 and padding 2: (14 + 4 - 5) / 2 + 1 = 7.
  const LayerPlan& strided = plan.layers[4];
  EXPECT_EQ(strided.name, "s3.l1");
  EXPECT_EQ(strided.stride, 2);
  EXPECT_EQ(strided.pre_pool, "none");
  EXPECT_EQ(strided.input, (ImageShape{64, 14, 14}));
  EXPECT_EQ(strided.output, (ImageShape{64, 7, 7}));

  EXPECT_EQ(plan.dense_widths, (std::vector<int64_t>{128}));
  EXPECT_DOUBLE_EQ(plan.dropout, 0.2);
}

TEST(NetworkPlan, StrideRoundsOddSizesUp) {
  // 7x7 input, stride 2, kernel 3, padding 1: (7 + 2 - 3) / 2 + 1 = 4.
  const NetworkPlan plan = plan_network(
      macro_space().parse("stem.width=16 stages=1 s1.depth=1 s1.downsample=stride "
                          "s1.l1.op=conv s1.l1.width=32 s1.l1.kernel=3 s1.l1.activation=relu "
                          "s1.l1.batch_norm=true head.dense_layers=0 head.dropout=0"),
      ImageShape{1, 7, 7}, 10);
  EXPECT_EQ(plan.layers.at(0).output, (ImageShape{32, 4, 4}));
}

TEST(NetworkPlan, ParamsAndFlopsOfAOneLayerNet) {
  const NetworkPlan plan = plan_network(
      macro_space().parse("stem.width=16 stages=1 s1.depth=1 s1.downsample=none "
                          "s1.l1.op=conv s1.l1.width=32 s1.l1.kernel=3 s1.l1.activation=relu "
                          "s1.l1.batch_norm=true s1.l1.skip=none head.dense_layers=0 "
                          "head.dropout=0"),
      ImageShape{3, 8, 8}, 10);

  // Stem: 3x3 conv 3 -> 16 without bias, then batch norm (weight and bias per channel).
  //   params = 9 * 3 * 16 + 2 * 16 = 432 + 32 = 464
  //   FLOPs  = 9 * 3 * 16 * 8 * 8 = 432 * 64 = 27648
  // s1.l1: 3x3 conv 16 -> 32 without bias, batch norm.
  //   params = 9 * 16 * 32 + 2 * 32 = 4608 + 64 = 4672
  //   FLOPs  = 9 * 16 * 32 * 8 * 8 = 4608 * 64 = 294912
  // Head: global average pooling (one add per input value), classifier 32 -> 10 with bias.
  //   pooling FLOPs = 32 * 8 * 8 = 2048
  //   params = 32 * 10 + 10 = 330, FLOPs = 32 * 10 = 320
  // Total params = 464 + 4672 + 330 = 5466
  // Total FLOPs  = 27648 + 294912 + 2048 + 320 = 324928
  ASSERT_EQ(plan.layers.size(), 1u);
  EXPECT_EQ(plan.layers[0].params, 4672);
  EXPECT_EQ(plan.layers[0].flops, 294912);
  EXPECT_EQ(plan.params, 5466);
  EXPECT_EQ(plan.flops, 324928);
}

TEST(NetworkPlan, ParamsAndFlopsOfATwoStageNet) {
  const NetworkPlan plan = plan_network(
      macro_space().parse("stem.width=16 stages=2 "
                          "s1.depth=1 s1.downsample=none "
                          "s1.l1.op=conv s1.l1.width=32 s1.l1.kernel=3 s1.l1.activation=relu "
                          "s1.l1.batch_norm=true s1.l1.skip=none "
                          "s2.depth=1 s2.downsample=max_pool "
                          "s2.l1.op=sep_conv s2.l1.width=64 s2.l1.kernel=5 "
                          "s2.l1.activation=silu s2.l1.batch_norm=true "
                          "head.dense_layers=1 head.dense1.width=128 head.dropout=0.2"),
      ImageShape{1, 8, 8}, 10);

  // Stem: params = 9 * 1 * 16 + 2 * 16 = 176; FLOPs = 9 * 16 * 8 * 8 = 9216
  // s1.l1 (conv3 16 -> 32 on 8x8): params = 4608 + 64 = 4672; FLOPs = 4608 * 64 = 294912
  // s2.l1: the 2x2 pooling gives [32, 4, 4]; sep_conv5 32 -> 64 with batch norm:
  //   depthwise params 25 * 32 = 800, pointwise 32 * 64 = 2048, BN 2 * 64 = 128 -> 2976
  //   FLOPs = 25 * 32 * 16 + 32 * 64 * 16 = 12800 + 32768 = 45568
  // Head: pooling 64 * 4 * 4 = 1024 FLOPs;
  //   dense 64 -> 128: params 64 * 128 + 128 = 8320, FLOPs 8192
  //   classifier 128 -> 10: params 1280 + 10 = 1290, FLOPs 1280
  // Total params = 176 + 4672 + 2976 + 8320 + 1290 = 17434
  // Total FLOPs  = 9216 + 294912 + 45568 + 1024 + 8192 + 1280 = 360192
  ASSERT_EQ(plan.layers.size(), 2u);
  EXPECT_EQ(plan.layers[1].input, (ImageShape{32, 4, 4}));
  EXPECT_EQ(plan.layers[1].output, (ImageShape{64, 4, 4}));
  EXPECT_EQ(plan.layers[1].params, 2976);
  EXPECT_EQ(plan.layers[1].flops, 45568);
  EXPECT_EQ(plan.params, 17434);
  EXPECT_EQ(plan.flops, 360192);

  const nlohmann::json json = plan.to_json();
  EXPECT_EQ(json["params"], 17434);
  EXPECT_EQ(json["layers"][1]["output"], nlohmann::json({64, 4, 4}));
  EXPECT_EQ(json["layers"][1]["pre_pool"], "max_pool");
}

TEST(NetworkPlan, PoolingDownToZeroIsInvalid) {
  // 4x4 -> 2x2 (s1) -> 1x1 (s2); the third stage's 2x2 pooling has nothing left to halve.
  const std::string text =
      "stem.width=16 stages=3 "
      "s1.depth=1 s1.downsample=max_pool s1.l1.op=conv s1.l1.width=32 s1.l1.kernel=3 "
      "s1.l1.activation=relu s1.l1.batch_norm=true "
      "s2.depth=1 s2.downsample=max_pool s2.l1.op=identity "
      "s3.depth=1 s3.downsample=max_pool s3.l1.op=conv s3.l1.width=64 s3.l1.kernel=3 "
      "s3.l1.activation=relu s3.l1.batch_norm=true "
      "head.dense_layers=0 head.dropout=0";
  const InvalidArchitecture error = invalid_architecture(text, ImageShape{1, 4, 4});
  EXPECT_EQ(error.layer(), "s3.l1");
  EXPECT_EQ(error.decision(), "s3.downsample");
  EXPECT_STREQ(error.what(),
               "layer s3.l1 (s3.downsample): a 2x2 pooling cannot halve input [32, 1, 1]: the "
               "spatial size would reach 0");

  // The same architecture fits an 8x8 input.
  EXPECT_NO_THROW(plan_network(macro_space().parse(text), ImageShape{1, 8, 8}, 10));
}

TEST(NetworkPlan, SkipBetweenDifferentShapesIsInvalid) {
  // The residual adds the 16-channel stem output to a 32-channel conv output.
  const InvalidArchitecture error = invalid_architecture(
      "stem.width=16 stages=1 s1.depth=1 s1.downsample=none "
      "s1.l1.op=conv s1.l1.width=32 s1.l1.kernel=3 s1.l1.activation=relu s1.l1.batch_norm=true "
      "s1.l1.skip=1 head.dense_layers=0 head.dropout=0",
      ImageShape{1, 8, 8});
  EXPECT_EQ(error.layer(), "s1.l1");
  EXPECT_EQ(error.decision(), "s1.l1.skip");
  EXPECT_STREQ(error.what(),
               "layer s1.l1 (s1.l1.skip): skip from node 0 has shape [16, 8, 8] but the layer's "
               "output is [32, 8, 8]");
}

TEST(NetworkPlan, SkipAfterAStrideIsInvalid) {
  // s1.l1 strides down to [32, 4, 4]; s1.l2's residual adds that to a 64-channel output.
  const InvalidArchitecture error = invalid_architecture(
      "stem.width=16 stages=1 s1.depth=2 s1.downsample=stride "
      "s1.l1.op=conv s1.l1.width=32 s1.l1.kernel=3 s1.l1.activation=relu s1.l1.batch_norm=true "
      "s1.l2.op=sep_conv s1.l2.width=64 s1.l2.kernel=3 s1.l2.activation=relu "
      "s1.l2.batch_norm=true s1.l2.skip=1 head.dense_layers=0 head.dropout=0",
      ImageShape{1, 8, 8});
  EXPECT_EQ(error.layer(), "s1.l2");
  EXPECT_EQ(error.decision(), "s1.l2.skip");
  EXPECT_STREQ(error.what(),
               "layer s1.l2 (s1.l2.skip): skip from node 1 has shape [32, 4, 4] but the layer's "
               "output is [64, 4, 4]");
}

TEST(NetworkPlan, IdentityCannotDownsampleWithStride) {
  const InvalidArchitecture error = invalid_architecture(
      "stem.width=32 stages=1 s1.depth=1 s1.downsample=stride s1.l1.op=identity "
      "head.dense_layers=0 head.dropout=0",
      ImageShape{1, 8, 8});
  EXPECT_EQ(error.layer(), "s1.l1");
  EXPECT_EQ(error.decision(), "s1.downsample");
  EXPECT_STREQ(error.what(),
               "layer s1.l1 (s1.downsample): an identity layer cannot downsample with stride 2");
}

TEST(NetworkPlan, ShortDescription) {
  const NetworkPlan plan =
      plan_network(macro_space().parse(kThreeStages), ImageShape{1, 28, 28}, 10);
  // Activations other than relu are named (found by a fresh-user test: two architectures that
  // differed only there printed the same line).
  EXPECT_EQ(plan.short_description(),
            "c16 | conv3:32 sep5:32.silu+ | mp mb3x6:64 max3+ | conv5:64/2.silu | d128 p0.2");

  MacroSpaceOptions with_batch_norm_choice;
  with_batch_norm_choice.batch_norm = Decision::categorical("", {"true", "false"});
  const NetworkPlan plain = plan_network(
      make_macro_space(with_batch_norm_choice)
          .parse("stem.width=32 stages=1 s1.depth=1 s1.downsample=none s1.l1.op=conv "
                 "s1.l1.width=32 s1.l1.kernel=3 s1.l1.activation=silu "
                 "s1.l1.batch_norm=false s1.l1.skip=none head.dense_layers=0 head.dropout=0"),
      ImageShape{1, 8, 8}, 10);
  EXPECT_EQ(plain.short_description(), "c32 | conv3:32.silu.nobn");

  const NetworkPlan small = plan_network(
      macro_space().parse("stem.width=32 stages=1 s1.depth=2 s1.downsample=none "
                          "s1.l1.op=identity s1.l1.skip=none s1.l2.op=max_pool s1.l2.kernel=5 "
                          "s1.l2.skip=none head.dense_layers=0 head.dropout=0"),
      ImageShape{1, 8, 8}, 10);
  EXPECT_EQ(small.short_description(), "c32 | id max5");
}

}  // namespace
}  // namespace nascent

namespace nascent {
namespace {

TEST(CostLimits, AnArchitectureAboveALimitIsInvalidWithItsCount) {
  const SearchSpace space = make_macro_space(MacroSpaceOptions());
  const Architecture architecture = space.parse(
      "stem.width=16 stages=1 s1.depth=1 s1.downsample=max_pool s1.l1.op=conv s1.l1.width=32 "
      "s1.l1.kernel=3 s1.l1.activation=relu s1.l1.batch_norm=true head.dense_layers=0 "
      "head.dropout=0");
  const ArchitectureCheck free = check_macro_architecture(architecture, {1, 28, 28}, 10);
  ASSERT_TRUE(free.valid);

  const ArchitectureCheck too_big =
      check_macro_architecture(architecture, {1, 28, 28}, 10, {free.params - 1, 0});
  EXPECT_FALSE(too_big.valid);
  EXPECT_EQ(too_big.decision, "space.max_params");
  EXPECT_EQ(too_big.reason, fmt::format("{} parameters: expected at most space.max_params = {}",
                                        free.params, free.params - 1));

  const ArchitectureCheck too_slow =
      check_macro_architecture(architecture, {1, 28, 28}, 10, {0, free.flops - 1});
  EXPECT_FALSE(too_slow.valid);
  EXPECT_EQ(too_slow.decision, "space.max_flops");
  EXPECT_TRUE(
      check_macro_architecture(architecture, {1, 28, 28}, 10, {free.params, free.flops}).valid);
}

}  // namespace
}  // namespace nascent
