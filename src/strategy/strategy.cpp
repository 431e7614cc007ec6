#include "nascent/strategy/strategy.h"

#include <fmt/format.h>

#include <algorithm>

#include "nascent/core/error.h"
#include "nascent/core/text.h"
#include "nascent/strategy/random_search.h"
#include "nascent/strategy/regularized_evolution.h"

namespace nascent {

const std::vector<std::string>& strategy_names() {
  static const std::vector<std::string> names = {"random", "evolution"};
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
  if (sample_size < 1 || sample_size > population_size) {
    throw Error(fmt::format("strategy.sample: expected an integer in [1, population={}], found {}",
                            population_size, sample_size));
  }
}

std::unique_ptr<Strategy> make_strategy(const StrategyOptions& options, const SearchSpace& space,
                                        uint64_t seed) {
  options.validate();
  if (options.name == "random") {
    return std::make_unique<RandomSearch>(space, seed, options.enumeration_limit);
  }
  return std::make_unique<RegularizedEvolution>(space, seed, options.population_size,
                                                options.sample_size);
}

}  // namespace nascent
