#include "nascent/eval/correlation.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "nascent/core/error.h"

namespace nascent {

namespace {

void check_pair(const std::vector<double>& x, const std::vector<double>& y, const char* what) {
  if (x.size() != y.size()) {
    throw Error(fmt::format("{}: expected two lists of the same length, found {} and {} values",
                            what, x.size(), y.size()));
  }
}

double pearson(const std::vector<double>& x, const std::vector<double>& y) {
  const double n = static_cast<double>(x.size());
  const double mean_x = std::accumulate(x.begin(), x.end(), 0.0) / n;
  const double mean_y = std::accumulate(y.begin(), y.end(), 0.0) / n;
  double covariance = 0.0;
  double variance_x = 0.0;
  double variance_y = 0.0;
  for (size_t i = 0; i < x.size(); ++i) {
    covariance += (x[i] - mean_x) * (y[i] - mean_y);
    variance_x += (x[i] - mean_x) * (x[i] - mean_x);
    variance_y += (y[i] - mean_y) * (y[i] - mean_y);
  }
  if (variance_x == 0.0 || variance_y == 0.0) return std::numeric_limits<double>::quiet_NaN();
  return covariance / std::sqrt(variance_x * variance_y);
}

int sign(double value) { return (value > 0) - (value < 0); }

/// The sign of b - a, with equal infinities tied (their difference would be NaN).
int compare(double a, double b) { return a == b ? 0 : sign(b - a); }

}  // namespace

std::vector<double> average_ranks(const std::vector<double>& values) {
  for (size_t i = 0; i < values.size(); ++i) {
    if (std::isnan(values[i])) {
      throw Error(fmt::format("average_ranks: expected numbers, found NaN at position {}", i));
    }
  }
  std::vector<size_t> order(values.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return values[a] < values[b]; });

  std::vector<double> ranks(values.size());
  for (size_t begin = 0; begin < order.size();) {
    size_t end = begin + 1;
    while (end < order.size() && values[order[end]] == values[order[begin]]) ++end;
    // Positions begin..end-1 hold ranks begin+1..end: their mean.
    const double mean_rank = (static_cast<double>(begin + 1) + static_cast<double>(end)) / 2.0;
    for (size_t i = begin; i < end; ++i) ranks[order[i]] = mean_rank;
    begin = end;
  }
  return ranks;
}

double spearman_correlation(const std::vector<double>& x, const std::vector<double>& y) {
  check_pair(x, y, "spearman_correlation");
  if (x.size() < 2) return std::numeric_limits<double>::quiet_NaN();
  return pearson(average_ranks(x), average_ranks(y));
}

double kendall_tau_b(const std::vector<double>& x, const std::vector<double>& y) {
  check_pair(x, y, "kendall_tau_b");
  average_ranks(x);  // refuses NaN with its position
  average_ranks(y);
  int64_t concordant_minus_discordant = 0;
  int64_t pairs = 0;
  int64_t tied_x = 0;
  int64_t tied_y = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    for (size_t j = i + 1; j < x.size(); ++j) {
      const int order_x = compare(x[i], x[j]);
      const int order_y = compare(y[i], y[j]);
      ++pairs;
      if (order_x == 0) ++tied_x;
      if (order_y == 0) ++tied_y;
      concordant_minus_discordant += order_x * order_y;
    }
  }
  const double denominator =
      std::sqrt(static_cast<double>(pairs - tied_x) * static_cast<double>(pairs - tied_y));
  if (denominator == 0.0) return std::numeric_limits<double>::quiet_NaN();
  return static_cast<double>(concordant_minus_discordant) / denominator;
}

}  // namespace nascent
