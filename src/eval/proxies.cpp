#include "nascent/eval/proxies.h"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <limits>

#include "nascent/core/error.h"
#include "nascent/nn/batch_norm.h"
#include "nascent/nn/output_observer.h"

namespace nascent {

namespace {

namespace functional = torch::nn::functional;

/// The weights the proxies sum over: those of convolutions and linear layers. They are exactly
/// the parameters with at least two dimensions (BatchNorm scales and biases have one).
std::vector<torch::Tensor> layer_weights(torch::nn::Module& module) {
  std::vector<torch::Tensor> weights;
  for (const auto& parameter : module.parameters()) {
    if (parameter.dim() >= 2) weights.push_back(parameter);
  }
  return weights;
}

/// Cross-entropy of a fresh forward pass in training mode, back-propagated.
void backward_cross_entropy(BuiltNetwork& network, const torch::Tensor& images,
                            const torch::Tensor& labels) {
  network.module->train();
  network.module->zero_grad();
  const torch::Tensor logits = network.forward(images);  // [N, classes]
  functional::cross_entropy(logits, labels).backward();
}

double gradient_or_zero_sum(const torch::Tensor& weight,
                            const std::function<torch::Tensor(const torch::Tensor&)>& term) {
  // A weight the loss does not reach (e.g. behind a zeroed path) has no gradient: it adds 0.
  if (!weight.grad().defined()) return 0.0;
  return term(weight.grad()).item<double>();
}

}  // namespace

double grad_norm_score(BuiltNetwork& network, const torch::Tensor& images,
                       const torch::Tensor& labels) {
  backward_cross_entropy(network, images, labels);
  double score = 0.0;
  for (const auto& weight : layer_weights(*network.module)) {
    score += gradient_or_zero_sum(weight, [](const torch::Tensor& grad) { return grad.norm(); });
  }
  return score;
}

double snip_score(BuiltNetwork& network, const torch::Tensor& images, const torch::Tensor& labels) {
  backward_cross_entropy(network, images, labels);
  double score = 0.0;
  for (const auto& weight : layer_weights(*network.module)) {
    score += gradient_or_zero_sum(
        weight, [&](const torch::Tensor& grad) { return (weight.detach() * grad).abs().sum(); });
  }
  return score;
}

double fisher_score(BuiltNetwork& network, const torch::Tensor& images,
                    const torch::Tensor& labels) {
  // Keep every convolution's and linear layer's output, with its gradient.
  std::vector<torch::Tensor> outputs;
  {
    const ScopedOutputObserver observer([&](ObservedLayer layer, const torch::Tensor& output) {
      if (layer != ObservedLayer::kLinear || !output.requires_grad()) return;
      output.retain_grad();
      outputs.push_back(output);
    });
    backward_cross_entropy(network, images, labels);
  }

  double score = 0.0;
  for (const auto& output : outputs) {
    if (!output.grad().defined()) continue;
    torch::Tensor per_channel = output.detach() * output.grad();  // [N, C, H, W] or [N, F]
    if (per_channel.dim() > 2) per_channel = per_channel.flatten(2).sum(2);  // [N, C]
    score += (0.5 * per_channel.pow(2).mean(0)).sum().item<double>();
  }
  return score;
}

double synflow_score(BuiltNetwork& network, const std::vector<int64_t>& input_shape) {
  torch::nn::Module& module = *network.module;
  module.to(torch::kDouble);
  module.eval();  // BatchNorm from its buffers (made the identity below), no dropout
  {
    torch::NoGradGuard no_grad;
    for (const auto& child : module.modules(/*include_self=*/true)) {
      // (x - 0) / sqrt((1 - eps) + eps) * 1 + 0 = x.
      const auto make_identity = [](auto& batch_norm) {
        batch_norm.running_mean.zero_();
        batch_norm.running_var.fill_(1.0 - batch_norm.options.eps());
        if (batch_norm.weight.defined()) batch_norm.weight.fill_(1.0);
        if (batch_norm.bias.defined()) batch_norm.bias.zero_();
      };
      if (auto* fast = dynamic_cast<FastBatchNorm2dImpl*>(child.get())) make_identity(*fast);
      if (auto* plain = dynamic_cast<torch::nn::BatchNorm2dImpl*>(child.get())) {
        make_identity(*plain);
      }
    }
    for (auto& parameter : module.parameters()) parameter.abs_();
  }

  std::vector<int64_t> shape = {1};
  shape.insert(shape.end(), input_shape.begin(), input_shape.end());
  module.zero_grad();
  const torch::Tensor ones = torch::ones(shape, torch::kDouble);  // [1, C, H, W]
  network.forward(ones).sum().backward();

  double score = 0.0;
  for (const auto& weight : layer_weights(module)) {
    score += gradient_or_zero_sum(
        weight, [&](const torch::Tensor& grad) { return (weight.detach() * grad).abs().sum(); });
  }
  return score;
}

double jacob_cov_score(BuiltNetwork& network, const torch::Tensor& images) {
  network.module->train();
  network.module->zero_grad();
  const torch::Tensor inputs = images.detach().clone().requires_grad_(true);  // [N, C, H, W]
  const torch::Tensor outputs = network.forward(inputs);                      // [N, classes]
  outputs.backward(torch::ones_like(outputs));
  // A network whose output does not depend on its input (a cell with no path from input to
  // output) never gives the input a gradient: its Jacobian is zero, scored as one with a zero row.
  if (!inputs.grad().defined()) return std::numeric_limits<double>::quiet_NaN();
  const torch::Tensor jacobians = inputs.grad().flatten(1).to(torch::kDouble);  // [N, C*H*W]

  // Correlation of the rows, then its eigenvalues (symmetric, so real).
  const torch::Tensor centred = jacobians - jacobians.mean(1, /*keepdim=*/true);
  const torch::Tensor covariance = centred.matmul(centred.t());  // [N, N]
  const torch::Tensor deviation = covariance.diagonal().sqrt();  // [N]
  if ((deviation == 0).any().item<bool>()) return std::numeric_limits<double>::quiet_NaN();
  const torch::Tensor correlation = covariance / deviation.outer(deviation);
  const torch::Tensor eigenvalues = torch::linalg::eigvalsh(correlation, "L");  // [N]
  constexpr double k = 1e-5;
  return -(torch::log(eigenvalues + k) + 1.0 / (eigenvalues + k)).sum().item<double>();
}

double naswot_log_determinant(const torch::Tensor& codes) {
  const torch::Tensor active = codes.to(torch::kDouble);  // [N, units]
  const torch::Tensor inactive = 1.0 - active;
  // K[i, j] = units where examples i and j agree = units - Hamming distance of their codes.
  const torch::Tensor kernel = active.matmul(active.t()) + inactive.matmul(inactive.t());
  const auto [sign, log_abs_determinant] = torch::linalg::slogdet(kernel);
  if (sign.item<double>() == 0.0) return -std::numeric_limits<double>::infinity();
  return log_abs_determinant.item<double>();
}

double naswot_score(BuiltNetwork& network, const torch::Tensor& images) {
  network.module->train();
  torch::NoGradGuard no_grad;
  std::vector<torch::Tensor> codes;
  {
    const ScopedOutputObserver observer([&](ObservedLayer layer, const torch::Tensor& output) {
      if (layer == ObservedLayer::kActivation) codes.push_back((output > 0).flatten(1));
    });
    network.forward(images);
  }
  if (codes.empty()) {
    throw Error(
        "naswot: expected a network with at least one activation, found none (it needs the "
        "activations' binary codes)");
  }
  return naswot_log_determinant(torch::cat(codes, 1));  // [N, units]
}

std::map<std::string, ProxyScore> score_proxies(const Architecture& architecture,
                                                const ProxyInputs& inputs,
                                                const std::vector<std::string>& names) {
  std::map<std::string, ProxyScore> scores;
  for (const auto& name : names) {
    check_proxy_name(name, "score_proxies");
    if (name == "params" || name == "flops") {
      throw Error(fmt::format(
          "score_proxies: expected a proxy computed on the network, found '{}', which the "
          "architecture check counts",
          name));
    }

    const auto start = std::chrono::steady_clock::now();
    torch::manual_seed(inputs.seed);
    BuiltNetwork network =
        build_network(inputs.family, architecture, inputs.input, inputs.num_classes);
    double score = 0.0;
    if (name == "grad_norm") score = grad_norm_score(network, inputs.images, inputs.labels);
    if (name == "snip") score = snip_score(network, inputs.images, inputs.labels);
    if (name == "fisher") score = fisher_score(network, inputs.images, inputs.labels);
    if (name == "synflow") {
      score =
          synflow_score(network, {inputs.input.channels, inputs.input.height, inputs.input.width});
    }
    if (name == "jacob_cov") score = jacob_cov_score(network, inputs.images);
    if (name == "naswot") score = naswot_score(network, inputs.images);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    scores[name] = {score, seconds};
  }
  return scores;
}

}  // namespace nascent
