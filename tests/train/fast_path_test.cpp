// The fast training path (channels-last layout) must change how fast a model learns, never what
// it learns: from the same seed it has the same mean training loss every epoch and reaches the same
// accuracy as the plain NCHW path, on real Fashion-MNIST.

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <optional>

#include "nascent/data/dataset.h"
#include "nascent/data/idx_reader.h"
#include "nascent/nn/macro_net.h"
#include "nascent/space/macro_space.h"
#include "nascent/train/trainer.h"

namespace nascent {
namespace {

constexpr const char* kFashionMnistDirectory = "/usr/share/datasets/fashion-mnist";

/// Every kind of layer whose layout matters: a one-channel stem, a full convolution, a
/// separable (depthwise) convolution, an inverted residual with a skip, max pooling, a strided
/// stage and a dense head.
NetworkPlan mixed_plan() {
  const SearchSpace space = make_macro_space(MacroSpaceOptions());
  const Architecture architecture = space.parse(
      "stem.width=16 stages=2 "
      "s1.depth=2 s1.downsample=max_pool "
      "s1.l1.op=conv s1.l1.width=32 s1.l1.kernel=3 s1.l1.activation=relu s1.l1.batch_norm=true "
      "s1.l2.op=mbconv s1.l2.width=32 s1.l2.kernel=3 s1.l2.expansion=3 s1.l2.activation=silu "
      "s1.l2.batch_norm=true s1.l2.skip=1 "
      "s2.depth=1 s2.downsample=stride "
      "s2.l1.op=sep_conv s2.l1.width=64 s2.l1.kernel=5 s2.l1.activation=relu "
      "s2.l1.batch_norm=true "
      "head.dense_layers=1 head.dense1.width=128 head.dropout=0");
  return plan_network(architecture, {1, 28, 28}, 10);
}

struct FashionSubset {
  TensorData train;
  TensorData validation;
};

/// 3,000 training and 1,000 validation images, stratified, normalised with the subset's
/// statistics. Empty when the dataset is not installed.
std::optional<FashionSubset> read_fashion_subset() {
  namespace fs = std::filesystem;
  if (!fs::exists(fs::path(kFashionMnistDirectory) / "train-images-idx3-ubyte.gz") &&
      !fs::exists(fs::path(kFashionMnistDirectory) / "train-images-idx3-ubyte")) {
    return std::nullopt;
  }
  const DatasetFiles files = read_idx_directory(kFashionMnistDirectory, "dataset-fashion-mnist");
  const Split split = stratified_split(files.train.labels, 10, 1000, 7);
  const ImageDataset train =
      files.train.subset(stratified_subset(split.train, files.train.labels, 10, 3000, 7));
  const ImageDataset validation = files.train.subset(split.validation);
  auto [mean, std] = TensorData::channel_statistics(train);
  return FashionSubset{TensorData::from(train, mean, std), TensorData::from(validation, mean, std)};
}

/// The subset, read from disk once for all the tests of this file.
const std::optional<FashionSubset>& fashion_subset() {
  static const std::optional<FashionSubset> subset = read_fashion_subset();
  return subset;
}

TrainOptions options_with_layout(bool channels_last) {
  TrainOptions options;
  options.epochs = 3;
  options.batch_size = 64;
  options.learning_rate = 0.05;
  options.warmup_epochs = 0.2;
  options.crop_padding = 2;  // augmentation draws from the generator: both paths must agree
  options.channels_last = channels_last;
  return options;
}

struct LayoutRun {
  std::vector<double> epoch_losses;
  TrainingOutcome outcome;
  bool parameters_back_in_default_layout = true;
};

LayoutRun train_with_layout(const FashionSubset& data, bool channels_last) {
  torch::manual_seed(11);
  MacroNet model(mixed_plan());
  LayoutRun run;
  const auto forward = [&](const torch::Tensor& images) { return model->forward(images); };
  run.outcome = train_model(*model, forward, data.train, &data.validation,
                            options_with_layout(channels_last));
  for (const auto& epoch : run.outcome.epochs) run.epoch_losses.push_back(epoch.train_loss);
  for (const auto& parameter : model->parameters()) {
    if (!parameter.is_contiguous()) run.parameters_back_in_default_layout = false;
  }
  return run;
}

TEST(FastPathTest, ChannelsLastLearnsWhatThePlainPathLearns) {
  const auto& data = fashion_subset();
  if (!data) GTEST_SKIP() << "Fashion-MNIST is not installed in " << kFashionMnistDirectory;

  const LayoutRun plain = train_with_layout(*data, false);
  const LayoutRun fast = train_with_layout(*data, true);
  ASSERT_EQ(plain.outcome.epochs.size(), 3u);
  ASSERT_EQ(fast.outcome.epochs.size(), 3u);

  // Both learn well above chance (10%) ...
  const double plain_accuracy = plain.outcome.epochs.back().validation_accuracy;
  const double fast_accuracy = fast.outcome.epochs.back().validation_accuracy;
  EXPECT_GT(plain_accuracy, 0.65);
  EXPECT_GT(fast_accuracy, 0.65);

  // ... and the same within noise: the only difference is the order of floating-point additions
  // inside the kernels, which 140 SGD steps amplify to about a point (measured: 70.8% against
  // 70.2%, mean training losses within 1%). A layout bug that reaches the data or the
  // gradients (a misread batch, a transposed weight) costs tens of points.
  EXPECT_NEAR(fast_accuracy, plain_accuracy, 0.03);
  for (size_t epoch = 0; epoch < plain.epoch_losses.size(); ++epoch) {
    EXPECT_NEAR(fast.epoch_losses[epoch], plain.epoch_losses[epoch],
                0.03 * plain.epoch_losses[epoch])
        << "mean training loss of epoch " << epoch + 1;
  }

  // Checkpoints and ONNX export read the parameters in the default layout.
  EXPECT_TRUE(fast.parameters_back_in_default_layout);
}

TEST(FastPathTest, OneTrainingStepUpdatesTheWeightsAlike) {
  const auto& data = fashion_subset();
  if (!data) GTEST_SKIP() << "Fashion-MNIST is not installed in " << kFashionMnistDirectory;

  // One batch of 64, with cropping and flipping: one forward, backward and SGD step each.
  const torch::Tensor first_batch = torch::arange(64, torch::kInt64);
  TensorData one_batch = data->train;
  one_batch.images = data->train.images.index_select(0, first_batch);
  one_batch.labels = data->train.labels.index_select(0, first_batch);
  std::vector<torch::Tensor> parameters[2];
  for (const bool channels_last : {false, true}) {
    torch::manual_seed(5);
    MacroNet model(mixed_plan());
    TrainOptions options = options_with_layout(channels_last);
    options.epochs = 1;
    options.warmup_epochs = 0;
    options.horizontal_flip = true;
    const auto forward = [&](const torch::Tensor& images) { return model->forward(images); };
    train_model(*model, forward, one_batch, nullptr, options);
    for (const auto& parameter : model->parameters()) {
      parameters[channels_last].push_back(parameter.detach().clone());
    }
  }

  // Kernels of the two layouts add in different orders: the step moves the weights alike to
  // about 1e-5 (an initialisation or gradient read in the wrong layout differs by 1e-2 and up).
  ASSERT_EQ(parameters[0].size(), parameters[1].size());
  for (size_t i = 0; i < parameters[0].size(); ++i) {
    EXPECT_TRUE(torch::allclose(parameters[1][i], parameters[0][i], 1e-3, 1e-4))
        << "parameter " << i << ": largest difference "
        << (parameters[1][i] - parameters[0][i]).abs().max().item<double>();
  }
}

TEST(FastPathTest, ChannelsLastForwardComputesTheSameLogits) {
  torch::manual_seed(3);
  MacroNet model(mixed_plan());
  model->eval();
  torch::NoGradGuard no_grad;
  const torch::Tensor images = torch::randn({8, 1, 28, 28});

  const torch::Tensor plain = model->forward(images);
  set_channels_last(*model, true);
  const torch::Tensor converted = to_channels_last(images);
  // A one-channel batch is "contiguous" in both layouts; the copy must still carry NHWC
  // strides, or every convolution after it silently runs in NCHW.
  EXPECT_EQ(converted.stride(1), 1);
  const torch::Tensor fast = model->forward(converted);
  set_channels_last(*model, false);

  EXPECT_TRUE(torch::allclose(fast, plain, 1e-4, 1e-5))
      << "largest difference " << (fast - plain).abs().max().item<double>();
  for (const auto& parameter : model->parameters()) EXPECT_TRUE(parameter.is_contiguous());
}

TEST(FastPathTest, ChannelsLastMakesTheConvolutionsRunInNhwc) {
  torch::manual_seed(3);
  MacroNet model(mixed_plan());
  set_channels_last(*model, true);
  bool every_conv_weight_nhwc = true;
  for (const auto& parameter : model->parameters()) {
    // [out, in, k, k] with in > 1 or k > 1: the layouts differ and must be NHWC.
    if (parameter.dim() == 4 && !parameter.is_contiguous(torch::MemoryFormat::ChannelsLast)) {
      every_conv_weight_nhwc = false;
    }
  }
  EXPECT_TRUE(every_conv_weight_nhwc);

  // The stem's output is what every later layer inherits its layout from.
  torch::NoGradGuard no_grad;
  model->eval();
  const torch::Tensor stem_input = to_channels_last(torch::randn({2, 1, 28, 28}));
  const torch::Tensor weight = model->parameters().front();
  const torch::Tensor stem_output = torch::conv2d(stem_input, weight, {}, 1, 1);
  EXPECT_TRUE(stem_output.is_contiguous(torch::MemoryFormat::ChannelsLast));
  EXPECT_FALSE(stem_output.is_contiguous());
}

}  // namespace
}  // namespace nascent
