// ONNX export checked by an independent runtime: OpenCV's DNN module loads the exported file
// and must give LibTorch's logits (within 1e-4) on the same images.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <opencv2/dnn.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>

#include "error_expectations.h"
#include "nascent/core/error.h"
#include "nascent/export/checkpoint.h"
#include "nascent/export/model_export.h"
#include "nascent/nn/build_network.h"
#include "nascent/space/nasbench201.h"
#include "nascent/train/runtime.h"
#include "test_support.h"

namespace nascent {
namespace {

using testing_support::error_message;
using testing_support::fresh_directory;

/// Gives every BatchNorm non-trivial statistics and affine parameters, so that exporting them
/// in inference mode is really tested (fresh ones are the identity).
void randomise_batch_norms(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  for (auto& buffer : module.named_buffers()) {
    if (buffer.key().ends_with("running_mean")) buffer.value().uniform_(-0.5, 0.5);
    if (buffer.key().ends_with("running_var")) buffer.value().uniform_(0.5, 1.5);
  }
  for (auto& parameter : module.named_parameters()) {
    if (parameter.value().dim() == 1 && parameter.key().find("running") == std::string::npos) {
      parameter.value().uniform_(-0.5, 0.5).add_(parameter.key().ends_with("weight") ? 1.0 : 0.0);
    }
  }
}

/// Exports the network through a checkpoint, runs the ONNX file in OpenCV and LibTorch on the
/// same random images, and compares the logits.
void expect_opencv_matches_libtorch(const NetworkFamily& family, const Architecture& architecture,
                                    const ImageShape& input, int64_t num_classes,
                                    const std::string& name) {
  torch::manual_seed(11);
  const BuiltNetwork network = build_network(family, architecture, input, num_classes);
  randomise_batch_norms(*network.module);
  const torch::Tensor mean = torch::full({1, input.channels, 1, 1}, 0.3);
  const torch::Tensor std = torch::full({1, input.channels, 1, 1}, 0.25);
  const std::string directory = fresh_directory("onnx_" + name);
  const std::string checkpoint = directory + "/model.pt";
  save_checkpoint(*network.module, {mean, std}, checkpoint);

  const std::string onnx =
      onnx_from_checkpoint(family, architecture, input, num_classes, checkpoint);
  const std::string onnx_path = directory + "/model.onnx";
  std::ofstream(onnx_path, std::ios::binary) << onnx;

  const int64_t batch = 8;
  const torch::Tensor images = torch::rand({batch, input.channels, input.height, input.width});
  network.module->eval();
  torch::Tensor expected;
  {
    torch::NoGradGuard no_grad;
    expected = network.forward((images - mean) / std).contiguous();
  }

  cv::dnn::Net net = cv::dnn::readNetFromONNX(onnx_path);
  const int shape[] = {static_cast<int>(batch), static_cast<int>(input.channels),
                       static_cast<int>(input.height), static_cast<int>(input.width)};
  cv::Mat blob(4, shape, CV_32F, images.contiguous().data_ptr<float>());
  net.setInput(blob, "images");
  const cv::Mat logits = net.forward().clone();
  ASSERT_EQ(logits.total(), static_cast<size_t>(batch * num_classes)) << name;

  double worst = 0.0;
  int64_t same_class = 0;
  const float* opencv = logits.ptr<float>();
  const float* libtorch = expected.data_ptr<float>();
  for (int64_t row = 0; row < batch; ++row) {
    int64_t opencv_class = 0;
    int64_t libtorch_class = 0;
    for (int64_t column = 0; column < num_classes; ++column) {
      const int64_t index = row * num_classes + column;
      worst = std::max(worst, static_cast<double>(std::abs(opencv[index] - libtorch[index])));
      if (opencv[index] > opencv[row * num_classes + opencv_class]) opencv_class = column;
      if (libtorch[index] > libtorch[row * num_classes + libtorch_class]) libtorch_class = column;
    }
    same_class += opencv_class == libtorch_class;
  }
  EXPECT_LT(worst, 1e-4) << name << ": largest logit difference";
  EXPECT_EQ(same_class, batch) << name;
}

TEST(OnnxExport, MacroNetworksMatchOpenCv) {
  set_torch_threads(1);
  const NetworkFamily macro;
  // Every layer kind: conv, separable and MBConv with each activation, pooling layers, identity,
  // skips, the three downsampling modes, a conv without BatchNorm (bias), dense head, dropout.
  const std::vector<std::string> architectures = {
      "stem.width=8 stages=3 s1.depth=2 s1.downsample=max_pool s1.l1.op=conv s1.l1.width=8 "
      "s1.l1.kernel=3 s1.l1.activation=gelu s1.l1.batch_norm=true s1.l2.op=sep_conv "
      "s1.l2.width=8 s1.l2.kernel=5 s1.l2.activation=silu s1.l2.batch_norm=true s1.l2.skip=1 "
      "s2.depth=2 s2.downsample=stride s2.l1.op=mbconv s2.l1.width=12 s2.l1.kernel=3 "
      "s2.l1.expansion=2 s2.l1.activation=relu6 s2.l1.batch_norm=true s2.l2.op=avg_pool "
      "s2.l2.kernel=3 s3.depth=2 s3.downsample=avg_pool s3.l1.op=max_pool s3.l1.kernel=3 "
      "s3.l2.op=conv s3.l2.width=8 s3.l2.kernel=3 s3.l2.activation=elu s3.l2.batch_norm=false "
      "head.dense_layers=1 head.dense1.width=16 head.dropout=0.2",
      "stem.width=4 stages=1 s1.depth=3 s1.downsample=none s1.l1.op=conv s1.l1.width=6 "
      "s1.l1.kernel=3 s1.l1.activation=tanh s1.l1.batch_norm=true s1.l2.op=sep_conv "
      "s1.l2.width=6 s1.l2.kernel=3 s1.l2.activation=sigmoid s1.l2.batch_norm=true s1.l2.skip=1 "
      "s1.l3.op=identity s1.l3.skip=2 head.dense_layers=0 head.dropout=0"};
  for (size_t i = 0; i < architectures.size(); ++i) {
    expect_opencv_matches_libtorch(macro, Architecture::from_string(architectures[i]), {1, 28, 28},
                                   10, fmt::format("macro{}", i));
  }
}

TEST(OnnxExport, CellNetworksMatchOpenCv) {
  set_torch_threads(1);
  NetworkFamily cell;
  cell.family = "nasbench201";
  cell.cell.cells_per_stage = 1;
  cell.cell.channels = 4;
  expect_opencv_matches_libtorch(
      cell,
      parse_nasbench201_arch_str(
          "|nor_conv_3x3~0|+|nor_conv_1x1~0|avg_pool_3x3~1|+|skip_connect~0|none~1|"
          "nor_conv_3x3~2|"),
      {1, 28, 28}, 10, "cell28");
  // Odd sizes pad the reduction's shortcut; a node whose edges are all "none" is zero.
  expect_opencv_matches_libtorch(
      cell,
      parse_nasbench201_arch_str(
          "|none~0|+|skip_connect~0|none~1|+|nor_conv_1x1~0|none~1|avg_pool_3x3~2|"),
      {1, 11, 9}, 3, "cell_odd");
  expect_opencv_matches_libtorch(
      cell,
      parse_nasbench201_arch_str(
          "|nor_conv_1x1~0|+|skip_connect~0|none~1|+|none~0|none~1|avg_pool_3x3~2|"),
      {2, 12, 12}, 3, "cell_two_channels");
}

TEST(Checkpoint, ADifferentArchitectureIsRefusedWithoutLoadingAnything) {
  set_torch_threads(1);
  const NetworkFamily macro;
  const ImageShape input{1, 12, 12};
  const Architecture small = Architecture::from_string(
      "stem.width=4 stages=1 s1.depth=1 s1.downsample=none s1.l1.op=conv s1.l1.width=6 "
      "s1.l1.kernel=3 s1.l1.activation=relu s1.l1.batch_norm=true head.dense_layers=0 "
      "head.dropout=0");
  const Architecture wider = Architecture::from_string(
      "stem.width=4 stages=1 s1.depth=1 s1.downsample=none s1.l1.op=conv s1.l1.width=8 "
      "s1.l1.kernel=3 s1.l1.activation=relu s1.l1.batch_norm=true head.dense_layers=0 "
      "head.dropout=0");
  const Architecture deeper = Architecture::from_string(
      "stem.width=4 stages=1 s1.depth=2 s1.downsample=none s1.l1.op=conv s1.l1.width=6 "
      "s1.l1.kernel=3 s1.l1.activation=relu s1.l1.batch_norm=true s1.l2.op=identity "
      "head.dense_layers=0 head.dropout=0");
  const std::string path = fresh_directory("checkpoint_mismatch") + "/model.pt";
  const BuiltNetwork saved = build_network(macro, small, input, 4);
  save_checkpoint(*saved.module, {torch::zeros({1, 1, 1, 1}), torch::ones({1, 1, 1, 1})}, path);

  // Another shape: refused, and the module keeps its own weights.
  const BuiltNetwork other = build_network(macro, wider, input, 4);
  const torch::Tensor before = other.module->named_parameters()["stem.0.weight"].clone();
  EXPECT_CONTAINS(error_message([&] { load_checkpoint_strict(*other.module, path, "wider"); }),
                  "does not fit architecture 'wider': expected tensor 'layer1.0.weight' of shape "
                  "[8, 4, 3, 3], found shape [6, 4, 3, 3]");
  EXPECT_TRUE(torch::equal(before, other.module->named_parameters()["stem.0.weight"]));

  // A checkpoint with tensors left over (a deeper network into a shallower one, and back).
  const BuiltNetwork deep = build_network(macro, deeper, input, 4);
  const std::string deep_path = fresh_directory("checkpoint_deep") + "/model.pt";
  save_checkpoint(*deep.module, {torch::zeros({1, 1, 1, 1}), torch::ones({1, 1, 1, 1})}, deep_path);
  const BuiltNetwork shallow = build_network(macro, small, input, 4);
  // The identity layer has no tensors, but its module is still stored under layer2.
  EXPECT_CONTAINS(
      error_message([&] { load_checkpoint_strict(*shallow.module, deep_path, "small"); }),
      "does not fit architecture 'small': expected only the tensors of this architecture, found "
      "an extra 'layer2'");
  EXPECT_CONTAINS(error_message([&] { load_checkpoint_strict(*deep.module, path, "deeper"); }),
                  "expected module 'layer2', found none");

  // The ONNX exporter refuses weights of another architecture too.
  OnnxExportInput request;
  request.architecture = wider;
  request.input = input;
  request.num_classes = 4;
  request.weights = module_weights(*saved.module);
  request.input_mean = {0.0F};
  request.input_std = {1.0F};
  EXPECT_CONTAINS(error_message([&] { export_onnx(request); }),
                  "ONNX export: expected weight 'layer1.0.weight' of shape [8, 4, 3, 3], found "
                  "shape [6, 4, 3, 3]");
}

}  // namespace
}  // namespace nascent
