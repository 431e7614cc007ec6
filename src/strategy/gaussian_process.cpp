#include "nascent/strategy/gaussian_process.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numbers>

#include "nascent/core/error.h"

namespace nascent {

namespace {

/// Offset of row `row` in a packed lower triangle that includes the diagonal.
size_t packed_row(int64_t row) { return static_cast<size_t>(row * (row + 1) / 2); }

/// Offset of row `row` in a packed strictly lower triangle (no diagonal).
size_t strict_row(int64_t row) { return static_cast<size_t>(row * (row - 1) / 2); }

/// Four partial sums: independent additions keep the FPU busy (several times faster than one
/// running sum), and the fixed order keeps results identical on every platform.
double dot(const double* a, const double* b, int64_t count) {
  double sums[4] = {0.0, 0.0, 0.0, 0.0};
  int64_t i = 0;
  for (; i + 4 <= count; i += 4) {
    sums[0] += a[i] * b[i];
    sums[1] += a[i + 1] * b[i + 1];
    sums[2] += a[i + 2] * b[i + 2];
    sums[3] += a[i + 3] * b[i + 3];
  }
  for (; i < count; ++i) sums[0] += a[i] * b[i];
  return (sums[0] + sums[1]) + (sums[2] + sums[3]);
}

/// Computes row `row` of a Cholesky factor from that row of the matrix (`row + 1` entries,
/// diagonal last) and the rows above it. Returns false if the pivot is not positive.
bool cholesky_row(std::vector<double>& factor, int64_t row, const double* matrix_row) {
  double* out = factor.data() + packed_row(row);
  for (int64_t column = 0; column < row; ++column) {
    const double* above = factor.data() + packed_row(column);
    out[column] = (matrix_row[column] - dot(out, above, column)) / above[column];
  }
  const double pivot = matrix_row[row] - dot(out, out, row);
  // A relative floor: a pivot this small means the new point nearly repeats earlier ones.
  if (!(pivot > 1e-10 * matrix_row[row])) return false;
  out[row] = std::sqrt(pivot);
  return true;
}

/// Weights that make the kernel see the mean component over `length_scale`.
std::vector<double> isotropic_weights(int64_t dimensions, double length_scale) {
  return std::vector<double>(static_cast<size_t>(dimensions),
                             1.0 / (static_cast<double>(dimensions) * length_scale));
}

/// The relevance climb: Rprop's step sizes in log space (Riedmiller and Braun 1993, without
/// weight backtracking), its bounds, and the ranges the log parameters are kept in.
constexpr int64_t kClimbSteps = 100;
constexpr double kFirstStep = 0.5;
constexpr double kLargestStep = 1.0;
constexpr double kSmallestStep = 1e-6;
constexpr double kConvergedStep = 1e-3;
constexpr double kStepGrowth = 1.2;
constexpr double kStepShrink = 0.5;
const double kLogWeightRange[2] = {std::log(1e-3), std::log(1e2)};
const double kLogNoiseRange[2] = {std::log(1e-6), std::log(10.0)};

/// Standard deviation of the normal prior on each log weight.
constexpr double kLogWeightPriorStddev = 3.0;

/// Beyond this many points a climb (O(n^3) per step) would cost seconds; the weights of the
/// last climb are kept instead.
constexpr int64_t kLargestClimb = 400;

}  // namespace

GaussianProcess::GaussianProcess(std::vector<double> length_scales,
                                 std::vector<double> noise_ratios, int64_t dimensions,
                                 bool relevance)
    : length_scales_(std::move(length_scales)),
      noise_ratios_(std::move(noise_ratios)),
      dimensions_(dimensions),
      relevance_(relevance) {
  const auto positive = [](const std::vector<double>& values) {
    return !values.empty() && std::all_of(values.begin(), values.end(), [](double value) {
      return std::isfinite(value) && value > 0.0;
    });
  };
  if (!positive(length_scales_) || !positive(noise_ratios_)) {
    throw Error(
        "GaussianProcess: expected non-empty lists of positive length scales and noise ratios");
  }
  if (dimensions_ < 1) {
    throw Error(fmt::format("GaussianProcess: expected at least one distance component, found {}",
                            dimensions_));
  }
  length_scale_ = length_scales_.front();
  noise_ratio_ = noise_ratios_.front();
  weights_ = isotropic_weights(dimensions_, length_scale_);
}

void GaussianProcess::add(const std::vector<double>& distances, double target) {
  if (static_cast<int64_t>(distances.size()) != size() * dimensions_) {
    throw Error(fmt::format(
        "GaussianProcess::add: expected {} distance components ({} per point), found {}",
        size() * dimensions_, dimensions_, distances.size()));
  }
  if (!std::isfinite(target)) {
    throw Error(fmt::format("GaussianProcess::add: expected a finite target, found {}", target));
  }
  distances_.insert(distances_.end(), distances.begin(), distances.end());
  targets_.push_back(target);
}

double GaussianProcess::kernel_value(const double* components,
                                     const std::vector<double>& weights) const {
  double exponent = 0.0;
  for (int64_t g = 0; g < dimensions_; ++g) {
    exponent += weights[static_cast<size_t>(g)] * components[g];
  }
  return std::exp(-exponent);
}

std::vector<double> GaussianProcess::kernel_matrix(const std::vector<double>& weights) const {
  const int64_t n = size();
  const auto width = static_cast<size_t>(dimensions_);
  std::vector<double> kernel(packed_row(n));
  for (int64_t row = 0; row < n; ++row) {
    const double* components = distances_.data() + strict_row(row) * width;
    double* out = kernel.data() + packed_row(row);
    for (int64_t column = 0; column < row; ++column) {
      out[column] = kernel_value(components + static_cast<size_t>(column) * width, weights);
    }
    out[row] = 1.0;
  }
  return kernel;
}

bool GaussianProcess::factorise(const std::vector<double>& kernel, double noise_ratio,
                                std::vector<double>& factor) const {
  const int64_t n = size();
  factor.assign(packed_row(n), 0.0);
  std::vector<double> matrix_row(static_cast<size_t>(n));
  for (int64_t row = 0; row < n; ++row) {
    const double* kernel_row = kernel.data() + packed_row(row);
    std::copy(kernel_row, kernel_row + row, matrix_row.begin());
    matrix_row[static_cast<size_t>(row)] = kernel_row[row] + noise_ratio;
    if (!cholesky_row(factor, row, matrix_row.data())) return false;
  }
  return true;
}

void GaussianProcess::fit() {
  if (size() == 0) throw Error("GaussianProcess::fit: expected at least one point, found none");

  // Grid search: each pair costs one factorisation and two triangular solves; keep the most
  // likely pair.
  double best_objective = -std::numeric_limits<double>::infinity();
  double best_length_scale = 0.0;
  double best_noise_ratio = 0.0;
  std::vector<double> best_factor;
  for (const double length_scale : length_scales_) {
    const std::vector<double> weights = isotropic_weights(dimensions_, length_scale);
    const std::vector<double> kernel = kernel_matrix(weights);
    for (const double noise_ratio : noise_ratios_) {
      if (!adopt(kernel, weights, noise_ratio)) continue;
      const double objective = log_marginal_likelihood_ + log_prior(weights);
      if (objective > best_objective) {
        best_objective = objective;
        best_length_scale = length_scale;
        best_noise_ratio = noise_ratio;
        std::swap(best_factor, factor_);
      }
    }
  }

  // Every pair failed only if points nearly repeat and the noise grid is tiny: add noise until
  // the matrix is safely positive definite.
  if (best_factor.empty()) {
    best_length_scale = length_scales_.front();
    best_noise_ratio = *std::max_element(noise_ratios_.begin(), noise_ratios_.end());
    const std::vector<double> kernel =
        kernel_matrix(isotropic_weights(dimensions_, best_length_scale));
    while (!factorise(kernel, best_noise_ratio, best_factor)) best_noise_ratio *= 10.0;
  }

  factor_ = std::move(best_factor);
  length_scale_ = best_length_scale;
  noise_ratio_ = best_noise_ratio;
  weights_ = isotropic_weights(dimensions_, best_length_scale);
  factored_ = size();
  solve();
  if (!relevance_ || dimensions_ < 2 || size() < 3) return;

  // Relevance: climb from the grid's best and from where the last climb ended (the weights
  // change little as points accumulate), and keep the better summit.
  std::vector<double> best_weights = weights_;
  best_noise_ratio = noise_ratio_;
  std::vector<std::vector<double>> starts = {weights_};
  if (!climbed_weights_.empty()) starts.push_back(climbed_weights_);
  for (std::vector<double> weights : starts) {
    double noise_ratio = best_noise_ratio;
    const double objective = size() <= kLargestClimb
                                 ? climb(weights, noise_ratio)
                                 : (set_hyperparameters(weights, noise_ratio)
                                        ? log_marginal_likelihood_ + log_prior(weights)
                                        : -std::numeric_limits<double>::infinity());
    if (objective > best_objective) {
      best_objective = objective;
      best_weights = weights;
      best_noise_ratio = noise_ratio;
    }
  }
  // The best point was factorised once already, so this succeeds.
  set_hyperparameters(best_weights, best_noise_ratio);
  climbed_weights_ = best_weights;
}

double GaussianProcess::log_prior(const std::vector<double>& weights) const {
  if (!relevance_) return 0.0;
  double total = 0.0;
  for (const double weight : weights) {
    const double standardised = std::log(weight) / kLogWeightPriorStddev;
    total -= 0.5 * standardised * standardised;
  }
  return total;
}

bool GaussianProcess::set_hyperparameters(const std::vector<double>& weights, double noise_ratio) {
  return adopt(kernel_matrix(weights), weights, noise_ratio);
}

bool GaussianProcess::adopt(const std::vector<double>& kernel, const std::vector<double>& weights,
                            double noise_ratio) {
  std::vector<double> factor;
  if (!factorise(kernel, noise_ratio, factor)) return false;
  factor_ = std::move(factor);
  weights_ = weights;
  noise_ratio_ = noise_ratio;
  factored_ = size();
  solve();
  return true;
}

double GaussianProcess::climb(std::vector<double>& weights, double& noise_ratio) {
  // Parameters in log space: one per weight, then the noise ratio.
  const auto count = static_cast<size_t>(dimensions_) + 1;
  std::vector<double> point(count);
  for (size_t g = 0; g + 1 < count; ++g) point[g] = std::log(weights[g]);
  point.back() = std::log(noise_ratio);
  std::vector<double> previous_point = point;
  std::vector<double> steps(count, kFirstStep);
  std::vector<double> previous_gradient(count, 0.0);

  double best_objective = -std::numeric_limits<double>::infinity();
  std::vector<double> best_point = point;
  std::vector<double> trial_weights(count - 1);
  for (int64_t step = 0; step < kClimbSteps; ++step) {
    for (size_t g = 0; g + 1 < count; ++g) trial_weights[g] = std::exp(point[g]);
    const double trial_noise = std::exp(point.back());
    const std::vector<double> kernel = kernel_matrix(trial_weights);
    if (!adopt(kernel, trial_weights, trial_noise)) {
      // Not positive definite here: go back and take smaller steps.
      if (step == 0) break;
      point = previous_point;
      for (size_t i = 0; i < count; ++i) {
        steps[i] = std::max(steps[i] * kStepShrink, kSmallestStep);
        previous_gradient[i] = 0.0;
      }
      continue;
    }

    const double objective = log_marginal_likelihood_ + log_prior(trial_weights);
    if (objective > best_objective) {
      best_objective = objective;
      best_point = point;
    }

    std::vector<double> gradient = likelihood_gradient(kernel, trial_weights);
    for (size_t g = 0; g + 1 < count; ++g) {
      gradient[g] -= point[g] / (kLogWeightPriorStddev * kLogWeightPriorStddev);
    }

    // Rprop: each parameter moves by its own step in the direction of its gradient; the step
    // grows while the sign holds and shrinks when it flips (a summit was crossed).
    previous_point = point;
    double largest_step = 0.0;
    for (size_t i = 0; i < count; ++i) {
      const double agreement = gradient[i] * previous_gradient[i];
      if (agreement > 0.0) {
        steps[i] = std::min(steps[i] * kStepGrowth, kLargestStep);
      } else if (agreement < 0.0) {
        steps[i] = std::max(steps[i] * kStepShrink, kSmallestStep);
        gradient[i] = 0.0;
      }
      const double* range = i + 1 < count ? kLogWeightRange : kLogNoiseRange;
      const double direction = gradient[i] > 0.0 ? 1.0 : gradient[i] < 0.0 ? -1.0 : 0.0;
      point[i] = std::clamp(point[i] + direction * steps[i], range[0], range[1]);
      previous_gradient[i] = gradient[i];
      largest_step = std::max(largest_step, steps[i]);
    }
    if (largest_step < kConvergedStep) break;
  }

  for (size_t g = 0; g + 1 < count; ++g) weights[g] = std::exp(best_point[g]);
  noise_ratio = std::exp(best_point.back());
  return best_objective;
}

std::vector<double> GaussianProcess::likelihood_gradient(const std::vector<double>& kernel,
                                                         const std::vector<double>& weights) const {
  const int64_t n = size();
  const auto count = static_cast<size_t>(n);

  // The columns of L^-1 (column j has entries j .. n-1, stored from j so that both factors of
  // a product are contiguous), then (A^-1)_{row, column} = sum_k L^-1_{k, row} L^-1_{k, column}.
  std::vector<double> inverse_columns(count * count, 0.0);
  for (int64_t column = 0; column < n; ++column) {
    double* x = inverse_columns.data() + static_cast<size_t>(column) * count;
    x[column] = 1.0 / factor_[packed_row(column) + static_cast<size_t>(column)];
    for (int64_t row = column + 1; row < n; ++row) {
      const double* factor_row = factor_.data() + packed_row(row);
      x[row] = -dot(factor_row + column, x + column, row - column) / factor_row[row];
    }
  }
  const auto inverse_at = [&](int64_t row, int64_t column) {
    // Row >= column: both columns are zero above `row`.
    return dot(inverse_columns.data() + static_cast<size_t>(row) * count + row,
               inverse_columns.data() + static_cast<size_t>(column) * count + row, n - row);
  };

  // With the signal variance at its maximum, d log p / d theta = alpha^T dA alpha / (2 s2) -
  // tr(A^-1 dA) / 2 for A = K0 + noise_ratio I. A weight's dA has -w_g d_g K0 off the diagonal;
  // the noise ratio's is noise_ratio I.
  const auto width = static_cast<size_t>(dimensions_);
  std::vector<double> gradient(width + 1, 0.0);
  double noise_term = 0.0;
  for (int64_t row = 0; row < n; ++row) {
    const double alpha_row = alpha_[static_cast<size_t>(row)];
    const double* components = distances_.data() + strict_row(row) * width;
    const double* kernel_row = kernel.data() + packed_row(row);
    for (int64_t column = 0; column < row; ++column) {
      // Both triangles: twice the lower one.
      const double pair_weight =
          2.0 *
          (alpha_row * alpha_[static_cast<size_t>(column)] / (2.0 * signal_variance_) -
           0.5 * inverse_at(row, column)) *
          kernel_row[column];
      const double* pair = components + static_cast<size_t>(column) * width;
      for (size_t g = 0; g < width; ++g) gradient[g] -= pair_weight * weights[g] * pair[g];
    }
    noise_term += alpha_row * alpha_row / (2.0 * signal_variance_) - 0.5 * inverse_at(row, row);
  }
  gradient[width] = noise_ratio_ * noise_term;
  return gradient;
}

void GaussianProcess::update() {
  if (up_to_date()) return;
  if (factored_ == 0) return fit();

  // Extend the factor one row per new point; the earlier rows do not change.
  const int64_t n = size();
  factor_.resize(packed_row(n));
  std::vector<double> matrix_row(static_cast<size_t>(n));
  for (int64_t row = factored_; row < n; ++row) {
    const double* components =
        distances_.data() + strict_row(row) * static_cast<size_t>(dimensions_);
    for (int64_t column = 0; column < row; ++column) {
      matrix_row[static_cast<size_t>(column)] =
          kernel_value(components + column * dimensions_, weights_);
    }
    matrix_row[static_cast<size_t>(row)] = 1.0 + noise_ratio_;
    if (!cholesky_row(factor_, row, matrix_row.data())) return fit();
  }
  factored_ = n;
  solve();
}

void GaussianProcess::solve() {
  const int64_t n = size();

  // Standardise the targets so the grid of hyperparameters suits any objective's scale.
  double mean = 0.0;
  for (const double target : targets_) mean += target;
  mean /= static_cast<double>(n);
  double variance = 0.0;
  for (const double target : targets_) variance += (target - mean) * (target - mean);
  variance /= static_cast<double>(n);
  target_mean_ = mean;
  target_scale_ = variance > 0.0 ? std::sqrt(variance) : 1.0;

  // alpha = L^-T L^-1 z: forward substitution by rows, then backward by rows of L.
  alpha_.resize(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const double* row = factor_.data() + packed_row(i);
    const double z = (targets_[static_cast<size_t>(i)] - target_mean_) / target_scale_;
    alpha_[static_cast<size_t>(i)] = (z - dot(row, alpha_.data(), i)) / row[i];
  }
  for (int64_t i = n - 1; i >= 0; --i) {
    const double* row = factor_.data() + packed_row(i);
    alpha_[static_cast<size_t>(i)] /= row[i];
    const double solved = alpha_[static_cast<size_t>(i)];
    for (int64_t j = 0; j < i; ++j) alpha_[static_cast<size_t>(j)] -= row[j] * solved;
  }

  // Maximum-likelihood signal variance: z^T (K0 + noise I)^-1 z / n. One point says nothing
  // about the scale, so it keeps the prior variance of the standardised targets.
  double fit_term = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    fit_term += alpha_[static_cast<size_t>(i)] * (targets_[static_cast<size_t>(i)] - target_mean_) /
                target_scale_;
  }
  signal_variance_ = n < 2 ? 1.0 : std::max(fit_term / static_cast<double>(n), 1e-6);

