#pragma once

/// Builds the LibTorch module of any family's architecture. Includes torch/torch.h.

#include <torch/torch.h>

#include <functional>
#include <memory>

#include "nascent/nn/network_family.h"
#include "nascent/nn/network_plan.h"

namespace nascent {

/// A built network: the module (for parameters, modes and serialisation) and its forward.
struct BuiltNetwork {
  std::shared_ptr<torch::nn::Module> module;
  std::function<torch::Tensor(const torch::Tensor&)> forward;
};

/// Builds `architecture` of `family` for images of `input` shape. Throws
/// nascent::InvalidArchitecture for a macro architecture that cannot be built.
BuiltNetwork build_network(const NetworkFamily& family, const Architecture& architecture,
                           const ImageShape& input, int64_t num_classes);

}  // namespace nascent
