#pragma once

/// A search loop for strategy tests that behaves like the real one (src/experiment): each
/// proposal is evaluated once, and a repeated proposal is answered from a cache and costs
/// nothing.

#include <cmath>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "nascent/strategy/strategy.h"

namespace nascent::testing_support {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

/// A complete result with this objective.
inline Observation complete(double objective) {
  return Observation{TrialState::kComplete, objective};
}

/// "<prefix><number>". Appending instead of `"c" + std::to_string(n)` avoids a false
/// -Wstringop-overflow of GCC 12 on the temporary's insert.
inline std::string numbered(const char* prefix, int64_t number) {
  std::string text = prefix;
  text += std::to_string(number);
  return text;
}

/// `count` categorical decisions d0, d1, ... with `choices` values c0, c1, ... each.
inline SearchSpace flat_space(int64_t count, int64_t choices) {
  SearchSpace space;
  for (int64_t i = 0; i < count; ++i) {
    std::vector<std::string> values;
    for (int64_t c = 0; c < choices; ++c) values.push_back(numbered("c", c));
    space.add(Decision::categorical(numbered("d", i), values));
  }
  return space;
}

/// The easy landscape: the fraction of decisions of a flat space equal to a hidden target,
/// d_i = c((3 i + 1) mod choices). Every architecture but the target has a better neighbour.
inline double matching_fraction(const Architecture& architecture, int64_t choices) {
  int64_t matches = 0;
  int64_t decision = 0;
  for (const auto& [name, value] : architecture.values()) {
    if (value == numbered("c", (3 * decision + 1) % choices)) ++matches;
    ++decision;
  }
  return static_cast<double>(matches) / static_cast<double>(decision);
}

/// matching_fraction() on a space of 5 choices per decision, as a complete result.
inline Observation easy_objective(const Architecture& architecture) {
  return complete(matching_fraction(architecture, 5));
}

/// What one run of the loop saw.
struct SearchRun {
  /// Every proposal in order, repeats included, as canonical strings.
  std::vector<std::string> proposals;
  /// Distinct architectures evaluated (repeats are not charged).
  int64_t queries = 0;
  /// The number of queries after which the objective first reached `target`.
  std::optional<int64_t> queries_to_target;
  double best = -std::numeric_limits<double>::infinity();
  /// True when the strategy said it had nothing left to propose.
  bool exhausted = false;
};

/// Runs ask/evaluate/tell until `max_queries` distinct evaluations, `target` is reached (if
/// `stop_at_target`), the strategy runs out, or `max_repeats_in_a_row` proposals in a row were
/// repeats (the real loop's end for a strategy that only repeats itself).
inline SearchRun run_search(Strategy& strategy,
                            const std::function<Observation(const Architecture&)>& evaluate,
                            int64_t max_queries, double target, bool stop_at_target = true,
                            int64_t max_repeats_in_a_row = 2000) {
  SearchRun run;
  std::unordered_map<uint64_t, Observation> cache;
  int64_t repeats_in_a_row = 0;
  while (run.queries < max_queries && repeats_in_a_row < max_repeats_in_a_row) {
    const auto architecture = strategy.ask();
    if (!architecture) {
      run.exhausted = true;
      break;
    }
    run.proposals.push_back(architecture->to_string());

    if (const auto cached = cache.find(architecture->hash()); cached != cache.end()) {
      ++repeats_in_a_row;
      strategy.tell(*architecture, cached->second);
      continue;
    }
    repeats_in_a_row = 0;

    const Observation observation = evaluate(*architecture);
    cache.emplace(architecture->hash(), observation);
    ++run.queries;
    if (!std::isnan(observation.objective) && observation.objective > run.best) {
      run.best = observation.objective;
    }
    strategy.tell(*architecture, observation);
    if (!run.queries_to_target && run.best >= target) {
      run.queries_to_target = run.queries;
      if (stop_at_target) break;
    }
  }
  return run;
}

/// What one run of the multi-fidelity loop saw.
struct MultiFidelityRun {
  /// Every proposal in order, repeats included: (canonical string, fidelity).
  std::vector<std::pair<std::string, int64_t>> proposals;
  /// Sum of the fidelities of the distinct evaluations (epochs trained).
  int64_t cost = 0;
  /// The best objective at the highest fidelity of the ladder.
  double best_at_full = -std::numeric_limits<double>::infinity();
  /// The cost after which the best full-fidelity objective first reached `target`.
  std::optional<int64_t> cost_to_target;
  bool exhausted = false;
};

/// Runs propose/evaluate/tell like the real loop with fidelities: a proposal is evaluated once
/// per (architecture, fidelity) and costs its fidelity; a repeat is answered from the cache.
/// Ends when `max_cost` is spent, the strategy runs out, or `target` is reached at
/// `full_fidelity`.
inline MultiFidelityRun run_multi_fidelity_search(
    Strategy& strategy, const std::function<Observation(const Architecture&, int64_t)>& evaluate,
    int64_t full_fidelity, int64_t max_cost, double target) {
  MultiFidelityRun run;
  std::unordered_map<std::string, Observation> cache;
  int64_t repeats_in_a_row = 0;
  while (run.cost < max_cost && repeats_in_a_row < 2000) {
    const auto proposal = strategy.propose();
    if (!proposal) {
      run.exhausted = true;
      break;
    }
    const int64_t fidelity = proposal->fidelity == 0 ? full_fidelity : proposal->fidelity;
    run.proposals.emplace_back(proposal->architecture.to_string(), fidelity);

    const std::string key = proposal->architecture.to_string() + "@" + std::to_string(fidelity);
    if (const auto cached = cache.find(key); cached != cache.end()) {
      ++repeats_in_a_row;
      strategy.tell(proposal->architecture, cached->second);
      continue;
    }
    repeats_in_a_row = 0;

    Observation observation = evaluate(proposal->architecture, fidelity);
    observation.fidelity = fidelity;
    cache.emplace(key, observation);
    run.cost += fidelity;
    if (fidelity == full_fidelity && observation.objective > run.best_at_full) {
      run.best_at_full = observation.objective;
    }
    strategy.tell(proposal->architecture, observation);
    if (!run.cost_to_target && run.best_at_full >= target) {
      run.cost_to_target = run.cost;
      break;
    }
  }
  return run;
}

}  // namespace nascent::testing_support
