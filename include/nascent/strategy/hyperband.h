#pragma once

/// Multi-fidelity search: successive halving, Hyperband and BOHB.

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "nascent/strategy/strategy.h"

namespace nascent {

namespace internal {
class SeenArchitectures;
class CategoricalDensityModel;
}  // namespace internal

/// Which schedule a Hyperband object follows, and where its new architectures come from.
enum class MultiFidelityKind {
  /// Every bracket starts at the lowest fidelity (Jamieson and Talwalkar, AISTATS 2016; the
  /// most aggressive bracket of Hyperband). Architectures sampled uniformly.
  kSuccessiveHalving,
  /// Brackets cycle from the most aggressive to plain full-fidelity evaluation (Li et al.,
  /// "Hyperband: A Novel Bandit-Based Approach to Hyperparameter Optimization", JMLR 2018).
  /// Architectures sampled uniformly.
  kHyperband,
  /// Hyperband's brackets with architectures drawn from a tree-structured Parzen estimator
  /// fitted to the highest fidelity that has enough results (Falkner, Klein and Hutter,
  /// "BOHB: Robust and Efficient Hyperparameter Optimization at Scale", ICML 2018).
  kBohb,
};

/// Settings of a Hyperband object; see StrategyOptions for their meaning.
struct MultiFidelityOptions {
  MultiFidelityKind kind = MultiFidelityKind::kHyperband;
  /// Increasing training epochs; the last is the full fidelity. At least one.
  std::vector<int64_t> fidelities;
  /// 1/eta of each rung is promoted; make_strategy() passes default_eta() when none is set.
  double eta = 3.0;
  int64_t bracket_size = 0;
  double random_fraction = 1.0 / 3.0;
  double top_fraction = 0.15;
  int64_t kde_samples = 64;
  int64_t enumeration_limit = 100000;
};

/// Successive halving, Hyperband and BOHB behind ask/tell.
///
/// With fidelities f_0 < ... < f_{K-1}, bracket s (0 <= s <= K-1) starts n_s architectures at
/// f_{K-1-s}; each time every member of a rung has a result, the best max(1, floor(n / eta))
/// move on to the next fidelity, up to f_{K-1}. Without bracket_size, n_s = ceil(K / (s + 1) *
/// eta^s), Hyperband's choice that gives every bracket about the same budget when the
/// fidelities grow by eta. Successive halving repeats bracket K-1; Hyperband and BOHB cycle
/// s = K-1, ..., 0.
///
/// The first rung's architectures are drawn one at a time, when the bracket needs its next one,
/// so that BOHB's model has every result told so far, as in BOHB's reference implementation
/// (HpBandSter samples a configuration only when a worker asks for one).
///
/// Several brackets may be open at once: when every member of the open brackets has been
/// proposed and some results are still missing (several workers), a new bracket is opened
/// instead of waiting. A result the strategy already knows at a fidelity (a replayed history,
/// a duplicate) is not proposed again. Failed, invalid and pruned results rank last.
class Hyperband : public Strategy {
 public:
  Hyperband(const SearchSpace& space, uint64_t seed, MultiFidelityOptions options);
  ~Hyperband() override;

  /// "sh", "hyperband" or "bohb".
  std::string name() const override;

  /// The architecture of propose() (its fidelity is dropped).
  std::optional<Architecture> ask() override;

  /// The next member of an open bracket at its rung's fidelity; nullopt when a finite space
  /// has no architecture left to start a bracket with and every bracket is finished.
  std::optional<Proposal> propose() override;

  /// Records a result at observation.fidelity (0 means the full fidelity).
  void tell(const Architecture& architecture, const Observation& observation) override;

  /// Brackets opened so far (for tests).
  int64_t brackets_opened() const { return brackets_opened_; }

 private:
  struct Bracket {
    /// Index of the current rung's fidelity in options_.fidelities.
    int64_t rung = 0;
    std::vector<Architecture> members;
    /// Members of the current rung proposed so far.
    size_t next = 0;
    /// First-rung members still to be drawn; drawn lazily so that each uses the newest model.
    int64_t to_draw = 0;
  };

  /// A bracket starting at the next schedule step with its first member drawn, or nullopt when
  /// no new architecture is left.
  std::optional<Bracket> open_bracket();

  /// Draws the bracket's next first-rung member into `members`; false when none is left.
  bool draw_member(Bracket& bracket);

  /// A new architecture for the first rung at `fidelity`: sampled uniformly, or for BOHB
  /// usually from the density model.
  std::optional<Architecture> new_architecture(int64_t fidelity);

  /// Moves a bracket whose current rung has every result to its next rung. Returns false when
  /// the bracket is finished.
  bool advance(Bracket& bracket);

  std::optional<double> result(int64_t fidelity, uint64_t key) const;

  const SearchSpace& space_;
  Rng rng_;
  MultiFidelityOptions options_;
  std::unique_ptr<internal::SeenArchitectures> seen_;
  std::unique_ptr<internal::CategoricalDensityModel> model_;
  std::vector<Bracket> open_;
  /// The schedule position: the s of the next bracket.
  int64_t next_bracket_s_ = 0;
  int64_t brackets_opened_ = 0;
  /// results_[fidelity][architecture key]; -infinity for a result without an objective.
  std::map<int64_t, std::unordered_map<uint64_t, double>> results_;
  /// Architectures (in space order) with a result, per fidelity, in the order told.
  std::map<int64_t, std::vector<std::pair<Architecture, double>>> history_;
  /// Keys started in some bracket's first rung, per fidelity.
  std::map<int64_t, std::unordered_set<uint64_t>> started_;
};

}  // namespace nascent
