#pragma once

/// Zero-cost proxies: scores of an untrained network, computed at initialisation from one
/// minibatch (or from no data at all), that are meant to rank architectures like their trained
/// accuracy would. Each follows its paper; see docs/proxies.md. Includes torch/torch.h.

#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "nascent/eval/proxy_names.h"
#include "nascent/nn/build_network.h"
#include "nascent/nn/network_family.h"
#include "nascent/nn/network_plan.h"

namespace nascent {

/// grad_norm (Abdelfattah et al. 2021): the sum over the weights of convolutions and linear
/// layers (parameters with >= 2 dimensions) of the L2 norm of the cross-entropy gradient.
/// `images` [N, C, H, W] float, `labels` [N] int64. The network is left with gradients.
double grad_norm_score(BuiltNetwork& network, const torch::Tensor& images,
                       const torch::Tensor& labels);

/// snip (Lee et al. 2019, as in Abdelfattah et al. 2021): sum over the same weights of
/// |weight * d loss / d weight|, the saliency of removing each connection.
double snip_score(BuiltNetwork& network, const torch::Tensor& images, const torch::Tensor& labels);

/// fisher (Turner et al. 2020, as in Abdelfattah et al. 2021): for the output z of every
/// convolution and linear layer, per example n and channel c, s_nc = sum over positions of
/// z * d loss / d z; the score sums 0.5 * mean_n(s_nc^2) over channels and layers.
double fisher_score(BuiltNetwork& network, const torch::Tensor& images,
                    const torch::Tensor& labels);

/// synflow (Tanaka et al. 2020): with every parameter replaced by its absolute value, in
/// double precision, R = sum of the network's output for one all-ones input of
/// `input_shape` [C, H, W]; the score sums weight * dR/dweight over the weights of convolutions
/// and linear layers. BatchNorm is taken out as in Abdelfattah et al. 2021 (made the identity:
/// evaluation mode, zero mean, unit variance, unit scale, zero shift), and dropout is off.
/// Changes the network's parameters; use a fresh network.
double synflow_score(BuiltNetwork& network, const std::vector<int64_t>& input_shape);

/// jacob_cov (Mellor et al. 2020, version 1, as in Abdelfattah et al. 2021): the Jacobian
/// rows J_n = d (sum of outputs of n) / d input n, their correlation matrix Σ [N, N] and its
/// eigenvalues λ; the score is -sum(log(λ + k) + 1 / (λ + k)) with k = 1e-5. NaN when an
/// input's Jacobian is constant (its correlation is undefined).
double jacob_cov_score(BuiltNetwork& network, const torch::Tensor& images);

/// NASWOT (Mellor et al. 2021): the binary code of each example (1 where an activation's
/// output is positive, i.e. where a ReLU's input is; over every activation of the network),
/// the kernel K = C C^T + (1 - C)(1 - C)^T of codes C [N, units], and log |det K|.
double naswot_score(BuiltNetwork& network, const torch::Tensor& images);

/// log |det K| of the NASWOT kernel of binary codes [N, units] (values 0 or 1); -inf when K is
/// singular (two examples share a code).
double naswot_log_determinant(const torch::Tensor& codes);

/// Inputs of score_proxies(): the architecture, how to build it and the minibatch.
struct ProxyInputs {
  NetworkFamily family;
  ImageShape input;
  int64_t num_classes = 0;
  /// A normalised minibatch of training images [N, C, H, W] and their labels [N].
  torch::Tensor images;
  torch::Tensor labels;
  /// Seed of the initialisation; every proxy sees the same initial weights.
  uint64_t seed = 0;
};

/// One proxy's score and the seconds it took (building the network included).
struct ProxyScore {
  double score = 0.0;
  double seconds = 0.0;
};

/// Scores `architecture` with each of `names` (data-based proxies and synflow; params and
/// flops come from the ArchitectureCheck, not from here). Each proxy gets a freshly built
/// network initialised from `inputs.seed`.
std::map<std::string, ProxyScore> score_proxies(const Architecture& architecture,
                                                const ProxyInputs& inputs,
                                                const std::vector<std::string>& names);

}  // namespace nascent
