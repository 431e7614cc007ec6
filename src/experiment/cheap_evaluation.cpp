#include "nascent/experiment/cheap_evaluation.h"

#include <fmt/format.h>

#include <chrono>
#include <cmath>

#include "nascent/core/random.h"
#include "nascent/eval/training_evaluator.h"
#include "nascent/experiment/proxy_study.h"
#include "nascent/strategy/proxy_guided.h"
#include "nascent/train/tensor_data.h"

namespace nascent {

namespace {

// Streams of the study seed (the search uses 1-4, the proxy study 21-22).
constexpr uint64_t kProxyBatchStream = 31;
constexpr uint64_t kWarmStartStream = 32;
constexpr uint64_t kFidelitySubsetStream = 33;

/// The proxy score of each architecture as its objective; nothing is trained.
class ProxyEvaluator : public Evaluator {
 public:
  ProxyEvaluator(const ExperimentConfig& config, const ImageDataset& search_train)
      : network_(config.network),
        limits_(config.cost_limits),
        input_{search_train.channels, search_train.height, search_train.width},
        num_classes_(search_train.num_classes),
        score_(make_proxy_scorer(config, search_train, config.proxy.name, config.proxy.batch_size,
                                 derive_seed(config.seed, kProxyBatchStream))) {}

  ArchitectureCheck check(const Architecture& architecture) const override {
    return check_architecture(network_, architecture, input_, num_classes_, limits_);
  }

  Evaluation evaluate(const Architecture& architecture, const TrialContext&) override {
    const auto start = std::chrono::steady_clock::now();
    Evaluation evaluation;
    evaluation.validation_accuracy = score_(architecture);
    evaluation.train_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return evaluation;
  }

 private:
  NetworkFamily network_;
  CostLimits limits_;
  ImageShape input_;
  int64_t num_classes_;
  std::function<double(const Architecture&)> score_;
};

/// Checks at full fidelity, trains at low fidelity.
class LowFidelityEvaluator : public Evaluator {
 public:
  LowFidelityEvaluator(const ExperimentConfig& config, const ImageShape& full_input,
                       int64_t num_classes, std::unique_ptr<Evaluator> training)
      : network_(config.network),
        limits_(config.cost_limits),
        full_input_(full_input),
        num_classes_(num_classes),
        training_(std::move(training)) {}

  ArchitectureCheck check(const Architecture& architecture) const override {
    return check_architecture(network_, architecture, full_input_, num_classes_, limits_);
  }

  Evaluation evaluate(const Architecture& architecture, const TrialContext& context) override {
    return training_->evaluate(architecture, context);
  }

