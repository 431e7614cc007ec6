#include "nascent/strategy/strategy.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <cmath>

#include "nascent/core/error.h"
#include "nascent/core/text.h"
#include "nascent/strategy/bayesian_optimization.h"
#include "nascent/strategy/hyperband.h"
#include "nascent/strategy/local_search.h"
#include "nascent/strategy/nsga2.h"
#include "nascent/strategy/random_search.h"
#include "nascent/strategy/regularized_evolution.h"
#include "nascent/strategy/reinforce.h"

namespace nascent {

namespace {

StrategyMaker& lstm_controller_maker() {
  static StrategyMaker maker;
  return maker;
}

}  // namespace

void set_lstm_controller_maker(StrategyMaker maker) { lstm_controller_maker() = std::move(maker); }

const std::vector<std::string>& strategy_names() {
  static const std::vector<std::string> names = {"random", "evolution", "local",     "reinforce",
                                                 "bo",     "sh",        "hyperband", "bohb",
                                                 "nsga2",  "darts"};
  return names;
}

std::string StrategyOptions::bo_acquisition() const {
  if (!acquisition.empty()) return acquisition;
  return surrogate == "ensemble" ? "its" : "ei";
}

std::string StrategyOptions::bo_encoding() const {
  if (!encoding.empty()) return encoding;
  return surrogate == "ensemble" ? "features" : "decisions";
}

std::string StrategyOptions::bo_kernel() const {
  if (!kernel.empty()) return kernel;
  return bo_encoding() == "features" ? "isotropic" : "ard";
}

int64_t StrategyOptions::bo_batch() const {
  if (batch > 0) return batch;
  return surrogate == "ensemble" ? 10 : 1;
}

void StrategyOptions::validate() const {
  const auto& names = strategy_names();
  if (std::find(names.begin(), names.end(), name) == names.end()) {
    const auto hint = closest_match(name, names);
    throw Error(fmt::format("strategy.name: expected {}, found '{}'{}", join_choices(names), name,
                            hint ? fmt::format(" (did you mean '{}'?)", *hint) : ""));
  }
  if (population_size < 2) {
    throw Error(
        fmt::format("strategy.population: expected an integer >= 2, found {}", population_size));
  }
  // The tournament size is regularised evolution's alone (NSGA-II's tournaments are binary).
  if (name == "evolution" && (sample_size < 1 || sample_size > population_size)) {
    throw Error(fmt::format("strategy.sample: expected an integer in [1, population={}], found {}",
                            population_size, sample_size));
  }

  // REINFORCE. Written as !(x > 0) so that NaN fails too.
  if (!(learning_rate > 0.0) || !std::isfinite(learning_rate)) {
    throw Error(
        fmt::format("strategy.learning_rate: expected a number > 0, found {}", learning_rate));
  }
  if (!(baseline_decay >= 0.0 && baseline_decay < 1.0)) {
    throw Error(fmt::format("strategy.baseline_decay: expected a number in [0, 1), found {}",
                            baseline_decay));
  }
  if (!(entropy_weight >= 0.0) || !std::isfinite(entropy_weight)) {
    throw Error(
        fmt::format("strategy.entropy_weight: expected a number >= 0, found {}", entropy_weight));
  }

  // Bayesian optimisation.
  if (initial_random < 1) {
    throw Error(
        fmt::format("strategy.initial_random: expected an integer >= 1, found {}", initial_random));
  }
  if (candidates < 1) {
    throw Error(fmt::format("strategy.candidates: expected an integer >= 1, found {}", candidates));
  }
  if (parents < 1) {
    throw Error(fmt::format("strategy.parents: expected an integer >= 1, found {}", parents));
  }
  if (surrogate != "gp" && surrogate != "ensemble") {
    throw Error(fmt::format("strategy.surrogate: expected gp or ensemble, found '{}'", surrogate));
  }
  if (!acquisition.empty() && acquisition != "ei" && acquisition != "ucb" && acquisition != "its") {
    throw Error(
        fmt::format("strategy.acquisition: expected ei, ucb or its, found '{}'", acquisition));
  }
  if (batch < 0) {
    throw Error(
        fmt::format("strategy.batch: expected an integer >= 1 (0: automatic), found {}", batch));
  }
  if (!(ucb_beta >= 0.0) || !std::isfinite(ucb_beta)) {
    throw Error(fmt::format("strategy.ucb_beta: expected a number >= 0, found {}", ucb_beta));
  }

  if (!encoding.empty() && encoding != "decisions" && encoding != "features") {
    throw Error(
        fmt::format("strategy.encoding: expected decisions or features, found '{}'", encoding));
  }
  if (!kernel.empty() && kernel != "ard" && kernel != "isotropic") {
    throw Error(fmt::format("strategy.kernel: expected ard or isotropic, found '{}'", kernel));
  }
  if (kernel == "ard" && bo_encoding() == "features") {
    throw Error(
        "strategy.kernel: expected isotropic with encoding features (ard weighs decisions), "
        "found ard");
  }
  if (controller != "factorised" && controller != "lstm") {
    throw Error(
        fmt::format("strategy.controller: expected factorised or lstm, found '{}'", controller));
  }
  if (hidden_size < 1) {
    throw Error(
        fmt::format("strategy.hidden_size: expected an integer >= 1, found {}", hidden_size));
  }

  if (!(controller_learning_rate > 0.0) || !std::isfinite(controller_learning_rate)) {
    throw Error(fmt::format("strategy.controller_learning_rate: expected a number > 0, found {}",
                            controller_learning_rate));
  }

  // Successive halving, Hyperband, BOHB.
  if (min_epochs < 1) {
    throw Error(fmt::format("strategy.min_epochs: expected an integer >= 1, found {}", min_epochs));
  }
  if (!(eta == 0.0 || eta > 1.0) || !std::isfinite(eta)) {
    throw Error(fmt::format("strategy.eta: expected a number > 1 (0: automatic), found {}", eta));
  }
  if (bracket_size < 0) {
    throw Error(fmt::format(
        "strategy.bracket_size: expected an integer >= 0 (0: automatic), found {}", bracket_size));
  }
  if (!(random_fraction >= 0.0 && random_fraction <= 1.0)) {
    throw Error(fmt::format("strategy.random_fraction: expected a number in [0, 1], found {}",
                            random_fraction));
  }
  if (!(top_fraction > 0.0 && top_fraction < 1.0)) {
    throw Error(
        fmt::format("strategy.top_fraction: expected a number in (0, 1), found {}", top_fraction));
  }
  if (kde_samples < 1) {
    throw Error(
        fmt::format("strategy.kde_samples: expected an integer >= 1, found {}", kde_samples));
  }
  for (size_t i = 0; i < fidelities.size(); ++i) {
    if (fidelities[i] < 1 || (i > 0 && fidelities[i] <= fidelities[i - 1])) {
      throw Error(fmt::format("strategy fidelities: expected increasing epochs >= 1, found [{}]",
                              fmt::join(fidelities, ", ")));
    }
  }

  // DARTS.
  if (supernet_epochs < 1) {
    throw Error(fmt::format("strategy.supernet_epochs: expected an integer >= 1, found {}",
                            supernet_epochs));
  }
  if (!(architecture_learning_rate > 0.0) || !std::isfinite(architecture_learning_rate)) {
    throw Error(fmt::format("strategy.architecture_learning_rate: expected a number > 0, found {}",
                            architecture_learning_rate));
  }
  if (!(architecture_weight_decay >= 0.0) || !std::isfinite(architecture_weight_decay)) {
    throw Error(fmt::format("strategy.architecture_weight_decay: expected a number >= 0, found {}",
                            architecture_weight_decay));
  }
}

std::vector<int64_t> fidelity_ladder(int64_t min_epochs, int64_t max_epochs, double eta) {
  if (min_epochs < 1 || min_epochs > max_epochs) {
    throw Error(
        fmt::format("strategy.min_epochs: expected an integer in [1, train.epochs={}], "
                    "found {}",
                    max_epochs, min_epochs));
  }
  if (!(eta > 1.0) || !std::isfinite(eta)) {
    throw Error(fmt::format("strategy.eta: expected a number > 1, found {}", eta));
  }
  std::vector<int64_t> ladder;
  for (double epochs = static_cast<double>(max_epochs);; epochs /= eta) {
    const auto rounded = static_cast<int64_t>(std::llround(epochs));
    if (rounded < min_epochs) break;
    if (ladder.empty() || rounded < ladder.back()) ladder.push_back(rounded);
  }
  std::reverse(ladder.begin(), ladder.end());
  return ladder;
}

double default_eta(const std::vector<int64_t>& fidelities) {
  if (fidelities.size() < 2) return kDefaultLadderEta;
  const double range =
      static_cast<double>(fidelities.back()) / static_cast<double>(fidelities.front());
  return std::pow(range, 1.0 / static_cast<double>(fidelities.size() - 1));
}

bool is_multi_fidelity(const std::string& name) {
  return name == "sh" || name == "hyperband" || name == "bohb";
}

bool is_weight_sharing(const std::string& name) { return name == "darts"; }

std::unique_ptr<Strategy> make_strategy(const StrategyOptions& options, const SearchSpace& space,
                                        uint64_t seed) {
  options.validate();
  if (is_weight_sharing(options.name)) {
    throw Error(
        fmt::format("strategy {}: expected a strategy that proposes without training, found "
                    "one that trains a supernet on images: it runs only in nascent search",
                    options.name));
  }
  if (options.name == "random") {
    return std::make_unique<RandomSearch>(space, seed, options.enumeration_limit);
  }
  if (options.name == "local") {
    return std::make_unique<LocalSearch>(space, seed, options.first_improvement,
                                         options.enumeration_limit, options.initial_random);
  }
  if (options.name == "reinforce" && options.controller == "lstm") {
    if (!lstm_controller_maker()) {
      throw Error(
          "strategy.controller: lstm needs the LibTorch part of nascent; expected "
          "nascent::register_torch_strategies() to have been called, found no LSTM controller");
    }
    return lstm_controller_maker()(options, space, seed);
  }
  if (options.name == "reinforce") {
    return std::make_unique<Reinforce>(space, seed, options.learning_rate, options.baseline_decay,
                                       options.entropy_weight, options.enumeration_limit);
  }
  if (is_multi_fidelity(options.name)) {
    if (options.fidelities.empty()) {
      throw Error(fmt::format(
          "strategy {}: expected a fidelity ladder (training epochs) from the study, found none",
          options.name));
    }
    MultiFidelityOptions multi_fidelity;
    multi_fidelity.kind = options.name == "sh"          ? MultiFidelityKind::kSuccessiveHalving
                          : options.name == "hyperband" ? MultiFidelityKind::kHyperband
                                                        : MultiFidelityKind::kBohb;
    multi_fidelity.fidelities = options.fidelities;
    multi_fidelity.eta = options.eta > 0.0 ? options.eta : default_eta(options.fidelities);
    multi_fidelity.bracket_size = options.bracket_size;
    multi_fidelity.random_fraction = options.random_fraction;
    multi_fidelity.top_fraction = options.top_fraction;
    multi_fidelity.kde_samples = options.kde_samples;
    multi_fidelity.enumeration_limit = options.enumeration_limit;
    return std::make_unique<Hyperband>(space, seed, std::move(multi_fidelity));
  }
  if (options.name == "bo") {
    BayesianOptimizationOptions bo;
    bo.initial_random = options.initial_random;
    bo.candidates = options.candidates;
    bo.parents = options.parents;
    bo.surrogate = options.surrogate == "ensemble"
                       ? BayesianOptimizationOptions::Surrogate::kEnsemble
                       : BayesianOptimizationOptions::Surrogate::kGaussianProcess;
    const std::string acquisition = options.bo_acquisition();
    bo.acquisition =
        acquisition == "ucb"   ? BayesianOptimizationOptions::Acquisition::kUpperConfidenceBound
        : acquisition == "its" ? BayesianOptimizationOptions::Acquisition::kIndependentThompson
                               : BayesianOptimizationOptions::Acquisition::kExpectedImprovement;
    bo.ucb_beta = options.ucb_beta;
    bo.use_features = options.bo_encoding() == "features";
    bo.relevance = options.bo_kernel() == "ard";
    bo.batch = options.bo_batch();
    bo.enumeration_limit = options.enumeration_limit;
    return std::make_unique<BayesianOptimization>(space, seed, bo);
  }
  if (options.name == "nsga2") {
    return std::make_unique<Nsga2>(space, seed, options.population_size);
  }
  return std::make_unique<RegularizedEvolution>(space, seed, options.population_size,
                                                options.sample_size);
}

}  // namespace nascent
