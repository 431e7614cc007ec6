#pragma once

/// The training loop shared by candidate evaluation and the final model. Includes torch.

#include <torch/torch.h>

#include <functional>
#include <optional>
#include <vector>

#include "nascent/store/trial.h"
#include "nascent/train/tensor_data.h"
#include "nascent/train/train_options.h"

namespace nascent {

/// Accuracy and mean loss of a model on a dataset.
struct EvaluationResult {
  double accuracy = 0.0;
  double loss = 0.0;
};

/// What a training run produced.
struct TrainingOutcome {
  /// Metrics of every finished epoch.
  std::vector<EpochMetrics> epochs;
  /// Set when the loss became NaN or infinite: the global step (1-based) where it happened.
  std::optional<int64_t> diverged_at_step;
  /// Set when training stopped early because nascent::request_stop() was called.
  bool interrupted = false;
  /// Set when TrainingCallbacks::stop_after_epoch asked to stop before the last epoch.
  bool stopped_early = false;
  double seconds = 0.0;
};

/// Called after each epoch (for storing metrics as they come) and after each step (for a
/// progress bar). Either may be empty.
struct TrainingCallbacks {
  std::function<void(const EpochMetrics&)> on_epoch;
  std::function<void(int64_t step, int64_t total_steps)> on_step;
  /// Asked after every epoch but the last (after on_epoch); true ends training there (pruning).
  std::function<bool(const EpochMetrics&)> stop_after_epoch;
};

/// Trains `model` on `train` with `options`. When `validation` is given, it is evaluated after
/// every epoch; before that, while the batch norms' running statistics are unsettled (a run of
/// a few dozen steps) and TrainOptions::precise_batch_norm is set, they are recomputed over the
/// training data. With TrainOptions::channels_last the model trains in NHWC layout and is put
/// back in the default layout before this returns. Random draws (shuffling, augmentation, dropout)
/// come from LibTorch's global generator, which the caller seeds. A non-finite loss stops training
/// and is reported in the outcome rather than thrown, so a search can record the trial as failed
/// and go on.
TrainingOutcome train_model(torch::nn::Module& model,
                            const std::function<torch::Tensor(const torch::Tensor&)>& forward,
                            const TensorData& train, const TensorData* validation,
                            const TrainOptions& options, const TrainingCallbacks& callbacks = {});

/// The learning rate at 0-based `step` of `total_steps`: a linear warm-up over
/// TrainOptions::warmup_epochs, then cosine decay to 0.
double scheduled_learning_rate(const TrainOptions& options, int64_t step, int64_t total_steps,
                               int64_t steps_per_epoch);

/// The optimiser TrainOptions names (SGD with momentum, or AdamW) over `model`'s parameters.
std::unique_ptr<torch::optim::Optimizer> make_optimizer(torch::nn::Module& model,
                                                        const TrainOptions& options);

/// Sets the learning rate of every parameter group of `optimizer`.
void set_learning_rate(torch::optim::Optimizer& optimizer, double learning_rate);

/// A batch norm's running statistics are unsettled while their initial values still weigh more
/// than this in the moving average: (1 - momentum)^steps > 1%, fewer than 44 steps at
/// LibTorch's momentum of 0.1.
constexpr double kUnsettledStatisticsShare = 0.01;

/// Training examples whose batches recompute_batch_norm_statistics() averages over, at most.
constexpr int64_t kStatisticsExamples = 4096;

/// True when some batch norm of `model` (FastBatchNorm2d with a momentum) is unsettled after
/// `steps` training steps.
bool batch_norm_statistics_unsettled(torch::nn::Module& model, int64_t steps);

/// Replaces the running statistics of every batch norm of `model` that keeps moving averages by
/// the plain average over the batches of the first kStatisticsExamples images of `data` in
/// `order` (a permutation of its indices), computed by forward passes without gradients
/// ("precise batch norm", Wu and Johnson, "Rethinking 'Batch' in BatchNorm", 2021). Other
/// modules run in evaluation mode meanwhile; modes and momenta are restored afterwards.
void recompute_batch_norm_statistics(
    torch::nn::Module& model, const std::function<torch::Tensor(const torch::Tensor&)>& forward,
    const TensorData& data, const torch::Tensor& order, int64_t batch_size, bool channels_last);

/// Accuracy and cross-entropy of `model` on `data`, in evaluation mode without gradients.
/// `channels_last` hands the batches to `forward` in NHWC layout (as train_model does when
/// the model is in that layout); the result is the same either way.
EvaluationResult evaluate_model(torch::nn::Module& model,
                                const std::function<torch::Tensor(const torch::Tensor&)>& forward,
                                const TensorData& data, int64_t batch_size,
                                bool channels_last = false);

/// Puts every 4-D parameter and buffer of `module` (convolution weights) in channels-last
/// layout, or back in the default contiguous layout. The tensors keep their identity, so an
/// optimiser that holds them is unaffected; values do not change.
void set_channels_last(torch::nn::Module& module, bool channels_last);

/// A copy of a [N, C, H, W] batch laid out channels-last. The strides are set explicitly:
/// for one channel both layouts are "contiguous", and Tensor::contiguous() would keep NCHW
/// strides, so the first convolution (and everything after it) would run in NCHW.
torch::Tensor to_channels_last(const torch::Tensor& images);

/// Median latency in milliseconds of one forward pass on a batch of `batch_size` images after
/// `warmup` untimed passes, over `repeats` timed passes, in evaluation mode.
double measure_latency_ms(torch::nn::Module& model,
                          const std::function<torch::Tensor(const torch::Tensor&)>& forward,
                          const std::vector<int64_t>& image_shape, int64_t batch_size,
                          int64_t warmup = 10, int64_t repeats = 50);

}  // namespace nascent
