#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <unordered_set>
#include <utility>
#include <vector>

#include "nascent/strategy/gaussian_process.h"
#include "nascent/strategy/strategy.h"

namespace nascent {

namespace internal {
class ArchitectureEncoder;
class SeenArchitectures;
}  // namespace internal

/// Settings of BayesianOptimization (see StrategyOptions for their meaning and defaults).
struct BayesianOptimizationOptions {
  enum class Acquisition { kExpectedImprovement, kUpperConfidenceBound };

  int64_t initial_random = 10;
  int64_t candidates = 100;
  int64_t parents = 10;
  Acquisition acquisition = Acquisition::kExpectedImprovement;
  double ucb_beta = 2.0;
  /// Model the space's feature encoding (the path encoding of cell spaces) when it has one,
  /// instead of the decisions.
  bool use_features = false;
  int64_t enumeration_limit = 100000;
};

/// Bayesian optimisation with a Gaussian-process surrogate (Snoek, Larochelle and Adams,
/// "Practical Bayesian Optimization of Machine Learning Algorithms", NeurIPS 2012), with the
/// acquisition maximised over mutations of the best architectures so far as in BANANAS (White,
/// Neiswanger and Savani, "BANANAS: Bayesian Optimization with Neural Architectures for Neural
/// Architecture Search", AAAI 2021).
///
/// 1. Propose `initial_random` random architectures.
/// 2. Fit the GP to the complete results: an exponential kernel on the distance between
///    architectures (ArchitectureEncoder: Hamming distance of one-hot encodings for categorical
///    decisions, position in the range for numeric ones; or, for a space with a feature
///    encoding such as the path encoding of NAS-Bench-201 cells, the Hamming distance of those
///    features), hyperparameters by marginal likelihood over a grid.
/// 3. Build a pool of `candidates` unseen architectures: four fifths are one or two mutations
///    of one of the `parents` best architectures, one fifth uniform samples.
/// 4. Propose the candidate with the highest expected improvement over the best result (or
///    upper confidence bound mean + ucb_beta * stddev).
class BayesianOptimization : public Strategy {
 public:
  BayesianOptimization(const SearchSpace& space, uint64_t seed,
                       BayesianOptimizationOptions options);
  ~BayesianOptimization() override;

  std::string name() const override { return "bo"; }

  /// The next candidate, never one proposed or told before; nullopt once every architecture of
  /// a finite space has been seen.
  std::optional<Architecture> ask() override;

  /// Adds a complete, finite result to the model (a repeat of an architecture already modelled
  /// is ignored). Failed, invalid and pruned results are not modelled: a GP has no value to
  /// fit for them. They are still never proposed again.
  void tell(const Architecture& architecture, const Observation& observation) override;

  /// The surrogate; up to date after an ask() that used it (for tests and measurements).
  const GaussianProcess& model() const { return model_; }

 private:
  /// Brings the model up to date, re-running the hyperparameter grid when it has grown enough.
  void refresh_model();

  /// Unseen candidates: mutations of the best architectures, then uniform samples.
  std::vector<Architecture> candidate_pool();

  /// The acquisition value of each candidate under the current model.
  std::vector<double> acquisition_values(const std::vector<Architecture>& candidates) const;

  /// Marks `architecture` as seen and returns it.
  Architecture propose(Architecture architecture);

  const SearchSpace& space_;
  Rng rng_;
  BayesianOptimizationOptions options_;
  std::unique_ptr<internal::ArchitectureEncoder> encoder_;
  std::unique_ptr<internal::SeenArchitectures> seen_;
  GaussianProcess model_;
  /// Model size at which the hyperparameters are next re-chosen.
  int64_t next_full_fit_ = 0;

  /// The modelled architectures and their objectives, in the model's order.
  std::vector<std::pair<Architecture, double>> observations_;
  /// Their codes, decision_count() per architecture.
  std::vector<double> codes_;
  std::unordered_set<uint64_t> modelled_;
};

}  // namespace nascent
