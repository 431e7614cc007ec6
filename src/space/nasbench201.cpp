#include "nascent/space/nasbench201.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "nascent/core/error.h"
#include "nascent/core/text.h"

namespace nascent {

namespace {

/// Reads a cell string left to right; every error names the character (from 1) it stopped at.
class CellStringReader {
 public:
  CellStringReader(std::string_view text, const std::vector<std::string>& operations)
      : text_(text), operations_(operations) {}

  Architecture read() {
    Architecture architecture;
    const auto& edges = nasbench201_edges();
    size_t edge = 0;
    for (int64_t node = 1; node <= 3; ++node) {
      if (node > 1) expect('+');
      expect('|');
      for (int64_t source = 0; source < node; ++source) {
        const std::string operation = read_operation();
        expect('~');
        read_source(source);
        expect('|');
        architecture.set(edges[edge++].decision_name(), operation);
      }
    }

    if (position_ != text_.size()) fail("end of text", describe_here());
    return architecture;
  }

 private:
  [[noreturn]] void fail(const std::string& expected, const std::string& found) const {
    throw Error(fmt::format("arch_str '{}': expected {} at character {}, found {}", text_, expected,
                            position_ + 1, found));
  }

  std::string describe_here() const {
    if (position_ >= text_.size()) return "end of text";
    return fmt::format("'{}'", text_[position_]);
  }

  void expect(char wanted) {
    if (position_ >= text_.size() || text_[position_] != wanted) {
      fail(fmt::format("'{}'", wanted), describe_here());
    }
    ++position_;
  }

  std::string read_operation() {
    const size_t start = position_;
    while (position_ < text_.size() &&
           std::string_view("~|+").find(text_[position_]) == std::string_view::npos) {
      ++position_;
    }
    const std::string operation(text_.substr(start, position_ - start));
    if (std::find(operations_.begin(), operations_.end(), operation) != operations_.end()) {
      return operation;
    }

    // Report at the start of the name, which is where the reader of the message looks.
    position_ = start;
    if (operation.empty())
      fail("an operation (" + join_choices(operations_) + ")", describe_here());
    const auto hint = closest_match(operation, operations_);
    fail("an operation (" + join_choices(operations_) + ")",
         fmt::format("'{}'{}", operation, hint ? fmt::format(" (did you mean '{}'?)", *hint) : ""));
  }

  void read_source(int64_t source) {
    const size_t start = position_;
    while (position_ < text_.size() && text_[position_] >= '0' && text_[position_] <= '9') {
      ++position_;
    }
    const std::string_view digits = text_.substr(start, position_ - start);
    if (digits != std::to_string(source)) {
      position_ = start;
      fail(fmt::format("source node {}", source),
           digits.empty() ? describe_here() : fmt::format("'{}'", digits));
    }
  }

