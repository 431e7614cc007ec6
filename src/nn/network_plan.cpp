#include "nascent/nn/network_plan.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "nascent/core/error.h"

namespace nascent {

namespace {

int64_t conv_output_size(int64_t size, int64_t kernel, int64_t stride) {
  // Padding kernel / 2 keeps the size at stride 1; stride 2 halves it, rounding up.
  const int64_t padding = kernel / 2;
  return (size + 2 * padding - kernel) / stride + 1;
}

int64_t batch_norm_params(bool batch_norm, int64_t channels) {
  return batch_norm ? 2 * channels : 0;
}

/// Parameters and FLOPs of a layer whose input/output shapes are already set.
void count_layer_cost(LayerPlan& layer) {
  const int64_t c_in = layer.input.channels;
  const int64_t c_out = layer.out_channels;
  const int64_t k2 = layer.kernel * layer.kernel;
  const int64_t out_pixels = layer.output.height * layer.output.width;
  const int64_t bias = layer.batch_norm ? 0 : 1;

  if (layer.op == "conv") {
    layer.params = k2 * c_in * c_out + bias * c_out + batch_norm_params(layer.batch_norm, c_out);
    layer.flops = k2 * c_in * c_out * out_pixels;
  } else if (layer.op == "sep_conv") {
    // Depthwise k x k (no bias), then pointwise 1 x 1.
    layer.params =
        k2 * c_in + c_in * c_out + bias * c_out + batch_norm_params(layer.batch_norm, c_out);
    layer.flops = k2 * c_in * out_pixels + c_in * c_out * out_pixels;
  } else if (layer.op == "mbconv") {
    // Expand 1 x 1 at input resolution, depthwise k x k, project 1 x 1 (Sandler et al. 2018).
    const int64_t hidden = c_in * layer.expansion;
    const int64_t in_pixels = layer.input.height * layer.input.width;
    layer.params = c_in * hidden + bias * hidden + batch_norm_params(layer.batch_norm, hidden) +
                   k2 * hidden + bias * hidden + batch_norm_params(layer.batch_norm, hidden) +
                   hidden * c_out + bias * c_out + batch_norm_params(layer.batch_norm, c_out);
    layer.flops =
        c_in * hidden * in_pixels + k2 * hidden * out_pixels + hidden * c_out * out_pixels;
  } else if (layer.op == "max_pool" || layer.op == "avg_pool") {
    layer.params = 0;
    layer.flops = k2 * c_out * out_pixels;
  } else {
    layer.params = 0;
    layer.flops = 0;
  }
}

std::string short_op(const LayerPlan& layer) {
  std::string text;
  if (layer.pre_pool == "max_pool") text += "mp ";
  if (layer.pre_pool == "avg_pool") text += "ap ";
  if (layer.op == "conv") text += fmt::format("conv{}:{}", layer.kernel, layer.out_channels);
  if (layer.op == "sep_conv") text += fmt::format("sep{}:{}", layer.kernel, layer.out_channels);
  if (layer.op == "mbconv") {
    text += fmt::format("mb{}x{}:{}", layer.kernel, layer.expansion, layer.out_channels);
  }
  if (layer.op == "max_pool") text += fmt::format("max{}", layer.kernel);
  if (layer.op == "avg_pool") text += fmt::format("avg{}", layer.kernel);
  if (layer.op == "identity") text += "id";
  // Layers that learn carry an activation and maybe a batch norm: the usual ones (relu, batch
  // norm) go unsaid, others are named, so that two different architectures never read the same.
  if (layer.stride == 2) text += "/2";
  const bool learns = layer.op == "conv" || layer.op == "sep_conv" || layer.op == "mbconv";
  if (learns && layer.activation != "relu") text += "." + layer.activation;
  if (learns && !layer.batch_norm) text += ".nobn";
  return text;
}

}  // namespace

std::string ImageShape::to_string() const {
  return fmt::format("[{}, {}, {}]", channels, height, width);
}

NetworkPlan plan_network(const Architecture& architecture, const ImageShape& input,
                         int64_t num_classes) {
  NetworkPlan plan;
  plan.input = input;
  plan.num_classes = num_classes;

  // Stem: 3 x 3 convolution, batch norm, ReLU; keeps the spatial size.
  plan.stem_channels = architecture.get_int("stem.width");
  plan.stem_output = {plan.stem_channels, input.height, input.width};
  plan.params = 9 * input.channels * plan.stem_channels + 2 * plan.stem_channels;
  plan.flops = 9 * input.channels * plan.stem_channels * input.height * input.width;

  // Body: every layer's shape follows from the previous node's.
  std::vector<ImageShape> node_shapes = {plan.stem_output};
  const int64_t stages = architecture.get_int("stages");
  for (int64_t stage = 1; stage <= stages; ++stage) {
    const std::string stage_prefix = fmt::format("s{}", stage);
    const int64_t depth = architecture.get_int(stage_prefix + ".depth");
    const std::string downsample = architecture.get(stage_prefix + ".downsample");

    for (int64_t index = 1; index <= depth; ++index) {
      LayerPlan layer;
      layer.name = fmt::format("{}.l{}", stage_prefix, index);
      const std::string key = layer.name + ".";
      layer.op = architecture.get(key + "op");
      layer.input = node_shapes.back();

      if (index == 1 && (downsample == "max_pool" || downsample == "avg_pool")) {
        layer.pre_pool = downsample;
        if (layer.input.height < 2 || layer.input.width < 2) {
          throw InvalidArchitecture(
              layer.name, stage_prefix + ".downsample",
              fmt::format("a 2x2 pooling cannot halve input {}: the spatial size would reach 0",
                          layer.input.to_string()));
        }
        layer.input.height /= 2;
        layer.input.width /= 2;
      }
      if (index == 1 && downsample == "stride") {
        if (layer.op == "identity") {
          throw InvalidArchitecture(layer.name, stage_prefix + ".downsample",
                                    "an identity layer cannot downsample with stride 2");
        }
        layer.stride = 2;
      }

      layer.kernel = architecture.has(key + "kernel") ? architecture.get_int(key + "kernel") : 1;
      layer.expansion =
          architecture.has(key + "expansion") ? architecture.get_int(key + "expansion") : 1;
      layer.out_channels = architecture.has(key + "width") ? architecture.get_int(key + "width")
                                                           : layer.input.channels;
      if (architecture.has(key + "activation")) {
        layer.activation = architecture.get(key + "activation");
      }
      layer.batch_norm =
          architecture.has(key + "batch_norm") && architecture.get(key + "batch_norm") == "true";

      layer.output = {layer.out_channels,
                      conv_output_size(layer.input.height, layer.kernel, layer.stride),
                      conv_output_size(layer.input.width, layer.kernel, layer.stride)};
      if (layer.output.height <= 0 || layer.output.width <= 0) {
        throw InvalidArchitecture(layer.name, key + "kernel",
                                  fmt::format("input {} gives an empty output {}",
                                              layer.input.to_string(), layer.output.to_string()));
      }

      const std::string skip =
          architecture.has(key + "skip") ? architecture.get(key + "skip") : std::string("none");
      if (skip != "none") {
        const int64_t steps = architecture.get_int(key + "skip");
        const int64_t node = static_cast<int64_t>(node_shapes.size()) - steps;
        if (node < 0) {
          throw InvalidArchitecture(
              layer.name, key + "skip",
              fmt::format("a skip of {} steps reaches before the stem (only {} earlier nodes)",
                          steps, node_shapes.size()));
        }
        const ImageShape& from = node_shapes[static_cast<size_t>(node)];
        if (!(from == layer.output)) {
          throw InvalidArchitecture(
              layer.name, key + "skip",
              fmt::format("skip from node {} has shape {} but the layer's output is {}", node,
                          from.to_string(), layer.output.to_string()));
        }
        layer.skip_from = node;
      }

      count_layer_cost(layer);
      plan.params += layer.params;
      plan.flops += layer.flops;
      node_shapes.push_back(layer.output);
      plan.layers.push_back(std::move(layer));
    }
  }

  // Head: global average pooling, hidden dense layers with ReLU, dropout, classifier.
  int64_t features = node_shapes.back().channels;
  plan.flops += node_shapes.back().channels * node_shapes.back().height * node_shapes.back().width;
  const int64_t dense_layers = architecture.get_int("head.dense_layers");
  for (int64_t dense = 1; dense <= dense_layers; ++dense) {
    const int64_t width = architecture.get_int(fmt::format("head.dense{}.width", dense));
    plan.dense_widths.push_back(width);
    plan.params += features * width + width;
    plan.flops += features * width;
    features = width;
  }
  plan.dropout = architecture.get_float("head.dropout");
  plan.params += features * num_classes + num_classes;
  plan.flops += features * num_classes;
  return plan;
}

std::string NetworkPlan::short_description() const {
  std::string text = fmt::format("c{}", stem_channels);
  std::string current_stage;
  for (const auto& layer : layers) {
    const std::string stage = layer.name.substr(0, layer.name.find('.'));
    text += stage != current_stage ? " | " : " ";
    current_stage = stage;
    text += short_op(layer);
    if (layer.skip_from >= 0) text += "+";
  }
  // The head only when it has more than pooling and the classifier.
  if (!dense_widths.empty() || dropout > 0) text += " |";
  for (int64_t width : dense_widths) text += fmt::format(" d{}", width);
  if (dropout > 0) text += fmt::format(" p{}", dropout);
  return text;
}

nlohmann::json NetworkPlan::to_json() const {
  nlohmann::json layers_json = nlohmann::json::array();
  for (const auto& layer : layers) {
    layers_json.push_back(
        {{"name", layer.name},
         {"op", layer.op},
         {"out_channels", layer.out_channels},
         {"kernel", layer.kernel},
         {"stride", layer.stride},
         {"expansion", layer.expansion},
         {"activation", layer.activation},
         {"batch_norm", layer.batch_norm},
         {"pre_pool", layer.pre_pool},
         {"skip_from", layer.skip_from},
         {"input", {layer.input.channels, layer.input.height, layer.input.width}},
         {"output", {layer.output.channels, layer.output.height, layer.output.width}},
         {"params", layer.params},
         {"flops", layer.flops}});
  }
  return {{"input", {input.channels, input.height, input.width}},
          {"num_classes", num_classes},
          {"stem_channels", stem_channels},
          {"layers", layers_json},
          {"dense_widths", dense_widths},
          {"dropout", dropout},
          {"params", params},
          {"flops", flops}};
}

}  // namespace nascent
