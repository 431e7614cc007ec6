#include "strategy/internal/categorical_density.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace nascent::internal {

namespace {

/// Integer ranges up to this size keep every value; larger ranges and floats get evenly spaced
/// representatives, as for REINFORCE's policy.
constexpr int64_t kMaxIntegerValues = 64;
constexpr int64_t kRepresentatives = 16;

/// Bandwidths tried per decision; the largest is replaced by the uniform kernel (k - 1) / k.
const std::vector<double> kBandwidthGrid = {0.01, 0.03, 0.1, 0.2, 0.35, 0.5};

double log_sum_exp(const std::vector<double>& terms) {
  const double top = *std::max_element(terms.begin(), terms.end());
  if (!std::isfinite(top)) return top;
  double sum = 0.0;
  for (double term : terms) sum += std::exp(term - top);
  return top + std::log(sum);
}

/// The kernel of one decision with `categories` values and bandwidth `bandwidth`.
double kernel(int64_t a, int64_t b, int64_t categories, double bandwidth) {
  if (categories <= 1) return 1.0;
  return a == b ? 1.0 - bandwidth : bandwidth / static_cast<double>(categories - 1);
}

}  // namespace

CategoricalDensityModel::CategoricalDensityModel(const SearchSpace& space)
    : space_(space), values_(space, kMaxIntegerValues, kRepresentatives) {
  for (int64_t d = 0; d < values_.decision_count(); ++d) {
    const bool conditional = !space.decisions()[static_cast<size_t>(d)].conditions.empty();
    categories_.push_back(static_cast<int64_t>(values_.values(d).size()) + (conditional ? 1 : 0));
  }
}

CategoricalDensityModel::Codes CategoricalDensityModel::encode(
    const Architecture& architecture) const {
  Codes codes(categories_.size());
  const auto& decisions = space_.decisions();
  for (size_t d = 0; d < decisions.size(); ++d) {
    // "Inactive" is the last category of a conditional decision; an unknown value counts as it.
    const int64_t inactive = categories_[d] - 1;
    if (!architecture.has(decisions[d].name)) {
      codes[d] = inactive;
      continue;
    }
    const auto index =
        values_.index_of(static_cast<int64_t>(d), architecture.get(decisions[d].name));
    codes[d] = index ? *index : inactive;
  }
  return codes;
}

std::vector<double> CategoricalDensityModel::fit_bandwidths(
    const std::vector<Codes>& points) const {
  std::vector<double> bandwidths(categories_.size(), 0.5);
  const auto count = static_cast<double>(points.size());
  for (size_t d = 0; d < categories_.size(); ++d) {
    const int64_t categories = categories_[d];
    if (categories <= 1 || points.size() < 2) continue;
    const double uniform = static_cast<double>(categories - 1) / static_cast<double>(categories);

    // Leave-one-out log-likelihood of this decision's values: point i is scored by the kernels
    // of the others. Ties keep the smaller bandwidth.
    double best_likelihood = -std::numeric_limits<double>::infinity();
    for (double candidate : kBandwidthGrid) {
      const double bandwidth = std::min(candidate, uniform);
      double likelihood = 0.0;
      for (size_t i = 0; i < points.size(); ++i) {
        double density = 0.0;
        for (size_t j = 0; j < points.size(); ++j) {
          if (j != i) density += kernel(points[i][d], points[j][d], categories, bandwidth);
        }
        likelihood += std::log(density / (count - 1.0));
      }
      if (likelihood > best_likelihood) {
        best_likelihood = likelihood;
        bandwidths[d] = bandwidth;
      }
    }
  }
  return bandwidths;
}

void CategoricalDensityModel::fit(const std::vector<std::pair<Architecture, double>>& results,
                                  double top_fraction, int64_t minimum_points) {
  good_.clear();
  bad_.clear();

  // Best first; the order of equal results is the order told, so fitting is deterministic.
  std::vector<size_t> order(results.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return results[a].second > results[b].second; });

  const auto total = static_cast<int64_t>(results.size());
  const int64_t good_count = std::min<int64_t>(
      total,
      std::max<int64_t>(minimum_points, static_cast<int64_t>(std::ceil(top_fraction * total))));
  const int64_t bad_count = std::min<int64_t>(total, std::max(minimum_points, total - good_count));
  for (int64_t i = 0; i < good_count; ++i) {
    const auto& [architecture, objective] = results[order[static_cast<size_t>(i)]];
    if (std::isfinite(objective)) good_.push_back(encode(architecture));
  }
  for (int64_t i = total - bad_count; i < total; ++i) {
    bad_.push_back(encode(results[order[static_cast<size_t>(i)]].first));
  }
  good_bandwidths_ = fit_bandwidths(good_);
  bad_bandwidths_ = fit_bandwidths(bad_);
}

Architecture CategoricalDensityModel::sample_good(Rng& rng, double bandwidth_factor) const {
  const Codes& center = good_[static_cast<size_t>(rng.index(static_cast<int64_t>(good_.size())))];
  const auto& decisions = space_.decisions();
  Architecture partial;
  for (size_t d = 0; d < decisions.size(); ++d) {
    const int64_t categories = categories_[d];
    int64_t code = center[d];
    const double uniform = static_cast<double>(categories - 1) / static_cast<double>(categories);
    const double bandwidth = std::min(good_bandwidths_[d] * bandwidth_factor, uniform);
    if (categories > 1 && rng.uniform() < bandwidth) {
      // One of the other values, uniformly.
      const int64_t other = rng.index(categories - 1);
      code = other < code ? other : other + 1;
    }
    const auto listed = static_cast<int64_t>(values_.values(static_cast<int64_t>(d)).size());
    if (code < listed) {
      partial.set(decisions[d].name,
                  values_.values(static_cast<int64_t>(d))[static_cast<size_t>(code)]);
    }
  }
  // Values of decisions that turned out inactive are dropped; missing active ones are drawn.
  return space_.resolve(partial, rng);
}

double CategoricalDensityModel::log_density(const Codes& codes, const std::vector<Codes>& points,
                                            const std::vector<double>& bandwidths) const {
  std::vector<double> terms;
  terms.reserve(points.size());
  for (const Codes& point : points) {
    double log_product = 0.0;
    for (size_t d = 0; d < codes.size(); ++d) {
      log_product += std::log(kernel(codes[d], point[d], categories_[d], bandwidths[d]));
    }
    terms.push_back(log_product);
  }
  return log_sum_exp(terms) - std::log(static_cast<double>(points.size()));
}

double CategoricalDensityModel::log_ratio(const Architecture& architecture) const {
  const Codes codes = encode(architecture);
  return log_density(codes, good_, good_bandwidths_) - log_density(codes, bad_, bad_bandwidths_);
}

}  // namespace nascent::internal
