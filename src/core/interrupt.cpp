#include "nascent/core/interrupt.h"

#include <atomic>

namespace nascent {

namespace {

// Lock-free, so storing to it from a signal handler is safe.
std::atomic<bool> stop_flag{false};
static_assert(std::atomic<bool>::is_always_lock_free);

}  // namespace

void request_stop() { stop_flag.store(true, std::memory_order_relaxed); }

bool stop_requested() { return stop_flag.load(std::memory_order_relaxed); }

void clear_stop_request() { stop_flag.store(false, std::memory_order_relaxed); }

}  // namespace nascent
