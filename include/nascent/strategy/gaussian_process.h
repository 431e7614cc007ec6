#pragma once

/// Gaussian-process regression over points known only through their pairwise distances, the
/// surrogate of Bayesian optimisation.

#include <cstdint>
#include <vector>

namespace nascent {

/// Gaussian-process regression (Rasmussen and Williams, "Gaussian Processes for Machine
/// Learning", 2006, algorithm 2.1) with an exponential kernel on a distance d in [0, 1]:
///
///   k(x, x') = s2 * (exp(-d(x, x') / length_scale) + noise_ratio * [x is x'])
///
/// exp(-d / l) is positive definite whenever d is of negative type (a Hamming distance, |a - b|
/// on a line, and sums of these), so any such distance between architectures can drive it.
/// Targets are standardised; the signal variance s2 is set to its maximum-likelihood value in
/// closed form, and (length_scale, noise_ratio) to the best pair of a small grid by marginal
/// likelihood. Adding a point extends the Cholesky factor in O(n^2); fit() redoes the grid
/// search in O(grid * n^3).
class GaussianProcess {
 public:
  /// Posterior of the latent function at one point, in the units of the targets.
  struct Prediction {
    double mean = 0.0;
    double stddev = 0.0;
  };

  /// Candidate hyperparameters; both lists must be non-empty and positive.
  GaussianProcess(std::vector<double> length_scales, std::vector<double> noise_ratios);

  /// Adds an observation. `distances[i]` is its distance to the i-th point added before, so it
  /// has size() entries. The model is out of date until update() or fit().
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

  /// The posterior at a point given its distance to each of the size() points. Requires
  /// up_to_date().
  Prediction predict(const double* distances) const;

  int64_t size() const { return static_cast<int64_t>(targets_.size()); }
  double length_scale() const { return length_scale_; }
  double noise_ratio() const { return noise_ratio_; }

  /// Log marginal likelihood of the standardised targets under the current hyperparameters
  /// (with the signal variance at its maximum).
  double log_marginal_likelihood() const { return log_marginal_likelihood_; }

 private:
  /// K0 = exp(-distance / length_scale) over the points, packed by rows with the diagonal: row i
  /// holds i + 1 entries starting at i (i + 1) / 2.
  std::vector<double> kernel_matrix(double length_scale) const;

  /// The Cholesky factor of K0 + noise_ratio I, packed like K0. Returns false if the matrix is
  /// not (numerically) positive definite.
  bool factorise(const std::vector<double>& kernel, double noise_ratio,
                 std::vector<double>& factor) const;

  /// Recomputes the standardisation, alpha, the signal variance and the likelihood from the
  /// factor.
  void solve();

  std::vector<double> length_scales_;
  std::vector<double> noise_ratios_;

  /// Pairwise distances, packed like the factor but without the (zero) diagonal: row i holds
  /// the i distances to the earlier points, starting at i (i - 1) / 2.
  std::vector<double> distances_;
  std::vector<double> targets_;

  int64_t factored_ = 0;
  double length_scale_ = 0.0;
  double noise_ratio_ = 0.0;
  std::vector<double> factor_;
  /// (K0 + noise_ratio I)^-1 z for the standardised targets z.
  std::vector<double> alpha_;
  double target_mean_ = 0.0;
  double target_scale_ = 1.0;
  double signal_variance_ = 1.0;
  double log_marginal_likelihood_ = 0.0;
};

}  // namespace nascent
