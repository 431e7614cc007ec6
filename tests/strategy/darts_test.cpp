#include "nascent/strategy/darts.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>

#include "error_expectations.h"
#include "nascent/core/interrupt.h"
#include "nascent/nn/cell_net.h"
#include "nascent/space/nasbench201.h"
#include "nascent/train/runtime.h"
#include "test_support.h"

namespace nascent {
namespace {

using testing_support::quadrant_images;

DartsOptions small_darts(int64_t epochs) {
  DartsOptions options;
  options.epochs = epochs;
  options.weights.batch_size = 32;
  options.weights.learning_rate = 0.05;
  options.network = CellNetworkOptions{1, 4};
  options.seed = 11;
  return options;
}

TEST(DartsSupernet, WeighsEveryOperationAndPassesGradientsToTheEdgeWeights) {
  set_torch_threads(1);
  torch::manual_seed(0);
  Nasbench201Supernet supernet(ImageShape{1, 12, 12}, 4, CellNetworkOptions{1, 4},
                               nasbench201_operations());
  const torch::Tensor edge_weights = torch::full({6, 5}, 0.2).requires_grad_(true);
  const torch::Tensor logits = supernet->forward(torch::randn({3, 1, 12, 12}), edge_weights);
  EXPECT_EQ(logits.sizes(), (std::vector<int64_t>{3, 4}));

  logits.sum().backward();
  const torch::Tensor gradient = edge_weights.grad();
  ASSERT_TRUE(gradient.defined());
  // `none` adds nothing, so nothing depends on its weight; every other operation counts.
  EXPECT_EQ(gradient.select(1, 0).abs().sum().item<double>(), 0.0);
  EXPECT_GT(gradient.slice(1, 1).abs().min().item<double>(), 0.0);
}

TEST(DartsSupernet, TheArchitectureWeightsMoveAndStayDistributions) {
  // Started within 1e-3 of uniform, the weights must move by their own Adam steps. (Which
  // operation wins is not asserted: the normalisations after every edge make the output's scale,
  // and so the weight of `none`, matter little, a known trait of DARTS.)
  set_torch_threads(1);
  DartsOptions options = small_darts(2);
  options.operations = {"none", "skip_connect", "nor_conv_3x3"};
  options.architecture_learning_rate = 0.05;
  const DecisionProbabilities probabilities =
      train_darts_supernet(quadrant_images(128, 1), quadrant_images(128, 2), 4, options, {});
  ASSERT_EQ(probabilities.size(), 6u);
  double largest_move = 0.0;
  for (const auto& [edge, weights] : probabilities) {
    ASSERT_EQ(weights.size(), 3u) << edge;
    EXPECT_NEAR(weights[0] + weights[1] + weights[2], 1.0, 1e-6) << edge;
    for (double weight : weights) largest_move = std::max(largest_move, std::abs(weight - 1.0 / 3));
  }
  EXPECT_GT(largest_move, 0.02);
}

TEST(DartsSupernet, AResumedRunEndsWhereAnUninterruptedOneDoes) {
  set_torch_threads(1);
  const ImageDataset weight_data = quadrant_images(96, 3);
  const ImageDataset architecture_data = quadrant_images(96, 4);
  const DecisionProbabilities uninterrupted =
      train_darts_supernet(weight_data, architecture_data, 4, small_darts(3), {});

  // The same run, stopped after its first epoch (as Ctrl-C would), then run again.
  DartsOptions options = small_darts(3);
  options.checkpoint_path = testing_support::fresh_directory("darts_resume") + "/supernet.pt";
  int64_t epochs_seen = 0;
  const std::string message = testing_support::error_message([&] {
    train_darts_supernet(weight_data, architecture_data, 4, options, [&](const DartsEpoch& epoch) {
      ++epochs_seen;
      EXPECT_EQ(epoch.epoch, 1);
      request_stop();
    });
  });
  clear_stop_request();
  EXPECT_EQ(message, "interrupted in supernet epoch 2 of 3");
  EXPECT_EQ(epochs_seen, 1);

  std::vector<int64_t> resumed_epochs;
  const DecisionProbabilities resumed =
      train_darts_supernet(weight_data, architecture_data, 4, options,
                           [&](const DartsEpoch& epoch) { resumed_epochs.push_back(epoch.epoch); });
  EXPECT_EQ(resumed_epochs, (std::vector<int64_t>{2, 3}));
  for (const auto& [edge, weights] : uninterrupted) {
    for (size_t operation = 0; operation < weights.size(); ++operation) {
      EXPECT_DOUBLE_EQ(resumed.at(edge)[operation], weights[operation]) << edge << operation;
    }
  }
}

TEST(DartsSupernet, ACheckpointOfOtherSettingsIsRefusedNamingTheFile) {
  set_torch_threads(1);
  const std::string path = testing_support::fresh_directory("darts_other") + "/supernet.pt";
  DartsOptions options = small_darts(1);
  options.checkpoint_path = path;
  train_darts_supernet(quadrant_images(32, 5), quadrant_images(32, 6), 4, options, {});

  options.epochs = 2;
  options.network.channels = 8;
  const std::string message = testing_support::error_message([&] {
    train_darts_supernet(quadrant_images(32, 5), quadrant_images(32, 6), 4, options, {});
  });
  EXPECT_EQ(message, path +
                         ": expected a DARTS supernet checkpoint of this study's settings, "
                         "found one of other settings (first difference: in supernet was "
                         "'channels=4', now 'channels=8'); delete it to train the supernet from "
                         "the start");
}

}  // namespace
}  // namespace nascent
