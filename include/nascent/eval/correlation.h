#pragma once

/// Rank correlations, for measuring how well a cheap score ranks architectures like their
/// trained accuracy does. Ties are handled (average ranks; Kendall's tau-b).

#include <vector>

namespace nascent {

/// 1-based ranks of `values` in ascending order; tied values share the mean of their ranks
/// ({10, 20, 20, 30} -> {1, 2.5, 2.5, 4}). Infinities rank at the ends. Throws nascent::Error
/// on NaN.
std::vector<double> average_ranks(const std::vector<double>& values);

/// Spearman's rho: the Pearson correlation of the average ranks of `x` and `y` (same length,
/// at least 2). NaN when either is constant. Throws nascent::Error on a length mismatch.
double spearman_correlation(const std::vector<double>& x, const std::vector<double>& y);

/// Kendall's tau-b (Kendall 1945): (concordant - discordant) / sqrt((n0 - n1)(n0 - n2)) over
/// all n0 pairs, where n1 and n2 count the pairs tied in x and in y. NaN when either is
/// constant. O(n^2), meant for up to a few thousand points.
double kendall_tau_b(const std::vector<double>& x, const std::vector<double>& y);

}  // namespace nascent
