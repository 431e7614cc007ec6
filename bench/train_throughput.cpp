// Training throughput of nascent's networks on Fashion-MNIST: images per second of full training
// steps (forward, cross-entropy, backward, SGD with momentum) for four reference architectures:
// three of the macro space and one NAS-Bench-201 cell network. Each is built by
// nascent::build_network, as a search builds its trials. This is the C++ half of a side-by-side
// comparison: the plan written with --plan-out lets bench/pytorch_throughput.py build the same
// network in PyTorch's Python API and time it the same way. bench/run_throughput.sh runs both and
// tabulates them.
//
// Usage (one JSON line on stdout each):
//   nascent_bench_throughput --arch residual --threads 2 --batch 128 --steps 100 --warmup 30
//       --plan-out residual.json
//   nascent_bench_throughput --matmul --threads 2

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <iostream>
#include <map>
#include <numeric>
#include <string>
#include <vector>

#include "nascent/core/allocator.h"
#include "nascent/core/error.h"
#include "nascent/data/idx_reader.h"
#include "nascent/nn/build_network.h"
#include "nascent/nn/cell_network.h"
#include "nascent/nn/macro_net.h"
#include "nascent/nn/network_family.h"
#include "nascent/nn/network_plan.h"
#include "nascent/space/macro_space.h"
#include "nascent/space/nasbench201.h"
#include "nascent/train/runtime.h"
#include "nascent/train/tensor_data.h"
#include "nascent/train/trainer.h"

