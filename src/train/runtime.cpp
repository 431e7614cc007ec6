#include "nascent/train/runtime.h"

#include <torch/torch.h>

#include <chrono>

namespace nascent {

void set_torch_threads(int64_t threads) {
  torch::set_num_threads(static_cast<int>(threads));
  // Inter-op threads can only be set once per process, before any parallel work.
  static const bool interop_set = [] {
    try {
      torch::set_num_interop_threads(1);
    } catch (const c10::Error&) {
    }
    return true;
  }();
  (void)interop_set;
}

double measure_matmul_gflops(int64_t n, int64_t repeats) {
  torch::NoGradGuard no_grad;
  const torch::Tensor a = torch::randn({n, n});
  const torch::Tensor b = torch::randn({n, n});
  torch::Tensor c = torch::mm(a, b);  // warm-up: thread pools, page faults

  double best_seconds = 1e30;
  for (int64_t i = 0; i < repeats; ++i) {
    const auto start = std::chrono::steady_clock::now();
    c = torch::mm(a, b);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    best_seconds = std::min(best_seconds, seconds);
  }
  const double flops =
      2.0 * static_cast<double>(n) * static_cast<double>(n) * static_cast<double>(n);
  return flops / best_seconds / 1e9;
}

}  // namespace nascent
