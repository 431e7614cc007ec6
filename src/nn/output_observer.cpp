#include "nascent/nn/output_observer.h"

namespace nascent {

namespace {

thread_local OutputObserver current_observer;

bool is_linear(const torch::nn::Module& module) {
  return dynamic_cast<const torch::nn::Conv2dImpl*>(&module) != nullptr ||
         dynamic_cast<const torch::nn::LinearImpl*>(&module) != nullptr;
}

bool is_activation(const torch::nn::Module& module) {
  return dynamic_cast<const torch::nn::ReLUImpl*>(&module) != nullptr ||
         dynamic_cast<const torch::nn::ReLU6Impl*>(&module) != nullptr ||
         dynamic_cast<const torch::nn::GELUImpl*>(&module) != nullptr ||
         dynamic_cast<const torch::nn::SiLUImpl*>(&module) != nullptr ||
         dynamic_cast<const torch::nn::ELUImpl*>(&module) != nullptr ||
         dynamic_cast<const torch::nn::TanhImpl*>(&module) != nullptr ||
         dynamic_cast<const torch::nn::SigmoidImpl*>(&module) != nullptr;
}

}  // namespace

ScopedOutputObserver::ScopedOutputObserver(OutputObserver observer)
    : previous_(std::move(current_observer)) {
  current_observer = std::move(observer);
}

ScopedOutputObserver::~ScopedOutputObserver() { current_observer = std::move(previous_); }

bool output_observer_installed() { return static_cast<bool>(current_observer); }

torch::Tensor forward_observed(torch::nn::Sequential& sequence, const torch::Tensor& input) {
  if (!current_observer) return sequence->forward(input);

  torch::Tensor output = input;
  for (auto& module : *sequence) {
    output = module.forward(output);
    const torch::nn::Module& layer = *module.ptr();
    if (is_linear(layer)) {
      current_observer(ObservedLayer::kLinear, output);
    } else if (is_activation(layer)) {
      current_observer(ObservedLayer::kActivation, output);
    }
  }
  return output;
}

}  // namespace nascent