  std::string_view text_;
  const std::vector<std::string>& operations_;
  size_t position_ = 0;
};

}  // namespace

std::string Nasbench201Edge::decision_name() const { return fmt::format("edge_{}_{}", from, to); }

const std::vector<Nasbench201Edge>& nasbench201_edges() {
  static const std::vector<Nasbench201Edge> edges = {{0, 1}, {0, 2}, {1, 2},
                                                     {0, 3}, {1, 3}, {2, 3}};
  return edges;
}

const std::vector<std::string>& nasbench201_operations() {
  static const std::vector<std::string> operations = {"none", "skip_connect", "nor_conv_1x1",
                                                      "nor_conv_3x3", "avg_pool_3x3"};
  return operations;
}

SearchSpace make_nasbench201_space(const Nasbench201SpaceOptions& options) {
  const auto& known = nasbench201_operations();
  if (options.operations.empty()) {
    throw Error(
        fmt::format("nasbench201 space: operations: expected at least one of {}, found none",
                    join_choices(known)));
  }
  std::set<std::string> seen;
  for (const auto& operation : options.operations) {
    if (std::find(known.begin(), known.end(), operation) == known.end()) {
      const auto hint = closest_match(operation, known);
      throw Error(fmt::format("nasbench201 space: operations: expected {}, found '{}'{}",
                              join_choices(known), operation,
                              hint ? fmt::format(" (did you mean '{}'?)", *hint) : ""));
    }
    if (!seen.insert(operation).second) {
      throw Error(fmt::format(
          "nasbench201 space: operations: expected each operation once, found '{}' twice",
          operation));
    }
  }

  SearchSpace space("nasbench201");
  for (const auto& edge : nasbench201_edges()) {
    space.add(Decision::categorical(edge.decision_name(), options.operations));
  }

  // The notation checks names against this space's operations, so that a subset space points
  // at the offending character too.
  const std::vector<std::string> operations = options.operations;
  space.set_notation(
      {[](const Architecture& architecture) { return nasbench201_arch_str(architecture); },
       [operations](std::string_view text) { return CellStringReader(text, operations).read(); }});
  space.set_feature_encoding(nasbench201_path_encoding(operations));
  return space;
}

FeatureEncoding nasbench201_path_encoding(const std::vector<std::string>& operations) {
  // Every route from the input (node 0) to the output (node 3), as indices of edges in
  // nasbench201_edges() order: 0->3; 0->1->3; 0->2->3; 0->1->2->3.
  static const std::vector<std::vector<size_t>> routes = {{3}, {0, 4}, {1, 5}, {0, 2, 5}};
  std::vector<std::string> names;
  for (const auto& edge : nasbench201_edges()) names.push_back(edge.decision_name());

  // Operations that carry data, numbered from 0; "none" cuts a route.
  std::vector<std::string> carrying;
  for (const auto& operation : operations) {
    if (operation != "none") carrying.push_back(operation);
  }
  const auto count = static_cast<int64_t>(carrying.size());
  // Sequences of length 1, 2 and 3 over the carrying operations, one feature each.
  const int64_t size = count + count * count + count * count * count;

  FeatureEncoding encoding;
  encoding.name = "path";
  encoding.size = size;
  encoding.encode = [names, carrying, count, size](const Architecture& architecture) {
    std::vector<double> features(static_cast<size_t>(size), 0.0);
    for (const auto& route : routes) {
      int64_t index = 0;
      bool open = true;
      for (size_t edge : route) {
        const std::string& operation = architecture.get(names[edge]);
        const auto found = std::find(carrying.begin(), carrying.end(), operation);
        if (found == carrying.end()) {
          open = false;
          break;
        }
        index = index * count + (found - carrying.begin());
      }
      if (!open) continue;
      // Offset of the block of sequences of this length.
      int64_t offset = 0;
      for (size_t length = 1; length < route.size(); ++length) {
        offset += static_cast<int64_t>(std::pow(count, length));
      }
      features[static_cast<size_t>(offset + index)] = 1.0;
    }
    return features;
  };
  return encoding;
}

std::string nasbench201_arch_str(const Architecture& architecture) {
  // Tabular searches format every query: build the decision names once.
  static const std::vector<std::string> names = [] {
    std::vector<std::string> result;
    for (const auto& edge : nasbench201_edges()) result.push_back(edge.decision_name());
    return result;
  }();
  std::string text;
  text.reserve(96);
  size_t edge = 0;
  for (int64_t node = 1; node <= 3; ++node) {
    if (node > 1) text += '+';
    text += '|';
    for (int64_t source = 0; source < node; ++source) {
      const std::string& name = names[edge++];
      if (!architecture.has(name)) {
        throw Error(fmt::format("arch_str: expected a value for decision '{}', found none in '{}'",
                                name, architecture.to_string()));
      }
      text += architecture.get(name);
      text += '~';
      text += std::to_string(source);
      text += '|';
    }
  }
  return text;
}

Architecture parse_nasbench201_arch_str(std::string_view text) {
  return CellStringReader(text, nasbench201_operations()).read();
}

}  // namespace nascent
