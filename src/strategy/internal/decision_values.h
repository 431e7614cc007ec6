#pragma once

/// Finite views of a search space's decisions for the model-based strategies.

#include <cstdint>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "nascent/space/search_space.h"

namespace nascent::internal {

/// A finite list of values for every decision of a space, so that a policy can put a logit on
/// each: every choice of a categorical decision and of an integer range of at most
/// `max_integer_values` values; `representatives` evenly spaced values (log-spaced on a log
/// scale) of a larger integer range or of a float range.
class DecisionValues {
 public:
  DecisionValues(const SearchSpace& space, int64_t max_integer_values, int64_t representatives);

  int64_t decision_count() const { return static_cast<int64_t>(values_.size()); }

  /// The values of decision `decision` (its index in the space), as canonical text.
  const std::vector<std::string>& values(int64_t decision) const {
    return values_[static_cast<size_t>(decision)];
  }

  /// The index of `value` among the decision's values; a number not listed maps to the nearest
  /// listed one. nullopt for a value the decision cannot take (an unknown choice).
  std::optional<int64_t> index_of(int64_t decision, const std::string& value) const;

 private:
  const SearchSpace& space_;
  std::vector<std::vector<std::string>> values_;
  std::vector<std::unordered_map<std::string, int64_t>> index_;
  /// For numeric decisions: the listed values as numbers, for nearest-value lookups.
  std::vector<std::vector<double>> numbers_;
};

/// Per-decision codes of architectures and the distance between them, for a Gaussian-process
/// kernel over categorical (and ordinal) inputs.
///
/// A categorical decision is coded by its choice index; an integer or float decision by its
/// position in its range, in [0, 1] (log-scaled when the decision is). An inactive decision (or
/// a value the space does not know) is coded kInactive.
class ArchitectureEncoder {
 public:
  static constexpr double kInactive = -1.0;

  /// With `use_features` and a space that has a feature encoding, the codes are those features
  /// and the distance the mean absolute difference between them (for binary features, the
  /// Hamming distance divided by their number).
  ArchitectureEncoder(const SearchSpace& space, bool use_features);

  /// The number of codes of an architecture.
  int64_t width() const {
    return features_ ? space_.feature_encoding().size : static_cast<int64_t>(kinds_.size());
  }

  /// True when the codes are the space's features.
  bool uses_features() const { return features_; }

  /// One code per decision of the space, in the space's order, or the space's features.
  std::vector<double> encode(const Architecture& architecture) const;

  /// The mean over decisions of: 0 for equal codes; 1 for two different categorical choices;
  /// |a - b| for two positions of a numeric decision; 1/2 when exactly one side is inactive.
  /// For categorical decisions this is the Hamming distance between one-hot encodings (an
  /// inactive decision's block all zero) divided by twice the number of decisions, so it lies
  /// in [0, 1] whatever the size of the space.
  double distance(const double* a, const double* b) const;

  /// How many components components() writes: one per decision, or one for features.
  int64_t component_count() const { return features_ ? 1 : static_cast<int64_t>(kinds_.size()); }

  /// The terms of distance() before the mean, one per decision (0, 1/2, 1 or |a - b| as there),
  /// so that a kernel can weigh decisions apart; for features, the one value distance().
  /// Writes component_count() values to `out`.
  void components(const double* a, const double* b, double* out) const;

 private:
  const SearchSpace& space_;
  bool features_ = false;
  std::unordered_map<std::string, size_t> decision_index_;
  std::vector<DecisionKind> kinds_;
  std::vector<std::unordered_map<std::string, int64_t>> choice_index_;
};

/// Inputs of a neural surrogate: the space's feature encoding (such as the path encoding of
/// NAS-Bench-201 cells) when it has one and `use_features` is set; otherwise a one-hot encoding
/// of the decisions, so that any space can be modelled. In the one-hot encoding a categorical
/// decision has one column per choice (all zero while the decision is inactive), and an integer
/// or float decision two: 1 when it is active, and its position in its range, in [0, 1].
class OneHotEncoder {
 public:
  OneHotEncoder(const SearchSpace& space, bool use_features);

  /// The number of inputs of an architecture.
  int64_t width() const { return width_; }

  /// True when the inputs are the space's features.
  bool uses_features() const { return codes_.uses_features(); }

  std::vector<float> encode(const Architecture& architecture) const;

 private:
  ArchitectureEncoder codes_;
  std::vector<DecisionKind> kinds_;
  /// First column of each decision's block.
  std::vector<int64_t> offsets_;
  int64_t width_ = 0;
};

}  // namespace nascent::internal
