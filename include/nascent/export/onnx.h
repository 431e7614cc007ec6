#pragma once

/// ONNX export of a trained network, written directly as an ONNX ModelProto (protocol-buffers
/// wire format), without LibTorch: the graph follows the architecture (the macro space's
/// network plan or the NAS-Bench-201 network) and the weights come in as float arrays.

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "nascent/nn/network_family.h"
#include "nascent/nn/network_plan.h"
#include "nascent/space/architecture.h"

namespace nascent {

/// The ONNX operator set the exported graphs use (ONNX IR version 7).
constexpr int64_t kOnnxOpset = 13;

/// One tensor of a trained network, row-major.
struct WeightTensor {
  std::vector<int64_t> shape;
  std::vector<float> values;
};

/// A network's parameters and buffers by their LibTorch names ("stem.0.weight",
/// "layer2.1.running_mean", "body.3.edge_0_1.1.weight", ...).
using WeightMap = std::map<std::string, WeightTensor>;

/// Everything an export needs.
struct OnnxExportInput {
  NetworkFamily family;
  Architecture architecture;
  /// Shape of one image; the ONNX input is [batch, C, H, W] with a symbolic batch.
  ImageShape input;
  int64_t num_classes = 0;
  WeightMap weights;
  /// Per-channel input normalisation, applied inside the graph: the ONNX input is pixels
  /// scaled to [0, 1], as the network saw them before normalisation.
  std::vector<float> input_mean;
  std::vector<float> input_std;
};

/// The serialised ONNX model: input "images" [batch, C, H, W] float, output "logits"
/// [batch, num_classes]. Batch normalisation is exported in inference mode (running
/// statistics), dropout is left out. Throws nascent::Error naming the tensor when a weight is
/// missing, has an unexpected shape, or is left over (weights of another architecture).
std::string export_onnx(const OnnxExportInput& input);

}  // namespace nascent
