#pragma once

/// Gaussian-process regression over points known only through their pairwise distances, the
/// surrogate of Bayesian optimisation.

#include <cstdint>
#include <vector>

namespace nascent {

/// Gaussian-process regression (Rasmussen and Williams, "Gaussian Processes for Machine
/// Learning", 2006, algorithm 2.1) with an exponential kernel on distances. Each pair of points
/// is described by `dimensions` distance components d_g in [0, 1] (for architectures, one per
/// decision), and
///
///   k(x, x') = s2 * (exp(-sum_g w_g d_g(x, x')) + noise_ratio * [x is x']).
///
/// exp(-d) is positive definite whenever d is of negative type (a Hamming distance, |a - b| on a
/// line, and non-negative sums of these), so any such components can drive it.
///
/// Targets are standardised; the signal variance s2 is set to its maximum-likelihood value in
/// closed form. The other hyperparameters are chosen by marginal likelihood:
/// - isotropic: every w_g = 1 / (dimensions * length_scale), so the kernel sees the mean
///   component; (length_scale, noise_ratio) is the best pair of a small grid.
/// - with `relevance` (automatic relevance determination, as in Snoek, Larochelle and Adams
///   2012): starting from the grid's best, and from the previous fit's weights, each log w_g and
///   the log noise ratio climb the log marginal likelihood plus a weak normal prior on log w_g
///   (mean 0, standard deviation 3: a change in one component makes two points about e times
///   less alike) by Rprop on its analytic gradient. A decision that does not matter gets a small
///   weight, so that results which differ only there inform each other.
///
/// Adding a point extends the Cholesky factor in O(n^2); fit() costs O(grid * n^3), plus
/// O(steps * n^3) with relevance.
class GaussianProcess {
 public:
  /// Posterior of the latent function at one point, in the units of the targets.
  struct Prediction {
    double mean = 0.0;
    double stddev = 0.0;
  };

  /// Candidate hyperparameters; both lists must be non-empty and positive. `dimensions` >= 1
  /// components per pair of points; `relevance` fits a weight per component.
  GaussianProcess(std::vector<double> length_scales, std::vector<double> noise_ratios,
                  int64_t dimensions = 1, bool relevance = false);

  /// Adds an observation. `distances` holds its components to each of the size() points added
  /// before, `dimensions()` per point in a row. The model is out of date until update() or
  /// fit().
  void add(const std::vector<double>& distances, double target);

  /// Chooses length_scale and noise_ratio by maximising the marginal likelihood over the grid,
  /// and factorises. Needs at least one point.
  void fit();

  /// Brings the model up to date with the points added since the last fit() or update(),
  /// keeping the hyperparameters; falls back to fit() before the first fit or if the factor
  /// would lose positive definiteness.
  void update();

  /// True when every added point is in the factorisation.
  bool up_to_date() const { return factored_ == size(); }

  /// The posterior at a point given its components to each of the size() points,
  /// `dimensions()` per point in a row. Requires up_to_date().
  Prediction predict(const double* distances) const;

  int64_t size() const { return static_cast<int64_t>(targets_.size()); }
  int64_t dimensions() const { return dimensions_; }
  /// The isotropic length scale the grid chose (with relevance, the start of the climb).
  double length_scale() const { return length_scale_; }
  double noise_ratio() const { return noise_ratio_; }
  /// The weight w_g of each component in the current fit.
  const std::vector<double>& weights() const { return weights_; }

  /// Log marginal likelihood of the standardised targets under the current hyperparameters
  /// (with the signal variance at its maximum).
  double log_marginal_likelihood() const { return log_marginal_likelihood_; }

 private:
  /// exp(-sum_g weights[g] * components[g]).
  double kernel_value(const double* components, const std::vector<double>& weights) const;

  /// K0 = exp(-sum_g w_g d_g) over the points, packed by rows with the diagonal: row i holds
  /// i + 1 entries starting at i (i + 1) / 2.
  std::vector<double> kernel_matrix(const std::vector<double>& weights) const;

  /// The Cholesky factor of K0 + noise_ratio I, packed like K0. Returns false if the matrix is
  /// not (numerically) positive definite.
  bool factorise(const std::vector<double>& kernel, double noise_ratio,
                 std::vector<double>& factor) const;

  /// Recomputes the standardisation, alpha, the signal variance and the likelihood from the
  /// factor.
  void solve();

  /// Log prior density (up to a constant) of relevance weights: 0 without relevance.
  double log_prior(const std::vector<double>& weights) const;

  /// Climbs the penalised likelihood from `weights` and `noise_ratio`; on return they hold the
  /// best point found and the result is its penalised likelihood (-infinity if no point could
  /// be factorised).
  double climb(std::vector<double>& weights, double& noise_ratio);

  /// The gradient of the log marginal likelihood with respect to each log w_g and the log
  /// noise ratio, at the current factor and alpha (O(n^3)).
  std::vector<double> likelihood_gradient(const std::vector<double>& kernel,
                                          const std::vector<double>& weights) const;

  /// Factorises with these hyperparameters and makes them current; false if not positive
  /// definite (then nothing changed).
  bool set_hyperparameters(const std::vector<double>& weights, double noise_ratio);

  /// set_hyperparameters() with K0 already computed for `weights`.
  bool adopt(const std::vector<double>& kernel, const std::vector<double>& weights,
             double noise_ratio);

  std::vector<double> length_scales_;
  std::vector<double> noise_ratios_;
  int64_t dimensions_ = 1;
  bool relevance_ = false;

  /// Pairwise components, packed like the factor but without the (zero) diagonal: row i holds
  /// the components to the i earlier points, starting at i (i - 1) / 2 * dimensions_.
  std::vector<double> distances_;
  std::vector<double> targets_;

  int64_t factored_ = 0;
  double length_scale_ = 0.0;
  double noise_ratio_ = 0.0;
  std::vector<double> weights_;
  /// The weights of the last climb, where the next fit's climb starts too.
  std::vector<double> climbed_weights_;
  std::vector<double> factor_;
  /// (K0 + noise_ratio I)^-1 z for the standardised targets z.
  std::vector<double> alpha_;
  double target_mean_ = 0.0;
  double target_scale_ = 1.0;
  double signal_variance_ = 1.0;
  double log_marginal_likelihood_ = 0.0;
};

}  // namespace nascent
