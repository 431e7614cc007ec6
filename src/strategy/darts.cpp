#include "nascent/strategy/darts.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <torch/torch.h>

#include <chrono>
#include <filesystem>

#include "nascent/core/error.h"
#include "nascent/core/interrupt.h"
#include "nascent/core/random.h"
#include "nascent/experiment/config.h"
#include "nascent/nn/cell_net.h"
#include "nascent/space/nasbench201.h"
#include "nascent/train/tensor_data.h"
#include "nascent/train/trainer.h"

namespace nascent {

namespace {

namespace fs = std::filesystem;

/// Distinct from the other streams derived from the study seed.
constexpr uint64_t kDartsEpochStream = 0xda575;

/// Gradient norm of the supernet's weights beyond which a step is scaled down (DARTS's 5).
constexpr double kGradientClipNorm = 5.0;

DecisionProbabilities probabilities_of(const torch::Tensor& architecture_weights) {
  const torch::Tensor softmaxed = torch::softmax(architecture_weights.detach(), 1).contiguous();
  DecisionProbabilities probabilities;
  const auto& edges = nasbench201_edges();
  for (size_t edge = 0; edge < edges.size(); ++edge) {
    const torch::Tensor row = softmaxed[static_cast<int64_t>(edge)].to(torch::kDouble);
    probabilities[edges[edge].decision_name()] =
        std::vector<double>(row.data_ptr<double>(), row.data_ptr<double>() + row.numel());
  }
  return probabilities;
}

/// What decides the shapes in a checkpoint and the course of training: one line of "key=value"
/// words after "supernet:", the form describe_first_difference() narrows to the word that
/// differs.
std::string checkpoint_settings(const ImageShape& input, int64_t num_classes,
                                const DartsOptions& options) {
  return fmt::format(
      "supernet: input={} classes={} cells_per_stage={} channels={} operations={} epochs={} "
      "architecture_learning_rate={} architecture_weight_decay={} {} seed={}",
      input.to_string(), num_classes, options.network.cells_per_stage, options.network.channels,
      fmt::join(options.operations, ","), options.epochs, options.architecture_learning_rate,
      options.architecture_weight_decay, describe_train_options(options.weights), options.seed);
}

/// Everything a later call needs to continue: written to a temporary file and renamed, so a
/// kill during the write leaves the previous epoch's checkpoint whole.
void save_checkpoint(const std::string& path, const std::string& settings, int64_t epoch,
                     Nasbench201Supernet& supernet, const torch::Tensor& architecture_weights,
                     torch::optim::Optimizer& weight_optimizer,
                     torch::optim::Optimizer& architecture_optimizer) {
  torch::serialize::OutputArchive archive;
  archive.write("settings", c10::IValue(settings));
  archive.write("epoch", torch::tensor(epoch));
  archive.write("architecture_weights", architecture_weights.detach());
  torch::serialize::OutputArchive network;
  supernet->save(network);
  archive.write("supernet", network);
  torch::serialize::OutputArchive weights_state;
  weight_optimizer.save(weights_state);
  archive.write("weight_optimizer", weights_state);
  torch::serialize::OutputArchive architecture_state;
  architecture_optimizer.save(architecture_state);
  archive.write("architecture_optimizer", architecture_state);

  const std::string temporary = path + ".tmp";
  archive.save_to(temporary);
  fs::rename(temporary, path);
}

/// The epochs a checkpoint holds, after loading it into the supernet, the architecture weights
/// and the optimisers; 0 without a checkpoint.
int64_t load_checkpoint(const std::string& path, const std::string& settings,
                        Nasbench201Supernet& supernet, torch::Tensor& architecture_weights,
                        torch::optim::Optimizer& weight_optimizer,
                        torch::optim::Optimizer& architecture_optimizer) {
  if (path.empty() || !fs::exists(path)) return 0;
  try {
    torch::serialize::InputArchive archive;
    archive.load_from(path);
    // LibTorch reshapes a module's tensors to what it reads, so the shapes are checked here, by
    // the settings that decide them.
    c10::IValue stored;
    archive.read("settings", stored);
    const std::string& stored_settings = stored.toStringRef();
    if (stored_settings != settings) {
      throw Error(
          fmt::format("{}: expected a DARTS supernet checkpoint of this study's settings, "
                      "found one of other settings (first difference: {}); delete it to "
                      "train the supernet from the start",
                      path, describe_first_difference(stored_settings, settings)));
    }
    torch::Tensor epoch;
    archive.read("epoch", epoch);
    torch::Tensor stored_weights;
    archive.read("architecture_weights", stored_weights);
    torch::serialize::InputArchive network;
    archive.read("supernet", network);
    supernet->load(network);
    torch::serialize::InputArchive weights_state;
    archive.read("weight_optimizer", weights_state);
    weight_optimizer.load(weights_state);
    torch::serialize::InputArchive architecture_state;
    archive.read("architecture_optimizer", architecture_state);
    architecture_optimizer.load(architecture_state);
    {
      const torch::NoGradGuard no_grad;
      architecture_weights.copy_(stored_weights);
    }
    return epoch.item<int64_t>();
  } catch (const Error&) {
    throw;
  } catch (const c10::Error& error) {
    const std::string message = error.what_without_backtrace();
    throw Error(
        fmt::format("{}: expected a DARTS supernet checkpoint of this study's settings, "
                    "found one that does not load ({}); delete it to train the supernet "
                    "from the start",
                    path, message.substr(0, message.find('\n'))));
  }
}

}  // namespace

void DartsOptions::validate() const {
  StrategyOptions strategy;
  strategy.name = "darts";
  strategy.supernet_epochs = epochs;
  strategy.architecture_learning_rate = architecture_learning_rate;
  strategy.architecture_weight_decay = architecture_weight_decay;
  strategy.validate();
  weights.validate();
}

DecisionProbabilities train_darts_supernet(const ImageDataset& weight_data,
                                           const ImageDataset& architecture_data,
                                           int64_t num_classes, const DartsOptions& options,
                                           const std::function<void(const DartsEpoch&)>& on_epoch) {
  options.validate();
  if (weight_data.size() == 0 || architecture_data.size() == 0) {
    throw Error(
        fmt::format("DARTS: expected images for the weights and for the architecture, "
                    "found {} and {}",
                    weight_data.size(), architecture_data.size()));
  }

  // The data, normalised alike.
  const auto [mean, std] = TensorData::channel_statistics(weight_data);
  const TensorData weights_set = TensorData::from(weight_data, mean, std);
  const TensorData architecture_set = TensorData::from(architecture_data, mean, std);
  const ImageShape input{weight_data.channels, weight_data.height, weight_data.width};

  // The supernet, its architecture weights ([edges, operations]) and their optimisers.
  torch::manual_seed(options.seed);
  Nasbench201Supernet supernet(input, num_classes, options.network, options.operations);
  const auto edge_count = static_cast<int64_t>(nasbench201_edges().size());
  const auto operation_count = static_cast<int64_t>(options.operations.size());
  torch::Tensor architecture_weights =
      (1e-3 * torch::randn({edge_count, operation_count})).requires_grad_(true);
  const std::unique_ptr<torch::optim::Optimizer> weight_optimizer =
      make_optimizer(*supernet, options.weights);
  torch::optim::Adam architecture_optimizer(
      {architecture_weights}, torch::optim::AdamOptions(options.architecture_learning_rate)
                                  .betas({0.5, 0.999})
                                  .weight_decay(options.architecture_weight_decay));
  const std::string settings = checkpoint_settings(input, num_classes, options);
  const int64_t done =
      load_checkpoint(options.checkpoint_path, settings, supernet, architecture_weights,
                      *weight_optimizer, architecture_optimizer);
  if (done >= options.epochs) return probabilities_of(architecture_weights);

  const int64_t batch_size = options.weights.batch_size;
  const int64_t steps_per_epoch = (weights_set.size() + batch_size - 1) / batch_size;
  const int64_t total_steps = steps_per_epoch * options.epochs;
  const auto step_loss = [&](const TensorData& data, const torch::Tensor& indices,
                             torch::Tensor* logits_out) {
    const torch::Tensor images = data.batch_images(indices);  // [B, C, H, W]
    const torch::Tensor logits =
        supernet->forward(images, torch::softmax(architecture_weights, 1));  // [B, classes]
    if (logits_out) *logits_out = logits;
    return torch::nn::functional::cross_entropy(logits, data.labels.index_select(0, indices));
  };

  for (int64_t epoch = done + 1; epoch <= options.epochs; ++epoch) {
    const auto epoch_start = std::chrono::steady_clock::now();
    supernet->train();
    torch::manual_seed(derive_seed(options.seed, kDartsEpochStream + static_cast<uint64_t>(epoch)));
    const torch::Tensor weight_order = torch::randperm(weights_set.size(), torch::kInt64);
    const torch::Tensor architecture_order =
        torch::randperm(architecture_set.size(), torch::kInt64);
    double weight_loss_sum = 0.0;
    double architecture_loss_sum = 0.0;
    int64_t correct = 0;

    for (int64_t step = 0; step < steps_per_epoch; ++step) {
      if (stop_requested()) {
        throw Error(fmt::format("interrupted in supernet epoch {} of {}", epoch, options.epochs));
      }

      // The architecture weights: a step on the next architecture batch (cycling, as that
      // half may be smaller). The network's gradients it leaves are cleared below.
      const int64_t architecture_begin = (step * batch_size) % architecture_set.size();
      const int64_t architecture_end =
          std::min(architecture_begin + batch_size, architecture_set.size());
      architecture_optimizer.zero_grad();
      const torch::Tensor architecture_loss =
          step_loss(architecture_set,
                    architecture_order.slice(0, architecture_begin, architecture_end), nullptr);
      architecture_loss.backward();
      architecture_optimizer.step();
      architecture_loss_sum += architecture_loss.item<double>();

      // The network's weights, on the next weight batch, with the schedule of the train section.
      const int64_t begin = step * batch_size;
      const int64_t end = std::min(begin + batch_size, weights_set.size());
      const torch::Tensor indices = weight_order.slice(0, begin, end);
      const int64_t global_step = (epoch - 1) * steps_per_epoch + step;
      set_learning_rate(*weight_optimizer, scheduled_learning_rate(options.weights, global_step,
                                                                   total_steps, steps_per_epoch));
      weight_optimizer->zero_grad();
      torch::Tensor logits;
      const torch::Tensor weight_loss = step_loss(weights_set, indices, &logits);
      const double weight_loss_value = weight_loss.item<double>();
      if (!std::isfinite(weight_loss_value)) {
        throw Error(
            fmt::format("DARTS: expected a finite training loss, found {} at step {} of "
                        "supernet epoch {}; lower train.learning_rate",
                        weight_loss_value, step + 1, epoch));
      }
      weight_loss.backward();
      architecture_weights.mutable_grad() = torch::Tensor();  // only the Adam step moves them
      torch::nn::utils::clip_grad_norm_(supernet->parameters(), kGradientClipNorm);
      weight_optimizer->step();
      weight_loss_sum += weight_loss_value * static_cast<double>(end - begin);
      correct +=
          logits.argmax(1).eq(weights_set.labels.index_select(0, indices)).sum().item<int64_t>();
    }

    if (!options.checkpoint_path.empty()) {
      save_checkpoint(options.checkpoint_path, settings, epoch, supernet, architecture_weights,
                      *weight_optimizer, architecture_optimizer);
    }
    DartsEpoch report;
    report.epoch = epoch;
    report.epochs = options.epochs;
    report.weight_loss = weight_loss_sum / static_cast<double>(weights_set.size());
    report.weight_accuracy = static_cast<double>(correct) / static_cast<double>(weights_set.size());
    report.architecture_loss = architecture_loss_sum / static_cast<double>(steps_per_epoch);
    report.probabilities = probabilities_of(architecture_weights);
    report.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - epoch_start).count();
    if (on_epoch) on_epoch(report);
  }
  return probabilities_of(architecture_weights);
}

}  // namespace nascent
