#pragma once

/// Shape inference for macro-space architectures: every tensor shape, the parameter count
/// and the FLOPs, computed before anything is built or trained.

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "nascent/space/architecture.h"

namespace nascent {

/// Shape of one image (no batch dimension).
struct ImageShape {
  int64_t channels = 0;
  int64_t height = 0;
  int64_t width = 0;

  bool operator==(const ImageShape&) const = default;
  /// "[C, H, W]".
  std::string to_string() const;
};

/// One layer of the body, with everything the builder needs.
struct LayerPlan {
  /// "s2.l1".
  std::string name;
  /// conv, sep_conv, mbconv, max_pool, avg_pool, identity.
  std::string op;
  int64_t out_channels = 0;
  int64_t kernel = 1;
  int64_t stride = 1;
  int64_t expansion = 1;
  std::string activation = "relu";
  bool batch_norm = false;
  /// none, max_pool or avg_pool: a 2x2 stride-2 pooling applied before the operation.
  std::string pre_pool = "none";
  /// Index of the node whose output is added to this layer's output; -1 for none. Node 0 is
  /// the stem's output, node i the output of body layer i (1-based).
  int64_t skip_from = -1;
  ImageShape input;
  ImageShape output;
  int64_t params = 0;
  /// Multiply-accumulate operations for one image.
  int64_t flops = 0;
};

/// The whole network: stem, body layers, head.
struct NetworkPlan {
  ImageShape input;
  int64_t num_classes = 0;
  int64_t stem_channels = 0;
  ImageShape stem_output;
  std::vector<LayerPlan> layers;
  std::vector<int64_t> dense_widths;
  double dropout = 0.0;
  int64_t params = 0;
  /// Multiply-accumulate operations for one image (the convention of NAS papers' "FLOPs").
  int64_t flops = 0;

  /// A compact one-line description for progress lines, e.g.
  /// "c16 | conv3:32 sep5:64+ | mp mb3x6:64 | d128 p0.2".
  std::string short_description() const;

  /// The plan as JSON (layers with shapes, params and FLOPs); the PyTorch benchmark reads it.
  nlohmann::json to_json() const;
};

/// Infers the plan of a macro-space architecture for images of `input` shape. Throws
/// nascent::InvalidArchitecture naming the layer, the decision and the shapes when the
/// architecture cannot be built (a spatial size driven to zero, a skip between different
/// shapes, a stride on an identity).
NetworkPlan plan_network(const Architecture& architecture, const ImageShape& input,
                         int64_t num_classes);

}  // namespace nascent
