#include "nascent/nn/build_network.h"

#include "nascent/core/error.h"
#include "nascent/nn/cell_net.h"
#include "nascent/nn/macro_net.h"

namespace nascent {

BuiltNetwork build_network(const NetworkFamily& family, const Architecture& architecture,
                           const ImageShape& input, int64_t num_classes) {
  BuiltNetwork built;
  if (family.family == "macro") {
    auto module = std::make_shared<MacroNetImpl>(plan_network(architecture, input, num_classes));
    built.forward = [module](const torch::Tensor& images) { return module->forward(images); };
    built.module = module;
  } else if (family.family == "nasbench201") {
    auto module =
        std::make_shared<Nasbench201NetImpl>(architecture, input, num_classes, family.cell);
    built.forward = [module](const torch::Tensor& images) { return module->forward(images); };
    built.module = module;
  } else {
    throw Error("build_network: expected family macro or nasbench201, found '" + family.family +
                "'");
  }
  return built;
}

}  // namespace nascent
