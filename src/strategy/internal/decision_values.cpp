#include "strategy/internal/decision_values.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "nascent/core/text.h"

namespace nascent::internal {

namespace {

std::optional<double> parse_number(const std::string& text) {
  try {
    size_t consumed = 0;
    const double value = std::stod(text, &consumed);
    if (consumed == text.size() && std::isfinite(value)) return value;
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

/// The position of `value` in the decision's numeric range, in [0, 1].
double range_position(const Decision& decision, double value) {
  double low = 0.0;
  double high = 0.0;
  if (decision.kind == DecisionKind::kInteger) {
    low = static_cast<double>(decision.int_min);
    high = static_cast<double>(decision.int_max);
  } else {
    low = decision.float_min;
    high = decision.float_max;
    if (decision.log_scale) {
      low = std::log(low);
      high = std::log(high);
      value = std::log(std::max(value, decision.float_min));
    }
  }
  if (high <= low) return 0.0;
  return std::clamp((value - low) / (high - low), 0.0, 1.0);
}

/// `count` evenly spaced values of a numeric range as canonical text, without repeats. Floats
/// keep four significant digits, as SearchSpace writes them.
std::vector<std::string> representatives(const Decision& decision, int64_t count) {
  std::vector<std::string> values;
  const auto add = [&](const std::string& text) {
    if (std::find(values.begin(), values.end(), text) == values.end()) values.push_back(text);
  };
  for (int64_t i = 0; i < count; ++i) {
    const double t = count == 1 ? 0.0 : static_cast<double>(i) / static_cast<double>(count - 1);
    if (decision.kind == DecisionKind::kInteger) {
      const double span = static_cast<double>(decision.int_max - decision.int_min);
      add(std::to_string(decision.int_min + static_cast<int64_t>(std::llround(t * span))));
      continue;
    }
    const double value =
        decision.log_scale
            ? std::exp(std::log(decision.float_min) +
                       t * (std::log(decision.float_max) - std::log(decision.float_min)))
            : decision.float_min + t * (decision.float_max - decision.float_min);
    const double rounded = std::stod(fmt::format("{:.4g}", value));
    add(format_double(std::clamp(rounded, decision.float_min, decision.float_max)));
  }
  return values;
}

}  // namespace

DecisionValues::DecisionValues(const SearchSpace& space, int64_t max_integer_values,
                               int64_t representatives_per_range)
    : space_(space) {
  for (const auto& decision : space_.decisions()) {
    std::vector<std::string> values;
    if (decision.kind == DecisionKind::kCategorical) {
      values = decision.choices;
    } else if (decision.kind == DecisionKind::kInteger &&
               decision.int_max - decision.int_min < max_integer_values) {
      for (int64_t v = decision.int_min; v <= decision.int_max; ++v) {
        values.push_back(std::to_string(v));
      }
    } else {
      const bool single =
          decision.kind == DecisionKind::kFloat && decision.float_min == decision.float_max;
      values = representatives(decision, single ? 1 : representatives_per_range);
    }

    std::unordered_map<std::string, int64_t> index;
    std::vector<double> numbers;
    for (size_t i = 0; i < values.size(); ++i) {
      index.emplace(values[i], static_cast<int64_t>(i));
      if (decision.kind != DecisionKind::kCategorical) numbers.push_back(std::stod(values[i]));
    }
    values_.push_back(std::move(values));
    index_.push_back(std::move(index));
    numbers_.push_back(std::move(numbers));
  }
}

std::optional<int64_t> DecisionValues::index_of(int64_t decision, const std::string& value) const {
  const auto slot = static_cast<size_t>(decision);
  if (const auto found = index_[slot].find(value); found != index_[slot].end()) {
    return found->second;
  }
  if (space_.decisions()[slot].kind == DecisionKind::kCategorical) return std::nullopt;

  const auto number = parse_number(value);
  if (!number) return std::nullopt;
  const auto& numbers = numbers_[slot];
  int64_t nearest = 0;
  for (size_t i = 1; i < numbers.size(); ++i) {
    if (std::abs(numbers[i] - *number) <
        std::abs(numbers[static_cast<size_t>(nearest)] - *number)) {
      nearest = static_cast<int64_t>(i);
    }
  }
  return nearest;
}

ArchitectureEncoder::ArchitectureEncoder(const SearchSpace& space, bool use_features)
    : space_(space), features_(use_features && static_cast<bool>(space.feature_encoding().encode)) {
  for (const auto& decision : space_.decisions()) {
    decision_index_.emplace(decision.name, kinds_.size());
    kinds_.push_back(decision.kind);
    std::unordered_map<std::string, int64_t> choices;
    for (size_t i = 0; i < decision.choices.size(); ++i) {
      choices.emplace(decision.choices[i], static_cast<int64_t>(i));
    }
    choice_index_.push_back(std::move(choices));
  }
}

std::vector<double> ArchitectureEncoder::encode(const Architecture& architecture) const {
  if (features_) return space_.feature_encoding().encode(architecture);
  std::vector<double> codes(kinds_.size(), kInactive);
  for (const auto& [name, value] : architecture.values()) {
    const auto found = decision_index_.find(name);
    if (found == decision_index_.end()) continue;
    const size_t slot = found->second;

    if (kinds_[slot] == DecisionKind::kCategorical) {
      const auto choice = choice_index_[slot].find(value);
      if (choice != choice_index_[slot].end()) codes[slot] = static_cast<double>(choice->second);
    } else if (const auto number = parse_number(value)) {
      codes[slot] = range_position(space_.decisions()[slot], *number);
    }
  }
  return codes;
}

void ArchitectureEncoder::components(const double* a, const double* b, double* out) const {
  if (features_) {
    out[0] = distance(a, b);
    return;
  }
  for (size_t i = 0; i < kinds_.size(); ++i) {
    if (a[i] == b[i]) {
      out[i] = 0.0;
    } else if (a[i] == kInactive || b[i] == kInactive) {
      out[i] = 0.5;
    } else if (kinds_[i] == DecisionKind::kCategorical) {
      out[i] = 1.0;
    } else {
      out[i] = std::abs(a[i] - b[i]);
    }
  }
}

double ArchitectureEncoder::distance(const double* a, const double* b) const {
  if (features_) {
    const int64_t size = width();
    double total = 0.0;
    for (int64_t i = 0; i < size; ++i) total += std::abs(a[i] - b[i]);
    return size == 0 ? 0.0 : total / static_cast<double>(size);
  }
  double total = 0.0;
  for (size_t i = 0; i < kinds_.size(); ++i) {
    if (a[i] == b[i]) continue;
    if (a[i] == kInactive || b[i] == kInactive) {
      total += 0.5;
    } else if (kinds_[i] == DecisionKind::kCategorical) {
      total += 1.0;
    } else {
      total += std::abs(a[i] - b[i]);
    }
  }
  return kinds_.empty() ? 0.0 : total / static_cast<double>(kinds_.size());
}

OneHotEncoder::OneHotEncoder(const SearchSpace& space, bool use_features)
    : codes_(space, use_features) {
  if (codes_.uses_features()) {
    width_ = codes_.width();
    return;
  }
  for (const auto& decision : space.decisions()) {
    kinds_.push_back(decision.kind);
    offsets_.push_back(width_);
    width_ += decision.kind == DecisionKind::kCategorical
                  ? static_cast<int64_t>(decision.choices.size())
                  : 2;
  }
}

std::vector<float> OneHotEncoder::encode(const Architecture& architecture) const {
  const std::vector<double> codes = codes_.encode(architecture);
  if (codes_.uses_features()) return {codes.begin(), codes.end()};

  std::vector<float> inputs(static_cast<size_t>(width_), 0.0f);
  for (size_t i = 0; i < kinds_.size(); ++i) {
    if (codes[i] == ArchitectureEncoder::kInactive) continue;
    const auto column = static_cast<size_t>(offsets_[i]);
    if (kinds_[i] == DecisionKind::kCategorical) {
      inputs[column + static_cast<size_t>(codes[i])] = 1.0f;
    } else {
      inputs[column] = 1.0f;
      inputs[column + 1] = static_cast<float>(codes[i]);
    }
  }
  return inputs;
}

}  // namespace nascent::internal
