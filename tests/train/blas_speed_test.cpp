#include <gtest/gtest.h>

#include "nascent/train/runtime.h"

namespace nascent {
namespace {

// LibTorch reaches ~4 GFLOP/s with Debian's reference BLAS and ~165 GFLOP/s with OpenBLAS on
// a 2-core machine; the set-up script must have installed and selected the fast one.
TEST(BlasSpeedTest, MatmulRunsOnAFastBlas) {
  set_torch_threads(2);
  const double gflops = measure_matmul_gflops(2048, 3);
  RecordProperty("matmul_gflops", std::to_string(gflops));
  EXPECT_GT(gflops, 20.0) << "LibTorch multiplies 2048x2048 matrices at only " << gflops
                          << " GFLOP/s: run scripts/setup.sh to install libopenblas0-openmp";
}

}  // namespace
}  // namespace nascent
