#pragma once

/// Batch normalisation for the networks nascent builds. Includes torch/torch.h.
///
/// LibTorch 1.13's batch norm is slow on channels-last (NHWC) tensors whose channel count is
/// small or not a multiple of 8: on [128, C, 28, 28] with 2 threads, one training step (forward
/// and backward) takes 3.7 ms for C = 8 and 17.8 ms for C = 12, against 0.9 and 1.6 ms for
/// nascent's kernel (bench/batch_norm_kernel.cpp; docs/benchmarks.md). nascent trains in
/// channels-last, and the NAS-Bench-201 network of the examples has 8 channels in its first
/// stage. FastBatchNorm2d is torch::nn::BatchNorm2d with its own kernel for those tensors.

#include <torch/torch.h>

namespace nascent {

/// Batch normalisation over the channels of [N, C, H, W], with the options, parameter and
/// buffer names (weight, bias, running_mean, running_var, num_batches_tracked), initial values
/// and results of torch::nn::BatchNorm2d, so checkpoints and exports are the same. Its forward
/// takes nascent's kernel when batch_norm_kernel_applies() says so and LibTorch's otherwise.
/// The kernel computes the same function: per-channel mean and biased variance of the batch in
/// training (updating the running statistics with the unbiased variance and counting the batch),
/// the running statistics in evaluation.
///
/// A module of its own rather than a subclass of torch::nn::BatchNorm2dImpl: LibTorch 1.13 does
/// not export all of that class's virtual functions, so a subclass does not link.
class FastBatchNorm2dImpl : public torch::nn::Cloneable<FastBatchNorm2dImpl> {
 public:
  explicit FastBatchNorm2dImpl(const torch::nn::BatchNormOptions& options);

  /// Creates the parameters and buffers at their initial values (weight 1, bias 0, running
  /// mean 0, running variance 1, no batches counted).
  void reset() override;

  /// [N, C, H, W] -> [N, C, H, W], in the input's memory format.
  torch::Tensor forward(const torch::Tensor& input);

  void pretty_print(std::ostream& stream) const override;

  torch::nn::BatchNormOptions options;
  torch::Tensor weight;
  torch::Tensor bias;
  torch::Tensor running_mean;
  torch::Tensor running_var;
  torch::Tensor num_batches_tracked;
};
TORCH_MODULE(FastBatchNorm2d);

/// Whether FastBatchNorm2d runs nascent's kernel for `input`: a float channels-last CPU tensor
/// of an affine normalisation with running statistics, at a channel count where the kernel was
/// measured faster than LibTorch's (in training: not a multiple of 8, or 8; in evaluation: not a
/// multiple of 8), and in evaluation only when no gradient is needed.
bool batch_norm_kernel_applies(const FastBatchNorm2dImpl& norm, const torch::Tensor& input);

/// Training-mode batch normalisation of a channels-last float tensor [N, C, H, W], with
/// gradients for the input, `weight` and `bias`. Updates `running_mean` and `running_var` in
/// place (momentum as in LibTorch: new = (1 - momentum) * old + momentum * batch, with the
/// unbiased variance). Throws nascent::Error for an input that is not channels-last float, or
/// whose channel count the kernel cannot hold (lcm(C, 16) above 1024).
torch::Tensor batch_norm_train_channels_last(const torch::Tensor& input,
                                             const torch::Tensor& weight, const torch::Tensor& bias,
                                             torch::Tensor& running_mean,
                                             torch::Tensor& running_var, double momentum,
                                             double epsilon);

/// Evaluation-mode batch normalisation of a channels-last float tensor from running statistics,
/// without gradients.
torch::Tensor batch_norm_eval_channels_last(const torch::Tensor& input, const torch::Tensor& weight,
                                            const torch::Tensor& bias,
                                            const torch::Tensor& running_mean,
                                            const torch::Tensor& running_var, double epsilon);

}  // namespace nascent
