#include "nascent/nn/build_network.h"

#include "nascent/core/error.h"
#include "nascent/nn/cell_net.h"
#include "nascent/nn/macro_net.h"

namespace nascent {

namespace {

int64_t scaled_width(int64_t width, double multiplier) {
  return std::max<int64_t>(1, std::llround(static_cast<double>(width) * multiplier));
}

/// The plan with every channel count scaled. Identity and pooling layers keep their input's
/// width and skips join equal widths, so scaling every count by the same function keeps the
/// plan consistent. Parameter and FLOP counts are left as they were (the full network's).
NetworkPlan narrowed(NetworkPlan plan, double multiplier) {
  plan.stem_channels = scaled_width(plan.stem_channels, multiplier);
  plan.stem_output.channels = plan.stem_channels;
  for (auto& layer : plan.layers) {
    layer.input.channels = scaled_width(layer.input.channels, multiplier);
    layer.out_channels = scaled_width(layer.out_channels, multiplier);
    layer.output.channels = scaled_width(layer.output.channels, multiplier);
  }
  for (auto& width : plan.dense_widths) width = scaled_width(width, multiplier);
  return plan;
}

}  // namespace

BuiltNetwork build_network(const NetworkFamily& family, const Architecture& architecture,
                           const ImageShape& input, int64_t num_classes) {
  BuiltNetwork built;
  if (family.family == "macro") {
    NetworkPlan plan = plan_network(architecture, input, num_classes);
    if (family.width_multiplier != 1.0) plan = narrowed(std::move(plan), family.width_multiplier);
    auto module = std::make_shared<MacroNetImpl>(plan);
    built.forward = [module](const torch::Tensor& images) { return module->forward(images); };
    built.module = module;
  } else if (family.family == "nasbench201") {
    CellNetworkOptions cell = family.cell;
    cell.channels = scaled_width(cell.channels, family.width_multiplier);
    auto module = std::make_shared<Nasbench201NetImpl>(architecture, input, num_classes, cell);
    built.forward = [module](const torch::Tensor& images) { return module->forward(images); };
    built.module = module;
  } else {
    throw Error("build_network: expected family macro or nasbench201, found '" + family.family +
                "'");
  }
  return built;
}

}  // namespace nascent
