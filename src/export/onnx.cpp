#include "nascent/export/onnx.h"

#include <fmt/format.h>

#include <cmath>
#include <cstring>
#include <set>

#include "export/internal/protobuf_writer.h"
#include "nascent/core/error.h"
#include "nascent/space/nasbench201.h"

namespace nascent {

namespace {

using internal::ProtobufWriter;

// Values of ONNX enums (onnx.proto): TensorProto.DataType and AttributeProto.AttributeType.
constexpr int kFloatType = 1;
constexpr int kInt64Type = 7;
constexpr int kAttributeFloat = 1;
constexpr int kAttributeInt = 2;
constexpr int kAttributeInts = 7;
/// ONNX IR version that goes with opset 13.
constexpr int64_t kIrVersion = 7;
/// LibTorch's BatchNorm2d default.
constexpr float kBatchNormEpsilon = 1e-5F;

struct Attribute {
  std::string name;
  int type = kAttributeInt;
  int64_t integer = 0;
  float real = 0.0F;
  std::vector<int64_t> integers;
};

Attribute int_attribute(std::string name, int64_t value) {
  return {std::move(name), kAttributeInt, value, 0.0F, {}};
}
Attribute ints_attribute(std::string name, std::vector<int64_t> values) {
  return {std::move(name), kAttributeInts, 0, 0.0F, std::move(values)};
}
Attribute float_attribute(std::string name, float value) {
  return {std::move(name), kAttributeFloat, 0, value, {}};
}

std::string shape_text(const std::vector<int64_t>& shape) {
  return fmt::format("[{}]", fmt::join(shape, ", "));
}

/// Collects nodes and initialisers, checks every weight against the expected shape, and
/// writes the ModelProto.
class GraphBuilder {
 public:
  explicit GraphBuilder(const WeightMap& weights) : weights_(weights) {}

  /// The trained tensor `name` as an initialiser; it must have `shape`.
  std::string weight(const std::string& name, const std::vector<int64_t>& shape) {
    const auto found = weights_.find(name);
    if (found == weights_.end()) {
      throw Error(
          fmt::format("ONNX export: expected weight '{}' of shape {} for this "
                      "architecture, found none (the weights belong to another "
                      "architecture)",
                      name, shape_text(shape)));
    }
    if (found->second.shape != shape) {
      throw Error(
          fmt::format("ONNX export: expected weight '{}' of shape {}, found shape {} "
                      "(the weights belong to another architecture)",
                      name, shape_text(shape), shape_text(found->second.shape)));
    }
    used_.insert(name);
    add_float_initializer(name, shape, found->second.values);
    return name;
  }

  /// Marks a tensor the graph does not need (BatchNorm's step counter) as accounted for.
  void ignore(const std::string& name) {
    if (weights_.count(name)) used_.insert(name);
  }

  std::string float_constant(const std::vector<int64_t>& shape, const std::vector<float>& values) {
    const std::string name = fmt::format("const_{}", constants_++);
    add_float_initializer(name, shape, values);
    return name;
  }

  std::string int64_constant(const std::vector<int64_t>& values) {
    const std::string name = fmt::format("const_{}", constants_++);
    ProtobufWriter tensor;
    tensor.add_varint(1, values.size());
    tensor.add_varint(2, kInt64Type);
    tensor.add_bytes(8, name);
    std::string raw(values.size() * sizeof(int64_t), '\0');
    for (size_t i = 0; i < values.size(); ++i) write_little_endian(raw, i * 8, values[i]);
    tensor.add_bytes(9, raw);
    initializers_.push_back(tensor);
    return name;
  }

  /// Adds a node and returns the name of its (single) output.
  std::string node(const std::string& op_type, const std::vector<std::string>& inputs,
                   const std::vector<Attribute>& attributes = {}, std::string output = "") {
    if (output.empty()) output = fmt::format("t{}", nodes_.size());
    ProtobufWriter node;
    for (const auto& input : inputs) node.add_bytes(1, input);
    node.add_bytes(2, output);
    node.add_bytes(3, fmt::format("{}_{}", op_type, nodes_.size()));
    node.add_bytes(4, op_type);
    for (const auto& attribute : attributes) {
      ProtobufWriter written;
      written.add_bytes(1, attribute.name);
      if (attribute.type == kAttributeFloat) written.add_float(2, attribute.real);
      if (attribute.type == kAttributeInt) {
        written.add_varint(3, static_cast<uint64_t>(attribute.integer));
      }
      if (attribute.type == kAttributeInts) {
        for (int64_t value : attribute.integers) {
          written.add_varint(8, static_cast<uint64_t>(value));
        }
      }
      written.add_varint(20, static_cast<uint64_t>(attribute.type));
      node.add_message(5, written);
    }
    nodes_.push_back(node);
    return output;
  }