 private:
  NetworkFamily network_;
  CostLimits limits_;
  ImageShape full_input_;
  int64_t num_classes_;
  std::unique_ptr<Evaluator> training_;
};

/// `dataset` with every image resized to resolution x resolution by area averaging.
ImageDataset resized(const ImageDataset& dataset, int64_t resolution) {
  ImageDataset result = dataset;
  result.height = resolution;
  result.width = resolution;
  const torch::Tensor images =
      torch::from_blob(const_cast<uint8_t*>(dataset.pixels.data()),
                       {dataset.size(), dataset.channels, dataset.height, dataset.width},
                       torch::kUInt8)
          .to(torch::kFloat);  // [N, C, H, W]
  const torch::Tensor small = torch::adaptive_avg_pool2d(images, {resolution, resolution})
                                  .round()
                                  .clamp(0, 255)
                                  .to(torch::kUInt8)
                                  .contiguous();  // [N, C, R, R]
  result.pixels.assign(small.data_ptr<uint8_t>(), small.data_ptr<uint8_t>() + small.numel());
  return result;
}

}  // namespace

std::unique_ptr<Evaluator> make_search_evaluator(const ExperimentConfig& config,
                                                 const ImageDataset& search_train,
                                                 const ImageDataset& validation) {
  if (config.proxy.use == "evaluator") {
    return std::make_unique<ProxyEvaluator>(config, search_train);
  }
  if (config.fidelity.is_full()) {
    return make_training_evaluator(search_train, validation, config.train, config.cost_limits,
                                   config.network);
  }

  const FidelityConfig& fidelity = config.fidelity;
  ImageDataset train = search_train;
  ImageDataset held_out = validation;
  if (fidelity.data_fraction < 1.0) {
    std::vector<int64_t> all(static_cast<size_t>(train.size()));
    for (int64_t i = 0; i < train.size(); ++i) all[static_cast<size_t>(i)] = i;
    const auto count = std::max<int64_t>(
        1, std::llround(fidelity.data_fraction * static_cast<double>(train.size())));
    train = train.subset(stratified_subset(all, train.labels, train.num_classes, count,
                                           derive_seed(config.seed, kFidelitySubsetStream)));
  }
  if (fidelity.resolution > 0) {
    train = resized(train, fidelity.resolution);
    held_out = resized(held_out, fidelity.resolution);
  }
  NetworkFamily narrow = config.network;
  narrow.width_multiplier = fidelity.width_multiplier;
  const int64_t num_classes = std::max(search_train.num_classes, validation.num_classes);
  return std::make_unique<LowFidelityEvaluator>(
      config, ImageShape{search_train.channels, search_train.height, search_train.width},
      num_classes, make_training_evaluator(train, held_out, config.train, {}, narrow));
}

std::unique_ptr<Strategy> guide_strategy(const ExperimentConfig& config,
                                         const ImageDataset& search_train,
                                         std::unique_ptr<Strategy> strategy) {
  const ProxyConfig& proxy = config.proxy;
  if (proxy.use != "prefilter" && proxy.use != "warm_start") return strategy;
  ArchitectureScore score = make_proxy_scorer(config, search_train, proxy.name, proxy.batch_size,
                                              derive_seed(config.seed, kProxyBatchStream));
  if (proxy.use == "prefilter") {
    return make_proxy_prefilter(std::move(strategy), std::move(score), proxy.candidates,
                                proxy.keep);
  }
  return make_proxy_warm_start(std::move(strategy), config.space, std::move(score),
                               proxy.candidates, proxy.keep,
                               derive_seed(config.seed, kWarmStartStream));
}

std::vector<std::vector<double>> pruning_history(const Store& store, int64_t before_trial_id) {
  std::vector<std::vector<double>> history;
  for (const auto& trial : store.trials()) {
    if (trial.id >= before_trial_id) break;
    if (trial.state != TrialState::kComplete && trial.state != TrialState::kPruned) continue;
    std::vector<double> curve;
    for (const auto& epoch : store.epochs(trial.id)) curve.push_back(epoch.validation_accuracy);
    if (!curve.empty()) history.push_back(std::move(curve));
  }
  return history;
}

nlohmann::json cheap_evaluation_json(const ExperimentConfig& config) {
  nlohmann::json json;
  json["proxy"] = {{"use", config.proxy.use}};
  if (config.proxy.use != "none") {
    json["proxy"]["name"] = config.proxy.name;
    json["proxy"]["batch_size"] = config.proxy.batch_size;
    if (config.proxy.use != "evaluator") {
      json["proxy"]["candidates"] = config.proxy.candidates;
      json["proxy"]["keep"] = config.proxy.keep;
    }
  }
  json["pruning"] = {{"rule", config.pruning.rule}};
  if (config.pruning.enabled()) {
    json["pruning"]["min_trials"] = config.pruning.min_trials;
    if (config.pruning.rule == "median") {
      json["pruning"]["warmup_epochs"] = config.pruning.warmup_epochs;
    } else {
      json["pruning"]["min_epochs"] = config.pruning.min_epochs;
      json["pruning"]["reduction_factor"] = config.pruning.reduction_factor;
    }
  }
  json["fidelity"] = {{"candidates",
                       {{"epochs", config.proxy.use == "evaluator" ? 0 : config.train.epochs},
                        {"data_fraction", config.fidelity.data_fraction},
                        {"width_multiplier", config.fidelity.width_multiplier},
                        {"resolution", config.fidelity.resolution == 0
                                           ? nlohmann::json("full")
                                           : nlohmann::json(config.fidelity.resolution)}}},
                      {"final",
                       {{"epochs", config.final.train.epochs},
                        {"data_fraction", 1.0},
                        {"width_multiplier", 1.0},
                        {"resolution", "full"}}}};
  return json;
}

}  // namespace nascent
