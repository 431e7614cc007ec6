#pragma once

/// The ask/tell interface every search strategy implements.

#include <cstdint>
#include <functional>
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
  /// The fidelity the result was measured at, in the study's fidelity unit (training epochs);
  /// 0 for the evaluator's default, full-fidelity evaluation.
  int64_t fidelity = 0;
  /// Every objective of a multi-objective study as a cost to minimise (accuracy negated), in
  /// the order of `objectives.optimize`. Empty for single-objective use: multi-objective
  /// strategies then minimise -objective.
  std::vector<double> costs;
  /// How far the trial is from meeting the study's constraints; 0 when it meets them all.
  double constraint_violation = 0.0;
};

/// What a strategy asks to have evaluated: an architecture, and for multi-fidelity strategies
/// the fidelity (training epochs) of the evaluation.
struct Proposal {
  Architecture architecture;
  /// One of StrategyOptions::fidelities, or 0 for the evaluator's default, full fidelity.
  int64_t fidelity = 0;
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

  /// The next candidate with its fidelity. Single-fidelity strategies propose ask() at the
  /// default fidelity; multi-fidelity strategies (successive halving, Hyperband, BOHB) override
  /// this, and the search loop calls it instead of ask().
  virtual std::optional<Proposal> propose() {
    auto architecture = ask();
    if (!architecture) return std::nullopt;
    return Proposal{std::move(*architecture), 0};
  }
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

  /// BO: random architectures (complete results) before the first model. Local search: the
  /// first climb starts from the best of this many random architectures.
  int64_t initial_random = 10;
  /// BO: candidates scored by the acquisition function per proposal.
  int64_t candidates = 100;
  /// BO: how many of the best architectures are mutated to make candidates.
  int64_t parents = 10;
  /// BO: the surrogate, "gp" (a Gaussian process) or "ensemble" (BANANAS's ensemble of small
  /// networks).
  std::string surrogate = "gp";
  /// BO: "ei" (expected improvement), "ucb" (upper confidence bound) or "its" (independent
  /// Thompson sampling); empty for the surrogate's own (see bo_acquisition()).
  std::string acquisition;
  /// BO with "ucb": weight of the predicted standard deviation, >= 0.
  double ucb_beta = 2.0;
  /// BO: what the surrogate models, "decisions" or "features" (the space's feature encoding,
  /// such as the path encoding of NAS-Bench-201 cells; the decisions for a space without one);
  /// empty for the surrogate's own (see bo_encoding()).
  std::string encoding;
  /// BO: proposals per model fit, >= 1; 0 for the surrogate's own (see bo_batch()).
  int64_t batch = 0;
  /// BO with the Gaussian process: "ard" (a length scale per decision, fitted by marginal
  /// likelihood) or "isotropic" (one length scale); empty for the encoding's own (see
  /// bo_kernel()).
  std::string kernel;

  /// The acquisition BO uses: `acquisition`, or when empty "ei" for the Gaussian process and
  /// "its" for the ensemble (BANANAS's choice).
  std::string bo_acquisition() const;
  /// The encoding BO models: `encoding`, or when empty "decisions" for the Gaussian process and
  /// "features" for the ensemble (BANANAS's path encoding).
  std::string bo_encoding() const;
  /// Proposals per fit: `batch`, or when 0 one for the Gaussian process and ten for the
  /// ensemble (BANANAS's).
  int64_t bo_batch() const;
  /// The Gaussian process's kernel: `kernel`, or when empty "ard" on decisions and "isotropic"
  /// on features (hundreds of path features would each need a length scale).
  std::string bo_kernel() const;

  /// REINFORCE: "factorised" (one softmax per decision) or "lstm" (an LSTM controller that
  /// conditions each decision on the earlier ones, as in ENAS).
  std::string controller = "factorised";
  /// REINFORCE with the LSTM controller: units of its hidden state, >= 1.
  int64_t hidden_size = 32;
  /// REINFORCE with the LSTM controller: Adam's step size for the controller's weights, > 0.
  double controller_learning_rate = 0.03;

