#pragma once

/// Observing the outputs of layers inside a network's forward pass. LibTorch's C++ modules have
/// no forward hooks, so the networks run their Sequential parts through forward_observed(),
/// which reports layer outputs to an observer when one is installed on the calling thread and
/// is plain Sequential::forward otherwise. Zero-cost proxies (NASWOT, fisher) use it to see
/// activations. Includes torch/torch.h.

#include <torch/torch.h>

#include <functional>

namespace nascent {

/// Which kind of layer produced an observed output.
enum class ObservedLayer {
  /// A convolution or a fully connected layer (before any normalisation or activation).
  kLinear,
  /// An element-wise activation (ReLU, ReLU6, GELU, SiLU, ELU, Tanh, Sigmoid).
  kActivation,
};

/// Receives a layer's output tensor, e.g. [N, C, H, W] after a convolution or [N, F] after a
/// fully connected layer. It may call retain_grad() on it; it must not change its values.
using OutputObserver = std::function<void(ObservedLayer, const torch::Tensor&)>;

/// Installs `observer` for forward passes on the calling thread while this object lives.
/// Scopes nest: the previous observer is restored on destruction.
class ScopedOutputObserver {
 public:
  explicit ScopedOutputObserver(OutputObserver observer);
  ~ScopedOutputObserver();
  ScopedOutputObserver(const ScopedOutputObserver&) = delete;
  ScopedOutputObserver& operator=(const ScopedOutputObserver&) = delete;

 private:
  OutputObserver previous_;
};

/// Whether an observer is installed on the calling thread. Networks that take shortcuts past
/// their Sequentials (sharing one activation between several layers) take them only when none
/// is, so that an observer sees every layer's output.
bool output_observer_installed();

/// Runs `sequence` on `input`. With an observer installed, runs it module by module and reports
/// the output of every convolution, linear layer and activation (nested Sequentials and custom
/// modules report what they run through forward_observed themselves).
torch::Tensor forward_observed(torch::nn::Sequential& sequence, const torch::Tensor& input);

}  // namespace nascent
