#include "nascent/eval/final_model.h"

#include <fmt/format.h>

#include <filesystem>

#include "nascent/core/error.h"
#include "nascent/eval/training_evaluator.h"
#include "nascent/export/checkpoint.h"
#include "nascent/nn/build_network.h"
#include "nascent/train/trainer.h"

namespace nascent {

FinalModelReport train_final_model(const NetworkFamily& family, const Architecture& architecture,
                                   const ImageDataset& train, const ImageDataset& test,
                                   const TrainOptions& options, uint64_t seed,
                                   const std::string& checkpoint_path,
                                   const std::function<void(const EpochMetrics&)>& on_epoch,
                                   const std::function<void(int64_t, int64_t)>& on_step) {
  const ImageShape input{train.channels, train.height, train.width};
  const int64_t num_classes = std::max(train.num_classes, test.num_classes);
  const ArchitectureCheck check = check_architecture(family, architecture, input, num_classes);
  if (!check.valid) throw Error("final model: " + check.reason);

  auto [mean, std] = TensorData::channel_statistics(train);
  const TensorData train_data = TensorData::from(train, mean, std);
  const TensorData test_data = TensorData::from(test, mean, std);

  torch::manual_seed(seed);
  const BuiltNetwork network = build_network(family, architecture, input, num_classes);
  torch::nn::Module& model = *network.module;
  const auto& forward = network.forward;
  TrainingCallbacks callbacks;
  callbacks.on_epoch = on_epoch;
  callbacks.on_step = on_step;
  const TrainingOutcome outcome =
      train_model(model, forward, train_data, nullptr, options, callbacks);

  FinalModelReport report;
  report.params = check.params;
  report.flops = check.flops;
  report.epochs = outcome.epochs;
  report.train_seconds = outcome.seconds;
  if (outcome.interrupted) {
    report.error =
        "interrupted: the search was asked to stop during the final retraining; run "
        "the same command again to retrain";
    return report;
  }
  if (outcome.diverged_at_step) {
    report.error = fmt::format("final training diverged: the loss became non-finite at step {}",
                               *outcome.diverged_at_step);
    return report;
  }

  // The test set is read here, once, after every search decision has been made.
  const EvaluationResult tested =
      evaluate_model(model, forward, test_data, options.eval_batch_size);
  report.test_accuracy = tested.accuracy;
  report.test_loss = tested.loss;
  report.latency_ms =
      measure_latency_ms(model, forward, {input.channels, input.height, input.width}, 1);
  // Written to a temporary file and renamed, so a crash never leaves a half-written checkpoint.
  save_checkpoint(model, {mean, std}, checkpoint_path);
  return report;
}

double evaluate_checkpoint(const NetworkFamily& family, const Architecture& architecture,
                           int64_t num_classes, const std::string& checkpoint_path,
                           const ImageDataset& test) {
  if (!std::filesystem::exists(checkpoint_path)) {
    throw Error(
        fmt::format("checkpoint {}: expected a LibTorch checkpoint written by nascent "
                    "search, found no file",
                    checkpoint_path));
  }
  const ImageShape input{test.channels, test.height, test.width};
  const BuiltNetwork network = build_network(family, architecture, input, num_classes);

  // All or nothing: a checkpoint of another architecture is refused, never loaded in part.
  const CheckpointNormalisation normalisation =
      load_checkpoint_strict(*network.module, checkpoint_path, architecture.to_string());

  const TensorData test_data = TensorData::from(test, normalisation.mean, normalisation.std);
  return evaluate_model(*network.module, network.forward, test_data, 1000).accuracy;
}

}  // namespace nascent
