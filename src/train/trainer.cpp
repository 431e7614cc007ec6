#include "nascent/train/trainer.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numbers>

#include "nascent/core/error.h"
#include "nascent/core/interrupt.h"
#include "nascent/nn/batch_norm.h"

namespace nascent {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

/// Linear warm-up, then cosine decay to zero over the remaining steps.
/// Random crop after zero padding, for a whole batch at once: each image's crop window is
/// gathered through one index tensor instead of a loop over images.
torch::Tensor random_crop(const torch::Tensor& images, int64_t padding) {
  const int64_t batch = images.size(0);
  const int64_t channels = images.size(1);
  const int64_t height = images.size(2);
  const int64_t width = images.size(3);
  const int64_t padded_width = width + 2 * padding;

  const torch::Tensor padded =
      torch::constant_pad_nd(images, {padding, padding, padding, padding}, 0.0);
  const torch::Tensor offset_y = torch::randint(0, 2 * padding + 1, {batch, 1, 1}, torch::kInt64);
  const torch::Tensor offset_x = torch::randint(0, 2 * padding + 1, {batch, 1, 1}, torch::kInt64);
  const torch::Tensor rows = torch::arange(height, torch::kInt64).view({1, height, 1}) + offset_y;
  const torch::Tensor cols = torch::arange(width, torch::kInt64).view({1, 1, width}) + offset_x;
  const torch::Tensor flat_index = (rows * padded_width + cols)
                                       .view({batch, 1, height * width})
                                       .expand({batch, channels, height * width});  // [B, C, H*W]
  return padded.reshape({batch, channels, -1})
      .gather(2, flat_index)
      .view({batch, channels, height, width});
}

torch::Tensor random_horizontal_flip(const torch::Tensor& images) {
  const torch::Tensor flip = torch::rand({images.size(0), 1, 1, 1}) < 0.5;
  return torch::where(flip, images.flip({3}), images);
}

/// Puts a module in channels-last layout for the lifetime of the scope and back in the default
/// layout when it ends, including on an early return or an exception.
class ChannelsLastScope {
 public:
  ChannelsLastScope(torch::nn::Module& module, bool enabled) : module_(module), enabled_(enabled) {
    if (enabled_) set_channels_last(module_, true);
  }
  ~ChannelsLastScope() {
    if (enabled_) set_channels_last(module_, false);
  }
  ChannelsLastScope(const ChannelsLastScope&) = delete;
  ChannelsLastScope& operator=(const ChannelsLastScope&) = delete;

 private:
  torch::nn::Module& module_;
  bool enabled_;
};

/// `tensor` restrided to `format`, with strides computed for that format even when its sizes
/// make two layouts coincide (a size-1 channel dimension).
torch::Tensor restride(const torch::Tensor& tensor, torch::MemoryFormat format) {
  return torch::empty(tensor.sizes(), tensor.options().memory_format(format)).copy_(tensor);
}

/// The batch norms of `model` whose running statistics are exponential moving averages, with
/// their momentum.
struct MovingAverageNorm {
  FastBatchNorm2dImpl* norm;
  double momentum;
};

std::vector<MovingAverageNorm> moving_average_norms(torch::nn::Module& model) {
  std::vector<MovingAverageNorm> norms;
  for (const auto& module : model.modules(/*include_self=*/true)) {
    auto* norm = module->as<FastBatchNorm2dImpl>();
    if (norm == nullptr || !norm->options.track_running_stats()) continue;
    if (!norm->options.momentum().has_value()) continue;
    norms.push_back({norm, *norm->options.momentum()});
  }
  return norms;
}

}  // namespace

double scheduled_learning_rate(const TrainOptions& options, int64_t step, int64_t total_steps,
                               int64_t steps_per_epoch) {
  const double warmup_steps = options.warmup_epochs * static_cast<double>(steps_per_epoch);
  if (step < warmup_steps) return options.learning_rate * (step + 1) / warmup_steps;
  const double progress = (step - warmup_steps) / std::max(1.0, total_steps - warmup_steps);
  return options.learning_rate * 0.5 * (1.0 + std::cos(std::numbers::pi * progress));
}

std::unique_ptr<torch::optim::Optimizer> make_optimizer(torch::nn::Module& model,
                                                        const TrainOptions& options) {
  if (options.optimizer == "sgd") {
    return std::make_unique<torch::optim::SGD>(model.parameters(),
                                               torch::optim::SGDOptions(options.learning_rate)
                                                   .momentum(options.momentum)
                                                   .nesterov(options.nesterov)
                                                   .weight_decay(options.weight_decay));
  }
  return std::make_unique<torch::optim::AdamW>(
      model.parameters(),
      torch::optim::AdamWOptions(options.learning_rate).weight_decay(options.weight_decay));
}

