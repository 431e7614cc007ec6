#pragma once

/// The LibTorch module of the NAS-Bench-201 network. Includes torch/torch.h.

#include <torch/torch.h>

#include <vector>

#include "nascent/nn/batch_norm.h"
#include "nascent/nn/cell_network.h"

namespace nascent {

/// One NAS-Bench-201 cell: node j is the sum over i < j of op_ij(node i); node 3 is the output.
class Nasbench201CellImpl : public torch::nn::Module {
 public:
  Nasbench201CellImpl(const Architecture& architecture, int64_t channels);

  /// [N, C, H, W] -> [N, C, H, W].
  torch::Tensor forward(const torch::Tensor& input);

 private:
  struct Edge {
    int64_t from;
    int64_t to;
    std::string op;
    torch::nn::Sequential module{nullptr};
    /// For a ReLU-conv-BN edge, its convolution and normalisation (also in `module`), so that
    /// forward() can feed them a ReLU shared with the other edges leaving the same node.
    torch::nn::Conv2d conv{nullptr};
    FastBatchNorm2d norm{nullptr};
  };
  std::vector<Edge> edges_;
};
TORCH_MODULE(Nasbench201Cell);

/// Stem, 3 stages of cells with residual reductions, head (see CellNetworkOptions).
class Nasbench201NetImpl : public torch::nn::Module {
 public:
  Nasbench201NetImpl(const Architecture& architecture, const ImageShape& input, int64_t num_classes,
                     const CellNetworkOptions& options);

  /// [N, C, H, W] float -> [N, num_classes] logits.
  torch::Tensor forward(const torch::Tensor& images);

 private:
  torch::nn::Sequential body_{nullptr};
  torch::nn::Sequential head_{nullptr};
};
TORCH_MODULE(Nasbench201Net);

}  // namespace nascent
