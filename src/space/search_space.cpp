#include "nascent/space/search_space.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <set>

#include "nascent/core/error.h"
#include "nascent/core/text.h"

namespace nascent {

namespace {

std::optional<int64_t> parse_integer(const std::string& text) {
  int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return value;
}

std::optional<double> parse_number(const std::string& text) {
  try {
    size_t consumed = 0;
    const double value = std::stod(text, &consumed);
    if (consumed == text.size() && std::isfinite(value)) return value;
  } catch (const std::exception&) {
  }
  return std::nullopt;
}

/// Float values keep four significant digits: enough resolution for a search, and the text
/// form reads back to exactly the same value.
std::string canonical_float(double value, double min, double max) {
  // Clamp after rounding: rounding may cross a bound given with more digits.
  const double rounded = std::stod(fmt::format("{:.4g}", value));
  return format_double(std::clamp(rounded, min, max));
}

bool is_active(const Decision& decision, const Architecture& partial) {
  return std::all_of(decision.conditions.begin(), decision.conditions.end(),
                     [&](const Condition& condition) { return condition.holds(partial); });
}

}  // namespace

Condition Condition::at_least_value(std::string decision, int64_t threshold) {
  Condition condition;
  condition.decision = std::move(decision);
  condition.test = Test::kAtLeast;
  condition.at_least = threshold;
  return condition;
}

Condition Condition::one_of_values(std::string decision, std::vector<std::string> values) {
  Condition condition;
  condition.decision = std::move(decision);
  condition.test = Test::kOneOf;
  condition.one_of = std::move(values);
  return condition;
}

bool Condition::holds(const Architecture& architecture) const {
  if (!architecture.has(decision)) return false;
  const std::string& value = architecture.get(decision);
  if (test == Test::kOneOf) {
    return std::find(one_of.begin(), one_of.end(), value) != one_of.end();
  }
  const auto number = parse_integer(value);
  return number && *number >= at_least;
}

Decision Decision::categorical(std::string name, std::vector<std::string> choices) {
  Decision decision;
  decision.name = std::move(name);
  decision.kind = DecisionKind::kCategorical;
  decision.choices = std::move(choices);
  return decision;
}

Decision Decision::integer(std::string name, int64_t min, int64_t max) {
  Decision decision;
  decision.name = std::move(name);
  decision.kind = DecisionKind::kInteger;
  decision.int_min = min;
  decision.int_max = max;
  return decision;
}

Decision Decision::real(std::string name, double min, double max, bool log_scale) {
  Decision decision;
  decision.name = std::move(name);
  decision.kind = DecisionKind::kFloat;
  decision.float_min = min;
  decision.float_max = max;
  decision.log_scale = log_scale;
  return decision;
}

Decision& Decision::when(Condition condition) {
  conditions.push_back(std::move(condition));
  return *this;
}

std::optional<int64_t> Decision::cardinality() const {
  switch (kind) {
    case DecisionKind::kCategorical:
      return static_cast<int64_t>(choices.size());
    case DecisionKind::kInteger:
      return int_max - int_min + 1;
    case DecisionKind::kFloat:
      if (float_min == float_max) return 1;
      return std::nullopt;
  }
  return std::nullopt;
}

std::string Decision::sample(Rng& rng) const {
  switch (kind) {
    case DecisionKind::kCategorical:
      return choices[static_cast<size_t>(rng.index(static_cast<int64_t>(choices.size())))];
    case DecisionKind::kInteger:
      return std::to_string(rng.integer(int_min, int_max));
    case DecisionKind::kFloat: {
      const double u = rng.uniform();
      double value =
          log_scale
              ? std::exp(std::log(float_min) + u * (std::log(float_max) - std::log(float_min)))
              : float_min + u * (float_max - float_min);
      return canonical_float(value, float_min, float_max);
    }
  }
  return {};
}

bool Decision::accepts(const std::string& value, std::string* problem) const {
  const auto fail = [&](const std::string& text) {
    if (problem) *problem = text;
    return false;
  };
  switch (kind) {
    case DecisionKind::kCategorical:
      if (std::find(choices.begin(), choices.end(), value) != choices.end()) return true;
      return fail(fmt::format("expected {}, found '{}'", describe_domain(), value));
    case DecisionKind::kInteger: {
      const auto number = parse_integer(value);
      if (number && *number >= int_min && *number <= int_max) return true;
      return fail(fmt::format("expected {}, found '{}'", describe_domain(), value));
    }
    case DecisionKind::kFloat: {
      const auto number = parse_number(value);
      if (number && *number >= float_min && *number <= float_max) return true;
      return fail(fmt::format("expected {}, found '{}'", describe_domain(), value));
    }
  }
  return false;
}

std::vector<std::string> Decision::alternatives(const std::string& current, Rng& rng) const {
  std::vector<std::string> values;
  switch (kind) {
    case DecisionKind::kCategorical:
      for (const auto& choice : choices) {
        if (choice != current) values.push_back(choice);
      }
      break;
    case DecisionKind::kInteger:
      for (int64_t v = int_min; v <= int_max; ++v) {
        if (std::to_string(v) != current) values.push_back(std::to_string(v));
      }
      break;
    case DecisionKind::kFloat: {
      // A continuous range has no finite neighbourhood: offer a few random perturbations.
      const double centre = parse_number(current).value_or(float_min);
      for (int i = 0; i < 4; ++i) {
        const double spread = 0.25 * (rng.uniform() * 2.0 - 1.0);
        double value = log_scale ? centre * std::exp(spread * std::log(float_max / float_min))
                                 : centre + spread * (float_max - float_min);
        const std::string text = canonical_float(value, float_min, float_max);
        if (text != current && std::find(values.begin(), values.end(), text) == values.end()) {
          values.push_back(text);
        }
      }
      break;
    }
  }
  return values;
}

std::string Decision::describe_domain() const {
  switch (kind) {
    case DecisionKind::kCategorical:
      return "one of " + join_choices(choices);
    case DecisionKind::kInteger:
      return fmt::format("an integer in [{}, {}]", int_min, int_max);
    case DecisionKind::kFloat:
      return fmt::format("a number in [{}, {}]{}", float_min, float_max,
                         log_scale ? " (log scale)" : "");
  }
  return {};
}

void SearchSpace::add(Decision decision) {
  if (decision.name.empty() || decision.name.find_first_of(" =") != std::string::npos) {
    throw Error(
        fmt::format("search space: decision name '{}' must be non-empty and hold no "
                    "space or '='",
                    decision.name));
  }
  if (find(decision.name)) {
    throw Error(fmt::format("search space: decision '{}' is declared twice", decision.name));
  }

  switch (decision.kind) {
    case DecisionKind::kCategorical: {
      if (decision.choices.empty()) {
        throw Error(
            fmt::format("search space: decision '{}' expected at least one choice, "
                        "found none",
                        decision.name));
      }
      std::set<std::string> unique(decision.choices.begin(), decision.choices.end());
      if (unique.size() != decision.choices.size()) {
        throw Error(fmt::format("search space: decision '{}' lists a choice twice", decision.name));
      }
      for (const auto& choice : decision.choices) {
        if (choice.empty() || choice.find_first_of(" =") != std::string::npos) {
          throw Error(
              fmt::format("search space: decision '{}': choice '{}' must be non-empty "
                          "and hold no space or '='",
                          decision.name, choice));
        }
      }
      break;
    }
    case DecisionKind::kInteger:
      if (decision.int_min > decision.int_max) {
        throw Error(fmt::format("search space: decision '{}' expected min <= max, found [{}, {}]",
                                decision.name, decision.int_min, decision.int_max));
      }
      break;
    case DecisionKind::kFloat:
      if (!(decision.float_min <= decision.float_max)) {
        throw Error(fmt::format("search space: decision '{}' expected min <= max, found [{}, {}]",
                                decision.name, decision.float_min, decision.float_max));
      }
      if (decision.log_scale && decision.float_min <= 0) {
        throw Error(
            fmt::format("search space: decision '{}' is on a log scale: expected min > "
                        "0, found {}",
                        decision.name, decision.float_min));
      }
      break;
  }

  for (const auto& condition : decision.conditions) {
    if (!find(condition.decision)) {
      throw Error(
          fmt::format("search space: decision '{}' depends on '{}', which is not "
                      "declared before it",
                      decision.name, condition.decision));
    }
  }
  decisions_.push_back(std::move(decision));
}

const Decision* SearchSpace::find(std::string_view name) const {
  for (const auto& decision : decisions_) {
    if (decision.name == name) return &decision;
  }
  return nullptr;
}

Architecture SearchSpace::sample(Rng& rng) const { return resolve(Architecture(), rng); }

Architecture SearchSpace::resolve(const Architecture& partial, Rng& rng) const {
  Architecture resolved;
  for (const auto& decision : decisions_) {
    if (!is_active(decision, resolved)) continue;
    if (partial.has(decision.name) && decision.accepts(partial.get(decision.name), nullptr)) {
      resolved.set(decision.name, partial.get(decision.name));
    } else {
      resolved.set(decision.name, decision.sample(rng));
    }
  }
  return resolved;
}

Architecture SearchSpace::mutate(const Architecture& parent, Rng& rng) const {
  // Only decisions with another value to move to can be mutated.
  std::vector<std::pair<const Decision*, std::vector<std::string>>> candidates;
  for (const auto& [name, value] : parent.values()) {
    const Decision* decision = find(name);
    if (!decision) continue;
    auto alternatives = decision->alternatives(value, rng);
    if (!alternatives.empty()) candidates.emplace_back(decision, std::move(alternatives));
  }
  if (candidates.empty()) return parent;

  const auto& [decision, alternatives] =
      candidates[static_cast<size_t>(rng.index(static_cast<int64_t>(candidates.size())))];
  Architecture child = parent;
  child.set(
      decision->name,
      alternatives[static_cast<size_t>(rng.index(static_cast<int64_t>(alternatives.size())))]);
  return resolve(child, rng);
}

std::vector<Architecture> SearchSpace::neighbours(const Architecture& center, Rng& rng) const {
  std::vector<Architecture> result;
  for (const auto& [name, value] : center.values()) {
    const Decision* decision = find(name);
    if (!decision) continue;
    for (const auto& alternative : decision->alternatives(value, rng)) {
      Architecture neighbour = center;
      neighbour.set(name, alternative);
      result.push_back(resolve(neighbour, rng));
    }
  }
  return result;
}

void SearchSpace::validate(const Architecture& architecture) const {
  for (const auto& [name, value] : architecture.values()) {
    if (!find(name)) {
      std::vector<std::string> names;
      for (const auto& decision : decisions_) names.push_back(decision.name);
      const auto hint = closest_match(name, names);
      throw Error(fmt::format("architecture: unknown decision '{}'{}", name,
                              hint ? fmt::format(" (did you mean '{}'?)", *hint) : ""));
    }
  }

  Architecture resolved;
  for (const auto& decision : decisions_) {
    const bool active = is_active(decision, resolved);
    const bool present = architecture.has(decision.name);
    if (active && !present) {
      throw Error(
          fmt::format("architecture: decision '{}' is active but has no value; expected "
                      "{}",
                      decision.name, decision.describe_domain()));
    }
    if (!active && present) {
      throw Error(
          fmt::format("architecture: decision '{}' is set to '{}' but is inactive "
                      "given the earlier decisions",
                      decision.name, architecture.get(decision.name)));
    }
    if (!active) continue;

    std::string problem;
    if (!decision.accepts(architecture.get(decision.name), &problem)) {
      throw Error(fmt::format("architecture: decision '{}': {}", decision.name, problem));
    }
    resolved.set(decision.name, architecture.get(decision.name));
  }
}

std::string SearchSpace::format(const Architecture& architecture) const {
  return notation_.format ? notation_.format(architecture) : architecture.to_string();
}

Architecture SearchSpace::parse(std::string_view text) const {
  const Architecture parsed =
      notation_.parse ? notation_.parse(text) : Architecture::from_string(text);
  validate(parsed);

  // Re-emit in the space's order so the canonical string is the same however it was written.
  Architecture ordered;
  for (const auto& decision : decisions_) {
    if (parsed.has(decision.name)) ordered.set(decision.name, parsed.get(decision.name));
  }
  return ordered;
}

namespace {

/// Depth-first walk over every architecture; `visit` returns false to stop early.
template <typename Visit>
bool walk(const std::vector<Decision>& decisions, size_t index, Architecture& partial,
          Visit&& visit) {
  if (index == decisions.size()) return visit(partial);

  const Decision& decision = decisions[index];
  if (!is_active(decision, partial)) return walk(decisions, index + 1, partial, visit);

  std::vector<std::string> values;
  if (decision.kind == DecisionKind::kCategorical) {
    values = decision.choices;
  } else if (decision.kind == DecisionKind::kInteger) {
    for (int64_t v = decision.int_min; v <= decision.int_max; ++v) {
      values.push_back(std::to_string(v));
    }
  } else {
    values.push_back(canonical_float(decision.float_min, decision.float_min, decision.float_max));
  }

  for (const auto& value : values) {
    partial.set(decision.name, value);
    const bool keep_going = walk(decisions, index + 1, partial, visit);
    partial.erase(decision.name);
    if (!keep_going) return false;
  }
  return true;
}

}  // namespace

std::optional<int64_t> SearchSpace::count(int64_t limit) const {
  int64_t total = 0;
  bool has_float = false;
  Architecture partial;
  const bool complete = walk(decisions_, 0, partial, [&](const Architecture& architecture) {
    for (const auto& [name, value] : architecture.values()) {
      const Decision* decision = find(name);
      if (decision && !decision->cardinality()) has_float = true;
    }
    ++total;
    return !has_float && total <= limit;
  });
  if (!complete || has_float) return std::nullopt;
  return total;
}

std::vector<Architecture> SearchSpace::enumerate(int64_t limit) const {
  const auto total = count(limit);
  if (!total) {
    throw Error(
        fmt::format("search space: cannot enumerate: more than {} architectures or a "
                    "continuous decision",
                    limit));
  }
  std::vector<Architecture> all;
  all.reserve(static_cast<size_t>(*total));
  Architecture partial;
  walk(decisions_, 0, partial, [&](const Architecture& architecture) {
    Architecture ordered;
    for (const auto& decision : decisions_) {
      if (architecture.has(decision.name)) {
        ordered.set(decision.name, architecture.get(decision.name));
      }
    }
    all.push_back(std::move(ordered));
    return true;
  });
  return all;
}

}  // namespace nascent
