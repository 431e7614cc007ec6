#pragma once

/// How well zero-cost proxies rank the architectures of a study's space: sample architectures,
/// score each with every proxy, train each briefly, and correlate (`nascent proxies`).

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "nascent/data/dataset.h"
#include "nascent/experiment/config.h"

namespace nascent {

/// Settings of run_proxy_study().
struct ProxyStudyOptions {
  /// Distinct valid architectures sampled uniformly from the space.
  int64_t samples = 50;
  /// Epochs each architecture is trained for (the rest of the config's `train` section applies).
  int64_t train_epochs = 1;
  /// Images of the one minibatch every data-based proxy sees.
  int64_t batch_size = 64;

  /// Throws nascent::Error naming the bad option.
  void validate() const;
};

/// One sampled architecture: its scores and its accuracy after training.
struct ProxyStudyRow {
  std::string architecture;
  std::string short_description;
  int64_t params = 0;
  int64_t flops = 0;
  /// Every proxy of proxy_names() (params and flops included) -> its score.
  std::map<std::string, double> scores;
  /// NaN when training failed (then `error` says why and the row is left out of correlations).
  double validation_accuracy = 0.0;
  double train_seconds = 0.0;
  std::string error;
};

/// One proxy's rank correlation with validation accuracy, and its cost over all rows.
struct ProxyCorrelation {
  std::string proxy;
  double spearman = 0.0;
  double kendall = 0.0;
  double seconds = 0.0;
};

/// Everything run_proxy_study() measured.
struct ProxyStudyResult {
  ProxyStudyOptions options;
  int64_t search_train_size = 0;
  int64_t validation_size = 0;
  std::vector<ProxyStudyRow> rows;
  /// In the order of proxy_names().
  std::vector<ProxyCorrelation> correlations;
  /// Training time summed over the rows, for comparison with the proxies' seconds.
  double train_seconds = 0.0;
  double elapsed_seconds = 0.0;
};

/// Called after each architecture with its row, its 0-based index and the number of samples.
using ProxyStudyProgress = std::function<void(const ProxyStudyRow&, int64_t index, int64_t total)>;

/// Samples `options.samples` distinct valid architectures of the config's space (seeded by the
/// config's seed), computes every proxy on one minibatch of the search training data, trains
/// each as the search would (the config's `train` section with `options.train_epochs` epochs),
/// and correlates. Non-finite proxy scores (a singular NASWOT kernel, an undefined jacob_cov)
/// rank lowest. Throws nascent::Error when the space has too few valid architectures.
ProxyStudyResult run_proxy_study(const ExperimentConfig& config, const ProxyStudyOptions& options,
                                 const ProxyStudyProgress& progress = {});

/// The result as JSON: options, data sizes, correlations and every row.
nlohmann::json proxy_study_json(const ProxyStudyResult& result);

/// A scorer of architectures of the config's space by one proxy (higher is better): params and
/// flops by shape inference, the others on a fixed minibatch of `batch_size` images of
/// `search_train` drawn with `seed`, with the network initialised from the architecture's hash.
/// A non-finite score, and an architecture that is invalid (cannot be built for the data, or
/// is over a cost limit), become -infinity.
std::function<double(const Architecture&)> make_proxy_scorer(const ExperimentConfig& config,
                                                             const ImageDataset& search_train,
                                                             const std::string& proxy,
                                                             int64_t batch_size, uint64_t seed);

}  // namespace nascent