namespace {

using Clock = std::chrono::steady_clock;

constexpr const char* kFashionMnistDirectory = "/usr/share/datasets/fashion-mnist";
constexpr const char* kFashionMnistPackage = "dataset-fashion-mnist";

/// The training settings of nascent's default TrainOptions; the PyTorch side uses the same.
constexpr double kLearningRate = 0.05;
constexpr double kMomentum = 0.9;
constexpr double kWeightDecay = 5e-4;

/// Fashion-MNIST's images and classes.
constexpr nascent::ImageShape kInputShape{1, 28, 28};
constexpr int64_t kNumClasses = 10;

/// Training steps recorded by --profile.
constexpr int64_t kProfiledSteps = 10;

/// A macro space wide enough to hold the macro reference architectures. Their strings are
/// parsed by it, so a reference that drifts out of the space fails loudly instead of quietly
/// benchmarking something else.
nascent::SearchSpace reference_space() {
  using nascent::Decision;
  nascent::MacroSpaceOptions options;
  options.stem_width = Decision::categorical("", {"16", "32"});
  options.stages = Decision::integer("", 1, 3);
  options.depth = Decision::integer("", 1, 3);
  options.downsample = Decision::categorical("", nascent::macro_downsampling_modes());
  options.op = Decision::categorical("", nascent::macro_operations());
  options.width = Decision::categorical("", {"16", "24", "32", "40", "48", "64", "96", "128"});
  options.kernel = Decision::categorical("", {"3", "5"});
  options.expansion = Decision::categorical("", {"2", "3", "4", "5", "6"});
  options.activation = Decision::categorical("", {"relu", "relu6", "silu"});
  options.batch_norm = Decision::categorical("", {"true", "false"});
  options.skip = Decision::categorical("", {"none", "1", "2"});
  options.dense_layers = Decision::integer("", 0, 1);
  options.dense_width = Decision::categorical("", {"128"});
  options.dropout = Decision::categorical("", {"0"});
  return nascent::make_macro_space(options);
}

/// The network of the cell reference: the size nascent's Fashion-MNIST NAS-Bench-201 example
/// searches (examples/nasbench201_bohb.yaml: channels 8, one cell per stage).
nascent::NetworkFamily cell_network_family() {
  nascent::NetworkFamily family;
  family.family = "nasbench201";
  family.cell.channels = 8;
  family.cell.cells_per_stage = 1;
  return family;
}

nascent::NetworkFamily macro_network_family() { return {}; }

/// A reference architecture: its family (which space parses it and which builder builds it)
/// and its canonical string in that space.
struct ReferenceArchitecture {
  nascent::NetworkFamily family;
  std::string text;
};

/// The reference architectures by name.
const std::map<std::string, ReferenceArchitecture>& reference_architectures() {
  static const std::map<std::string, ReferenceArchitecture> architectures = {
      // The classic small CNN: conv 32, pool, conv 64, pool, dense 128. The macro space's head
      // averages globally instead of flattening [64, 7, 7], so its dense layer is smaller than
      // the textbook one; the second pooling is a stage whose only layer is an identity.
      {"classic_cnn",
       {macro_network_family(),
        "stem.width=32 stages=2 "
        "s1.depth=1 s1.downsample=max_pool "
        "s1.l1.op=conv s1.l1.width=64 s1.l1.kernel=3 s1.l1.activation=relu s1.l1.batch_norm=true "
        "s2.depth=1 s2.downsample=max_pool s2.l1.op=identity "
        "head.dense_layers=1 head.dense1.width=128 head.dropout=0"}},
      // MobileNetV2-like (Sandler et al. 2018): stride-2 stage entries, inverted residuals and
      // separable convolutions, widths 24 to 64, ReLU6.
      {"mobile",
       {macro_network_family(),
        "stem.width=16 stages=3 "
        "s1.depth=2 s1.downsample=stride "
        "s1.l1.op=sep_conv s1.l1.width=24 s1.l1.kernel=3 s1.l1.activation=relu6 "
        "s1.l1.batch_norm=true "
        "s1.l2.op=mbconv s1.l2.width=24 s1.l2.kernel=3 s1.l2.expansion=3 s1.l2.activation=relu6 "
        "s1.l2.batch_norm=true s1.l2.skip=1 "
        "s2.depth=2 s2.downsample=stride "
        "s2.l1.op=mbconv s2.l1.width=40 s2.l1.kernel=5 s2.l1.expansion=3 s2.l1.activation=relu6 "
        "s2.l1.batch_norm=true "
        "s2.l2.op=mbconv s2.l2.width=40 s2.l2.kernel=5 s2.l2.expansion=3 s2.l2.activation=relu6 "
        "s2.l2.batch_norm=true s2.l2.skip=1 "
        "s3.depth=2 s3.downsample=stride "
        "s3.l1.op=mbconv s3.l1.width=64 s3.l1.kernel=3 s3.l1.expansion=6 s3.l1.activation=relu6 "
        "s3.l1.batch_norm=true "
        "s3.l2.op=sep_conv s3.l2.width=64 s3.l2.kernel=3 s3.l2.activation=relu6 "
        "s3.l2.batch_norm=true s3.l2.skip=1 "
        "head.dense_layers=0 head.dropout=0"}},
      // ResNet-like (He et al. 2016): three stages that start with a 2x2 max pooling and a 3x3
      // conv to the stage's width, followed by a residual 3x3 conv; widths 32, 64, 128.
      {"residual",
       {macro_network_family(),
        "stem.width=32 stages=3 "
        "s1.depth=2 s1.downsample=max_pool "
        "s1.l1.op=conv s1.l1.width=32 s1.l1.kernel=3 s1.l1.activation=relu s1.l1.batch_norm=true "
        "s1.l2.op=conv s1.l2.width=32 s1.l2.kernel=3 s1.l2.activation=relu s1.l2.batch_norm=true "
        "s1.l2.skip=1 "
        "s2.depth=2 s2.downsample=max_pool "
        "s2.l1.op=conv s2.l1.width=64 s2.l1.kernel=3 s2.l1.activation=relu s2.l1.batch_norm=true "
        "s2.l2.op=conv s2.l2.width=64 s2.l2.kernel=3 s2.l2.activation=relu s2.l2.batch_norm=true "
        "s2.l2.skip=1 "
        "s3.depth=2 s3.downsample=max_pool "
        "s3.l1.op=conv s3.l1.width=128 s3.l1.kernel=3 s3.l1.activation=relu s3.l1.batch_norm=true "
        "s3.l2.op=conv s3.l2.width=128 s3.l2.kernel=3 s3.l2.activation=relu s3.l2.batch_norm=true "
        "s3.l2.skip=1 "
        "head.dense_layers=0 head.dropout=0"}},
      // NAS-Bench-201 (Dong and Yang 2020): 3x3 convolutions on every edge but a skip from the
      // input to the output, the family of the benchmark's best cells (on CIFAR-10 this one is
      // third by test accuracy, 94.36%; the two above it have one 1x1 convolution instead).
      {"cell",
       {cell_network_family(),
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+"
        "|skip_connect~0|nor_conv_3x3~1|nor_conv_3x3~2|"}},
  };
  return architectures;
}

const ReferenceArchitecture& reference_architecture(const std::string& name) {
  const auto& architectures = reference_architectures();
  const auto found = architectures.find(name);
  if (found == architectures.end()) {
    std::vector<std::string> names;
    for (const auto& [known, reference] : architectures) names.push_back(known);
    throw nascent::Error(
        fmt::format("--arch: expected one of {}, found '{}'", fmt::join(names, ", "), name));
  }
  return found->second;
}

/// A reference network ready to train, what the JSON line reports about it, and the plan that
/// bench/pytorch_throughput.py rebuilds it from.
struct ReferenceNetwork {
  nascent::BuiltNetwork network;
  /// Trainable parameters by nascent's cost model (checked against the module's own count).
  int64_t params = 0;
  /// Multiply-accumulates per image by nascent's cost model.
  int64_t flops = 0;
  nlohmann::json plan;
};

ReferenceNetwork build_macro_reference(const ReferenceArchitecture& reference) {
  const nascent::SearchSpace space = reference_space();
  const nascent::Architecture architecture = space.parse(reference.text);
  const nascent::NetworkPlan plan = nascent::plan_network(architecture, kInputShape, kNumClasses);

  ReferenceNetwork built;
  built.network = nascent::build_network(reference.family, architecture, kInputShape, kNumClasses);
  built.params = plan.params;
  built.flops = plan.flops;
  built.plan = plan.to_json();
  built.plan["family"] = reference.family.family;
  built.plan["architecture"] = space.format(architecture);
  return built;
}

/// The blocks of a built NAS-Bench-201 network in order: each module of its body (stem
/// convolution, stem BatchNorm, cells and reduction blocks), then its head; with the module's
/// type, its parameters and its output shape for one image. They are read from the module
/// itself, so that the PyTorch side can check its rebuild block by block against what nascent
/// trains.
nlohmann::json describe_cell_network_blocks(torch::nn::Module& network) {
  const auto children = network.named_children();
  const auto* body_entry = children.find("body");
  const auto* head_entry = children.find("head");
  const auto body =
      body_entry ? std::dynamic_pointer_cast<torch::nn::SequentialImpl>(*body_entry) : nullptr;
  const auto head =
      head_entry ? std::dynamic_pointer_cast<torch::nn::SequentialImpl>(*head_entry) : nullptr;
  if (!body || !head) {
    throw nascent::Error(
        fmt::format("cell network: expected Sequential children 'body' and 'head', found {} (has "
                    "src/nn/cell_net.cpp changed?)",
                    fmt::join(children.keys(), ", ")));
  }

  nlohmann::json blocks = nlohmann::json::array();
  const auto describe = [&blocks](const std::string& name, torch::nn::Module& block,
                                  const torch::Tensor& output) {
    blocks.push_back(
        {{"name", name},
         {"module", block.name()},
         {"params", nascent::count_parameters(block)},
         {"output", std::vector<int64_t>(output.sizes().begin() + 1, output.sizes().end())}});
  };

  // Evaluation mode, so that the zero batch leaves the BatchNorm running statistics untouched.
  torch::NoGradGuard no_grad;
  const bool was_training = network.is_training();
  network.eval();
  torch::Tensor features =
      torch::zeros({1, kInputShape.channels, kInputShape.height, kInputShape.width});
  int64_t index = 0;
  for (auto& block : *body) {
    features = block.forward(features);  // [1, C, H, W]
    describe(fmt::format("body.{}", index++), *block.ptr(), features);
  }
  features = head->forward(features);  // [1, classes]
  describe("head", *head, features);
  network.train(was_training);
  return blocks;
}

ReferenceNetwork build_cell_reference(const ReferenceArchitecture& reference) {
  const nascent::SearchSpace space = nascent::make_nasbench201_space();
  const nascent::Architecture architecture = space.parse(reference.text);
  const nascent::CellNetworkOptions& cell = reference.family.cell;
  const nascent::CellNetworkCost cost =
      nascent::count_cell_network(architecture, kInputShape, kNumClasses, cell);

  ReferenceNetwork built;
  built.network = nascent::build_network(reference.family, architecture, kInputShape, kNumClasses);
  built.params = cost.params;
  built.flops = cost.flops;

  nlohmann::json edges = nlohmann::json::array();
  for (const auto& edge : nascent::nasbench201_edges()) {
    edges.push_back({{"name", edge.decision_name()},
                     {"from", edge.from},
                     {"to", edge.to},
                     {"op", architecture.get(edge.decision_name())}});
  }
  built.plan = {{"family", reference.family.family},
                {"architecture", space.format(architecture)},
                {"input", {kInputShape.channels, kInputShape.height, kInputShape.width}},
                {"num_classes", kNumClasses},
                {"channels", cell.channels},
                {"cells_per_stage", cell.cells_per_stage},
                {"edges", edges},
                {"blocks", describe_cell_network_blocks(*built.network.module)},
                {"params", cost.params},
                {"flops", cost.flops}};
  return built;
}

struct Batch {
  torch::Tensor images;  // [B, C, H, W] float, normalised
  torch::Tensor labels;  // [B] int64
};

/// Consecutive batches of the Fashion-MNIST training images, normalised with the training set's
/// mean and std, wrapping around at the end. Prepared before timing so that only the training
/// step is measured.
std::vector<Batch> prepare_batches(const nascent::ImageDataset& images, int64_t batch_size,
                                   int64_t count) {
  const auto [mean, std] = nascent::TensorData::channel_statistics(images);
  const nascent::TensorData train = nascent::TensorData::from(images, mean, std);

  std::vector<Batch> batches;
  for (int64_t i = 0; i < count; ++i) {
    const torch::Tensor indices =
        torch::arange(i * batch_size, (i + 1) * batch_size, torch::kInt64).remainder(train.size());
    batches.push_back({train.batch_images(indices), train.labels.index_select(0, indices)});
  }
  return batches;
}

/// Images per second of nascent's whole training loop (nascent::train_model) over one epoch of
/// `images` Fashion-MNIST training images: the step above plus what the benchmark prepares
/// before timing (gathering each batch from the uint8 dataset, normalising it, a random crop
/// after 2-pixel padding and a random flip, as the final retraining does), the layout
/// conversion, the learning-rate schedule and the per-step accuracy count. Measured after the
/// step timing, so the model is warm.
double time_training_loop(nascent::BuiltNetwork& network, const nascent::ImageDataset& images,
                          int64_t batch_size, int64_t count, bool channels_last) {
  std::vector<int64_t> first(static_cast<size_t>(std::min<int64_t>(count, images.size())));
  std::iota(first.begin(), first.end(), 0);
  const nascent::ImageDataset subset = images.subset(first);
  const auto [mean, std] = nascent::TensorData::channel_statistics(subset);
  const nascent::TensorData train = nascent::TensorData::from(subset, mean, std);

  nascent::TrainOptions options;
  options.epochs = 1;
  options.batch_size = batch_size;
  options.learning_rate = kLearningRate;
  options.momentum = kMomentum;
  options.weight_decay = kWeightDecay;
  options.crop_padding = 2;
  options.horizontal_flip = true;
  options.channels_last = channels_last;
  const nascent::TrainingOutcome outcome =
      nascent::train_model(*network.module, network.forward, train, nullptr, options);
  return static_cast<double>(train.size()) / outcome.seconds;
}

/// Milliseconds of each of `steps` training steps, after `warmup` untimed ones. A step is what
/// nascent's trainer does per batch: zero the gradients, forward, cross-entropy, read the loss,
/// backward, optimiser step.
std::vector<double> time_training_steps(nascent::BuiltNetwork& network,
                                        const std::vector<Batch>& batches, int64_t warmup,
                                        int64_t steps) {
  network.module->train();
  torch::optim::SGD optimizer(network.module->parameters(), torch::optim::SGDOptions(kLearningRate)
                                                                .momentum(kMomentum)
                                                                .nesterov(true)
                                                                .weight_decay(kWeightDecay));

  std::vector<double> step_ms;
  double last_loss = 0.0;

  for (int64_t step = 0; step < warmup + steps; ++step) {
    const Batch& batch = batches[static_cast<size_t>(step) % batches.size()];
    const auto start = Clock::now();

    optimizer.zero_grad();
    const torch::Tensor logits = network.forward(batch.images);  // [B, classes]
    const torch::Tensor loss = torch::nn::functional::cross_entropy(logits, batch.labels);
    last_loss = loss.item<double>();
    loss.backward();
    optimizer.step();

    const double elapsed_ms =
        std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    if (step >= warmup) step_ms.push_back(elapsed_ms);
  }

  // A diverged run would time NaN arithmetic, which is not what the benchmark is about.
  if (!std::isfinite(last_loss)) {
    throw nascent::Error(fmt::format("training: expected a finite loss, found {}", last_loss));
  }
  return step_ms;
}

double median(std::vector<double> values) {
  const size_t middle = values.size() / 2;
  std::nth_element(values.begin(), values.begin() + static_cast<std::ptrdiff_t>(middle),
                   values.end());
  double result = values[middle];
  if (values.size() % 2 == 0) {
    result = (result + *std::max_element(values.begin(),
                                         values.begin() + static_cast<std::ptrdiff_t>(middle))) /
             2.0;
  }
  return result;
}

double round_to(double value, int digits) {
  const double scale = std::pow(10.0, digits);
  return std::round(value * scale) / scale;
}

int run_throughput(const std::string& arch_name, int64_t threads, int64_t batch_size, int64_t steps,
                   int64_t warmup, const std::string& plan_path, bool channels_last, bool full_loop,
                   const std::string& profile_path) {
  nascent::set_torch_threads(threads);
  torch::manual_seed(0);

  const ReferenceArchitecture& reference = reference_architecture(arch_name);
  ReferenceNetwork reference_network = reference.family.family == "nasbench201"
                                           ? build_cell_reference(reference)
                                           : build_macro_reference(reference);
  nascent::BuiltNetwork& network = reference_network.network;

  if (!plan_path.empty()) {
    nlohmann::json plan_json = reference_network.plan;
    plan_json["arch"] = arch_name;
    std::ofstream out(plan_path);
    out << plan_json.dump(2) << "\n";
    if (!out) throw nascent::Error(fmt::format("--plan-out: cannot write '{}'", plan_path));
  }

  const int64_t module_params = nascent::count_parameters(*network.module);
  if (module_params != reference_network.params) {
    throw nascent::Error(fmt::format(
        "builder: the cost model of '{}' counts {} parameters but the module has {} (a library "
        "bug)",
        arch_name, reference_network.params, module_params));
  }

  // Enough distinct batches that no step reuses a batch, up to one pass over the data.
  const int64_t distinct_batches = std::min<int64_t>(warmup + steps, 60000 / batch_size);
  // Read once: the step timing and the whole-loop timing use the same training images.
  const nascent::DatasetFiles files =
      nascent::read_idx_directory(kFashionMnistDirectory, kFashionMnistPackage);
  std::vector<Batch> batches = prepare_batches(files.train, batch_size, distinct_batches);
  // As nascent's trainer lays out the model and each batch (TrainOptions::channels_last).
  if (channels_last) {
    nascent::set_channels_last(*network.module, true);
    for (Batch& batch : batches) batch.images = nascent::to_channels_last(batch.images);
  }
  const double step_ms = median(time_training_steps(network, batches, warmup, steps));

  nlohmann::ordered_json result = {
      {"arch", arch_name},
      {"images_per_s", round_to(static_cast<double>(batch_size) * 1000.0 / step_ms, 1)},
      {"step_ms_median", round_to(step_ms, 3)},
      {"params", reference_network.params},
      {"flops", reference_network.flops},
      {"threads", threads},
      {"batch", batch_size},
      {"layout", channels_last ? "channels_last" : "contiguous"}};
  if (full_loop) {
    result["loop_images_per_s"] = round_to(
        time_training_loop(network, files.train, batch_size, steps * batch_size, channels_last), 1);
  }
  std::cout << result.dump() << std::endl;

  if (!profile_path.empty()) {
    // Untimed: the profiler's own bookkeeping slows every operator down.
    torch::autograd::profiler::RecordProfile profile(profile_path);
    time_training_steps(network, batches, 0, kProfiledSteps);
  }
  return 0;
}

int run_matmul(int64_t threads) {
  nascent::set_torch_threads(threads);
  const double gflops = nascent::measure_matmul_gflops(2048);
  nlohmann::ordered_json result = {{"matmul_gflops", round_to(gflops, 2)}, {"threads", threads}};
  std::cout << result.dump() << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Training throughput of nascent's reference networks on Fashion-MNIST"};
  std::string arch_name;
  int64_t threads = 2;
  int64_t batch_size = 128;
  int64_t steps = 100;
  int64_t warmup = 30;
  std::string plan_path;
  bool matmul = false;
  bool default_allocator = false;
  std::string layout = "channels_last";
  app.add_option("--layout", layout,
                 "Memory layout of the model and batches: channels_last (what nascent trains "
                 "in by default) or contiguous (NCHW, train.channels_last: false)")
      ->check(CLI::IsMember({"channels_last", "contiguous"}));
  app.add_option("--arch", arch_name,
                 "Reference architecture: cell, classic_cnn, mobile or residual");
  app.add_option("--threads", threads, "LibTorch threads")->check(CLI::PositiveNumber);
  app.add_option("--batch", batch_size, "Images per training step")
      ->check(CLI::Range(int64_t{1}, int64_t{60000}));
  app.add_option("--steps", steps, "Timed training steps")->check(CLI::PositiveNumber);
  app.add_option("--warmup", warmup, "Untimed training steps before timing")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--plan-out", plan_path, "Write the network plan (JSON) to this file");
  app.add_flag("--matmul", matmul, "Measure 2048x2048 matmul GFLOP/s instead")->excludes("--arch");
  std::string profile_path;
  app.add_option("--profile", profile_path,
                 "After timing, record 10 more steps with LibTorch's autograd profiler and write "
                 "its trace (Chrome trace JSON) to this file; bench/profile_summary.py sums it "
                 "by operator");
  bool full_loop = false;
  app.add_flag("--full-loop", full_loop,
               "Also time nascent's whole training loop (batch preparation and augmentation "
               "included) over steps x batch images");
  app.add_flag("--default-allocator", default_allocator,
               "Leave glibc's allocator as it is (nascent itself configures it for training)");
  CLI11_PARSE(app, argc, argv);
  // As the nascent command does, unless the comparison asks for the C library's defaults.
  if (!default_allocator) nascent::configure_allocator_for_training();

  try {
    if (matmul) return run_matmul(threads);
    if (arch_name.empty()) throw nascent::Error("--arch: expected a name or --matmul, found none");
    return run_throughput(arch_name, threads, batch_size, steps, warmup, plan_path,
                          layout == "channels_last", full_loop, profile_path);
  } catch (const std::exception& error) {
    // One line: LibTorch errors carry a multi-line C++ trace after the first line.
    std::string message = error.what();
    message = message.substr(0, message.find('\n'));
    std::cerr << "nascent_bench_throughput: error: " << message << "\n";
    return 1;
  }
}
