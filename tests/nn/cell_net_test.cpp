#include "nascent/nn/cell_net.h"

#include <gtest/gtest.h>

#include "nascent/nn/build_network.h"
#include "nascent/nn/macro_net.h"
#include "nascent/nn/output_observer.h"
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
  const torch::Tensor original = input.clone();
  EXPECT_TRUE(torch::allclose(cell->forward(input), input * 4));
  // Sums are accumulated in place only into tensors the cell made itself, never its input.
  EXPECT_TRUE(torch::equal(input, original));
}

TEST(CellNetTest, SharedActivationsComputeWhatSeparateEdgesCompute) {
  // Without an observer a cell applies one ReLU per node for all its conv edges; with one
  // (as the zero-cost proxies install) every edge runs its own ReLU-conv-BN. Outputs and
  // gradients must agree for any cell.
  const SearchSpace space = make_nasbench201_space();
  Rng rng(5);
  for (int i = 0; i < 20; ++i) {
    const Architecture architecture = space.sample(rng);
    torch::manual_seed(i);
    Nasbench201Net model(architecture, ImageShape{1, 12, 12}, 10, CellNetworkOptions{1, 4});
    const torch::Tensor images = torch::randn({4, 1, 12, 12});

    const auto forward_and_gradients = [&](bool observed) {
      model->zero_grad();
      torch::Tensor logits;
      if (observed) {
        const ScopedOutputObserver observer([](ObservedLayer, const torch::Tensor&) {});
        logits = model->forward(images);
      } else {
        logits = model->forward(images);
      }
      logits.square().sum().backward();
      std::vector<torch::Tensor> gradients;
      for (const auto& parameter : model->parameters()) {
        gradients.push_back(parameter.grad().defined() ? parameter.grad().clone()
                                                       : torch::zeros_like(parameter));
      }
      return std::make_pair(logits.detach(), gradients);
    };
    // Training mode: BatchNorm uses batch statistics, the same in both passes.
    const auto [shared_logits, shared_gradients] = forward_and_gradients(false);
    const auto [separate_logits, separate_gradients] = forward_and_gradients(true);

    EXPECT_TRUE(torch::allclose(shared_logits, separate_logits, 1e-5, 1e-6))
        << space.format(architecture);
    for (size_t p = 0; p < shared_gradients.size(); ++p) {
      EXPECT_TRUE(torch::allclose(shared_gradients[p], separate_gradients[p], 1e-4, 1e-6))
          << space.format(architecture) << " parameter " << p;
    }
  }
}

}  // namespace
}  // namespace nascent
