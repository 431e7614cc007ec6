#pragma once

/// The NAS-Bench-201 cell space (Dong and Yang, "NAS-Bench-201: Extending the Scope of
/// Reproducible Neural Architecture Search", ICLR 2020): a cell of 4 nodes whose 6 edges each
/// carry one operation, 5^6 = 15,625 architectures.

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "nascent/space/search_space.h"

namespace nascent {

/// One edge of the cell: node `from` feeds node `to` (0 is the cell's input, 3 its output).
struct Nasbench201Edge {
  int64_t from = 0;
  int64_t to = 0;

  /// The decision that holds this edge's operation: "edge_<from>_<to>".
  std::string decision_name() const;
};

/// The six edges in the benchmark's order: (0->1), (0->2), (1->2), (0->3), (1->3), (2->3).
/// This is the order of the arch_str and of the space's decisions.
const std::vector<Nasbench201Edge>& nasbench201_edges();

/// The benchmark's operations: none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3.
const std::vector<std::string>& nasbench201_operations();

/// Which operations the edges may take. The benchmark uses all five; a subset gives a smaller
/// space of the same shape and notation (3 operations: 729 architectures), which tests use to
/// build small tables.
struct Nasbench201SpaceOptions {
  /// Each one of nasbench201_operations(), no repeats, at least one.
  std::vector<std::string> operations = nasbench201_operations();

  /// Chained setter.
  Nasbench201SpaceOptions& with_operations(std::vector<std::string> value) {
    operations = std::move(value);
    return *this;
  }
};

/// The cell space: family "nasbench201", one categorical decision per edge named
/// edge_0_1, edge_0_2, edge_1_2, edge_0_3, edge_1_3, edge_2_3 (in that order), and the
/// benchmark's arch_str as canonical string (see nasbench201_arch_str()). Throws
/// nascent::Error naming the operation when the options list an unknown or repeated one.
SearchSpace make_nasbench201_space(const Nasbench201SpaceOptions& options = {});

/// The path encoding of BANANAS (White, Neiswanger and Savani, AAAI 2021) for the cell: one
/// binary feature per sequence of 1 to 3 data-carrying operations (all but `none`), set when
/// some route from the input to the output passes through exactly those operations. Two cells
/// that differ only in edges no data flows through encode alike. make_nasbench201_space()
/// gives its space this encoding.
FeatureEncoding nasbench201_path_encoding(const std::vector<std::string>& operations);

/// The benchmark's cell string: for nodes 1, 2 and 3, the operations of the edges entering the
/// node, each written `op~<source node>`, between bars; nodes joined by '+':
///
///   |op01~0|+|op02~0|op12~1|+|op03~0|op13~1|op23~2|
///
/// Throws nascent::Error naming the edge when the architecture lacks one.
std::string nasbench201_arch_str(const Architecture& architecture);

/// Reads a cell string back into the six edge decisions. Only the syntax and the operation
/// names (against nasbench201_operations()) are checked here. Errors say what was expected and
/// what was found at which character (counted from 1), e.g.
/// `arch_str '|none~1|+...': expected source node 0 at character 7, found '1'`.
Architecture parse_nasbench201_arch_str(std::string_view text);

}  // namespace nascent
