#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <unordered_set>
#include <utility>
#include <vector>

#include "nascent/strategy/gaussian_process.h"
#include "nascent/strategy/neural_ensemble.h"
#include "nascent/strategy/strategy.h"

namespace nascent {

namespace internal {
class ArchitectureEncoder;
class OneHotEncoder;
class SeenArchitectures;
}  // namespace internal

/// Settings of BayesianOptimization (see StrategyOptions for their meaning and defaults).
struct BayesianOptimizationOptions {
  enum class Surrogate {
    /// A Gaussian process on a distance between architectures (GaussianProcess).
    kGaussianProcess,
    /// BANANAS's ensemble of small networks on the architectures' encodings (NeuralEnsemble).
    kEnsemble,
  };
  enum class Acquisition {
    kExpectedImprovement,
    kUpperConfidenceBound,
    /// Independent Thompson sampling (BANANAS): one draw per candidate from a normal
    /// distribution with the surrogate's mean and standard deviation there.
    kIndependentThompson,
  };

  Surrogate surrogate = Surrogate::kGaussianProcess;
  int64_t initial_random = 10;
  int64_t candidates = 100;
  int64_t parents = 10;
  Acquisition acquisition = Acquisition::kExpectedImprovement;
  double ucb_beta = 2.0;
  /// Model the space's feature encoding (the path encoding of cell spaces) when it has one,
  /// instead of the decisions.
  bool use_features = false;
  /// Gaussian process on decisions: a length scale per decision, fitted by marginal likelihood
  /// (automatic relevance determination), instead of one for all.
  bool relevance = true;
  /// Proposals per model fit: the `batch` candidates with the highest acquisition are proposed
  /// in turn before the model sees their results.
  int64_t batch = 1;
  /// The networks of the ensemble surrogate.
  NeuralEnsembleOptions ensemble;
  int64_t enumeration_limit = 100000;

  /// BANANAS as White, Neiswanger and Savani run it: the ensemble on path encodings (one-hot
  /// decisions for a space without a feature encoding), independent Thompson sampling over
  /// mutations of the best architectures, 10 proposals per fit.
  static BayesianOptimizationOptions bananas();
};

/// Bayesian optimisation with a Gaussian-process surrogate (Snoek, Larochelle and Adams,
/// "Practical Bayesian Optimization of Machine Learning Algorithms", NeurIPS 2012), or with the
/// ensemble of networks of BANANAS (White, Neiswanger and Savani, "BANANAS: Bayesian Optimization
/// with Neural Architectures for Neural Architecture Search", AAAI 2021), with the acquisition
/// maximised over mutations of the best architectures so far as in BANANAS.
///
/// 1. Propose `initial_random` random architectures.
/// 2. Fit the surrogate to the complete results.
///    - Gaussian process: an exponential kernel on the distance between architectures
///      (ArchitectureEncoder: Hamming distance of one-hot encodings for categorical decisions,
///      position in the range for numeric ones; or, for a space with a feature encoding such as
///      the path encoding of NAS-Bench-201 cells, the Hamming distance of those features).
///      On decisions, each decision has its own weight in the distance (`relevance`, automatic
///      relevance determination as in Snoek, Larochelle and Adams), fitted by marginal
///      likelihood; otherwise one length scale, from a grid.
///    - Ensemble: NeuralEnsemble on the path encoding (or one-hot decisions), fresh networks
///      seeded from the strategy's generator at every fit.
/// 3. Build a pool of `candidates` unseen architectures.
///    - Gaussian process: four fifths are one or two mutations of one of the `parents` best
///      architectures, one fifth uniform samples.
///    - Ensemble, as BANANAS: single mutations of the best architecture, then of the next best,
///      and so on down to the `parents`-th, until the pool is full.
/// 4. Propose the `batch` candidates with the highest acquisition in turn: expected improvement
///    over the best result, the upper confidence bound mean + ucb_beta * stddev, or an
///    independent Thompson sample.
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

  /// The Gaussian-process surrogate; up to date after an ask() that used it (for tests and
  /// measurements). Empty with the ensemble surrogate.
  const GaussianProcess& model() const { return model_; }

  /// The ensemble surrogate as of its last fit; not fitted with the Gaussian process.
  const NeuralEnsemble& ensemble() const { return ensemble_; }

  /// The ensemble surrogate's inputs for an architecture of the space (for tests).
  std::vector<float> ensemble_inputs(const Architecture& architecture) const;

 private:
  /// Brings the model up to date, re-running the hyperparameter grid when it has grown enough.
  void refresh_model();

  /// Unseen candidates: mutations of the best architectures, then uniform samples.
  std::vector<Architecture> candidate_pool();

  /// Unseen candidates for the ensemble: single mutations of the best architectures, best
  /// first.
  std::vector<Architecture> mutation_pool();

  /// The mean and standard deviation of the surrogate at each candidate.
  std::vector<GaussianProcess::Prediction> predictions(
      const std::vector<Architecture>& candidates) const;

  /// The acquisition value of each candidate under the current model.
  std::vector<double> acquisition_values(const std::vector<Architecture>& candidates);

  /// A draw from the standard normal distribution (Box-Muller), from the strategy's generator.
  double standard_normal();

  /// The objectives of the modelled results, in the model's order.
  std::vector<double> targets() const;

  /// Marks `architecture` as seen and returns it.
  Architecture propose(Architecture architecture);

  const SearchSpace& space_;
  Rng rng_;
  BayesianOptimizationOptions options_;
  std::unique_ptr<internal::ArchitectureEncoder> encoder_;
  std::unique_ptr<internal::OneHotEncoder> ensemble_encoder_;
  std::unique_ptr<internal::SeenArchitectures> seen_;
  GaussianProcess model_;
  /// Model size at which the hyperparameters are next re-chosen.
  int64_t next_full_fit_ = 0;

  /// The modelled architectures and their objectives, in the model's order.
  std::vector<std::pair<Architecture, double>> observations_;
  /// Their codes, decision_count() per architecture (Gaussian process).
  std::vector<double> codes_;
  /// Their inputs, ensemble_encoder_->width() per architecture (ensemble).
  std::vector<float> ensemble_inputs_;
  std::unordered_set<uint64_t> modelled_;
  NeuralEnsemble ensemble_;
  /// Candidates chosen at the last fit and not yet proposed, best first.
  std::deque<Architecture> queued_;
};

}  // namespace nascent
