#include "nascent/strategy/gaussian_process.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <vector>

#include "nascent/core/error.h"

namespace nascent {
namespace {

/// Adds points x in [0, 1] on a line (distance |x - x'|) with targets f(x).
template <typename Function>
void add_points(GaussianProcess& model, std::vector<double>& xs, const std::vector<double>& new_xs,
                Function f) {
  for (const double x : new_xs) {
    std::vector<double> distances;
    for (const double earlier : xs) distances.push_back(std::abs(x - earlier));
    model.add(distances, f(x));
    xs.push_back(x);
  }
}

GaussianProcess::Prediction predict_at(const GaussianProcess& model, const std::vector<double>& xs,
                                       double x) {
  std::vector<double> distances;
  for (const double point : xs) distances.push_back(std::abs(x - point));
  return model.predict(distances.data());
}

double smooth(double x) { return 0.9 + 0.05 * std::sin(6.0 * x); }

TEST(GaussianProcess, InterpolatesItsPointsAndIsUnsureFarFromThem) {
  GaussianProcess model({0.1, 0.3, 1.0, 3.0}, {1e-6, 1e-3, 1e-1});
  std::vector<double> xs;
  add_points(model, xs, {0.0, 0.1, 0.2, 0.3, 0.4, 0.5}, smooth);
  model.fit();
  ASSERT_TRUE(model.up_to_date());

  for (const double x : xs) {
    const auto prediction = predict_at(model, xs, x);
    EXPECT_NEAR(prediction.mean, smooth(x), 2e-3) << "at x = " << x;
    EXPECT_LT(prediction.stddev, 5e-3) << "at x = " << x;
  }
  // Between points the prediction follows the function; the further from the points, the
  // less sure it is.
  EXPECT_NEAR(predict_at(model, xs, 0.25).mean, smooth(0.25), 5e-3);
  const double between = predict_at(model, xs, 0.25).stddev;
  const double near = predict_at(model, xs, 0.6).stddev;
  const double far = predict_at(model, xs, 1.0).stddev;
  EXPECT_GT(between, 2e-3);
  EXPECT_GT(near, between);
  EXPECT_GT(far, near);
}

TEST(GaussianProcess, UpdateMatchesAFitWithTheSameHyperparameters) {
  // One pair in the grid, so fit() and update() must agree on the hyperparameters.
  GaussianProcess extended({0.5}, {1e-2});
  std::vector<double> xs;
  add_points(extended, xs, {0.05, 0.5, 0.9}, smooth);
  extended.fit();
  add_points(extended, xs, {0.3, 0.7, 0.15}, smooth);
  EXPECT_FALSE(extended.up_to_date());
  extended.update();
  ASSERT_TRUE(extended.up_to_date());

  GaussianProcess refit({0.5}, {1e-2});
  std::vector<double> same_xs;
  add_points(refit, same_xs, xs, smooth);
  refit.fit();

  for (const double x : {0.0, 0.2, 0.42, 0.8, 1.0}) {
    const auto a = predict_at(extended, xs, x);
    const auto b = predict_at(refit, same_xs, x);
    EXPECT_NEAR(a.mean, b.mean, 1e-12) << "at x = " << x;
    EXPECT_NEAR(a.stddev, b.stddev, 1e-12) << "at x = " << x;
  }
  EXPECT_NEAR(extended.log_marginal_likelihood(), refit.log_marginal_likelihood(), 1e-9);
}

TEST(GaussianProcess, MarginalLikelihoodPicksTheLengthScaleThatFitsTheData) {
  std::vector<double> grid_xs;
  for (int i = 0; i < 20; ++i) grid_xs.push_back(i / 19.0);

  // A straight line is best explained by a long length scale...
  GaussianProcess line({0.01, 10.0}, {1e-4});
  std::vector<double> xs;
  add_points(line, xs, grid_xs, [](double x) { return x; });
  line.fit();
  EXPECT_EQ(line.length_scale(), 10.0);

  // ... and values that jump between neighbours by a short one.
  GaussianProcess jumps({0.01, 10.0}, {1e-4});
  xs.clear();
  add_points(jumps, xs, grid_xs, [](double x) {
    return std::fmod(std::round(x * 19.0) * 7.0, 5.0);  // 0, 2, 4, 1, 3, 0, ...
  });
  jumps.fit();
  EXPECT_EQ(jumps.length_scale(), 0.01);
}

/// Three categorical decisions of four choices; the target depends on the first only.
struct OneDecisionMatters {
  static constexpr int kDecisions = 3;
  static double target(const std::array<int, kDecisions>& point) {
    constexpr double kValues[4] = {0.0, 1.0, 0.3, 0.7};
    return kValues[point[0]];
  }
  /// One component per decision: 1 where the choices differ (a Hamming distance).
  static std::vector<double> components(const std::array<int, kDecisions>& a,
                                        const std::array<int, kDecisions>& b) {
    std::vector<double> result;
    for (int g = 0; g < kDecisions; ++g) result.push_back(a[g] == b[g] ? 0.0 : 1.0);
    return result;
  }
};

TEST(GaussianProcess, RelevanceFindsTheDecisionThatMatters) {
  // 16 points covering every choice of each decision, in a fixed scrambled order.
  std::vector<std::array<int, 3>> points;
  for (int i = 0; i < 16; ++i) points.push_back({i % 4, (i * 3 + i / 4) % 4, (i * 5 + 2) / 3 % 4});
  const auto fitted = [&](bool relevance) {
    GaussianProcess model({0.03, 0.06, 0.125, 0.25, 0.5, 1.0, 2.0, 4.0}, {1e-4, 1e-2, 0.1, 0.5},
                          OneDecisionMatters::kDecisions, relevance);
    for (size_t i = 0; i < points.size(); ++i) {
      std::vector<double> distances;
      for (size_t j = 0; j < i; ++j) {
        const auto pair = OneDecisionMatters::components(points[i], points[j]);
        distances.insert(distances.end(), pair.begin(), pair.end());
      }
      model.add(distances, OneDecisionMatters::target(points[i]));
    }
    model.fit();
    return model;
  };
  const GaussianProcess relevance = fitted(true);
  const GaussianProcess isotropic = fitted(false);

  // The irrelevant decisions get far smaller weights, and the data are far more likely.
  const std::vector<double>& weights = relevance.weights();
  ASSERT_EQ(weights.size(), 3u);
  EXPECT_GT(weights[0], 10.0 * weights[1]);
  EXPECT_GT(weights[0], 10.0 * weights[2]);
  EXPECT_EQ(isotropic.weights()[0], isotropic.weights()[1]);
  EXPECT_GT(relevance.log_marginal_likelihood(), isotropic.log_marginal_likelihood() + 5.0);

  // So an unseen combination is predicted from the points that share its first choice.
  double relevance_error = 0.0;
  double isotropic_error = 0.0;
  int unseen = 0;
  for (int a = 0; a < 4; ++a) {
    for (int b = 0; b < 4; ++b) {
      const std::array<int, 3> point = {a, b, (a + 2 * b + 1) % 4};
      if (std::find(points.begin(), points.end(), point) != points.end()) continue;
      std::vector<double> distances;
      for (const auto& known : points) {
        const auto pair = OneDecisionMatters::components(point, known);
        distances.insert(distances.end(), pair.begin(), pair.end());
      }
      const double truth = OneDecisionMatters::target(point);
      relevance_error += std::abs(relevance.predict(distances.data()).mean - truth);
      isotropic_error += std::abs(isotropic.predict(distances.data()).mean - truth);
      ++unseen;
    }
  }
  ASSERT_GT(unseen, 8);
  EXPECT_LT(relevance_error / unseen, 0.02);
  EXPECT_GT(isotropic_error / unseen, 3.0 * relevance_error / unseen);
}

TEST(GaussianProcess, RepeatedPointsGetEnoughNoiseToFactorise) {
  // A noise ratio far below rounding error: two identical points make the matrix singular.
  GaussianProcess model({1.0}, {1e-14});
  std::vector<double> xs;
  add_points(model, xs, {0.3, 0.3, 0.6}, smooth);
  EXPECT_NO_THROW(model.fit());
  EXPECT_GT(model.noise_ratio(), 1e-14);
  const auto prediction = predict_at(model, xs, 0.45);
  EXPECT_TRUE(std::isfinite(prediction.mean));
  EXPECT_TRUE(std::isfinite(prediction.stddev));
}

TEST(GaussianProcess, RejectsMisshapenInput) {
  GaussianProcess model({1.0}, {1e-2});
  model.add({}, 0.5);
  try {
    model.add({0.1, 0.2}, 0.5);
    ADD_FAILURE() << "expected nascent::Error";
  } catch (const Error& error) {
    EXPECT_STREQ(error.what(),
                 "GaussianProcess::add: expected 1 distance components (1 per point), found 2");
  }
  EXPECT_THROW(model.add({0.1}, std::nan("")), Error);
  EXPECT_THROW(model.predict(std::vector<double>{0.1}.data()), Error);
  EXPECT_THROW(GaussianProcess({}, {1e-2}), Error);
  EXPECT_THROW(GaussianProcess({1.0}, {0.0}), Error);
  EXPECT_THROW(GaussianProcess({1.0}, {1e-2}, 0), Error);

  // With components, every earlier point needs dimensions() of them.
  GaussianProcess relevance({1.0}, {1e-2}, 3, true);
  relevance.add({}, 0.5);
  EXPECT_THROW(relevance.add({0.1}, 0.5), Error);
  EXPECT_NO_THROW(relevance.add({0.1, 0.0, 1.0}, 0.5));
}

}  // namespace
}  // namespace nascent
