#pragma once

/// The density model of BOHB: a tree-structured Parzen estimator over a space's decisions.

#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include "nascent/core/random.h"
#include "nascent/space/search_space.h"
#include "strategy/internal/decision_values.h"

namespace nascent::internal {

/// Two kernel densities over architectures, l for good results and g for the rest, as in the
/// tree-structured Parzen estimator (Bergstra et al., NeurIPS 2011) that BOHB uses (Falkner,
/// Klein and Hutter, ICML 2018).
///
/// Every decision is treated as categorical over DecisionValues' list, plus "inactive" for a
/// conditional decision. The kernel of one decision is Aitchison and Aitken's: probability
/// 1 - b on the point's own value, b / (k - 1) on each of the k - 1 others; a density is the
/// mean over points of the product of its decisions' kernels. Each decision's bandwidth b
/// maximises the leave-one-out likelihood of that decision's values over a small grid.
class CategoricalDensityModel {
 public:
  explicit CategoricalDensityModel(const SearchSpace& space);

  /// Fits l to the best results and g to the worst. With N results, l takes the best
  /// max(minimum_points, ceil(top_fraction * N)) and g the worst max(minimum_points,
  /// N - |l|) (the two may overlap when N is small, as in BOHB). Results of -infinity (no
  /// objective) only ever go to g.
  void fit(const std::vector<std::pair<Architecture, double>>& results, double top_fraction,
           int64_t minimum_points);

  bool fitted() const { return !good_.empty() && !bad_.empty(); }

  /// A draw from l with every bandwidth multiplied by `bandwidth_factor` (capped at the
  /// uniform kernel), resolved into an architecture of the space.
  Architecture sample_good(Rng& rng, double bandwidth_factor) const;

  /// log l(x) - log g(x): larger where good results are denser than bad ones.
  double log_ratio(const Architecture& architecture) const;

  /// The number of decisions, the d of BOHB's minimum of d + 1 points per density.
  int64_t decision_count() const { return values_.decision_count(); }

 private:
  using Codes = std::vector<int64_t>;

  Codes encode(const Architecture& architecture) const;
  std::vector<double> fit_bandwidths(const std::vector<Codes>& points) const;
  double log_density(const Codes& codes, const std::vector<Codes>& points,
                     const std::vector<double>& bandwidths) const;

  const SearchSpace& space_;
  DecisionValues values_;
  /// Categories of each decision: its values, plus one for "inactive" when conditional.
  std::vector<int64_t> categories_;
  std::vector<Codes> good_;
  std::vector<Codes> bad_;
  std::vector<double> good_bandwidths_;
  std::vector<double> bad_bandwidths_;
};

}  // namespace nascent::internal
