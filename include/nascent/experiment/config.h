#pragma once

/// The experiment file: what to search, on which data, with which strategy and budget.

#include <cstdint>
#include <functional>
#include <string>

#include "nascent/eval/evaluator.h"
#include "nascent/eval/objectives.h"
#include "nascent/eval/pruner.h"
#include "nascent/eval/training_evaluator.h"
#include "nascent/nn/network_family.h"
#include "nascent/space/macro_space.h"
#include "nascent/space/search_space.h"
#include "nascent/strategy/strategy.h"
#include "nascent/train/train_options.h"

namespace nascent {

/// Where the data comes from and how it is split.
struct DataConfig {
  /// "fashion-mnist", "mnist" or "idx" (any directory of MNIST-style IDX files).
  std::string dataset = "fashion-mnist";
  /// Directory holding the IDX files.
  std::string directory = "/usr/share/datasets/fashion-mnist";
  /// Debian package that provides the directory, named in the error when it is missing.
  std::string debian_package = "dataset-fashion-mnist";
  /// Examples of the training file held out, stratified, for validation.
  int64_t validation_size = 6000;
  /// Examples of the remaining training data used to train candidates; 0 means all.
  int64_t search_train_size = 0;

  /// Lines of `directory`, `validation_size` and `search_train_size` in the experiment file, or
  /// of the `data` section for a key left at its default (0 without one): the sizes can only be
  /// checked against the data once it is loaded, long after the file was read.
  int64_t directory_line = 0;
  int64_t validation_size_line = 0;
  int64_t search_train_size_line = 0;
};

/// When the search stops. At least one limit must be set.
struct BudgetConfig {
  /// Trials that count (complete, failed, pruned); 0 means no limit.
  int64_t max_trials = 0;
  /// Wall-clock limit for the search phase in minutes, summed over resumed runs; 0 means
  /// no limit. No trial starts after it.
  double time_limit_min = 0.0;
};

/// The retraining of the best architecture.
struct FinalConfig {
  /// Training options; start from the `train` section and override what `final` names.
  TrainOptions train;
};

/// A zero-cost proxy and how the search uses it (docs/proxies.md).
struct ProxyConfig {
  /// "none", "evaluator" (the proxy score is the trial's objective; nothing trains until the
  /// final model), "prefilter" (of every `candidates` proposals of the strategy, the `keep`
  /// best by the proxy are trained) or "warm_start" (the `keep` best by the proxy of
  /// `candidates` random architectures are proposed first).
  std::string use = "none";
  /// One of proxy_names().
  std::string name = "naswot";
  /// Images of the one minibatch the data-based proxies see.
  int64_t batch_size = 64;
  int64_t candidates = 10;
  int64_t keep = 1;
};

/// Low-fidelity training of candidates during the search; the final model always trains at
/// full fidelity. (Fewer epochs: the `train` section's epochs against the `final` section's.)
struct FidelityConfig {
  /// Fraction of the search training images candidates train on (stratified), in (0, 1].
  double data_fraction = 1.0;
  /// Every width (stem, layers, dense; NAS-Bench-201 channels) times this, at least 1, in
  /// (0, 1]; parameter and FLOP counts and cost limits stay those of the full network.
  double width_multiplier = 1.0;
  /// Candidates see images resized (area averaging) to resolution x resolution; 0 keeps them.
  int64_t resolution = 0;
  /// Line of `data_fraction` in the experiment file (0 without one), for the check against the
  /// data's size once it is loaded.
  int64_t data_fraction_line = 0;

  bool is_full() const {
    return data_fraction == 1.0 && width_multiplier == 1.0 && resolution == 0;
  }
};

/// A whole experiment file.
struct ExperimentConfig {
  /// Path of the file it came from ("<string>" when parsed from text).
  std::string path;
  std::string study = "study";
  uint64_t seed = 0;
  /// LibTorch intra-op threads.
  int64_t threads = 2;
  DataConfig data;
  MacroSpaceOptions space_options;
  SearchSpace space;
  /// The network family of the space ("macro" or "nasbench201") and its size options.
  NetworkFamily network;
  /// space.max_params / space.max_flops: larger architectures are invalid.
  CostLimits cost_limits;
  /// Line of the `space` section, for errors found once the data's shape is known.
  int64_t space_line = 0;
  StrategyOptions strategy;
  BudgetConfig budget;
  /// Training of candidates during the search.
  TrainOptions train;
  FinalConfig final;
  /// Cheap evaluation: a zero-cost proxy, pruning of poor trials, low-fidelity candidates.
  ProxyConfig proxy;
  PruningOptions pruning;
  FidelityConfig fidelity;
  /// The objectives of the Pareto front, hard constraints and latency measurement.
  ObjectivesConfig objectives;
  /// The file's text, stored with the study.
  std::string text;
};

/// One line naming every training option and its value ("epochs=2 batch_size=128 ...").
std::string describe_train_options(const TrainOptions& options);

/// A canonical text of everything that shapes the search (space, data, strategy, candidate
/// training, seed). A study refuses to resume under a config with a different fingerprint.
std::string search_fingerprint(const ExperimentConfig& config);

/// The first line in which two texts of one setting per line (fingerprints, worker settings)
/// differ, for an error message: "was 'a', now 'b'", narrowed to the setting that differs on a
/// line of key=value settings ("in train was 'epochs=2', now 'epochs=3'"); "none" if equal.
std::string describe_first_difference(const std::string& stored, const std::string& wanted);

/// Strategy options from a compact spec, "NAME" or "NAME:KEY=VALUE:KEY=VALUE" with the keys of
/// the config's strategy section ("reinforce:controller=lstm", "bo:candidates=500"). Throws
/// nascent::ConfigError naming the spec and the key.
StrategyOptions parse_strategy_spec(const std::string& spec);

/// Refuses a space in which no architecture fits `input`: samples 2000 architectures, and
/// throws nascent::ConfigError at the `space` line naming the decision that breaks most of them
/// when `check` finds none valid.
void check_space_admits_valid(const ExperimentConfig& config,
                              const std::function<ArchitectureCheck(const Architecture&)>& check,
                              const ImageShape& input);

/// Reads and validates an experiment file. Throws nascent::ConfigError with the file, line,
/// key path, what was expected and what was found (and "did you mean" for unknown keys).
ExperimentConfig load_experiment_config(const std::string& path);

/// Same, from text; `path` is only used in messages.
ExperimentConfig parse_experiment_config(const std::string& text, const std::string& path);

}  // namespace nascent
