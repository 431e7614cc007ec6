#pragma once

/// One point of a search space: an ordered list of decision values.

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace nascent {

/// An architecture: the value of every active decision of a space, in the space's order.
///
/// Values are held as canonical text ("64", "0.25", "sep_conv") so that the canonical string
/// round-trips exactly. Decisions that are inactive (layer 5's width when depth is 3) are
/// absent, so two architectures that compute the same function have the same string and hash.
class Architecture {
 public:
  Architecture() = default;

  /// Sets a value, appending the decision if it is new.
  void set(const std::string& name, std::string value);

  /// Removes a decision; nothing happens if it is absent.
  void erase(const std::string& name);

  bool has(std::string_view name) const;

  /// The value of a decision; throws nascent::Error naming the decision if absent.
  const std::string& get(std::string_view name) const;
  int64_t get_int(std::string_view name) const;
  double get_float(std::string_view name) const;

  /// All (decision, value) pairs in order.
  const std::vector<std::pair<std::string, std::string>>& values() const { return values_; }

  /// Canonical one-line form: "name=value name=value ...". Stable and human readable.
  std::string to_string() const;

  /// Reads the canonical form back. Only the syntax is checked here; SearchSpace::parse
  /// also checks the values against the space.
  static Architecture from_string(std::string_view text);

  /// 64-bit hash of the canonical string.
  uint64_t hash() const;

  /// The hash as 16 hexadecimal digits.
  std::string hash_hex() const;

  /// JSON object {"decision": value, ...}; numbers are JSON numbers, true/false booleans.
  nlohmann::json to_json() const;

  bool operator==(const Architecture& other) const { return values_ == other.values_; }

 private:
  std::vector<std::pair<std::string, std::string>> values_;
};

}  // namespace nascent
