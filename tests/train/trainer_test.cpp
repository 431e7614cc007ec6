#include "nascent/train/trainer.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <random>

#include "nascent/core/error.h"
#include "nascent/nn/batch_norm.h"
#include "nascent/nn/macro_net.h"
#include "nascent/space/macro_space.h"
#include "test_support.h"

namespace nascent {
namespace {

using testing_support::quadrant_images;

NetworkPlan small_plan() {
  const SearchSpace space = make_macro_space(MacroSpaceOptions());
  const Architecture architecture = space.parse(
      "stem.width=16 stages=1 s1.depth=1 s1.downsample=max_pool s1.l1.op=conv s1.l1.width=32 "
      "s1.l1.kernel=3 s1.l1.activation=relu s1.l1.batch_norm=true "
      "head.dense_layers=0 head.dropout=0");
  return plan_network(architecture, {1, 12, 12}, 4);
}

struct Fixture {
  TensorData train;
  TensorData validation;
};

Fixture make_data() {
  const ImageDataset train = quadrant_images(512, 1);
  const ImageDataset validation = quadrant_images(256, 2);
  auto [mean, std] = TensorData::channel_statistics(train);
  return {TensorData::from(train, mean, std), TensorData::from(validation, mean, std)};
}

TEST(TrainerTest, TinyTrainingRunBeatsChance) {
  torch::set_num_threads(1);
  const Fixture data = make_data();
  torch::manual_seed(0);
  MacroNet model(small_plan());
  const auto forward = [&](const torch::Tensor& x) { return model->forward(x); };

  TrainOptions options;
  options.epochs = 3;
  options.batch_size = 32;
  options.learning_rate = 0.05;
  const TrainingOutcome outcome =
      train_model(*model, forward, data.train, &data.validation, options);

  ASSERT_FALSE(outcome.diverged_at_step);
  ASSERT_EQ(outcome.epochs.size(), 3u);
  // Chance is 25%; the squares are easy to find.
  EXPECT_GT(outcome.epochs.back().validation_accuracy, 0.8);
  EXPECT_LT(outcome.epochs.back().train_loss, outcome.epochs.front().train_loss);
}

NetworkPlan deeper_plan() {
  const SearchSpace space = make_macro_space(MacroSpaceOptions());
  const Architecture architecture = space.parse(
      "stem.width=16 stages=2 s1.depth=2 s1.downsample=max_pool s1.l1.op=conv s1.l1.width=32 "
      "s1.l1.kernel=3 s1.l1.activation=relu s1.l1.batch_norm=true s1.l2.op=conv s1.l2.width=32 "
      "s1.l2.kernel=3 s1.l2.activation=relu s1.l2.batch_norm=true s1.l2.skip=none s2.depth=2 "
      "s2.downsample=stride s2.l1.op=conv s2.l1.width=64 s2.l1.kernel=3 s2.l1.activation=relu "
      "s2.l1.batch_norm=true s2.l2.op=conv s2.l2.width=64 s2.l2.kernel=3 s2.l2.activation=relu "
      "s2.l2.batch_norm=true s2.l2.skip=none head.dense_layers=0 head.dropout=0");
  return plan_network(architecture, {1, 12, 12}, 4);
}

TEST(TrainerTest, AShortRunValidatesWithMeasuredBatchNormStatistics) {
  // 4 steps per epoch: after the first the moving averages still hold 66% of their initial
  // values (0.9^4), so a network that has learnt validates near chance with them.
  torch::set_num_threads(1);
  const Fixture data = make_data();
  TrainOptions options;
  options.epochs = 2;
  options.batch_size = 128;
  options.learning_rate = 0.05;
  const auto run = [&](bool precise) {
    options.precise_batch_norm = precise;
    torch::manual_seed(0);
    MacroNet model(deeper_plan());
    const auto forward = [&](const torch::Tensor& x) { return model->forward(x); };
    TrainingOutcome outcome = train_model(*model, forward, data.train, &data.validation, options);
    EXPECT_TRUE(model->is_training());
    return outcome;
  };
  const TrainingOutcome precise = run(true);
  const TrainingOutcome averaged = run(false);
  ASSERT_EQ(precise.epochs.size(), 2u);
  ASSERT_EQ(averaged.epochs.size(), 2u);

  // Training itself is the same step for step; only what validation sees differs.
  for (size_t epoch = 0; epoch < 2; ++epoch) {
    EXPECT_EQ(precise.epochs[epoch].train_loss, averaged.epochs[epoch].train_loss);
  }
  // Measured: 1.00 and 1.00 against 0.25 and 0.49.
  std::printf("validation accuracy after 4 and 8 steps: precise %.3f %.3f, averaged %.3f %.3f\n",
              precise.epochs[0].validation_accuracy, precise.epochs[1].validation_accuracy,
              averaged.epochs[0].validation_accuracy, averaged.epochs[1].validation_accuracy);
  EXPECT_GT(precise.epochs[0].validation_accuracy, 0.9);
  EXPECT_LT(averaged.epochs[0].validation_accuracy, 0.4);
  EXPECT_GT(precise.epochs[1].validation_accuracy, 0.9);
}

TEST(TrainerTest, RecomputingBatchNormStatisticsRestoresModesAndMomenta) {
  torch::set_num_threads(1);
  const Fixture data = make_data();
  torch::manual_seed(0);
  MacroNet model(deeper_plan());
  const auto forward = [&](const torch::Tensor& x) { return model->forward(x); };
  EXPECT_TRUE(batch_norm_statistics_unsettled(*model, 43));
  EXPECT_FALSE(batch_norm_statistics_unsettled(*model, 44));

  model->eval();
  const torch::Tensor order = torch::arange(data.train.size(), torch::kInt64);
  recompute_batch_norm_statistics(*model, forward, data.train, order, 100, false);
  EXPECT_FALSE(model->is_training());
  int64_t norms = 0;
  for (const auto& module : model->modules()) {
    const auto* norm = module->as<FastBatchNorm2dImpl>();
    if (norm == nullptr) continue;
    ++norms;
    EXPECT_FALSE(norm->is_training());
    ASSERT_TRUE(norm->options.momentum().has_value());
    EXPECT_DOUBLE_EQ(*norm->options.momentum(), 0.1);
    // 512 images in batches of 100: six batches averaged alike.
    EXPECT_EQ(norm->num_batches_tracked.item<int64_t>(), 6);
    EXPECT_GT(norm->running_var.min().item<float>(), 0.0f);
  }
  EXPECT_GE(norms, 4);
}

TEST(TrainerTest, AugmentationAndAdamWAlsoLearn) {
  torch::set_num_threads(1);
  const Fixture data = make_data();
  torch::manual_seed(1);
  MacroNet model(small_plan());
  const auto forward = [&](const torch::Tensor& x) { return model->forward(x); };

  TrainOptions options;
  options.epochs = 3;
  options.batch_size = 32;
  options.optimizer = "adamw";
  options.learning_rate = 0.003;
  options.weight_decay = 0.01;
  options.warmup_epochs = 0.5;
  options.label_smoothing = 0.1;
  options.crop_padding = 1;
  const TrainingOutcome outcome =
      train_model(*model, forward, data.train, &data.validation, options);
  ASSERT_FALSE(outcome.diverged_at_step);
  EXPECT_GT(outcome.epochs.back().validation_accuracy, 0.8);
}

TEST(TrainerTest, HorizontalFlipIsApplied) {
  // Flipped images make the left and right quadrants indistinguishable: accuracy stays near
  // 50% (top or bottom) instead of reaching the >80% of unflipped training.
  torch::set_num_threads(1);
  const Fixture data = make_data();
  torch::manual_seed(1);
  MacroNet model(small_plan());
  const auto forward = [&](const torch::Tensor& x) { return model->forward(x); };
  TrainOptions options;
  options.epochs = 3;
  options.batch_size = 32;
  options.horizontal_flip = true;
  const TrainingOutcome outcome =
      train_model(*model, forward, data.train, &data.validation, options);
  ASSERT_FALSE(outcome.diverged_at_step);
  EXPECT_GT(outcome.epochs.back().validation_accuracy, 0.35);
  EXPECT_LT(outcome.epochs.back().validation_accuracy, 0.65);
}

TEST(TrainerTest, SameSeedGivesTheSameMetrics) {
  torch::set_num_threads(1);
  const Fixture data = make_data();
  TrainOptions options;
  options.epochs = 2;
  options.batch_size = 64;
  options.crop_padding = 1;

  std::vector<std::vector<EpochMetrics>> runs;
  for (int run = 0; run < 2; ++run) {
    torch::manual_seed(42);
    MacroNet model(small_plan());
    const auto forward = [&](const torch::Tensor& x) { return model->forward(x); };
    runs.push_back(train_model(*model, forward, data.train, &data.validation, options).epochs);
  }
  ASSERT_EQ(runs[0].size(), runs[1].size());
  for (size_t i = 0; i < runs[0].size(); ++i) {
    EXPECT_EQ(runs[0][i].train_loss, runs[1][i].train_loss);
    EXPECT_EQ(runs[0][i].validation_accuracy, runs[1][i].validation_accuracy);
  }
}

TEST(TrainerTest, NonFiniteLossStopsTrainingAtTheStepWhereItHappened) {
  torch::set_num_threads(1);
  const Fixture data = make_data();
  torch::manual_seed(0);
  MacroNet model(small_plan());
  int64_t calls = 0;
  // The fifth forward pass returns NaN logits, as a diverging network would.
  const auto forward = [&](const torch::Tensor& x) {
    torch::Tensor logits = model->forward(x);
    if (++calls == 5) logits = logits * std::numeric_limits<float>::quiet_NaN();
    return logits;
  };
  TrainOptions options;
  options.epochs = 2;
  options.batch_size = 64;
  const TrainingOutcome outcome =
      train_model(*model, forward, data.train, &data.validation, options);
  ASSERT_TRUE(outcome.diverged_at_step.has_value());
  EXPECT_EQ(*outcome.diverged_at_step, 5);
  EXPECT_TRUE(outcome.epochs.empty());
}

TEST(TrainerTest, InvalidOptionsAreRefusedWithTheField) {
  TrainOptions options;
  options.optimizer = "adam";
  try {
    options.validate();
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_STREQ(error.what(), "train.optimizer: expected sgd or adamw, found adam");
  }
  options.optimizer = "sgd";
  options.warmup_epochs = 5;
  options.epochs = 2;
  EXPECT_THROW(options.validate(), Error);
}

TEST(TrainerTest, LatencyIsPositiveAndModelModeIsRestored) {
  torch::set_num_threads(1);
  MacroNet model(small_plan());
  model->train();
  const auto forward = [&](const torch::Tensor& x) { return model->forward(x); };
  const double latency = measure_latency_ms(*model, forward, {1, 12, 12}, 1, 2, 5);
  EXPECT_GT(latency, 0.0);
  EXPECT_TRUE(model->is_training());
}

}  // namespace
}  // namespace nascent
