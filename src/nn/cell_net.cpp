#include "nascent/nn/cell_net.h"

#include <fmt/format.h>

#include "nascent/core/error.h"
#include "nascent/nn/batch_norm.h"
#include "nascent/nn/output_observer.h"
#include "nascent/space/nasbench201.h"

namespace nascent {

namespace {

namespace nn = torch::nn;

nn::Sequential relu_conv_bn(int64_t in, int64_t out, int64_t kernel, int64_t stride) {
  nn::Sequential sequence;
  sequence->push_back(nn::ReLU());
  sequence->push_back(nn::Conv2d(
      nn::Conv2dOptions(in, out, kernel).stride(stride).padding(kernel / 2).bias(false)));
  sequence->push_back(FastBatchNorm2d(out));
  return sequence;
}

/// The benchmark's residual reduction block: two ReLU-conv-BN (the first with stride 2) plus a
/// shortcut of 2x2 average pooling and a 1x1 convolution.
class ReductionBlockImpl : public nn::Module {
 public:
  ReductionBlockImpl(int64_t in, int64_t out)
      : first_(register_module("conv_a", relu_conv_bn(in, out, 3, 2))),
        second_(register_module("conv_b", relu_conv_bn(out, out, 3, 1))),
        shortcut_(register_module(
            "shortcut", nn::Sequential(nn::AvgPool2d(nn::AvgPool2dOptions(2).stride(2)),
                                       nn::Conv2d(nn::Conv2dOptions(in, out, 1).bias(false))))) {}

  torch::Tensor forward(const torch::Tensor& input) {
    // Odd sizes: the strided conv rounds up, the pooling down; pad the shortcut's input.
    torch::Tensor shortcut_input = input;
    if (input.size(2) % 2 == 1 || input.size(3) % 2 == 1) {
      shortcut_input = torch::constant_pad_nd(input, {0, input.size(3) % 2, 0, input.size(2) % 2});
    }
    return forward_observed(second_, forward_observed(first_, input)) +
           forward_observed(shortcut_, shortcut_input);
  }

 private:
  nn::Sequential first_;
  nn::Sequential second_;
  nn::Sequential shortcut_;
};
TORCH_MODULE(ReductionBlock);

}  // namespace

Nasbench201CellImpl::Nasbench201CellImpl(const Architecture& architecture, int64_t channels) {
  for (const auto& edge : nasbench201_edges()) {
    const std::string& op = architecture.get(edge.decision_name());
    Edge built{edge.from, edge.to, op, nn::Sequential()};
    if (op == "nor_conv_1x1" || op == "nor_conv_3x3") {
      // The same modules as relu_conv_bn(), with the convolution and normalisation kept apart.
      const int64_t kernel = op == "nor_conv_1x1" ? 1 : 3;
      built.conv =
          nn::Conv2d(nn::Conv2dOptions(channels, channels, kernel).padding(kernel / 2).bias(false));
      built.norm = FastBatchNorm2d(channels);
      built.module = nn::Sequential(nn::ReLU(), built.conv, built.norm);
    } else if (op == "avg_pool_3x3") {
      built.module->push_back(
          nn::AvgPool2d(nn::AvgPool2dOptions(3).stride(1).padding(1).count_include_pad(false)));
    } else if (op != "none" && op != "skip_connect") {
      throw Error("NAS-Bench-201 cell: unknown operation '" + op + "' on " + edge.decision_name());
    }
    if (!built.module->is_empty()) register_module(edge.decision_name(), built.module);
    edges_.push_back(std::move(built));
  }
}

torch::Tensor Nasbench201CellImpl::forward(const torch::Tensor& input) {
  // Two shortcuts that leave every value as it was: the ReLU of a node is computed once for all
  // the ReLU-conv-BN edges that leave it, and a node's sum starts from its first term rather
  // than from zeros. With an observer installed (zero-cost proxies) every edge runs in full, so
  // the observer sees each edge's activation as before.
  const bool share_activations = !output_observer_installed();
  std::vector<torch::Tensor> nodes = {input};
  std::vector<torch::Tensor> activated(4);  // ReLU(node i), once some edge needed it
  for (int64_t target = 1; target <= 3; ++target) {
    torch::Tensor sum;
    bool sum_is_own = false;  // true once `sum` is a tensor made here, safe to add into
    for (auto& edge : edges_) {
      if (edge.to != target || edge.op == "none") continue;
      const auto from = static_cast<size_t>(edge.from);
      torch::Tensor term;
      if (edge.op == "skip_connect") {
        term = nodes[from];
      } else if (share_activations && edge.op != "avg_pool_3x3") {
        if (!activated[from].defined()) activated[from] = torch::relu(nodes[from]);
        term = edge.norm->forward(edge.conv->forward(activated[from]));
      } else {
        term = forward_observed(edge.module, nodes[from]);
      }

      if (!sum.defined()) {
        sum = term;
      } else if (sum_is_own) {
        sum.add_(term);
      } else {
        sum = sum + term;
        sum_is_own = true;
      }
    }
    // A node whose incoming edges are all "none" is zero.
    nodes.push_back(sum.defined() ? sum : torch::zeros_like(input));
  }
  return nodes.back();
}

Nasbench201NetImpl::Nasbench201NetImpl(const Architecture& architecture, const ImageShape& input,
                                       int64_t num_classes, const CellNetworkOptions& options) {
  nn::Sequential body;
  int64_t channels = options.channels;
  body->push_back(
      nn::Conv2d(nn::Conv2dOptions(input.channels, channels, 3).padding(1).bias(false)));
  body->push_back(FastBatchNorm2d(channels));
  for (int64_t stage = 0; stage < 3; ++stage) {
    if (stage > 0) {
      body->push_back(ReductionBlock(channels, channels * 2));
      channels *= 2;
    }
    for (int64_t cell = 0; cell < options.cells_per_stage; ++cell) {
      body->push_back(Nasbench201Cell(architecture, channels));
    }
  }
  body_ = register_module("body", body);
  head_ =
      register_module("head", nn::Sequential(FastBatchNorm2d(channels), nn::ReLU(),
                                             nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions(1)),
                                             nn::Flatten(), nn::Linear(channels, num_classes)));
}

