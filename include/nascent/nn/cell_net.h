#pragma once

/// The LibTorch modules of the NAS-Bench-201 network and of its supernet. Includes torch/torch.h.

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

/// The NAS-Bench-201 network with every operation on every edge (a supernet): each edge's output
/// is the weighted sum of its operations, as DARTS relaxes the choice of an operation (Liu,
/// Simonyan and Yang, ICLR 2019). `none` adds nothing; the parametric operations normalise
/// without affine parameters, as in DARTS, so that the architecture weights alone scale them.
/// Every cell shares the same edge weights, as every cell of the network shares one architecture.
class Nasbench201SupernetImpl : public torch::nn::Module {
 public:
  /// `operations`: those of nasbench201_operations() the edges may take, in the space's order.
  Nasbench201SupernetImpl(const ImageShape& input, int64_t num_classes,
                          const CellNetworkOptions& options, std::vector<std::string> operations);

  /// `images` [N, C, H, W] float, `edge_weights` [6, operations] (edges in nasbench201_edges()
  /// order, operations in the constructor's order) -> [N, num_classes] logits.
  torch::Tensor forward(const torch::Tensor& images, const torch::Tensor& edge_weights);

 private:
  /// One cell: node j is the sum over i < j of edge ij's weighted operations on node i.
  struct MixedCell {
    /// Per edge, per operation: the module, or empty for none and skip_connect.
    std::vector<std::vector<torch::nn::Sequential>> edge_operations;
  };

  torch::Tensor forward_cell(const MixedCell& cell, const torch::Tensor& input,
                             const torch::Tensor& edge_weights);

  std::vector<std::string> operations_;
  torch::nn::Sequential stem_{nullptr};
  /// Per stage: its reduction block (none in the first stage) and its cells.
  std::vector<torch::nn::AnyModule> reductions_;
  std::vector<std::vector<MixedCell>> cells_;
  torch::nn::Sequential head_{nullptr};
};
TORCH_MODULE(Nasbench201Supernet);

}  // namespace nascent
