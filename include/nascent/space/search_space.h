#pragma once

/// What a search may choose: an ordered list of decisions, some of which exist only when
/// earlier decisions allow them.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "nascent/core/random.h"
#include "nascent/space/architecture.h"

namespace nascent {

/// The kinds of value a decision takes.
enum class DecisionKind { kCategorical, kInteger, kFloat };

/// "This decision exists only if decision `decision` ..." Conditions of one decision are
/// combined with AND.
struct Condition {
  enum class Test { kAtLeast, kOneOf };

  /// Name of an earlier decision.
  std::string decision;
  Test test = Test::kAtLeast;
  /// For kAtLeast: the integer threshold.
  int64_t at_least = 0;
  /// For kOneOf: the allowed values, as canonical text.
  std::vector<std::string> one_of;

  static Condition at_least_value(std::string decision, int64_t threshold);
  static Condition one_of_values(std::string decision, std::vector<std::string> values);

  /// True when the condition holds for the (partial) architecture; false when the decision
  /// it depends on is absent.
  bool holds(const Architecture& architecture) const;
};

/// One choice of a space.
struct Decision {
  std::string name;
  DecisionKind kind = DecisionKind::kCategorical;
  /// kCategorical: the choices, as canonical text.
  std::vector<std::string> choices;
  /// kInteger: inclusive range.
  int64_t int_min = 0;
  int64_t int_max = 0;
  /// kFloat: range; with `log_scale`, sampled uniformly in log space (both ends > 0).
  double float_min = 0.0;
  double float_max = 0.0;
  bool log_scale = false;
  std::vector<Condition> conditions;

  static Decision categorical(std::string name, std::vector<std::string> choices);
  static Decision integer(std::string name, int64_t min, int64_t max);
  static Decision real(std::string name, double min, double max, bool log_scale = false);

  /// Chained setter: adds a condition.
  Decision& when(Condition condition);

  /// Number of distinct values; nullopt for a float range.
  std::optional<int64_t> cardinality() const;

  /// A uniformly random value as canonical text.
  std::string sample(Rng& rng) const;

  /// Whether `value` is a legal value; on failure `problem` says what was expected.
  bool accepts(const std::string& value, std::string* problem) const;

  /// The values (canonical text) other than `current`; for a float range, a few perturbed
  /// values. Used for mutation and neighbourhoods.
  std::vector<std::string> alternatives(const std::string& current, Rng& rng) const;

  /// Human-readable domain, e.g. "one of relu, gelu" or "an integer in [1, 4]".
  std::string describe_domain() const;
};

/// A family's own canonical text for its architectures (NAS-Bench-201 uses the benchmark's
/// cell string). `parse` must accept what `format` writes and return the decisions in any order.
struct Notation {
  std::function<std::string(const Architecture&)> format;
  std::function<Architecture(std::string_view)> parse;
};

/// A family's own feature vector of its architectures for model-based strategies, such as the
/// path encoding of cell spaces (White, Neiswanger and Savani, BANANAS, AAAI 2021): features
/// that describe what an architecture computes better than its raw decisions do.
struct FeatureEncoding {
  /// A short name ("path").
  std::string name;
  /// The number of features; encode() returns exactly this many.
  int64_t size = 0;
  std::function<std::vector<double>(const Architecture&)> encode;
};

/// A search space: decisions in order. A decision's conditions may refer only to decisions
/// that come before it, so an architecture is always resolved front to back.
class SearchSpace {
 public:
  SearchSpace() = default;

  /// A short name for the family ("macro", "custom"), recorded with studies.
  explicit SearchSpace(std::string family) : family_(std::move(family)) {}

  /// Appends a decision. Throws nascent::Error if the name repeats, the domain is empty, or a
  /// condition refers to a decision not declared earlier.
  void add(Decision decision);

  const std::vector<Decision>& decisions() const { return decisions_; }
  const Decision* find(std::string_view name) const;
  const std::string& family() const { return family_; }

  /// A uniformly random value for every active decision.
  Architecture sample(Rng& rng) const;

  /// Changes exactly one active decision to a different value, then re-resolves: decisions
  /// that became active are sampled, those that became inactive are dropped.
  Architecture mutate(const Architecture& parent, Rng& rng) const;

  /// Every architecture that differs from `center` in exactly one active decision (float
  /// decisions contribute a few perturbations). Resolution as in mutate().
  std::vector<Architecture> neighbours(const Architecture& center, Rng& rng) const;

  /// Keeps the values of `partial` that are active and legal, samples the missing active
  /// decisions, drops inactive ones, and returns them in the space's order.
  Architecture resolve(const Architecture& partial, Rng& rng) const;

  /// Throws nascent::Error naming the decision if `architecture` is not a point of the space
  /// (an unknown, missing, inactive or illegal value).
  void validate(const Architecture& architecture) const;

  /// Gives the space its own canonical text (see Notation).
  void set_notation(Notation notation) { notation_ = std::move(notation); }

  /// Gives the space a feature encoding for model-based strategies (see FeatureEncoding).
  void set_feature_encoding(FeatureEncoding encoding) { feature_encoding_ = std::move(encoding); }

  /// The family's feature encoding; its `encode` is empty when the space has none.
  const FeatureEncoding& feature_encoding() const { return feature_encoding_; }

  /// The canonical string of an architecture of this space: the family's notation if it has
  /// one, Architecture::to_string() otherwise. Stored in studies and printed to users.
  std::string format(const Architecture& architecture) const;

  /// Reads a canonical string (the family's notation, or "name=value ..."), validates it and
  /// returns the decisions in the space's order.
  Architecture parse(std::string_view text) const;

  /// The number of distinct architectures if it is at most `limit` and no active decision is
  /// a float range; nullopt otherwise.
  std::optional<int64_t> count(int64_t limit) const;

  /// All architectures, in lexicographic order of choices; only for spaces whose count() is
  /// known. Throws if there are more than `limit`.
  std::vector<Architecture> enumerate(int64_t limit) const;

 private:
  std::string family_ = "custom";
  std::vector<Decision> decisions_;
  Notation notation_;
  FeatureEncoding feature_encoding_;
};

}  // namespace nascent