void set_learning_rate(torch::optim::Optimizer& optimizer, double learning_rate) {
  for (auto& group : optimizer.param_groups()) group.options().set_lr(learning_rate);
}

bool batch_norm_statistics_unsettled(torch::nn::Module& model, int64_t steps) {
  for (const MovingAverageNorm& entry : moving_average_norms(model)) {
    if (std::pow(1.0 - entry.momentum, static_cast<double>(steps)) > kUnsettledStatisticsShare) {
      return true;
    }
  }
  return false;
}

void recompute_batch_norm_statistics(
    torch::nn::Module& model, const std::function<torch::Tensor(const torch::Tensor&)>& forward,
    const TensorData& data, const torch::Tensor& order, int64_t batch_size, bool channels_last) {
  const std::vector<MovingAverageNorm> norms = moving_average_norms(model);
  if (norms.empty()) return;
  const bool was_training = model.is_training();

  // Start each average afresh and weigh every batch alike (LibTorch's momentum-less
  // averaging), with only the batch norms in training mode: dropout stays off and draws nothing
  // from the generator, so training after this goes on exactly as it would have.
  for (const MovingAverageNorm& entry : norms) {
    torch::NoGradGuard no_grad;
    entry.norm->running_mean.zero_();
    entry.norm->running_var.fill_(1.0);
    entry.norm->num_batches_tracked.zero_();
    entry.norm->options.momentum(c10::optional<double>());
  }
  model.eval();
  for (const MovingAverageNorm& entry : norms) entry.norm->train(true);

  {
    torch::NoGradGuard no_grad;
    const int64_t examples = std::min(order.size(0), kStatisticsExamples);
    for (int64_t begin = 0; begin < examples; begin += batch_size) {
      const int64_t end = std::min(begin + batch_size, examples);
      torch::Tensor images = data.batch_images(order.slice(0, begin, end));
      if (channels_last) images = to_channels_last(images);
      forward(images);
    }
  }

  for (const MovingAverageNorm& entry : norms) entry.norm->options.momentum(entry.momentum);
  model.train(was_training);
}

void set_channels_last(torch::nn::Module& module, bool channels_last) {
  torch::NoGradGuard no_grad;
  const auto format =
      channels_last ? torch::MemoryFormat::ChannelsLast : torch::MemoryFormat::Contiguous;
  for (torch::Tensor& tensor : module.parameters()) {
    if (tensor.dim() == 4) tensor.set_data(restride(tensor, format));
  }
  for (torch::Tensor& tensor : module.buffers()) {
    if (tensor.dim() == 4) tensor.set_data(restride(tensor, format));
  }
}

torch::Tensor to_channels_last(const torch::Tensor& images) {
  return restride(images, torch::MemoryFormat::ChannelsLast);
}