  /// Refuses weights the graph did not use: they belong to a different architecture.
  void check_all_weights_used() const {
    for (const auto& [name, tensor] : weights_) {
      if (!used_.count(name)) {
        throw Error(
            fmt::format("ONNX export: expected only weights of this architecture, "
                        "found an extra tensor '{}' of shape {} (the weights belong to "
                        "another architecture)",
                        name, shape_text(tensor.shape)));
      }
    }
  }

  std::string model_bytes(const std::string& input, const ImageShape& shape,
                          const std::string& output, int64_t num_classes) const {
    ProtobufWriter graph;
    for (const auto& node : nodes_) graph.add_message(1, node);
    graph.add_bytes(2, "nascent");
    for (const auto& initializer : initializers_) graph.add_message(5, initializer);
    graph.add_message(11, value_info(input, {shape.channels, shape.height, shape.width}));
    graph.add_message(12, value_info(output, {num_classes}));

    ProtobufWriter opset;
    opset.add_varint(2, kOnnxOpset);
    ProtobufWriter model;
    model.add_varint(1, kIrVersion);
    model.add_bytes(2, "nascent");
    model.add_bytes(3, "0.1.0");
    model.add_message(7, graph);
    model.add_message(8, opset);
    return model.bytes();
  }

 private:
  template <typename T>
  static void write_little_endian(std::string& bytes, size_t offset, T value) {
    uint64_t bits = 0;
    std::memcpy(&bits, &value, sizeof(T));
    for (size_t i = 0; i < sizeof(T); ++i) bytes[offset + i] = static_cast<char>(bits >> (8 * i));
  }

  void add_float_initializer(const std::string& name, const std::vector<int64_t>& shape,
                             const std::vector<float>& values) {
    ProtobufWriter tensor;
    for (int64_t dim : shape) tensor.add_varint(1, static_cast<uint64_t>(dim));
    tensor.add_varint(2, kFloatType);
    tensor.add_bytes(8, name);
    std::string raw(values.size() * sizeof(float), '\0');
    for (size_t i = 0; i < values.size(); ++i) write_little_endian(raw, i * 4, values[i]);
    tensor.add_bytes(9, raw);
    initializers_.push_back(tensor);
  }

  /// A float tensor [batch, dims...] with a symbolic batch dimension.
  static ProtobufWriter value_info(const std::string& name, const std::vector<int64_t>& dims) {
    ProtobufWriter shape;
    ProtobufWriter batch;
    batch.add_bytes(2, "batch");
    shape.add_message(1, batch);
    for (int64_t value : dims) {
      ProtobufWriter dim;
      dim.add_varint(1, static_cast<uint64_t>(value));
      shape.add_message(1, dim);
    }
    ProtobufWriter tensor_type;
    tensor_type.add_varint(1, kFloatType);
    tensor_type.add_message(2, shape);
    ProtobufWriter type;
    type.add_message(1, tensor_type);
    ProtobufWriter info;
    info.add_bytes(1, name);
    info.add_message(2, type);
    return info;
  }

  const WeightMap& weights_;
  std::set<std::string> used_;
  std::vector<ProtobufWriter> nodes_;
  std::vector<ProtobufWriter> initializers_;
  int64_t constants_ = 0;
};

/// Names of the modules of a LibTorch Sequential, in the order they were pushed.
class SequentialNames {
 public:
  explicit SequentialNames(std::string prefix) : prefix_(std::move(prefix)) {}
  std::string next() { return fmt::format("{}.{}", prefix_, index_++); }

