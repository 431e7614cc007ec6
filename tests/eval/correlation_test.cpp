#include "nascent/eval/correlation.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "nascent/core/error.h"

namespace nascent {
namespace {

TEST(AverageRanks, TiesShareTheMeanOfTheirRanks) {
  EXPECT_EQ(average_ranks({10, 20, 20, 30}), (std::vector<double>{1, 2.5, 2.5, 4}));
  EXPECT_EQ(average_ranks({3, 1, 3, 3}), (std::vector<double>{3, 1, 3, 3}));
  const double infinity = std::numeric_limits<double>::infinity();
  EXPECT_EQ(average_ranks({0.5, -infinity, -infinity, 2}), (std::vector<double>{3, 1.5, 1.5, 4}));
}

TEST(AverageRanks, RefusesNanNamingItsPosition) {
  try {
    average_ranks({1.0, std::nan(""), 2.0});
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_STREQ(error.what(), "average_ranks: expected numbers, found NaN at position 1");
  }
}

// x = {1, 2, 2, 3}, y = {1, 3, 2, 4}. Ranks of x: {1, 2.5, 2.5, 4}, of y: {1, 3, 2, 4}; both
// have mean 2.5. Deviations {-1.5, 0, 0, 1.5} and {-1.5, 0.5, -0.5, 1.5}: covariance sum 4.5,
// squares 4.5 and 5, so rho = 4.5 / sqrt(22.5) = 0.9486833.
// Of the 6 pairs, (2, 3) is tied in x and the other 5 are concordant: tau-b = 5 / sqrt(5 * 6).
TEST(RankCorrelation, HandWorkedExampleWithATie) {
  const std::vector<double> x = {1, 2, 2, 3};
  const std::vector<double> y = {1, 3, 2, 4};
  EXPECT_NEAR(spearman_correlation(x, y), 4.5 / std::sqrt(22.5), 1e-12);
  EXPECT_NEAR(kendall_tau_b(x, y), 5.0 / std::sqrt(30.0), 1e-12);
}

// x = {1, 1, 2, 2, 3}, y = {5, 4, 4, 2, 1}: ties in both. Pairs (10): tied in x: (1,2), (3,4);
// tied in y: (2,3). Of the rest, (1,3) (1,4) (1,5) (2,4) (2,5) (3,5) (4,5) are discordant and
// none concordant, so tau-b = -7 / sqrt((10 - 2)(10 - 1)) = -7 / sqrt(72).
// Ranks x {1.5, 1.5, 3.5, 3.5, 5}, y {5, 3.5, 3.5, 2, 1}; deviations from 3:
// {-1.5, -1.5, 0.5, 0.5, 2} and {2, 0.5, 0.5, -1, -2}: covariance -3 - 0.75 + 0.25 - 0.5 - 4 =
// -8, squares 9 and 9.5, rho = -8 / sqrt(85.5).
TEST(RankCorrelation, TiesOnBothSides) {
  const std::vector<double> x = {1, 1, 2, 2, 3};
  const std::vector<double> y = {5, 4, 4, 2, 1};
  EXPECT_NEAR(kendall_tau_b(x, y), -7.0 / std::sqrt(72.0), 1e-12);
  EXPECT_NEAR(spearman_correlation(x, y), -8.0 / std::sqrt(85.5), 1e-12);
}

TEST(RankCorrelation, PerfectAndReversedOrderAndConstants) {
  const std::vector<double> x = {0.1, 0.5, 0.3, 0.9};
  const std::vector<double> same_order = {1, 7, 2, 100};
  const std::vector<double> reversed = {9, 1, 5, -3};
  EXPECT_DOUBLE_EQ(spearman_correlation(x, same_order), 1.0);
  EXPECT_DOUBLE_EQ(kendall_tau_b(x, same_order), 1.0);
  EXPECT_DOUBLE_EQ(spearman_correlation(x, reversed), -1.0);
  EXPECT_DOUBLE_EQ(kendall_tau_b(x, reversed), -1.0);
  EXPECT_TRUE(std::isnan(spearman_correlation(x, {2, 2, 2, 2})));
  EXPECT_TRUE(std::isnan(kendall_tau_b(x, {2, 2, 2, 2})));
}

TEST(RankCorrelation, RefusesListsOfDifferentLengths) {
  try {
    kendall_tau_b({1, 2, 3}, {1, 2});
    FAIL() << "expected an error";
  } catch (const Error& error) {
    EXPECT_STREQ(error.what(),
                 "kendall_tau_b: expected two lists of the same length, found 3 and 2 values");
  }
}

}  // namespace
}  // namespace nascent
