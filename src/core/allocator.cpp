#include "nascent/core/allocator.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace nascent {

bool configure_allocator_for_training(const AllocatorSettings& settings) {
#if defined(__GLIBC__)
  // Setting either threshold also turns off glibc's dynamic adjustment of both.
  const bool mmap_set = mallopt(M_MMAP_THRESHOLD, static_cast<int>(settings.mmap_threshold_bytes));
  const bool trim_set = mallopt(M_TRIM_THRESHOLD, static_cast<int>(settings.trim_threshold_bytes));
  return mmap_set && trim_set;
#else
  (void)settings;
  return false;
#endif
}

}  // namespace nascent