 private:
  std::string prefix_;
  int64_t index_ = 0;
};

std::string conv(GraphBuilder& graph, const std::string& x, const std::string& module, int64_t in,
                 int64_t out, int64_t kernel, int64_t stride, int64_t groups, bool bias,
                 int64_t padding) {
  std::vector<std::string> inputs = {
      x, graph.weight(module + ".weight", {out, in / groups, kernel, kernel})};
  if (bias) inputs.push_back(graph.weight(module + ".bias", {out}));
  return graph.node("Conv", inputs,
                    {ints_attribute("kernel_shape", {kernel, kernel}),
                     ints_attribute("strides", {stride, stride}),
                     ints_attribute("pads", {padding, padding, padding, padding}),
                     ints_attribute("dilations", {1, 1}), int_attribute("group", groups)});
}

std::string batch_norm(GraphBuilder& graph, const std::string& x, const std::string& module,
                       int64_t channels) {
  graph.ignore(module + ".num_batches_tracked");
  return graph.node(
      "BatchNormalization",
      {x, graph.weight(module + ".weight", {channels}), graph.weight(module + ".bias", {channels}),
       graph.weight(module + ".running_mean", {channels}),
       graph.weight(module + ".running_var", {channels})},
      {float_attribute("epsilon", kBatchNormEpsilon)});
}

std::string activation(GraphBuilder& graph, const std::string& x, const std::string& name) {
  if (name == "relu") return graph.node("Relu", {x});
  if (name == "relu6") {
    // min(max(x, 0), 6) as relu(x) - relu(x - 6): opset 13's Clip takes its bounds as inputs,
    // which OpenCV 4.6 cannot read.
    const std::string shifted = graph.node("Sub", {x, graph.float_constant({1}, {6.0F})});
    return graph.node("Sub", {graph.node("Relu", {x}), graph.node("Relu", {shifted})});
  }
  if (name == "gelu") {
    // The exact GELU of LibTorch: x * (1 + erf(x / sqrt(2))) / 2.
    const std::string scaled = graph.node(
        "Mul", {x, graph.float_constant({1}, {static_cast<float>(1.0 / std::sqrt(2.0))})});
    const std::string shifted =
        graph.node("Add", {graph.node("Erf", {scaled}), graph.float_constant({1}, {1.0F})});
    return graph.node("Mul", {graph.node("Mul", {x, shifted}), graph.float_constant({1}, {0.5F})});
  }
  if (name == "silu") return graph.node("Mul", {x, graph.node("Sigmoid", {x})});
  if (name == "elu") return graph.node("Elu", {x}, {float_attribute("alpha", 1.0F)});
  if (name == "tanh") return graph.node("Tanh", {x});
  if (name == "sigmoid") return graph.node("Sigmoid", {x});
  throw Error(fmt::format("ONNX export: expected a known activation, found '{}'", name));
}

/// Conv (+ BatchNorm) (+ activation), as macro_net.cpp's add_conv_block builds it.
std::string conv_block(GraphBuilder& graph, const std::string& x, SequentialNames& names,
                       int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t groups,
                       bool use_batch_norm, const std::string* activation_name) {
  std::string y =
      conv(graph, x, names.next(), in, out, kernel, stride, groups, !use_batch_norm, kernel / 2);
  if (use_batch_norm) y = batch_norm(graph, y, names.next(), out);
  if (activation_name) {
    names.next();
    y = activation(graph, y, *activation_name);
  }
  return y;
}

std::string pool(GraphBuilder& graph, const std::string& x, const std::string& op, int64_t kernel,
                 int64_t stride, int64_t padding) {
  std::vector<Attribute> attributes = {
      ints_attribute("kernel_shape", {kernel, kernel}), ints_attribute("strides", {stride, stride}),
      ints_attribute("pads", {padding, padding, padding, padding})};
  // LibTorch's average poolings here exclude the padding from the mean.
  if (op == "AveragePool") attributes.push_back(int_attribute("count_include_pad", 0));
  return graph.node(op, {x}, attributes);
}

std::string linear(GraphBuilder& graph, const std::string& x, const std::string& module, int64_t in,
                   int64_t out) {
  return graph.node(
      "Gemm",
      {x, graph.weight(module + ".weight", {out, in}), graph.weight(module + ".bias", {out})},
      {int_attribute("transB", 1)});
}

std::string macro_layer(GraphBuilder& graph, const std::string& x, const LayerPlan& layer,
                        const std::string& module) {
  SequentialNames names(module);
  std::string y = x;
  if (layer.pre_pool != "none") {
    names.next();
    y = pool(graph, y, layer.pre_pool == "max_pool" ? "MaxPool" : "AveragePool", 2, 2, 0);
  }
  const int64_t in = layer.input.channels;
  const int64_t out = layer.out_channels;
  if (layer.op == "conv") {
    return conv_block(graph, y, names, in, out, layer.kernel, layer.stride, 1, layer.batch_norm,
                      &layer.activation);
  }
  if (layer.op == "sep_conv") {
    y = conv(graph, y, names.next(), in, in, layer.kernel, layer.stride, in, false,
             layer.kernel / 2);
    return conv_block(graph, y, names, in, out, 1, 1, 1, layer.batch_norm, &layer.activation);
  }
  if (layer.op == "mbconv") {
    const int64_t hidden = in * layer.expansion;
    y = conv_block(graph, y, names, in, hidden, 1, 1, 1, layer.batch_norm, &layer.activation);
    y = conv_block(graph, y, names, hidden, hidden, layer.kernel, layer.stride, hidden,
                   layer.batch_norm, &layer.activation);
    return conv_block(graph, y, names, hidden, out, 1, 1, 1, layer.batch_norm, nullptr);
  }
  if (layer.op == "max_pool") {
    return pool(graph, y, "MaxPool", layer.kernel, layer.stride, layer.kernel / 2);
  }
  if (layer.op == "avg_pool") {
    return pool(graph, y, "AveragePool", layer.kernel, layer.stride, layer.kernel / 2);
  }
  if (layer.op == "identity") return y;
  throw Error(fmt::format("ONNX export: expected a known operation in layer {}, found '{}'",
                          layer.name, layer.op));
}

std::string macro_network(GraphBuilder& graph, const std::string& images, const NetworkPlan& plan) {
  SequentialNames stem("stem");
  const std::string relu = "relu";
  std::vector<std::string> nodes = {conv_block(graph, images, stem, plan.input.channels,
                                               plan.stem_channels, 3, 1, 1, true, &relu)};
  for (size_t i = 0; i < plan.layers.size(); ++i) {
    const LayerPlan& layer = plan.layers[i];
    std::string output = macro_layer(graph, nodes.back(), layer, fmt::format("layer{}", i + 1));
    if (layer.skip_from >= 0) {
      output = graph.node("Add", {output, nodes[static_cast<size_t>(layer.skip_from)]});
    }
    nodes.push_back(output);
  }

  SequentialNames head("head");
  head.next();  // global average pooling
  head.next();  // flatten
  std::string x = graph.node("Flatten", {graph.node("GlobalAveragePool", {nodes.back()})},
                             {int_attribute("axis", 1)});
  int64_t features = plan.layers.empty() ? plan.stem_channels : plan.layers.back().out_channels;
  for (int64_t width : plan.dense_widths) {
    x = linear(graph, x, head.next(), features, width);
    head.next();
    x = graph.node("Relu", {x});
    features = width;
  }
  if (plan.dropout > 0) head.next();  // dropout: the identity at inference
  return linear(graph, x, head.next(), features, plan.num_classes);
}

/// ReLU -> conv (no bias) -> BatchNorm, named "<module>.1" and "<module>.2".
std::string relu_conv_bn(GraphBuilder& graph, const std::string& x, const std::string& module,
                         int64_t in, int64_t out, int64_t kernel, int64_t stride) {
  const std::string y = conv(graph, graph.node("Relu", {x}), module + ".1", in, out, kernel, stride,
                             1, false, kernel / 2);
  return batch_norm(graph, y, module + ".2", out);
}

std::string cell(GraphBuilder& graph, const std::string& input, const Architecture& architecture,
                 const std::string& module, int64_t channels) {
  std::vector<std::string> nodes = {input};
  for (int64_t target = 1; target <= 3; ++target) {
    std::string sum;
    for (const auto& edge : nasbench201_edges()) {
      if (edge.to != target) continue;
      const std::string& op = architecture.get(edge.decision_name());
      const std::string& source = nodes[static_cast<size_t>(edge.from)];
      const std::string edge_module = module + "." + edge.decision_name();
      std::string term;
      if (op == "none") continue;
      if (op == "skip_connect") term = source;
      if (op == "nor_conv_1x1")
        term = relu_conv_bn(graph, source, edge_module, channels, channels, 1, 1);
      if (op == "nor_conv_3x3")
        term = relu_conv_bn(graph, source, edge_module, channels, channels, 3, 1);
      if (op == "avg_pool_3x3") term = pool(graph, source, "AveragePool", 3, 1, 1);
      if (term.empty()) {
        throw Error(
            fmt::format("ONNX export: expected a NAS-Bench-201 operation on {}, found "
                        "'{}'",
                        edge.decision_name(), op));
      }
      sum = sum.empty() ? term : graph.node("Add", {sum, term});
    }
    // A node whose edges are all "none" is zero, with the input's shape: x - x.
    if (sum.empty()) sum = graph.node("Sub", {input, input});
    nodes.push_back(sum);
  }
  return nodes.back();
}

std::string cell_network(GraphBuilder& graph, const std::string& images,
                         const OnnxExportInput& input) {
  const CellNetworkOptions& options = input.family.cell;
  SequentialNames body("body");
  int64_t channels = options.channels;
  int64_t height = input.input.height;
  int64_t width = input.input.width;
  std::string x =
      conv(graph, images, body.next(), input.input.channels, channels, 3, 1, 1, false, 1);
  x = batch_norm(graph, x, body.next(), channels);
  for (int64_t stage = 0; stage < 3; ++stage) {
    if (stage > 0) {
      const std::string module = body.next();
      const int64_t out = channels * 2;
      const std::string main =
          relu_conv_bn(graph, relu_conv_bn(graph, x, module + ".conv_a", channels, out, 3, 2),
                       module + ".conv_b", out, out, 3, 1);
      // Odd sizes: the strided conv rounds up, the pooling down; pad the shortcut's input.
      std::string shortcut = x;
      if (height % 2 == 1 || width % 2 == 1) {
        shortcut =
            graph.node("Pad", {x, graph.int64_constant({0, 0, 0, 0, 0, 0, height % 2, width % 2})});
      }
      shortcut = pool(graph, shortcut, "AveragePool", 2, 2, 0);
      shortcut = conv(graph, shortcut, module + ".shortcut.1", channels, out, 1, 1, 1, false, 0);
      x = graph.node("Add", {main, shortcut});
      channels = out;
      height = (height + 1) / 2;
      width = (width + 1) / 2;
    }
    for (int64_t index = 0; index < options.cells_per_stage; ++index) {
      x = cell(graph, x, input.architecture, body.next(), channels);
    }
  }
  x = graph.node("Relu", {batch_norm(graph, x, "head.0", channels)});
  x = graph.node("Flatten", {graph.node("GlobalAveragePool", {x})}, {int_attribute("axis", 1)});
  return linear(graph, x, "head.4", channels, input.num_classes);
}

}  // namespace

std::string export_onnx(const OnnxExportInput& input) {
  const int64_t channels = input.input.channels;
  if (static_cast<int64_t>(input.input_mean.size()) != channels ||
      static_cast<int64_t>(input.input_std.size()) != channels) {
    throw Error(
        fmt::format("ONNX export: expected {} input mean and std values (one per "
                    "channel), found {} and {}",
                    channels, input.input_mean.size(), input.input_std.size()));
  }
  GraphBuilder graph(input.weights);

  // The trainer's normalisation, (pixels - mean) / std per channel, as a depthwise 1x1
  // convolution with weight 1 / std and bias -mean / std: per-channel Sub and Div constants
  // are not read correctly by every runtime (OpenCV 4.6 fails on more than one channel).
  const std::string images = "images";
  std::vector<float> scale;
  std::vector<float> shift;
  for (int64_t channel = 0; channel < channels; ++channel) {
    const size_t c = static_cast<size_t>(channel);
    scale.push_back(1.0F / input.input_std[c]);
    shift.push_back(-input.input_mean[c] / input.input_std[c]);
  }
  const std::string x =
      graph.node("Conv",
                 {images, graph.float_constant({channels, 1, 1, 1}, scale),
                  graph.float_constant({channels}, shift)},
                 {ints_attribute("kernel_shape", {1, 1}), int_attribute("group", channels)});

  std::string logits;
  if (input.family.family == "macro") {
    logits =
        macro_network(graph, x, plan_network(input.architecture, input.input, input.num_classes));
  } else if (input.family.family == "nasbench201") {
    logits = cell_network(graph, x, input);
  } else {
    throw Error(fmt::format("ONNX export: expected family macro or nasbench201, found '{}'",
                            input.family.family));
  }
  graph.check_all_weights_used();
  // Name the graph's output: an Identity keeps the last node's own name free.
  graph.node("Identity", {logits}, {}, "logits");
  return graph.model_bytes(images, input.input, "logits", input.num_classes);
}

}  // namespace nascent
