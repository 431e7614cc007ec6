#pragma once

/// The NAS-Bench-201 network for real training (Dong and Yang, ICLR 2020): a 3x3 stem, three
/// stages of cells joined by residual reduction blocks, global pooling and a classifier.
/// This header is torch-free: it holds the options and the analytic cost.

#include <cstdint>
#include <string>

#include "nascent/nn/network_plan.h"
#include "nascent/space/architecture.h"

namespace nascent {

/// Size of the NAS-Bench-201 network.
struct CellNetworkOptions {
  /// Cells in each of the three stages (the benchmark uses 5).
  int64_t cells_per_stage = 5;
  /// Channels of the stem and the first stage; doubled by each reduction (the benchmark: 16).
  int64_t channels = 16;
};

/// Parameters and multiply-accumulates per image of the network for one cell architecture,
/// computed without building it. Edges that cannot reach the output still count, as in the
/// benchmark's own network (their modules exist and are trained).
struct CellNetworkCost {
  int64_t params = 0;
  int64_t flops = 0;
};

CellNetworkCost count_cell_network(const Architecture& architecture, const ImageShape& input,
                                   int64_t num_classes, const CellNetworkOptions& options);

/// A compact form of the cell for progress lines: the six edges' operations abbreviated
/// (- none, s skip, 1 conv 1x1, 3 conv 3x3, p avg pool), grouped by target node: "1|s3|-3p".
std::string describe_cell(const Architecture& architecture);

}  // namespace nascent
