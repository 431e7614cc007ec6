#pragma once

/// Process-wide LibTorch settings, callable without including torch.

#include <cstdint>

namespace nascent {

/// Sets LibTorch's intra-op and inter-op thread counts.
void set_torch_threads(int64_t threads);

/// Multiplies two n x n float matrices `repeats` times after a warm-up and returns the best
/// achieved GFLOP/s. Shows whether LibTorch runs on a fast BLAS.
double measure_matmul_gflops(int64_t n = 2048, int64_t repeats = 5);

}  // namespace nascent
