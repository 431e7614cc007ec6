// Batch normalisation on channels-last tensors: LibTorch's kernel against nascent's
// (include/nascent/nn/batch_norm.h), for one training step (forward and backward) and for one
// evaluation forward pass, over a range of channel counts. Sets which channel counts
// FastBatchNorm2d hands to nascent's kernel (kMaxKernelChannels in src/nn/batch_norm.cpp).
//
// Usage (one JSON line per shape and mode on stdout):
//   nascent_bench_batch_norm --threads 2 --batch 128 --repeats 50 [--table]
//
// A training step is forward and backward of [batch, C, pixels, pixels]; an evaluation pass is a
// forward pass in inference mode. Each timing is the best of three runs of `repeats` calls,
// cycling through 16 copies of the tensors so that they come from memory, as in a network.

#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <functional>
#include <iostream>
#include <vector>

#include "nascent/core/allocator.h"
#include "nascent/nn/batch_norm.h"

namespace {

using Clock = std::chrono::steady_clock;

/// Distinct input tensors per shape: together larger than the caches.
constexpr int kTensorCopies = 16;

/// The best of three timings of `repeats` calls, in milliseconds per call: the best, because
/// other processes only ever make a timing slower.
double best_milliseconds(int repeats, const std::function<void()>& step) {
  // Two rounds of the tensor copies: the first calls also grow the heap to its working size.
  for (int warmup = 0; warmup < 2 * kTensorCopies; ++warmup) step();
  double best = 1e300;
  for (int round = 0; round < 3; ++round) {
    const auto start = Clock::now();
    for (int repeat = 0; repeat < repeats; ++repeat) step();
    const std::chrono::duration<double, std::milli> elapsed = Clock::now() - start;
    best = std::min(best, elapsed.count() / repeats);
  }
  return best;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Batch norm on channels-last tensors: LibTorch's kernel against nascent's"};
  int threads = 2;
  int64_t batch = 128;
  int repeats = 50;
  app.add_option("--threads", threads, "LibTorch threads")->check(CLI::PositiveNumber);
  app.add_option("--batch", batch, "Images per batch")->check(CLI::PositiveNumber);
  app.add_option("--repeats", repeats, "Calls per timing")->check(CLI::PositiveNumber);
  bool table = false;
  app.add_flag("--table", table, "Print a markdown table instead of JSON lines");
  CLI11_PARSE(app, argc, argv);

  nascent::configure_allocator_for_training();
  torch::set_num_threads(threads);
  torch::manual_seed(0);

  // Channel counts and sizes as the networks meet them: the NAS-Bench-201 network's stages at
  // 28, 14 and 7 pixels, and macro-space widths.
  const std::vector<std::pair<int64_t, int64_t>> shapes = {
      {4, 28},  {8, 28},  {12, 28}, {16, 28}, {24, 28}, {32, 28}, {48, 28}, {64, 28},
      {16, 14}, {24, 14}, {32, 14}, {64, 14}, {32, 7},  {64, 7},  {128, 7}};
  if (table) {
    std::cout << "| channels | pixels | LibTorch train ms | kernel train ms | speed-up | "
                 "FastBatchNorm2d trains with | LibTorch eval ms | kernel eval ms | "
                 "FastBatchNorm2d evaluates with |\n|---:|---:|---:|---:|---:|---|---:|---:|---|"
              << std::endl;
  }
  for (const auto& [channels, size] : shapes) {
    // Several inputs, used in turn, so that each call reads its tensors from memory rather
    // than from a cache warmed by the call before, as in a network.
    std::vector<torch::Tensor> inputs;
    std::vector<torch::Tensor> output_gradients;
    for (int copy = 0; copy < kTensorCopies; ++copy) {
      inputs.push_back(torch::randn({batch, channels, size, size})
                           .contiguous(torch::MemoryFormat::ChannelsLast)
                           .requires_grad_(true));
      output_gradients.push_back(
          torch::randn_like(inputs.back()).contiguous(torch::MemoryFormat::ChannelsLast));
    }
    size_t call = 0;
    torch::nn::BatchNorm2d libtorch_norm(channels);
    nascent::FastBatchNorm2d nascent_norm(channels);
    // LibTorch's module; nascent's kernel called directly, whatever FastBatchNorm2d would
    // choose; and which of the two FastBatchNorm2d uses.
    libtorch_norm->train();
    nascent_norm->train();
    const double libtorch_train = best_milliseconds(repeats, [&] {
      const size_t which = call++ % inputs.size();
      inputs[which].mutable_grad() = torch::Tensor();
      libtorch_norm->forward(inputs[which]).backward(output_gradients[which]);
    });
    const double kernel_train = best_milliseconds(repeats, [&] {
      const size_t which = call++ % inputs.size();
      inputs[which].mutable_grad() = torch::Tensor();
      nascent::batch_norm_train_channels_last(inputs[which], nascent_norm->weight,
                                              nascent_norm->bias, nascent_norm->running_mean,
                                              nascent_norm->running_var, 0.1, 1e-5)
          .backward(output_gradients[which]);
    });
    const bool kernel_in_training = nascent::batch_norm_kernel_applies(*nascent_norm, inputs[0]);

    libtorch_norm->eval();
    nascent_norm->eval();
    torch::InferenceMode inference;
    const double libtorch_eval =
        best_milliseconds(repeats, [&] { libtorch_norm->forward(inputs[call++ % inputs.size()]); });
    const double kernel_eval = best_milliseconds(repeats, [&] {
      nascent::batch_norm_eval_channels_last(inputs[call++ % inputs.size()], nascent_norm->weight,
                                             nascent_norm->bias, nascent_norm->running_mean,
                                             nascent_norm->running_var, 1e-5);
    });
    const bool kernel_in_evaluation = nascent::batch_norm_kernel_applies(*nascent_norm, inputs[0]);

    if (table) {
      const auto used = [](bool kernel) { return kernel ? "nascent" : "LibTorch"; };
      std::cout << fmt::format("| {} | {} | {:.2f} | {:.2f} | {:.1f} | {} | {:.3f} | {:.3f} | {} |",
                               channels, size, libtorch_train, kernel_train,
                               libtorch_train / kernel_train, used(kernel_in_training),
                               libtorch_eval, kernel_eval, used(kernel_in_evaluation))
                << std::endl;
      continue;
    }
    std::cout << nlohmann::json{{"channels", channels},
                                {"size", size},
                                {"batch", batch},
                                {"threads", threads},
                                {"libtorch_train_ms", libtorch_train},
                                {"kernel_train_ms", kernel_train},
                                {"kernel_in_training", kernel_in_training},
                                {"libtorch_eval_ms", libtorch_eval},
                                {"kernel_eval_ms", kernel_eval},
                                {"kernel_in_evaluation", kernel_in_evaluation}}
                     .dump()
              << std::endl;
  }
  return 0;
}
