#include "nascent/nn/macro_net.h"

#include "nascent/core/error.h"
#include "nascent/nn/batch_norm.h"
#include "nascent/nn/output_observer.h"

namespace nascent {

namespace {

namespace nn = torch::nn;

nn::Sequential& add_activation(nn::Sequential& sequence, const std::string& name) {
  if (name == "relu")
    sequence->push_back(nn::ReLU());
  else if (name == "relu6")
    sequence->push_back(nn::ReLU6());
  else if (name == "gelu")
    sequence->push_back(nn::GELU());
  else if (name == "silu")
    sequence->push_back(nn::SiLU());
  else if (name == "elu")
    sequence->push_back(nn::ELU());
  else if (name == "tanh")
    sequence->push_back(nn::Tanh());
  else if (name == "sigmoid")
    sequence->push_back(nn::Sigmoid());
  else
    throw Error("builder: unknown activation '" + name + "'");
  return sequence;
}

nn::Conv2d make_conv(int64_t in, int64_t out, int64_t kernel, int64_t stride, int64_t groups,
                     bool bias) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, kernel)
                        .stride(stride)
                        .padding(kernel / 2)
                        .groups(groups)
                        .bias(bias));
}

/// Conv (+ BatchNorm) (+ activation); bias only without BatchNorm, which would cancel it.
void add_conv_block(nn::Sequential& sequence, int64_t in, int64_t out, int64_t kernel,
                    int64_t stride, int64_t groups, bool batch_norm,
                    const std::string* activation) {
  sequence->push_back(make_conv(in, out, kernel, stride, groups, !batch_norm));
  if (batch_norm) sequence->push_back(FastBatchNorm2d(out));
  if (activation) add_activation(sequence, *activation);
}

nn::Sequential build_layer(const LayerPlan& layer) {
  nn::Sequential sequence;
  if (layer.pre_pool == "max_pool") sequence->push_back(nn::MaxPool2d(nn::MaxPool2dOptions(2)));
  if (layer.pre_pool == "avg_pool") sequence->push_back(nn::AvgPool2d(nn::AvgPool2dOptions(2)));

  const int64_t in = layer.input.channels;
  const int64_t out = layer.out_channels;
  if (layer.op == "conv") {
    add_conv_block(sequence, in, out, layer.kernel, layer.stride, 1, layer.batch_norm,
                   &layer.activation);
  } else if (layer.op == "sep_conv") {
    // Depthwise then pointwise; one normalisation and activation after both.
    sequence->push_back(make_conv(in, in, layer.kernel, layer.stride, in, false));
    add_conv_block(sequence, in, out, 1, 1, 1, layer.batch_norm, &layer.activation);
  } else if (layer.op == "mbconv") {
    const int64_t hidden = in * layer.expansion;
    add_conv_block(sequence, in, hidden, 1, 1, 1, layer.batch_norm, &layer.activation);
    add_conv_block(sequence, hidden, hidden, layer.kernel, layer.stride, hidden, layer.batch_norm,
                   &layer.activation);
    add_conv_block(sequence, hidden, out, 1, 1, 1, layer.batch_norm, nullptr);
  } else if (layer.op == "max_pool") {
    sequence->push_back(nn::MaxPool2d(
        nn::MaxPool2dOptions(layer.kernel).stride(layer.stride).padding(layer.kernel / 2)));
  } else if (layer.op == "avg_pool") {
    // Padding is excluded from the average so borders are not darkened.
    sequence->push_back(nn::AvgPool2d(nn::AvgPool2dOptions(layer.kernel)
                                          .stride(layer.stride)
                                          .padding(layer.kernel / 2)
                                          .count_include_pad(false)));
  } else if (layer.op == "identity") {
    sequence->push_back(nn::Identity());
  } else {
    throw Error("builder: unknown operation '" + layer.op + "' in layer " + layer.name);
  }
  return sequence;
}

}  // namespace

MacroNetImpl::MacroNetImpl(const NetworkPlan& plan) : plan_(plan) {
  nn::Sequential stem;
  const std::string relu = "relu";
  add_conv_block(stem, plan.input.channels, plan.stem_channels, 3, 1, 1, true, &relu);
  stem_ = register_module("stem", stem);

  for (size_t i = 0; i < plan.layers.size(); ++i) {
    body_.push_back(register_module("layer" + std::to_string(i + 1), build_layer(plan.layers[i])));
  }

  nn::Sequential head;
  head->push_back(nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions(1)));
  head->push_back(nn::Flatten());
  int64_t features = plan.layers.empty() ? plan.stem_channels : plan.layers.back().output.channels;
  for (int64_t width : plan.dense_widths) {
    head->push_back(nn::Linear(features, width));
    head->push_back(nn::ReLU());
    features = width;
  }
  if (plan.dropout > 0) head->push_back(nn::Dropout(plan.dropout));
  head->push_back(nn::Linear(features, plan.num_classes));
  head_ = register_module("head", head);
}

torch::Tensor MacroNetImpl::forward(torch::Tensor images) {
  // Keep every node's output only when a later layer adds it back.
  std::vector<torch::Tensor> nodes;
  nodes.reserve(body_.size() + 1);
  nodes.push_back(forward_observed(stem_, images));  // [N, stem, H, W]

  for (size_t i = 0; i < body_.size(); ++i) {
    torch::Tensor output = forward_observed(body_[i], nodes.back());
    const int64_t skip_from = plan_.layers[i].skip_from;
    if (skip_from >= 0) output = output + nodes[static_cast<size_t>(skip_from)];
    nodes.push_back(output);
  }
  return forward_observed(head_, nodes.back());  // [N, classes]
}

int64_t count_parameters(torch::nn::Module& module) {
  int64_t total = 0;
  for (const auto& parameter : module.parameters()) total += parameter.numel();
  return total;
}

}  // namespace nascent
