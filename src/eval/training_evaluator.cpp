#include "nascent/eval/training_evaluator.h"

#include <fmt/format.h>

#include <cmath>

#include "nascent/core/error.h"
#include "nascent/nn/build_network.h"
#include "nascent/train/trainer.h"

namespace nascent {

namespace {

class TrainingEvaluator : public Evaluator {
 public:
  TrainingEvaluator(const ImageDataset& train, const ImageDataset& validation,
                    const TrainOptions& options, const CostLimits& limits,
                    const NetworkFamily& family)
      : options_(options),
        limits_(limits),
        family_(family),
        input_{train.channels, train.height, train.width},
        num_classes_(std::max(train.num_classes, validation.num_classes)) {
    options_.validate();

    // Normalisation statistics come from the training part only.
    auto [mean, std] = TensorData::channel_statistics(train);
    train_ = TensorData::from(train, mean, std);
    validation_ = TensorData::from(validation, mean, std);
  }

  ArchitectureCheck check(const Architecture& architecture) const override {
    return check_architecture(family_, architecture, input_, num_classes_, limits_);
  }

  Evaluation evaluate(const Architecture& architecture, const TrialContext& context) override {
    torch::manual_seed(context.seed);
    const BuiltNetwork network = build_network(family_, architecture, input_, num_classes_);

    TrainingCallbacks callbacks;
    callbacks.on_epoch = context.on_epoch;
    callbacks.on_step = context.on_step;
    // A multi-fidelity strategy's shorter evaluation: the same schedule over fewer epochs.
    TrainOptions trial_options = options_;
    if (context.epochs > 0) trial_options.epochs = context.epochs;
    callbacks.stop_after_epoch = context.should_prune;
    const TrainingOutcome outcome = train_model(*network.module, network.forward, train_,
                                                &validation_, trial_options, callbacks);

    Evaluation evaluation;
    evaluation.epochs = outcome.epochs;
    evaluation.train_seconds = outcome.seconds;
    if (outcome.interrupted) {
      evaluation.state = TrialState::kInterrupted;
      evaluation.validation_accuracy = std::nan("");
      evaluation.error = "interrupted: the search was asked to stop during this trial";
      return evaluation;
    }
    if (outcome.diverged_at_step) {
      evaluation.state = TrialState::kFailed;
      evaluation.validation_accuracy = std::nan("");
      evaluation.error = fmt::format("training diverged: the loss became non-finite at step {}",
                                     *outcome.diverged_at_step);
      return evaluation;
    }
    evaluation.validation_accuracy = outcome.epochs.back().validation_accuracy;
    if (outcome.stopped_early) evaluation.state = TrialState::kPruned;
    return evaluation;
  }

 private:
  TrainOptions options_;
  CostLimits limits_;
  NetworkFamily family_;
  ImageShape input_;
  int64_t num_classes_;
  TensorData train_;
  TensorData validation_;
};

}  // namespace

std::unique_ptr<Evaluator> make_training_evaluator(const ImageDataset& train,
                                                   const ImageDataset& validation,
                                                   const TrainOptions& options,
                                                   const CostLimits& limits,
                                                   const NetworkFamily& family) {
  return std::make_unique<TrainingEvaluator>(train, validation, options, limits, family);
}

}  // namespace nascent
