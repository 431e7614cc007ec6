#pragma once

/// Inference latency and peak memory of an architecture, measured on this machine. The
/// network is built with fresh weights: the time and memory of a forward pass do not depend
/// on the weights' values. Torch-free header.

#include <cstdint>

#include "nascent/nn/network_family.h"
#include "nascent/nn/network_plan.h"
#include "nascent/space/architecture.h"

namespace nascent {

/// What to measure.
struct InferenceCostOptions {
  bool latency = true;
  bool batch_latency = false;
  bool memory = false;
  /// Batch of the batch latency.
  int64_t batch_size = 32;
  /// Untimed forward passes before timing.
  int64_t warmup = 5;
  /// Timed forward passes; the median is kept.
  int64_t repeats = 20;
};

/// The measurements; NaN for what was not asked.
struct InferenceCost {
  /// Median time of a batch-1 forward pass in inference mode, in milliseconds.
  double latency_ms = 0.0;
  /// Median time of a forward pass of `batch_size` images, in milliseconds.
  double batch_latency_ms = 0.0;
  /// Peak memory of a batch-1 inference in megabytes (10^6 bytes): the parameters and buffers
  /// plus the largest amount of tensor memory LibTorch's CPU allocator held during one forward
  /// pass (counted by wrapping the allocator; memory libraries allocate on their own, such as
  /// oneDNN scratch space, is not seen).
  double memory_mb = 0.0;
};

/// Builds `architecture` and measures it in inference mode with the current thread count.
InferenceCost measure_inference_cost(const NetworkFamily& family, const Architecture& architecture,
                                     const ImageShape& input, int64_t num_classes,
                                     const InferenceCostOptions& options);

}  // namespace nascent
