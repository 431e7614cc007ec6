#pragma once

/// The LibTorch module built from a NetworkPlan. This header includes torch/torch.h; include
/// it only from translation units that need the module itself.

#include <torch/torch.h>

#include <vector>

#include "nascent/nn/network_plan.h"

namespace nascent {

/// A network of the macro space: stem, body layers with optional skip additions, head.
class MacroNetImpl : public torch::nn::Module {
 public:
  explicit MacroNetImpl(const NetworkPlan& plan);

  /// [N, C, H, W] float -> [N, num_classes] logits.
  torch::Tensor forward(torch::Tensor images);

  const NetworkPlan& plan() const { return plan_; }

 private:
  NetworkPlan plan_;
  torch::nn::Sequential stem_{nullptr};
  std::vector<torch::nn::Sequential> body_;
  torch::nn::Sequential head_{nullptr};
};
TORCH_MODULE(MacroNet);

/// Number of trainable parameters of a module, counted by LibTorch (tests compare it with
/// the plan's count).
int64_t count_parameters(torch::nn::Module& module);

}  // namespace nascent
