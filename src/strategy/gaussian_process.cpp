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

}  // namespace

GaussianProcess::GaussianProcess(std::vector<double> length_scales,
                                 std::vector<double> noise_ratios)
    : length_scales_(std::move(length_scales)), noise_ratios_(std::move(noise_ratios)) {
  const auto positive = [](const std::vector<double>& values) {
    return !values.empty() && std::all_of(values.begin(), values.end(), [](double value) {
      return std::isfinite(value) && value > 0.0;
    });
  };
  if (!positive(length_scales_) || !positive(noise_ratios_)) {
    throw Error(
        "GaussianProcess: expected non-empty lists of positive length scales and noise ratios");
  }
  length_scale_ = length_scales_.front();
  noise_ratio_ = noise_ratios_.front();
}

void GaussianProcess::add(const std::vector<double>& distances, double target) {
  if (static_cast<int64_t>(distances.size()) != size()) {
    throw Error(fmt::format("GaussianProcess::add: expected {} distances (one per point), found {}",
                            size(), distances.size()));
  }
  if (!std::isfinite(target)) {
    throw Error(fmt::format("GaussianProcess::add: expected a finite target, found {}", target));
  }
  distances_.insert(distances_.end(), distances.begin(), distances.end());
  targets_.push_back(target);
}

std::vector<double> GaussianProcess::kernel_matrix(double length_scale) const {
  const int64_t n = size();
  std::vector<double> kernel(packed_row(n));
  for (int64_t row = 0; row < n; ++row) {
    const double* distances = distances_.data() + strict_row(row);
    double* out = kernel.data() + packed_row(row);
    for (int64_t column = 0; column < row; ++column) {
      out[column] = std::exp(-distances[column] / length_scale);
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
  double best_likelihood = -std::numeric_limits<double>::infinity();
  double best_length_scale = 0.0;
  double best_noise_ratio = 0.0;
  std::vector<double> best_factor;
  for (const double length_scale : length_scales_) {
    const std::vector<double> kernel = kernel_matrix(length_scale);
    for (const double noise_ratio : noise_ratios_) {
      if (!factorise(kernel, noise_ratio, factor_)) continue;
      length_scale_ = length_scale;
      noise_ratio_ = noise_ratio;
      factored_ = size();
      solve();
      if (log_marginal_likelihood_ > best_likelihood) {
        best_likelihood = log_marginal_likelihood_;
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
    const std::vector<double> kernel = kernel_matrix(best_length_scale);
    while (!factorise(kernel, best_noise_ratio, best_factor)) best_noise_ratio *= 10.0;
  }

  factor_ = std::move(best_factor);
  length_scale_ = best_length_scale;
  noise_ratio_ = best_noise_ratio;
  factored_ = size();
  solve();
}

void GaussianProcess::update() {
  if (up_to_date()) return;
  if (factored_ == 0) return fit();

  // Extend the factor one row per new point; the earlier rows do not change.
  const int64_t n = size();
  factor_.resize(packed_row(n));
  std::vector<double> matrix_row(static_cast<size_t>(n));
  for (int64_t row = factored_; row < n; ++row) {
    const double* distances = distances_.data() + strict_row(row);
    for (int64_t column = 0; column < row; ++column) {
      matrix_row[static_cast<size_t>(column)] = std::exp(-distances[column] / length_scale_);
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
    kernel[static_cast<size_t>(i)] = std::exp(-distances[i] / length_scale_);
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