torch::Tensor Nasbench201NetImpl::forward(const torch::Tensor& images) {
  return forward_observed(head_, forward_observed(body_, images));  // [N, classes]
}

Nasbench201SupernetImpl::Nasbench201SupernetImpl(const ImageShape& input, int64_t num_classes,
                                                 const CellNetworkOptions& options,
                                                 std::vector<std::string> operations)
    : operations_(std::move(operations)) {
  int64_t channels = options.channels;
  stem_ = register_module(
      "stem", nn::Sequential(
                  nn::Conv2d(nn::Conv2dOptions(input.channels, channels, 3).padding(1).bias(false)),
                  nn::BatchNorm2d(channels)));
  for (int64_t stage = 0; stage < 3; ++stage) {
    if (stage > 0) {
      reductions_.emplace_back(register_module(fmt::format("reduction_{}", stage),
                                               ReductionBlock(channels, channels * 2)));
      channels *= 2;
    }
    std::vector<MixedCell> cells;
    for (int64_t cell_index = 0; cell_index < options.cells_per_stage; ++cell_index) {
      MixedCell cell;
      for (const auto& edge : nasbench201_edges()) {
        std::vector<nn::Sequential> modules;
        for (const std::string& operation : operations_) {
          nn::Sequential module;
          if (operation == "nor_conv_1x1" || operation == "nor_conv_3x3") {
            const int64_t kernel = operation == "nor_conv_1x1" ? 1 : 3;
            module = nn::Sequential(
                nn::ReLU(),
                nn::Conv2d(
                    nn::Conv2dOptions(channels, channels, kernel).padding(kernel / 2).bias(false)),
                nn::BatchNorm2d(nn::BatchNorm2dOptions(channels).affine(false)));
          } else if (operation == "avg_pool_3x3") {
            module = nn::Sequential(nn::AvgPool2d(
                nn::AvgPool2dOptions(3).stride(1).padding(1).count_include_pad(false)));
          } else if (operation != "none" && operation != "skip_connect") {
            throw Error("NAS-Bench-201 supernet: unknown operation '" + operation + "'");
          }
          if (!module->is_empty()) {
            register_module(fmt::format("stage_{}_cell_{}_{}_{}", stage, cell_index,
                                        edge.decision_name(), operation),
                            module);
          }
          modules.push_back(module);
        }
        cell.edge_operations.push_back(std::move(modules));
      }
      cells.push_back(std::move(cell));
    }
    cells_.push_back(std::move(cells));
  }
  head_ =
      register_module("head", nn::Sequential(nn::BatchNorm2d(channels), nn::ReLU(),
                                             nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions(1)),
                                             nn::Flatten(), nn::Linear(channels, num_classes)));
}

torch::Tensor Nasbench201SupernetImpl::forward_cell(const MixedCell& cell,
                                                    const torch::Tensor& input,
                                                    const torch::Tensor& edge_weights) {
  const std::vector<std::string>& operations = operations_;
  const auto& edges = nasbench201_edges();
  std::vector<torch::Tensor> nodes = {input};
  for (int64_t target = 1; target <= 3; ++target) {
    torch::Tensor sum = torch::zeros_like(input);
    for (size_t edge_index = 0; edge_index < edges.size(); ++edge_index) {
      if (edges[edge_index].to != target) continue;
      const torch::Tensor& source = nodes[static_cast<size_t>(edges[edge_index].from)];
      for (size_t operation = 0; operation < operations.size(); ++operation) {
        if (operations[operation] == "none") continue;
        const torch::Tensor weight =
            edge_weights[static_cast<int64_t>(edge_index)][static_cast<int64_t>(operation)];
        nn::Sequential module = cell.edge_operations[edge_index][operation];
        const torch::Tensor output = module->is_empty() ? source : module->forward(source);
        sum = sum + weight * output;
      }
    }
    nodes.push_back(sum);
  }
  return nodes.back();
}

torch::Tensor Nasbench201SupernetImpl::forward(const torch::Tensor& images,
                                               const torch::Tensor& edge_weights) {
  torch::Tensor features = stem_->forward(images);
  for (size_t stage = 0; stage < cells_.size(); ++stage) {
    if (stage > 0) features = reductions_[stage - 1].forward(features);
    for (const MixedCell& cell : cells_[stage]) {
      features = forward_cell(cell, features, edge_weights);
    }
  }
  return head_->forward(features);  // [N, classes]
}

}  // namespace nascent