  /// Successive halving, Hyperband, BOHB in a training search: the lowest fidelity, in epochs;
  /// the ladder runs from train.epochs down by factors of eta to this (see fidelity_ladder()).
  int64_t min_epochs = 1;
  /// Successive halving, Hyperband, BOHB: the fidelities (training epochs) an evaluation may
  /// have, increasing; the last is the full fidelity. Set by whoever runs the strategy: the
  /// search loop from the config, the NAS-Bench-201 benchmark to {12, 200}.
  std::vector<int64_t> fidelities;
  /// Successive halving, Hyperband, BOHB: 1/eta of each rung is promoted to the next, > 1; 0
  /// means the ratio of consecutive fidelities (see default_eta()), which is how Hyperband
  /// defines eta. A training search builds its ladder with kDefaultLadderEta when this is 0.
  double eta = 0.0;
  /// Successive halving: architectures in the first rung of each bracket; 0 chooses the number
  /// that spends about as much on every rung (eta ^ (rungs - 1)).
  int64_t bracket_size = 0;
  /// BOHB: fraction of architectures sampled at random instead of from the model, in [0, 1].
  double random_fraction = 1.0 / 3.0;
  /// BOHB: fraction of the results at a fidelity that form the "good" density, in (0, 1).
  double top_fraction = 0.15;
  /// BOHB: candidates drawn from the good density per model-based proposal.
  int64_t kde_samples = 64;

  /// DARTS: epochs of supernet training before its architectures are trained as trials.
  int64_t supernet_epochs = 10;
  /// DARTS: Adam's step size and weight decay for the architecture weights.
  double architecture_learning_rate = 3e-4;
  double architecture_weight_decay = 1e-3;

  /// Throws nascent::Error naming the bad field.
  void validate() const;
};

/// The ratio of consecutive fidelities a training search's ladder uses when `eta` is not set.
constexpr double kDefaultLadderEta = 3.0;

/// Hyperband's eta for a fidelity ladder: the mean ratio of consecutive fidelities,
/// (f_last / f_first)^(1 / (K - 1)), so that promoting 1/eta of a rung spends about as much on
/// the next rung as on this one. 200 / 12 for {12, 200}; 3 for {1, 3, 9}; kDefaultLadderEta for
/// a single fidelity.
double default_eta(const std::vector<int64_t>& fidelities);

/// The names make_strategy() accepts.
const std::vector<std::string>& strategy_names();

/// The fidelities of a training search: round(max_epochs / eta^k) for k = 0, 1, ... while
/// not below min_epochs, increasing, without repeats. {1, 3, 9} for (1, 9, 3); {1, 4} for
/// (1, 4, 3). Throws nascent::Error when min_epochs is not in [1, max_epochs].
std::vector<int64_t> fidelity_ladder(int64_t min_epochs, int64_t max_epochs, double eta);

/// True for the strategies that choose a fidelity per proposal (sh, hyperband, bohb).
bool is_multi_fidelity(const std::string& name);

/// True for the strategies that train a supernet on the study's images before proposing (darts):
/// they run only inside a training search, whose data they need, and make_strategy() refuses
/// them.
bool is_weight_sharing(const std::string& name);

/// Builds a strategy that needs LibTorch (REINFORCE's LSTM controller), which the torch-free
/// part of the library cannot build itself.
using StrategyMaker = std::function<std::unique_ptr<Strategy>(const StrategyOptions&,
                                                              const SearchSpace&, uint64_t seed)>;

/// Installs the maker of REINFORCE with `controller: lstm`; nascent::register_torch_strategies()
/// (nascent/strategy/lstm_controller.h) calls it. Until then make_strategy() refuses that
/// controller with an error saying so.
void set_lstm_controller_maker(StrategyMaker maker);

/// Creates a strategy over `space` seeded with `seed`.
std::unique_ptr<Strategy> make_strategy(const StrategyOptions& options, const SearchSpace& space,
                                        uint64_t seed);

}  // namespace nascent
