#include "nascent/core/allocator.h"

#include <gtest/gtest.h>
#include <malloc.h>

#include <cstdlib>
#include <cstring>

namespace nascent {
namespace {

/// Bytes the allocator holds in mmapped blocks right now.
size_t mmapped_bytes() { return mallinfo2().hblkhd; }

TEST(Allocator, LargeTrainingBuffersComeFromTheReusableHeap) {
  // By default glibc serves a 16 MB block with its own mmap (its threshold starts at 128 KB).
  // After configuring, the block comes from the heap, and freeing it keeps it for the next step.
  ASSERT_TRUE(configure_allocator_for_training());
  const size_t size = size_t{16} << 20;
  const size_t before = mmapped_bytes();
  void* block = std::malloc(size);
  ASSERT_NE(block, nullptr);
  std::memset(block, 1, size);
  EXPECT_EQ(mmapped_bytes(), before);
  std::free(block);

  // The freed block stays in the heap: a second one of the same size is served from it.
  const size_t arena_before = mallinfo2().arena;
  void* again = std::malloc(size);
  ASSERT_NE(again, nullptr);
  EXPECT_EQ(mallinfo2().arena, arena_before);
  EXPECT_EQ(mmapped_bytes(), before);
  std::free(again);
}

}  // namespace
}  // namespace nascent
