#include "nascent/nn/cell_net.h"

#include <gtest/gtest.h>

#include "nascent/nn/build_network.h"
#include "nascent/nn/macro_net.h"
#include "nascent/space/nasbench201.h"

namespace nascent {
namespace {

TEST(CellNetTest, AnalyticParameterCountMatchesLibTorchForRandomCells) {
  const SearchSpace space = make_nasbench201_space();
  Rng rng(3);
  const CellNetworkOptions options{2, 8};
  for (int i = 0; i < 25; ++i) {
    const Architecture architecture = space.sample(rng);
    Nasbench201Net model(architecture, ImageShape{1, 12, 12}, 10, options);
    const CellNetworkCost cost = count_cell_network(architecture, {1, 12, 12}, 10, options);
    EXPECT_EQ(count_parameters(*model), cost.params) << space.format(architecture);

    model->eval();
    torch::NoGradGuard no_grad;
    EXPECT_EQ(model->forward(torch::randn({2, 1, 12, 12})).sizes(), (std::vector<int64_t>{2, 10}));
  }
}

TEST(CellNetTest, TheBenchmarkNetworkHasThePublishedSizeOnCifar) {
  // NAS-Bench-201's table lists params_m = 1.531546 for the all-3x3 cell on CIFAR-10 (5 cells
  // per stage, 16 channels, 3x32x32 input).
  const SearchSpace space = make_nasbench201_space();
  const Architecture architecture = space.parse(
      "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|"
      "nor_conv_3x3~2|");
  const CellNetworkCost cost = count_cell_network(architecture, {3, 32, 32}, 10, {});
  EXPECT_NEAR(cost.params / 1e6, 1.531546, 0.0005);
}

TEST(CellNetTest, NoneEdgesContributeNothingAndAnAllNoneCellOutputsZeros) {
  const SearchSpace space = make_nasbench201_space();
  const Architecture architecture = space.parse("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|");
  Nasbench201Cell cell(architecture, 4);
  EXPECT_EQ(count_parameters(*cell), 0);
  const torch::Tensor output = cell->forward(torch::randn({2, 4, 6, 6}));
  EXPECT_EQ(output.abs().sum().item<double>(), 0.0);
}

TEST(CellNetTest, SkipOnlyCellAddsPathsAsTheGraphSays) {
  // node1 = x, node2 = x + node1 = 2x, node3 = x + node1 + node2 = 4x.
  const SearchSpace space = make_nasbench201_space();
  const Architecture architecture = space.parse(
      "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|"
      "skip_connect~2|");
  Nasbench201Cell cell(architecture, 3);
  const torch::Tensor input = torch::randn({1, 3, 5, 5});
  EXPECT_TRUE(torch::allclose(cell->forward(input), input * 4));
}

}  // namespace
}  // namespace nascent