  double log_determinant = 0.0;
  for (int64_t i = 0; i < n; ++i) log_determinant += 2.0 * std::log(factor_[packed_row(i) + i]);
  const double count = static_cast<double>(n);
  log_marginal_likelihood_ = -0.5 * count * std::log(signal_variance_) - 0.5 * log_determinant -
                             0.5 * count * (1.0 + std::log(2.0 * std::numbers::pi));
}

GaussianProcess::Prediction GaussianProcess::predict(const double* distances) const {
  if (!up_to_date() || size() == 0) {
    throw Error(fmt::format(
        "GaussianProcess::predict: expected a fitted model, found {} of {} points factorised",
        factored_, size()));
  }
  const int64_t n = size();

  // Mean k^T alpha; variance s2 (1 - |L^-1 k|^2), the latent function's (no noise).
  std::vector<double> kernel(static_cast<size_t>(n));
  double mean = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    kernel[static_cast<size_t>(i)] = kernel_value(distances + i * dimensions_, weights_);
    mean += kernel[static_cast<size_t>(i)] * alpha_[static_cast<size_t>(i)];
  }
  double explained = 0.0;
  for (int64_t i = 0; i < n; ++i) {
    const double* row = factor_.data() + packed_row(i);
    double& v = kernel[static_cast<size_t>(i)];
    v = (v - dot(row, kernel.data(), i)) / row[i];
    explained += v * v;
  }
  const double variance = signal_variance_ * std::max(0.0, 1.0 - explained);

  return {target_mean_ + target_scale_ * mean, target_scale_ * std::sqrt(variance)};
}

}  // namespace nascent
