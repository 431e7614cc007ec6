#include "nascent/eval/proxies.h"

#include <gtest/gtest.h>

#include <cmath>

#include "error_expectations.h"
#include "nascent/nn/output_observer.h"
#include "nascent/space/macro_space.h"
#include "nascent/space/nasbench201.h"

namespace nascent {
namespace {

namespace nn = torch::nn;
using testing_support::error_message;

// Reference values come from tests/eval/torch/proxies_reference.py, which computes each proxy
// from its formula in PyTorch (double precision) on the same network and batch.

/// 0.8 sin(0.7 k + phase) for k = 0..count-1: weights and inputs both sides can write down.
torch::Tensor wave(int64_t count, double phase) {
  return 0.8 * torch::sin(torch::arange(count, torch::kDouble) * 0.7 + phase);
}

/// x [N, 5] -> Linear(5, 4) -> ReLU -> Linear(4, 2), in double precision.
BuiltNetwork tiny_network(bool bias = true) {
  nn::Sequential sequence(nn::Linear(nn::LinearOptions(5, 4).bias(bias)), nn::ReLU(),
                          nn::Linear(nn::LinearOptions(4, 2).bias(bias)));
  sequence->to(torch::kDouble);
  auto first = sequence->ptr<nn::LinearImpl>(0);
  auto second = sequence->ptr<nn::LinearImpl>(2);
  {
    torch::NoGradGuard no_grad;
    first->weight.copy_(wave(20, 0.3).reshape({4, 5}));
    second->weight.copy_(wave(8, 2.0).reshape({2, 4}));
    if (bias) {
      first->bias.copy_(wave(4, 1.1) * 0.2);
      second->bias.copy_(wave(2, 0.5) * 0.1);
    }
  }
  BuiltNetwork network;
  network.module = sequence.ptr();
  network.forward = [sequence](const torch::Tensor& input) mutable {
    return forward_observed(sequence, input);
  };
  return network;
}

torch::Tensor tiny_images() { return (wave(30, 0.9) * 2.0).reshape({6, 5}); }  // [6, 5]
torch::Tensor tiny_labels() { return torch::tensor({0, 1, 1, 0, 1, 0}, torch::kInt64); }
/// Rows 0, 1 and 3: their ReLU codes differ, so the NASWOT kernel is regular.
torch::Tensor three_images() {
  return tiny_images().index_select(0, torch::tensor({0, 1, 3}, torch::kInt64));
}

TEST(ProxyTest, DataProxiesMatchAnIndependentComputation) {
  BuiltNetwork network = tiny_network();
  EXPECT_NEAR(grad_norm_score(network, tiny_images(), tiny_labels()), 2.02982750794, 1e-9);
  network = tiny_network();
  EXPECT_NEAR(snip_score(network, tiny_images(), tiny_labels()), 2.18404463343, 1e-9);
  network = tiny_network();
  EXPECT_NEAR(fisher_score(network, tiny_images(), tiny_labels()), 0.0307296360132, 1e-11);
  network = tiny_network();
  EXPECT_NEAR(jacob_cov_score(network, three_images()), -100050.178047, 1e-3);
}

TEST(ProxyTest, SynflowMatchesAnIndependentComputation) {
  BuiltNetwork network = tiny_network();
  EXPECT_NEAR(synflow_score(network, {5}), 19.3627568343, 1e-9);
}

// Without biases, R = 1^T |W2| |W1| 1 is linear in each layer's weights, so
// sum(W * dR/dW) = R for each of the two layers: synflow = 2 R.
TEST(ProxyTest, SynflowOfABiasFreeTwoLayerNetIsTwiceThePathSum) {
  BuiltNetwork network = tiny_network(/*bias=*/false);
  const torch::Tensor first = wave(20, 0.3).reshape({4, 5}).abs();
  const torch::Tensor second = wave(8, 2.0).reshape({2, 4}).abs();
  const double path_sum = second.matmul(first).sum().item<double>();
  EXPECT_NEAR(synflow_score(network, {5}), 2.0 * path_sum, 1e-12);
}

// BatchNorm is taken out, so inserting one (with any statistics) does not change the score.
TEST(ProxyTest, SynflowIgnoresBatchNorm) {
  const auto make = [](bool batch_norm) {
    nn::Sequential sequence;
    sequence->push_back(nn::Conv2d(nn::Conv2dOptions(1, 3, 3).padding(1).bias(false)));
    if (batch_norm) sequence->push_back(nn::BatchNorm2d(3));
    sequence->push_back(nn::ReLU());
    sequence->push_back(nn::Conv2d(nn::Conv2dOptions(3, 2, 1).bias(false)));
    torch::manual_seed(5);
    for (auto& parameter : sequence->parameters()) {
      torch::NoGradGuard no_grad;
      if (parameter.dim() >= 2) parameter.copy_(torch::randn(parameter.sizes()));
    }
    if (batch_norm) {
      auto norm = std::dynamic_pointer_cast<nn::BatchNorm2dImpl>(sequence->ptr(1));
      norm->running_mean.fill_(3.0);
      norm->running_var.fill_(0.1);
    }
    BuiltNetwork network;
    network.module = sequence.ptr();
    network.forward = [sequence](const torch::Tensor& input) mutable {
      return forward_observed(sequence, input);
    };
    return network;
  };
  BuiltNetwork with_norm = make(true);
  BuiltNetwork without_norm = make(false);
  const double score = synflow_score(without_norm, {1, 4, 4});
  EXPECT_GT(score, 0.0);
  EXPECT_NEAR(synflow_score(with_norm, {1, 4, 4}), score, 1e-9 * score);
}

// Codes 1010, 0101, 1101 (the network's, and the reference's): K = [[4, 0, 1], [0, 4, 3],
// [1, 3, 4]], det K = 4 (16 - 9) + 1 (0 - 4) = 24.
TEST(ProxyTest, NaswotKernelOfHandMadeCodes) {
  const torch::Tensor codes = torch::tensor({1, 0, 1, 0, 0, 1, 0, 1, 1, 1, 0, 1}).reshape({3, 4});
  EXPECT_NEAR(naswot_log_determinant(codes), std::log(24.0), 1e-12);
  BuiltNetwork network = tiny_network();
  EXPECT_NEAR(naswot_score(network, three_images()), std::log(24.0), 1e-12);

  // Two examples with the same code make K singular.
  const torch::Tensor repeated = torch::tensor({1, 0, 1, 0, 1, 0}).reshape({3, 2});
  EXPECT_EQ(naswot_log_determinant(repeated), -std::numeric_limits<double>::infinity());
}

TEST(ProxyTest, MacroArchitectureScoresAreFiniteAndRepeatable) {
  const SearchSpace space = make_macro_space({});
  Rng rng(3);
  ProxyInputs inputs;
  inputs.input = {1, 12, 12};
  inputs.num_classes = 3;
  torch::manual_seed(0);
  inputs.images = torch::randn({8, 1, 12, 12});
  inputs.labels = torch::randint(0, 3, {8}, torch::kInt64);
  inputs.seed = 17;
  const std::vector<std::string> names = {"grad_norm", "snip",      "fisher",
                                          "synflow",   "jacob_cov", "naswot"};
  int64_t scored = 0;
  for (int attempt = 0; attempt < 50 && scored < 2; ++attempt) {
    const Architecture architecture = space.sample(rng);
    try {
      plan_network(architecture, inputs.input, inputs.num_classes);
    } catch (const InvalidArchitecture&) {
      continue;
    }
    const auto first = score_proxies(architecture, inputs, names);
    const auto second = score_proxies(architecture, inputs, names);
    for (const auto& name : names) {
      EXPECT_TRUE(std::isfinite(first.at(name).score)) << name << " " << architecture.to_string();
      EXPECT_EQ(first.at(name).score, second.at(name).score) << name;
      EXPECT_GE(first.at(name).seconds, 0.0);
    }
    ++scored;
  }
  EXPECT_EQ(scored, 2);
}

TEST(ProxyTest, ACellWhoseOutputIgnoresItsInputIsScoredNotAnError) {
  // Every edge into the output node is "none": the logits come from the head's bias alone.
  const Architecture architecture = make_nasbench201_space().parse(
      "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|none~0|none~1|none~2|");
  ProxyInputs inputs;
  inputs.family.family = "nasbench201";
  inputs.family.cell = CellNetworkOptions{1, 4};
  inputs.input = {1, 12, 12};
  inputs.num_classes = 3;
  torch::manual_seed(0);
  inputs.images = torch::randn({8, 1, 12, 12});
  inputs.labels = torch::randint(0, 3, {8}, torch::kInt64);

  const auto scores = score_proxies(architecture, inputs, {"jacob_cov", "grad_norm", "naswot"});
  // A zero Jacobian has no correlation: not a number, as for any network with a zero row.
  EXPECT_TRUE(std::isnan(scores.at("jacob_cov").score));
  EXPECT_FALSE(std::isnan(scores.at("grad_norm").score));
}

TEST(ProxyTest, UnknownProxyNamesAreRefusedWithASuggestion) {
  EXPECT_EQ(error_message([] { check_proxy_name("synflw", "proxy.name"); }),
            "proxy.name: expected a proxy, one of params, flops, grad_norm, snip, fisher, "
            "synflow, jacob_cov or naswot, found 'synflw' (did you mean 'synflow'?)");
}

}  // namespace
}  // namespace nascent
