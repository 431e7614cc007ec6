#include "nascent/strategy/strategy.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "nascent/core/error.h"
#include "nascent/core/text.h"
#include "nascent/strategy/bayesian_optimization.h"
#include "nascent/strategy/local_search.h"
#include "nascent/strategy/nsga2.h"
#include "nascent/strategy/random_search.h"
#include "nascent/strategy/regularized_evolution.h"
#include "nascent/strategy/reinforce.h"

namespace nascent {

const std::vector<std::string>& strategy_names() {
  static const std::vector<std::string> names = {"random",    "evolution", "local",
                                                 "reinforce", "bo",        "nsga2"};
  return names;
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
  if (acquisition != "ei" && acquisition != "ucb") {
    throw Error(fmt::format("strategy.acquisition: expected ei or ucb, found '{}'", acquisition));
  }
  if (!(ucb_beta >= 0.0) || !std::isfinite(ucb_beta)) {
    throw Error(fmt::format("strategy.ucb_beta: expected a number >= 0, found {}", ucb_beta));
  }
}

std::unique_ptr<Strategy> make_strategy(const StrategyOptions& options, const SearchSpace& space,
                                        uint64_t seed) {
  options.validate();
  if (options.name == "random") {
    return std::make_unique<RandomSearch>(space, seed, options.enumeration_limit);
  }
  if (options.name == "local") {
    return std::make_unique<LocalSearch>(space, seed, options.first_improvement,
                                         options.enumeration_limit);
  }
  if (options.name == "reinforce") {
    return std::make_unique<Reinforce>(space, seed, options.learning_rate, options.baseline_decay,
                                       options.entropy_weight, options.enumeration_limit);
  }
  if (options.name == "bo") {
    BayesianOptimizationOptions bo;
    bo.initial_random = options.initial_random;
    bo.candidates = options.candidates;
    bo.parents = options.parents;
    bo.acquisition = options.acquisition == "ucb"
                         ? BayesianOptimizationOptions::Acquisition::kUpperConfidenceBound
                         : BayesianOptimizationOptions::Acquisition::kExpectedImprovement;
    bo.ucb_beta = options.ucb_beta;
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
