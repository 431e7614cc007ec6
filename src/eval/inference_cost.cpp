#include "nascent/eval/inference_cost.h"

#include <c10/core/CPUAllocator.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "nascent/nn/build_network.h"

namespace nascent {

namespace {

/// Wraps LibTorch's CPU allocator and counts the bytes it holds, and their peak. Installed
/// only around one forward pass; blocks it hands out may be freed later, so it lives for the
/// whole process. LibTorch requires a CPU block's context to be its data pointer (for
/// raw_allocate), so the wrapped allocation is kept in a map keyed by that pointer.
class CountingAllocator final : public c10::Allocator {
 public:
  static CountingAllocator& instance() {
    static CountingAllocator allocator;
    return allocator;
  }

  void install() {
    base_ = c10::GetCPUAllocator();
    current_ = 0;
    peak_ = 0;
    c10::SetCPUAllocator(this, /*priority=*/0);
  }
  void uninstall() { c10::SetCPUAllocator(base_, /*priority=*/0); }
  int64_t peak() const { return peak_; }

  c10::DataPtr allocate(size_t bytes) const override {
    c10::DataPtr inner = base_->allocate(bytes);
    void* data = inner.get();
    {
      std::lock_guard<std::mutex> lock(mutex_);
      current_ += static_cast<int64_t>(bytes);
      peak_ = std::max(peak_, current_);
      blocks_.emplace(data, Block{std::move(inner), static_cast<int64_t>(bytes)});
    }
    return {data, data, &release, c10::Device(c10::DeviceType::CPU)};
  }

  c10::DeleterFnPtr raw_deleter() const override { return &release; }

 private:
  struct Block {
    c10::DataPtr inner;
    int64_t bytes;
  };

  static void release(void* data) {
    CountingAllocator& self = instance();
    c10::DataPtr inner;
    {
      std::lock_guard<std::mutex> lock(self.mutex_);
      const auto found = self.blocks_.find(data);
      if (found == self.blocks_.end()) return;
      self.current_ -= found->second.bytes;
      inner = std::move(found->second.inner);
      self.blocks_.erase(found);
    }
    // `inner` goes out of scope here and frees the memory through the wrapped allocator.
  }

  c10::Allocator* base_ = nullptr;
  mutable std::mutex mutex_;
  mutable int64_t current_ = 0;
  mutable int64_t peak_ = 0;
  mutable std::unordered_map<void*, Block> blocks_;
};

double median_forward_ms(const BuiltNetwork& network, const torch::Tensor& input, int64_t warmup,
                         int64_t repeats) {
  for (int64_t i = 0; i < warmup; ++i) network.forward(input);
  std::vector<double> times;
  for (int64_t i = 0; i < repeats; ++i) {
    const auto start = std::chrono::steady_clock::now();
    network.forward(input);
    times.push_back(
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
            .count());
  }
  std::nth_element(times.begin(), times.begin() + repeats / 2, times.end());
  return times[static_cast<size_t>(repeats / 2)];
}

}  // namespace

InferenceCost measure_inference_cost(const NetworkFamily& family, const Architecture& architecture,
                                     const ImageShape& input, int64_t num_classes,
                                     const InferenceCostOptions& options) {
  InferenceCost cost{std::nan(""), std::nan(""), std::nan("")};
  const BuiltNetwork network = build_network(family, architecture, input, num_classes);
  network.module->eval();
  torch::InferenceMode inference;
  const torch::Tensor single = torch::randn({1, input.channels, input.height, input.width});

  if (options.memory) {
    int64_t weight_bytes = 0;
    for (const auto& tensor : network.module->parameters()) weight_bytes += tensor.nbytes();
    for (const auto& tensor : network.module->buffers()) weight_bytes += tensor.nbytes();
    network.forward(single);  // first-use allocations of the libraries happen outside the count
    CountingAllocator& counter = CountingAllocator::instance();
    counter.install();
    try {
      network.forward(single);
    } catch (...) {
      counter.uninstall();
      throw;
    }
    counter.uninstall();
    cost.memory_mb = static_cast<double>(weight_bytes + counter.peak()) / 1e6;
  }
  if (options.latency) {
    cost.latency_ms = median_forward_ms(network, single, options.warmup, options.repeats);
  }
  if (options.batch_latency) {
    const torch::Tensor batch =
        torch::randn({options.batch_size, input.channels, input.height, input.width});
    cost.batch_latency_ms = median_forward_ms(network, batch, options.warmup, options.repeats);
  }
  return cost;
}

}  // namespace nascent
