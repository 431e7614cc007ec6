#include "nascent/experiment/proxy_study.h"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <limits>
#include <unordered_set>

#include "nascent/core/error.h"
#include "nascent/core/interrupt.h"
#include "nascent/core/random.h"
#include "nascent/eval/correlation.h"
#include "nascent/eval/proxies.h"
#include "nascent/eval/training_evaluator.h"
#include "nascent/experiment/experiment.h"
#include "nascent/train/tensor_data.h"

namespace nascent {

namespace {

// Streams of the study seed, apart from those of the search (1-4) so that nothing is shared.
constexpr uint64_t kProxySampleStream = 21;
constexpr uint64_t kProxyBatchStream = 22;

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

/// Ranks put a missing score (a singular kernel, an undefined correlation) last.
double rankable(double score) {
  return std::isnan(score) ? -std::numeric_limits<double>::infinity() : score;
}

/// A seeded minibatch of `dataset`, normalised as the trainer normalises: images [B, C, H, W]
/// and labels [B].
std::pair<torch::Tensor, torch::Tensor> minibatch(const ImageDataset& dataset, int64_t batch_size,
                                                  uint64_t seed) {
  auto [mean, std] = TensorData::channel_statistics(dataset);
  const TensorData data = TensorData::from(dataset, mean, std);
  Rng rng(seed);
  std::vector<int64_t> indices(static_cast<size_t>(dataset.size()));
  for (int64_t i = 0; i < dataset.size(); ++i) indices[static_cast<size_t>(i)] = i;
  // Partial Fisher-Yates: the first batch_size positions become a uniform sample.
  const int64_t count = std::min(batch_size, dataset.size());
  for (int64_t i = 0; i < count; ++i) {
    const int64_t j = i + rng.index(dataset.size() - i);
    std::swap(indices[static_cast<size_t>(i)], indices[static_cast<size_t>(j)]);
  }
  indices.resize(static_cast<size_t>(count));
  const torch::Tensor index_tensor = torch::tensor(indices, torch::kInt64);
  return {data.batch_images(index_tensor), data.labels.index_select(0, index_tensor)};
}

std::vector<std::string> network_proxies() {
  std::vector<std::string> names;
  for (const auto& name : proxy_names()) {
    if (name != "params" && name != "flops") names.push_back(name);
  }
  return names;
}

nlohmann::json number_or_null(double value) {
  return std::isfinite(value) ? nlohmann::json(value) : nlohmann::json(nullptr);
}

}  // namespace

void ProxyStudyOptions::validate() const {
  if (samples < 3) {
    throw Error(fmt::format("--samples: expected at least 3 architectures, found {}", samples));
  }
  if (train_epochs < 1) {
    throw Error(fmt::format("--train-epochs: expected an integer >= 1, found {}", train_epochs));
  }
  if (batch_size < 2) {
    throw Error(fmt::format("--batch-size: expected an integer >= 2, found {}", batch_size));
  }
}

ProxyStudyResult run_proxy_study(const ExperimentConfig& config, const ProxyStudyOptions& options,
                                 const ProxyStudyProgress& progress) {
  options.validate();
  const auto start = std::chrono::steady_clock::now();
  ProxyStudyResult result;
  result.options = options;

  // Data and evaluator, as the search would have them.
  const auto [search_train, validation] = load_search_datasets(config);
  result.search_train_size = search_train.size();
  result.validation_size = validation.size();
  TrainOptions train = config.train;
  train.epochs = options.train_epochs;
  const auto evaluator =
      make_training_evaluator(search_train, validation, train, config.cost_limits, config.network);
  ProxyInputs inputs;
  inputs.family = config.network;
  inputs.input = {search_train.channels, search_train.height, search_train.width};
  inputs.num_classes = std::max(search_train.num_classes, validation.num_classes);
  std::tie(inputs.images, inputs.labels) =
      minibatch(search_train, options.batch_size, derive_seed(config.seed, kProxyBatchStream));

  // Distinct valid architectures.
  Rng rng(derive_seed(config.seed, kProxySampleStream));
  std::vector<std::pair<Architecture, ArchitectureCheck>> sampled;
  std::unordered_set<std::string> seen;
  double check_seconds = 0.0;
  const int64_t max_attempts = 200 * options.samples;
  for (int64_t attempt = 0;
       attempt < max_attempts && static_cast<int64_t>(sampled.size()) < options.samples;
       ++attempt) {
    const Architecture architecture = config.space.sample(rng);
    if (!seen.insert(architecture.hash_hex()).second) continue;
    const auto check_start = std::chrono::steady_clock::now();
    ArchitectureCheck check = evaluator->check(architecture);
    check_seconds += seconds_since(check_start);
    if (check.valid) sampled.emplace_back(architecture, std::move(check));
  }
  if (static_cast<int64_t>(sampled.size()) < options.samples) {
    throw Error(fmt::format(
        "{}: expected {} distinct valid architectures in the space, found {} in {} samples",
        config.path, options.samples, sampled.size(), max_attempts));
  }

  // Score, then train, each architecture.
  std::map<std::string, double> proxy_seconds;
  for (size_t index = 0; index < sampled.size(); ++index) {
    if (stop_requested()) {
      throw Error(fmt::format("proxies: stopped by a signal after {} of {} architectures", index,
                              sampled.size()));
    }
    const auto& [architecture, check] = sampled[index];
    ProxyStudyRow row;
    row.architecture = config.space.format(architecture);
    row.short_description = check.short_description;
    row.params = check.params;
    row.flops = check.flops;
    row.scores["params"] = static_cast<double>(check.params);
    row.scores["flops"] = static_cast<double>(check.flops);

    inputs.seed = derive_seed(config.seed, architecture.hash());
    for (const auto& [name, score] : score_proxies(architecture, inputs, network_proxies())) {
      row.scores[name] = score.score;
      proxy_seconds[name] += score.seconds;
    }

    TrialContext context;
    context.trial_id = static_cast<int64_t>(index) + 1;
    context.seed = inputs.seed;
    const Evaluation evaluation = evaluator->evaluate(architecture, context);
    if (evaluation.state == TrialState::kInterrupted) {
      throw Error(fmt::format("proxies: stopped by a signal after {} of {} architectures", index,
                              sampled.size()));
    }
    row.validation_accuracy = evaluation.state == TrialState::kComplete
                                  ? evaluation.validation_accuracy
                                  : std::numeric_limits<double>::quiet_NaN();
    row.train_seconds = evaluation.train_seconds;
    row.error = evaluation.error;
    result.train_seconds += evaluation.train_seconds;
    result.rows.push_back(row);
    if (progress) progress(row, static_cast<int64_t>(index), options.samples);
  }
  // Shape inference gives both counts at once; each baseline is charged all of it.
  proxy_seconds["params"] = check_seconds;
  proxy_seconds["flops"] = check_seconds;

  // Correlate over the architectures that trained.
  std::vector<double> accuracies;
  for (const auto& row : result.rows) {
    if (!std::isnan(row.validation_accuracy)) accuracies.push_back(row.validation_accuracy);
  }
  for (const auto& name : proxy_names()) {
    std::vector<double> scores;
    for (const auto& row : result.rows) {
      if (!std::isnan(row.validation_accuracy)) scores.push_back(rankable(row.scores.at(name)));
    }
    result.correlations.push_back({name, spearman_correlation(scores, accuracies),
                                   kendall_tau_b(scores, accuracies), proxy_seconds[name]});
  }
  result.elapsed_seconds = seconds_since(start);
  return result;
}

nlohmann::json proxy_study_json(const ProxyStudyResult& result) {
  nlohmann::json json;
  json["samples"] = result.options.samples;
  json["train_epochs"] = result.options.train_epochs;
  json["proxy_batch_size"] = result.options.batch_size;
  json["search_train_size"] = result.search_train_size;
  json["validation_size"] = result.validation_size;
  json["train_seconds"] = result.train_seconds;
  json["elapsed_seconds"] = result.elapsed_seconds;
  json["correlations"] = nlohmann::json::array();
  for (const auto& correlation : result.correlations) {
    json["correlations"].push_back({{"proxy", correlation.proxy},
                                    {"spearman", number_or_null(correlation.spearman)},
                                    {"kendall", number_or_null(correlation.kendall)},
                                    {"seconds", correlation.seconds}});
  }
  json["architectures"] = nlohmann::json::array();
  for (const auto& row : result.rows) {
    nlohmann::json scores = nlohmann::json::object();
    for (const auto& [name, score] : row.scores) scores[name] = number_or_null(score);
    json["architectures"].push_back({{"arch", row.architecture},
                                     {"short", row.short_description},
                                     {"params", row.params},
                                     {"flops", row.flops},
                                     {"scores", scores},
                                     {"val_accuracy", number_or_null(row.validation_accuracy)},
                                     {"train_seconds", row.train_seconds},
                                     {"error", row.error}});
  }
  return json;
}

std::function<double(const Architecture&)> make_proxy_scorer(const ExperimentConfig& config,
                                                             const ImageDataset& search_train,
                                                             const std::string& proxy,
                                                             int64_t batch_size, uint64_t seed) {
  check_proxy_name(proxy, "proxy");
  ProxyInputs inputs;
  inputs.family = config.network;
  inputs.input = {search_train.channels, search_train.height, search_train.width};
  inputs.num_classes = search_train.num_classes;
  std::tie(inputs.images, inputs.labels) = minibatch(search_train, batch_size, seed);

  return [config, inputs, proxy](const Architecture& architecture) mutable {
    // An architecture that cannot be built, or is over a cost limit, ranks last: the search
    // stores it as invalid if it is ever proposed.
    const ArchitectureCheck check = check_architecture(config.network, architecture, inputs.input,
                                                       inputs.num_classes, config.cost_limits);
    if (!check.valid) return -std::numeric_limits<double>::infinity();
    double score = 0.0;
    if (proxy == "params" || proxy == "flops") {
      score = static_cast<double>(proxy == "params" ? check.params : check.flops);
    } else {
      inputs.seed = derive_seed(config.seed, architecture.hash());
      score = score_proxies(architecture, inputs, {proxy}).at(proxy).score;
    }
    return std::isfinite(score) ? score : -std::numeric_limits<double>::infinity();
  };
}

}  // namespace nascent
