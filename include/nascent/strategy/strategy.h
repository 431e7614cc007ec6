#pragma once

/// The ask/tell interface every search strategy implements.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "nascent/core/random.h"
#include "nascent/space/search_space.h"
#include "nascent/store/trial.h"

namespace nascent {

/// What a strategy learns about one architecture it proposed (or that was replayed from a
/// stored study).
struct Observation {
  /// kComplete, kFailed, kInvalid or kPruned.
  TrialState state = TrialState::kComplete;
  /// The objective, higher is better; NaN when there is none (failed, invalid).
  double objective = 0.0;
  /// Every objective of a multi-objective study as a cost to minimise (accuracy negated), in
  /// the order of `objectives.optimize`. Empty for single-objective use: multi-objective
  /// strategies then minimise -objective.
  std::vector<double> costs;
  /// How far the trial is from meeting the study's constraints; 0 when it meets them all.
  double constraint_violation = 0.0;
};

/// A search strategy. The search loop calls ask() for a candidate, evaluates it, then calls
/// tell() with the result. tell() may also be called for architectures the strategy did not
/// ask for in this process (a resumed study replays its history), and for duplicates, whose
/// result is served from the study's cache.
class Strategy {
 public:
  virtual ~Strategy() = default;

  /// The strategy's name as written in configs ("random", "evolution").
  virtual std::string name() const = 0;

  /// The next candidate, or nullopt when the strategy has nothing left to propose (it has
  /// proposed every architecture of a finite space).
  virtual std::optional<Architecture> ask() = 0;

  /// The result of evaluating `architecture`.
  virtual void tell(const Architecture& architecture, const Observation& observation) = 0;
};

/// Settings for the built-in strategies.
struct StrategyOptions {
  /// One of strategy_names().
  std::string name = "evolution";
  /// Regularised evolution: number of architectures kept alive.
  int64_t population_size = 16;
  /// Regularised evolution: tournament size.
  int64_t sample_size = 4;
  /// Random search enumerates spaces up to this size and proposes each member once; local
  /// search, REINFORCE and BO count spaces up to this size so that they stop when every member
  /// has been seen.
  int64_t enumeration_limit = 100000;

  /// Local search: move to the first better neighbour (true), or evaluate the whole
  /// neighbourhood and move to the best one (false).
  bool first_improvement = true;

  /// REINFORCE: step size of the policy-gradient ascent on the logits.
  double learning_rate = 0.2;
  /// REINFORCE: weight of the old baseline in its moving average, in [0, 1).
  double baseline_decay = 0.9;
  /// REINFORCE: weight of the policy's entropy in the objective (exploration), >= 0.
  double entropy_weight = 0.05;

  /// BO: random architectures (complete results) before the first model.
  int64_t initial_random = 10;
  /// BO: candidates scored by the acquisition function per proposal.
  int64_t candidates = 100;
  /// BO: how many of the best architectures are mutated to make candidates.
  int64_t parents = 10;
  /// BO: "ei" (expected improvement) or "ucb" (upper confidence bound).
  std::string acquisition = "ei";
  /// BO with "ucb": weight of the predicted standard deviation, >= 0.
  double ucb_beta = 2.0;

  /// Throws nascent::Error naming the bad field.
  void validate() const;
};

/// The names make_strategy() accepts.
const std::vector<std::string>& strategy_names();

/// Creates a strategy over `space` seeded with `seed`.
std::unique_ptr<Strategy> make_strategy(const StrategyOptions& options, const SearchSpace& space,
                                        uint64_t seed);

}  // namespace nascent
