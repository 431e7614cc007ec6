#pragma once

/// Process-wide settings of the C library's allocator for training.

#include <cstdint>

namespace nascent {

/// The thresholds set by configure_allocator_for_training().
struct AllocatorSettings {
  /// Allocations of at least this many bytes get their own mmap; smaller ones come from the heap.
  int64_t mmap_threshold_bytes = int64_t{32} << 20;
  /// Free memory at the top of the heap beyond this many bytes is returned to the system.
  int64_t trim_threshold_bytes = int64_t{256} << 20;
};

/// Keeps the activation and gradient buffers of a training step in the heap between steps.
///
/// glibc's malloc serves large blocks with fresh mmaps and trims the heap, with thresholds that
/// move with what the process freed before; a training step that frees and reallocates the same
/// multi-megabyte buffers then faults in (and zeroes) fresh pages at every step, which measured
/// 7,000 to 16,000 page faults per step and 20 to 60% of the training time on the reference
/// networks (docs/benchmarks.md). Fixed thresholds above the size of those buffers make the heap
/// reuse them. Memory stays bounded by the peak of a step. Returns false when the C library is
/// not glibc (nothing is changed then).
bool configure_allocator_for_training(const AllocatorSettings& settings = {});

}  // namespace nascent
