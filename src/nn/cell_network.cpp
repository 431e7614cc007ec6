#include "nascent/nn/cell_network.h"

#include "nascent/space/nasbench201.h"

namespace nascent {

namespace {

/// ReLU -> Conv k x k (no bias) -> BatchNorm, at `size` x `size` output.
CellNetworkCost relu_conv_bn(int64_t in, int64_t out, int64_t kernel, int64_t output_pixels) {
  return {kernel * kernel * in * out + 2 * out, kernel * kernel * in * out * output_pixels};
}

void add(CellNetworkCost& total, const CellNetworkCost& part) {
  total.params += part.params;
  total.flops += part.flops;
}

int64_t halve(int64_t size) { return (size + 1) / 2; }

}  // namespace

CellNetworkCost count_cell_network(const Architecture& architecture, const ImageShape& input,
                                   int64_t num_classes, const CellNetworkOptions& options) {
  CellNetworkCost total;
  int64_t channels = options.channels;
  int64_t height = input.height;
  int64_t width = input.width;

  // Stem: conv 3x3 (no bias) + BatchNorm.
  total.params += 9 * input.channels * channels + 2 * channels;
  total.flops += 9 * input.channels * channels * height * width;

  for (int64_t stage = 0; stage < 3; ++stage) {
    if (stage > 0) {
      // Residual reduction: ReLU-conv3x3/2-BN, ReLU-conv3x3-BN; shortcut avgpool/2 + conv1x1.
      const int64_t out = channels * 2;
      height = halve(height);
      width = halve(width);
      const int64_t pixels = height * width;
      add(total, relu_conv_bn(channels, out, 3, pixels));
      add(total, relu_conv_bn(out, out, 3, pixels));
      total.params += channels * out;
      total.flops += channels * out * pixels + 4 * channels * pixels;
      channels = out;
    }
    const int64_t pixels = height * width;
    for (int64_t cell = 0; cell < options.cells_per_stage; ++cell) {
      for (const auto& edge : nasbench201_edges()) {
        const std::string& op = architecture.get(edge.decision_name());
        if (op == "nor_conv_1x1") add(total, relu_conv_bn(channels, channels, 1, pixels));
        if (op == "nor_conv_3x3") add(total, relu_conv_bn(channels, channels, 3, pixels));
        if (op == "avg_pool_3x3") total.flops += 9 * channels * pixels;
      }
    }
  }

  // Head: BatchNorm + ReLU, global average pooling, linear classifier.
  total.params += 2 * channels + channels * num_classes + num_classes;
  total.flops += channels * height * width + channels * num_classes;
  return total;
}

std::string describe_cell(const Architecture& architecture) {
  std::string text;
  int64_t current_target = 1;
  for (const auto& edge : nasbench201_edges()) {
    if (edge.to != current_target) {
      text += '|';
      current_target = edge.to;
    }
    const std::string& op = architecture.get(edge.decision_name());
    if (op == "none") text += '-';
    if (op == "skip_connect") text += 's';
    if (op == "nor_conv_1x1") text += '1';
    if (op == "nor_conv_3x3") text += '3';
    if (op == "avg_pool_3x3") text += 'p';
  }
  return text;
}

}  // namespace nascent