TrainingOutcome train_model(torch::nn::Module& model,
                            const std::function<torch::Tensor(const torch::Tensor&)>& forward,
                            const TensorData& train, const TensorData* validation,
                            const TrainOptions& options, const TrainingCallbacks& callbacks) {
  options.validate();
  const auto start = Clock::now();
  TrainingOutcome outcome;

  const int64_t examples = train.size();
  const int64_t steps_per_epoch = (examples + options.batch_size - 1) / options.batch_size;
  const int64_t total_steps = steps_per_epoch * options.epochs;
  const ChannelsLastScope layout(model, options.channels_last);
  auto optimizer = make_optimizer(model, options);
  const auto loss_options =
      torch::nn::functional::CrossEntropyFuncOptions().label_smoothing(options.label_smoothing);

  int64_t step = 0;
  for (int64_t epoch = 1; epoch <= options.epochs; ++epoch) {
    const auto epoch_start = Clock::now();
    model.train();
    const torch::Tensor order = torch::randperm(examples, torch::kInt64);
    double loss_sum = 0.0;
    int64_t correct = 0;
    double learning_rate = 0.0;

    for (int64_t begin = 0; begin < examples; begin += options.batch_size, ++step) {
      // Prepare the batch: gather, normalise, augment.
      const int64_t end = std::min(begin + options.batch_size, examples);
      const torch::Tensor indices = order.slice(0, begin, end);
      torch::Tensor images = train.batch_images(indices);  // [B, C, H, W]
      const torch::Tensor labels = train.labels.index_select(0, indices);
      if (options.crop_padding > 0) images = random_crop(images, options.crop_padding);
      if (options.horizontal_flip) images = random_horizontal_flip(images);
      if (options.channels_last) images = to_channels_last(images);

      // A stop request (Ctrl-C, SIGTERM) ends training between steps, never inside one.
      if (stop_requested()) {
        outcome.interrupted = true;
        outcome.seconds = seconds_since(start);
        return outcome;
      }

      // One optimisation step.
      learning_rate = scheduled_learning_rate(options, step, total_steps, steps_per_epoch);
      set_learning_rate(*optimizer, learning_rate);
      optimizer->zero_grad();
      const torch::Tensor logits = forward(images);  // [B, classes]
      const torch::Tensor loss = torch::nn::functional::cross_entropy(logits, labels, loss_options);
      const double loss_value = loss.item<double>();
      if (!std::isfinite(loss_value)) {
        outcome.diverged_at_step = step + 1;
        outcome.seconds = seconds_since(start);
        return outcome;
      }
      loss.backward();
      optimizer->step();

      loss_sum += loss_value * static_cast<double>(end - begin);
      correct += logits.argmax(1).eq(labels).sum().item<int64_t>();
      if (callbacks.on_step) callbacks.on_step(step + 1, total_steps);
    }

    EpochMetrics metrics;
    metrics.epoch = epoch;
    metrics.train_loss = loss_sum / static_cast<double>(examples);
    metrics.train_accuracy = static_cast<double>(correct) / static_cast<double>(examples);
    metrics.learning_rate = learning_rate;
    // After a few steps the running statistics are still mostly their initial values, and a
    // network that learnt well can validate at chance: measure them instead (the epoch's
    // shuffled order gives a random sample without drawing from the generator again).
    if (options.precise_batch_norm && batch_norm_statistics_unsettled(model, step)) {
      recompute_batch_norm_statistics(model, forward, train, order, options.batch_size,
                                      options.channels_last);
    }
    if (validation) {
      const EvaluationResult result = evaluate_model(
          model, forward, *validation, options.eval_batch_size, options.channels_last);
      metrics.validation_accuracy = result.accuracy;
      metrics.validation_loss = result.loss;
    }
    metrics.seconds = seconds_since(epoch_start);
    outcome.epochs.push_back(metrics);
    if (callbacks.on_epoch) callbacks.on_epoch(metrics);
    if (epoch < options.epochs && callbacks.stop_after_epoch &&
        callbacks.stop_after_epoch(metrics)) {
      outcome.stopped_early = true;
      break;
    }
  }

  outcome.seconds = seconds_since(start);
  return outcome;
}

EvaluationResult evaluate_model(torch::nn::Module& model,
                                const std::function<torch::Tensor(const torch::Tensor&)>& forward,
                                const TensorData& data, int64_t batch_size, bool channels_last) {
  const bool was_training = model.is_training();
  model.eval();
  // Inference mode, not just no-grad: no version counters or autograd metadata on the outputs.
  torch::InferenceMode inference;

  int64_t correct = 0;
  double loss_sum = 0.0;
  const int64_t examples = data.size();
  for (int64_t begin = 0; begin < examples; begin += batch_size) {
    const int64_t end = std::min(begin + batch_size, examples);
    const torch::Tensor indices = torch::arange(begin, end, torch::kInt64);
    torch::Tensor images = data.batch_images(indices);
    if (channels_last) images = to_channels_last(images);
    const torch::Tensor logits = forward(images);
    const torch::Tensor labels = data.labels.slice(0, begin, end);
    loss_sum +=
        torch::nn::functional::cross_entropy(
            logits, labels, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum))
            .item<double>();
    correct += logits.argmax(1).eq(labels).sum().item<int64_t>();
  }

  model.train(was_training);
  EvaluationResult result;
  result.accuracy = examples > 0 ? static_cast<double>(correct) / static_cast<double>(examples) : 0;
  result.loss = examples > 0 ? loss_sum / static_cast<double>(examples) : 0;
  return result;
}

double measure_latency_ms(torch::nn::Module& model,
                          const std::function<torch::Tensor(const torch::Tensor&)>& forward,
                          const std::vector<int64_t>& image_shape, int64_t batch_size,
                          int64_t warmup, int64_t repeats) {
  const bool was_training = model.is_training();
  model.eval();
  torch::InferenceMode inference;

  std::vector<int64_t> shape = {batch_size};
  shape.insert(shape.end(), image_shape.begin(), image_shape.end());
  const torch::Tensor input = torch::randn(shape);
  for (int64_t i = 0; i < warmup; ++i) forward(input);

  std::vector<double> times;
  for (int64_t i = 0; i < repeats; ++i) {
    const auto start = Clock::now();
    forward(input);
    times.push_back(seconds_since(start) * 1000.0);
  }
  std::nth_element(times.begin(), times.begin() + repeats / 2, times.end());
  model.train(was_training);
  return times[static_cast<size_t>(repeats / 2)];
}

}  // namespace nascent
