#include "nascent/nn/batch_norm.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "nascent/core/error.h"

namespace nascent {
namespace {

torch::Tensor channels_last(const torch::Tensor& tensor) {
  return torch::empty(tensor.sizes(), tensor.options(), torch::MemoryFormat::ChannelsLast)
      .copy_(tensor);
}

/// Largest absolute difference relative to the reference's largest magnitude.
double relative_difference(const torch::Tensor& actual, const torch::Tensor& expected) {
  const double scale = std::max(1e-12, expected.abs().max().item<double>());
  return (actual - expected).abs().max().item<double>() / scale;
}

/// A FastBatchNorm2d and a torch::nn::BatchNorm2d with the same random affine parameters and
/// running statistics.
struct NormPair {
  FastBatchNorm2d fast;
  torch::nn::BatchNorm2d reference;

  explicit NormPair(int64_t channels) : fast(channels), reference(channels) {
    torch::NoGradGuard no_grad;
    const torch::Tensor weight = torch::rand({channels}) + 0.5;
    const torch::Tensor bias = torch::randn({channels});
    const torch::Tensor mean = torch::randn({channels});
    const torch::Tensor variance = torch::rand({channels}) + 0.5;
    for (auto* norm : {&fast->weight, &reference->weight}) norm->copy_(weight);
    for (auto* norm : {&fast->bias, &reference->bias}) norm->copy_(bias);
    for (auto* norm : {&fast->running_mean, &reference->running_mean}) norm->copy_(mean);
    for (auto* norm : {&fast->running_var, &reference->running_var}) norm->copy_(variance);
  }
};

// Channel counts on both sides of every rule (multiples of 8, below 16, above the compile-time
// lane counts) and shapes whose element count leaves a tail after the last whole lane group.
const std::vector<std::vector<int64_t>> kShapes = {
    {4, 1, 5, 7},  {3, 3, 6, 5},  {2, 4, 9, 9},  {16, 8, 28, 28}, {5, 12, 7, 3}, {6, 16, 5, 5},
    {8, 13, 5, 5}, {4, 24, 6, 6}, {3, 40, 4, 4}, {2, 20, 3, 5},   {64, 8, 7, 7}};

TEST(FastBatchNormTest, TrainingMatchesLibTorchInValuesGradientsAndRunningStatistics) {
  torch::manual_seed(1);
  for (const auto& shape : kShapes) {
    const int64_t channels = shape[1];
    const std::string where = "shape [" + c10::Join(", ", shape) + "]";
    NormPair norms(channels);
    const torch::Tensor images = torch::randn(shape) * 3.0 + 1.5;
    const torch::Tensor upstream = torch::randn(shape);

    // Through the module where it takes the kernel; elsewhere the kernel called directly, since
    // the choice is only about speed and the kernel must be right at every channel count.
    const torch::Tensor fast_input = channels_last(images).requires_grad_(true);
    const bool module_takes_kernel = batch_norm_kernel_applies(*norms.fast, fast_input);
    EXPECT_EQ(module_takes_kernel, channels % 8 != 0 || channels < 16) << where;
    const torch::Tensor fast_output =
        module_takes_kernel ? norms.fast->forward(fast_input)
                            : batch_norm_train_channels_last(
                                  fast_input, norms.fast->weight, norms.fast->bias,
                                  norms.fast->running_mean, norms.fast->running_var, 0.1, 1e-5);
    (fast_output * channels_last(upstream)).sum().backward();

    const torch::Tensor reference_input = images.clone().requires_grad_(true);
    const torch::Tensor reference_output = norms.reference->forward(reference_input);
    (reference_output * upstream).sum().backward();

    EXPECT_TRUE(fast_output.is_contiguous(torch::MemoryFormat::ChannelsLast)) << where;
    EXPECT_LT(relative_difference(fast_output, reference_output), 1e-5) << where;
    EXPECT_LT(relative_difference(fast_input.grad(), reference_input.grad()), 1e-4) << where;
    EXPECT_LT(relative_difference(norms.fast->weight.grad(), norms.reference->weight.grad()), 1e-4)
        << where;
    EXPECT_LT(relative_difference(norms.fast->bias.grad(), norms.reference->bias.grad()), 1e-5)
        << where;
    EXPECT_LT(relative_difference(norms.fast->running_mean, norms.reference->running_mean), 1e-6)
        << where;
    EXPECT_LT(relative_difference(norms.fast->running_var, norms.reference->running_var), 1e-5)
        << where;
    if (module_takes_kernel) EXPECT_EQ(norms.fast->num_batches_tracked.item<int64_t>(), 1) << where;
  }
}

TEST(FastBatchNormTest, EvaluationMatchesLibTorch) {
  torch::manual_seed(2);
  for (const auto& shape : kShapes) {
    const std::string where = "shape [" + c10::Join(", ", shape) + "]";
    NormPair norms(shape[1]);
    norms.fast->eval();
    norms.reference->eval();
    const torch::Tensor images = torch::randn(shape);
    const torch::Tensor input = channels_last(images);
    torch::InferenceMode inference;
    // As in training: the module where it takes the kernel, the kernel itself elsewhere.
    const bool module_takes_kernel = batch_norm_kernel_applies(*norms.fast, input);
    EXPECT_EQ(module_takes_kernel, shape[1] % 8 != 0) << where;
    const torch::Tensor fast_output =
        module_takes_kernel ? norms.fast->forward(input)
                            : batch_norm_eval_channels_last(
                                  input, norms.fast->weight, norms.fast->bias,
                                  norms.fast->running_mean, norms.fast->running_var, 1e-5);
    const torch::Tensor reference_output = norms.reference->forward(images);
    EXPECT_LT(relative_difference(fast_output, reference_output), 1e-5) << where;
  }
}

TEST(FastBatchNormTest, VarianceStaysAccurateWhenTheMeanIsLargeAgainstTheSpread) {
  // Float sums of x and x^2 lose the variance here entirely (1e6 against 1e-4), and folding the
  // mean into the shift cancels 1e5 against 1e5. Both mistakes were made once and caught here.
  torch::manual_seed(4);
  const torch::Tensor images = torch::randn({32, 8, 14, 14}, torch::kDouble) * 0.01 + 1000.0;
  const torch::Tensor float_images = images.to(torch::kFloat);
  const torch::Tensor input = channels_last(float_images);
  FastBatchNorm2d norm(8);
  ASSERT_TRUE(batch_norm_kernel_applies(*norm, input));
  const torch::Tensor output = norm->forward(input);
  torch::nn::BatchNorm2d reference(8);
  const torch::Tensor reference_output = reference->forward(float_images);

  // Double precision from the same float values. LibTorch itself is off by 5e-3 here (1.6e-2 in
  // channels-last); a float mean is up to 3e-5 from the true one, 3e-3 standard deviations.
  const torch::Tensor exact = float_images.to(torch::kDouble);
  const torch::Tensor mean = exact.mean({0, 2, 3}, /*keepdim=*/true);
  const torch::Tensor variance = exact.var({0, 2, 3}, /*unbiased=*/false, /*keepdim=*/true);
  const torch::Tensor expected = (exact - mean) / torch::sqrt(variance + 1e-5);
  const double error = (output.to(torch::kDouble) - expected).abs().max().item<double>();
  const double libtorch_error =
      (reference_output.to(torch::kDouble) - expected).abs().max().item<double>();
  EXPECT_LT(error, std::max(1e-4, 2.0 * libtorch_error)) << "LibTorch's error " << libtorch_error;
  EXPECT_LT(error, 1e-2);
}

TEST(FastBatchNormTest, ResultsDoNotDependOnTheNumberOfThreads) {
  torch::manual_seed(5);
  const torch::Tensor input = channels_last(torch::randn({64, 8, 28, 28}));
  const torch::Tensor upstream = channels_last(torch::randn({64, 8, 28, 28}));
  std::vector<torch::Tensor> outputs;
  std::vector<torch::Tensor> gradients;
  const int threads_before = torch::get_num_threads();
  for (int threads : {1, 2}) {
    torch::set_num_threads(threads);
    FastBatchNorm2d norm(8);
    const torch::Tensor leaf = input.clone().requires_grad_(true);
    const torch::Tensor output = norm->forward(leaf);
    (output * upstream).sum().backward();
    outputs.push_back(output.detach());
    gradients.push_back(leaf.grad());
  }
  torch::set_num_threads(threads_before);
  EXPECT_TRUE(torch::equal(outputs[0], outputs[1]));
  EXPECT_TRUE(torch::equal(gradients[0], gradients[1]));
}

TEST(FastBatchNormTest, HasTheParameterAndBufferNamesOfLibTorchsModule) {
  FastBatchNorm2d fast(12);
  torch::nn::BatchNorm2d reference(12);
  const auto names = [](const torch::nn::Module& module) {
    std::set<std::string> all;
    for (const auto& item : module.named_parameters()) all.insert("parameter " + item.key());
    for (const auto& item : module.named_buffers()) all.insert("buffer " + item.key());
    return all;
  };
  EXPECT_EQ(names(*fast), names(*reference));
  EXPECT_TRUE(torch::equal(fast->running_var, reference->running_var));
  EXPECT_TRUE(torch::equal(fast->weight, reference->weight));
}

TEST(FastBatchNormTest, ChoosesTheKernelOnlyWhereItWasMeasuredFaster) {
  const auto applies = [](int64_t channels, bool training, bool channels_last_layout,
                          torch::ScalarType type = torch::kFloat) {
    FastBatchNorm2d norm(channels);
    norm->train(training);
    // Evaluation runs without gradients (see below for evaluation with them).
    torch::NoGradGuard no_grad;
    torch::Tensor input = torch::zeros({2, channels, 4, 4}, type);
    if (channels_last_layout) input = channels_last(input);
    return batch_norm_kernel_applies(*norm, input);
  };
  EXPECT_TRUE(applies(8, true, true));
  EXPECT_TRUE(applies(12, true, true));
  EXPECT_TRUE(applies(12, false, true));
  EXPECT_FALSE(applies(8, false, true));  // LibTorch's evaluation is faster at 8
  EXPECT_FALSE(applies(16, true, true));  // and its training at 16
  EXPECT_FALSE(applies(8, true, false));  // NCHW
  EXPECT_FALSE(applies(8, true, true, torch::kDouble));

  // Evaluation with a gradient wanted (zero-cost proxies) stays with LibTorch, which has one.
  FastBatchNorm2d norm(12);
  norm->eval();
  EXPECT_FALSE(batch_norm_kernel_applies(
      *norm, channels_last(torch::zeros({2, 12, 4, 4})).requires_grad_(true)));
}

TEST(FastBatchNormTest, TheKernelRejectsTensorsItCannotHandleWithOneLine) {
  FastBatchNorm2d norm(8);
  try {
    batch_norm_train_channels_last(torch::zeros({2, 8, 4, 4}), norm->weight, norm->bias,
                                   norm->running_mean, norm->running_var, 0.1, 1e-5);
    FAIL() << "an NCHW tensor was accepted";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("expected a channels-last float CPU tensor"),
              std::string::npos)
        << error.what();
  }
}

}  // namespace
}  // namespace nascent
