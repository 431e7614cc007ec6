#include "nascent/strategy/neural_ensemble.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "nascent/core/error.h"
#include "nascent/core/random.h"

namespace nascent {

namespace {

// Adam's moment decays and denominator guard, as in Kingma and Ba.
constexpr double kAdamBeta1 = 0.9;
constexpr double kAdamBeta2 = 0.999;
constexpr float kAdamEpsilon = 1e-8f;

/// y += a * x over `count` floats.
void add_scaled(float a, const float* x, float* y, int64_t count) {
  for (int64_t j = 0; j < count; ++j) y[j] += a * x[j];
}

}  // namespace

void NeuralEnsembleOptions::validate() const {
  const auto require_positive = [](int64_t value, const char* name) {
    if (value < 1) {
      throw Error(
          fmt::format("neural ensemble: {}: expected an integer >= 1, found {}", name, value));
    }
  };
  require_positive(networks, "networks");
  require_positive(hidden_layers, "hidden_layers");
  require_positive(width, "width");
  require_positive(epochs, "epochs");
  require_positive(batch_size, "batch_size");
  if (!(learning_rate > 0.0) || !std::isfinite(learning_rate)) {
    throw Error(fmt::format("neural ensemble: learning_rate: expected a number > 0, found {}",
                            learning_rate));
  }
}

/// One multilayer perceptron: `hidden_layers` ReLU layers of `width` units and a linear output,
/// trained by minibatch Adam on the mean absolute error.
///
/// Layer k (0 <= k <= hidden_layers) maps its input (the network's input for k = 0, hidden
/// activation k otherwise) to hidden activation k + 1, or to the output for the last layer. Its
/// weights are stored input-major, [in, out], so that one input's contribution to every output
/// is one contiguous run.
class NeuralEnsemble::Network {
 public:
  Network(int64_t input_width, const NeuralEnsembleOptions& options, uint64_t seed)
      : options_(options), rng_(seed), input_width_(input_width) {
    const int64_t hidden = options_.hidden_layers;
    int64_t total = 0;
    for (int64_t k = 0; k <= hidden; ++k) {
      const int64_t in = k == 0 ? input_width_ : options_.width;
      const int64_t out = k == hidden ? 1 : options_.width;
      layers_.push_back({in, out, total, total + in * out});
      total += in * out + out;
    }
    parameters_.assign(static_cast<size_t>(total), 0.0f);
    gradients_.assign(parameters_.size(), 0.0f);
    first_moments_.assign(parameters_.size(), 0.0f);
    second_moments_.assign(parameters_.size(), 0.0f);

    // He initialisation (uniform with variance 2 / in) keeps the signal's scale through a deep
    // stack of ReLUs, which halve it at every layer; biases start at zero.
    for (const Layer& layer : layers_) {
      const double limit = std::sqrt(6.0 / static_cast<double>(std::max<int64_t>(layer.in, 1)));
      for (int64_t i = 0; i < layer.in * layer.out; ++i) {
        parameters_[static_cast<size_t>(layer.weights + i)] =
            static_cast<float>((2.0 * rng_.uniform() - 1.0) * limit);
      }
    }
  }

  /// Trains on `count` points: rows of `inputs` and standardised `targets`.
  void train(const std::vector<float>& inputs, const std::vector<float>& targets, int64_t count) {
    std::vector<int64_t> order(static_cast<size_t>(count));
    std::iota(order.begin(), order.end(), int64_t{0});
    const int64_t batch_size = std::min(options_.batch_size, count);
    resize_buffers(batch_size);

    int64_t step = 0;
    for (int64_t epoch = 0; epoch < options_.epochs; ++epoch) {
      // Fisher-Yates: a fresh batch order every epoch.
      for (int64_t i = count - 1; i > 0; --i) {
        std::swap(order[static_cast<size_t>(i)], order[static_cast<size_t>(rng_.index(i + 1))]);
      }
      for (int64_t start = 0; start < count; start += batch_size) {
        const int64_t size = std::min(batch_size, count - start);
        const int64_t* rows = order.data() + start;
        forward(inputs.data(), rows, size);
        backward(inputs.data(), targets.data(), rows, size);
        adam_step(++step);
      }
    }
  }

  /// The network's output for one input row.
  float predict(const float* input) const {
    std::vector<float> current(static_cast<size_t>(options_.width));
    std::vector<float> next(static_cast<size_t>(options_.width));
    first_layer(input, current.data());
    for (size_t k = 1; k + 1 < layers_.size(); ++k) {
      hidden_layer(layers_[k], current.data(), next.data());
      std::swap(current, next);
    }
    return output_layer(current.data());
  }

 private:
  struct Layer {
    int64_t in = 0;
    int64_t out = 0;
    /// Offsets of the weights [in, out] and biases [out] in the parameter vector.
    int64_t weights = 0;
    int64_t biases = 0;
  };

  void resize_buffers(int64_t batch_size) {
    // activations_[k]: hidden activation k + 1 (after ReLU) of every batch row, [batch, width].
    // deltas_[k]: the loss's gradient with respect to that activation's pre-activation.
    const auto hidden = static_cast<size_t>(options_.hidden_layers);
    const auto size = static_cast<size_t>(batch_size * options_.width);
    activations_.assign(hidden, std::vector<float>(size));
    deltas_.assign(hidden, std::vector<float>(size));
    outputs_.assign(static_cast<size_t>(batch_size), 0.0f);
  }

  /// Hidden activation 1 of one input row. Inputs are mostly zero (binary encodings), so only
  /// the non-zero ones are visited.
  void first_layer(const float* input, float* out) const {
    const Layer& layer = layers_.front();
    const float* weights = parameters_.data() + layer.weights;
    std::copy_n(parameters_.data() + layer.biases, layer.out, out);
    for (int64_t i = 0; i < layer.in; ++i) {
      if (input[i] != 0.0f) add_scaled(input[i], weights + i * layer.out, out, layer.out);
    }
    for (int64_t j = 0; j < layer.out; ++j) out[j] = std::max(out[j], 0.0f);
  }

  /// ReLU(in W + b) for one row. Zero inputs (half of a ReLU layer's) are skipped.
  void hidden_layer(const Layer& layer, const float* in, float* out) const {
    const float* weights = parameters_.data() + layer.weights;
    std::copy_n(parameters_.data() + layer.biases, layer.out, out);
    for (int64_t i = 0; i < layer.in; ++i) {
      if (in[i] != 0.0f) add_scaled(in[i], weights + i * layer.out, out, layer.out);
    }
    for (int64_t j = 0; j < layer.out; ++j) out[j] = std::max(out[j], 0.0f);
  }

  float output_layer(const float* in) const {
    const Layer& layer = layers_.back();
    const float* weights = parameters_.data() + layer.weights;
    float total = parameters_[static_cast<size_t>(layer.biases)];
    for (int64_t i = 0; i < layer.in; ++i) total += in[i] * weights[i];
    return total;
  }

  void forward(const float* inputs, const int64_t* rows, int64_t size) {
    const int64_t width = options_.width;
    for (int64_t b = 0; b < size; ++b) {
      first_layer(inputs + rows[b] * input_width_, activations_[0].data() + b * width);
      for (size_t k = 1; k + 1 < layers_.size(); ++k) {
        hidden_layer(layers_[k], activations_[k - 1].data() + b * width,
                     activations_[k].data() + b * width);
      }
      outputs_[static_cast<size_t>(b)] = output_layer(activations_.back().data() + b * width);
    }
  }

  /// Gradients of the batch's mean absolute error into gradients_.
  void backward(const float* inputs, const float* targets, const int64_t* rows, int64_t size) {
    std::fill(gradients_.begin(), gradients_.end(), 0.0f);
    const int64_t width = options_.width;
    const auto hidden = static_cast<int64_t>(activations_.size());

    // Output layer: d|y - t| / dy is the sign of the error (0 at 0), averaged over the batch.
    const Layer& output = layers_.back();
    float* output_weight_gradients = gradients_.data() + output.weights;
    const float* output_weights = parameters_.data() + output.weights;
    for (int64_t b = 0; b < size; ++b) {
      const float error = outputs_[static_cast<size_t>(b)] - targets[rows[b]];
      const float slope =
          (error > 0.0f ? 1.0f : (error < 0.0f ? -1.0f : 0.0f)) / static_cast<float>(size);
      const float* activation = activations_.back().data() + b * width;
      float* delta = deltas_.back().data() + b * width;
      add_scaled(slope, activation, output_weight_gradients, width);
      gradients_[static_cast<size_t>(output.biases)] += slope;
      for (int64_t i = 0; i < width; ++i) {
        delta[i] = activation[i] > 0.0f ? slope * output_weights[i] : 0.0f;
      }
    }

    // Hidden layers, last to second: layer k maps activation k to activation k + 1.
    for (int64_t k = hidden - 1; k >= 1; --k) {
      const Layer& layer = layers_[static_cast<size_t>(k)];
      const float* weights = parameters_.data() + layer.weights;
      float* weight_gradients = gradients_.data() + layer.weights;
      float* bias_gradients = gradients_.data() + layer.biases;
      for (int64_t b = 0; b < size; ++b) {
        const float* in = activations_[static_cast<size_t>(k - 1)].data() + b * width;
        const float* delta_out = deltas_[static_cast<size_t>(k)].data() + b * width;
        float* delta_in = deltas_[static_cast<size_t>(k - 1)].data() + b * width;
        add_scaled(1.0f, delta_out, bias_gradients, width);
        for (int64_t i = 0; i < width; ++i) {
          if (in[i] <= 0.0f) {
            delta_in[i] = 0.0f;
            continue;
          }
          const float* row = weights + i * width;
          add_scaled(in[i], delta_out, weight_gradients + i * width, width);
          float total = 0.0f;
          for (int64_t j = 0; j < width; ++j) total += row[j] * delta_out[j];
          delta_in[i] = total;
        }
      }
    }

    // First layer: only the non-zero inputs have gradients.
    const Layer& first = layers_.front();
    float* weight_gradients = gradients_.data() + first.weights;
    float* bias_gradients = gradients_.data() + first.biases;
    for (int64_t b = 0; b < size; ++b) {
      const float* input = inputs + rows[b] * input_width_;
      const float* delta = deltas_.front().data() + b * width;
      add_scaled(1.0f, delta, bias_gradients, width);
      for (int64_t i = 0; i < first.in; ++i) {
        if (input[i] != 0.0f) add_scaled(input[i], delta, weight_gradients + i * width, width);
      }
    }
  }

  void adam_step(int64_t step) {
    const auto beta1 = static_cast<float>(kAdamBeta1);
    const auto beta2 = static_cast<float>(kAdamBeta2);
    // Bias corrections of the moment estimates, folded into the step size.
    const double correction1 = 1.0 - std::pow(kAdamBeta1, static_cast<double>(step));
    const double correction2 = 1.0 - std::pow(kAdamBeta2, static_cast<double>(step));
    const auto step_size =
        static_cast<float>(options_.learning_rate * std::sqrt(correction2) / correction1);
    const auto epsilon = static_cast<float>(kAdamEpsilon * std::sqrt(correction2));
    for (size_t p = 0; p < parameters_.size(); ++p) {
      const float gradient = gradients_[p];
      first_moments_[p] = beta1 * first_moments_[p] + (1.0f - beta1) * gradient;
      second_moments_[p] = beta2 * second_moments_[p] + (1.0f - beta2) * gradient * gradient;
      parameters_[p] -= step_size * first_moments_[p] / (std::sqrt(second_moments_[p]) + epsilon);
    }
  }

  NeuralEnsembleOptions options_;
  Rng rng_;
  int64_t input_width_ = 0;
  std::vector<Layer> layers_;
  std::vector<float> parameters_;
  std::vector<float> gradients_;
  std::vector<float> first_moments_;
  std::vector<float> second_moments_;
  std::vector<std::vector<float>> activations_;
  std::vector<std::vector<float>> deltas_;
  std::vector<float> outputs_;
};

NeuralEnsemble::NeuralEnsemble(NeuralEnsembleOptions options) : options_(options) {
  options_.validate();
}

NeuralEnsemble::~NeuralEnsemble() = default;
NeuralEnsemble::NeuralEnsemble(NeuralEnsemble&&) noexcept = default;
NeuralEnsemble& NeuralEnsemble::operator=(NeuralEnsemble&&) noexcept = default;

void NeuralEnsemble::fit(const std::vector<float>& inputs, int64_t input_width,
                         const std::vector<double>& targets, uint64_t seed) {
  const auto count = static_cast<int64_t>(targets.size());
  if (count == 0) throw Error("NeuralEnsemble::fit: expected at least one point, found none");
  if (input_width < 1 || static_cast<int64_t>(inputs.size()) != count * input_width) {
    throw Error(fmt::format(
        "NeuralEnsemble::fit: expected {} points of {} inputs ({} values), found {} values", count,
        input_width, count * input_width, inputs.size()));
  }

  // Standardised targets: the step size and the initial output scale then suit any objective.
  const double mean =
      std::accumulate(targets.begin(), targets.end(), 0.0) / static_cast<double>(count);
  double variance = 0.0;
  for (double target : targets) variance += (target - mean) * (target - mean);
  variance /= static_cast<double>(count);
  offset_ = mean;
  scale_ = variance > 0.0 ? std::sqrt(variance) : 1.0;
  std::vector<float> standardised(targets.size());
  for (size_t i = 0; i < targets.size(); ++i) {
    standardised[i] = static_cast<float>((targets[i] - offset_) / scale_);
  }

  input_width_ = input_width;
  size_ = count;
  networks_.clear();
  networks_.reserve(static_cast<size_t>(options_.networks));
  for (int64_t n = 0; n < options_.networks; ++n) {
    networks_.emplace_back(input_width, options_, derive_seed(seed, static_cast<uint64_t>(n)));
    networks_.back().train(inputs, standardised, count);
  }

  double error = 0.0;
  for (int64_t i = 0; i < count; ++i) {
    error +=
        std::abs(predict(inputs.data() + i * input_width).mean - targets[static_cast<size_t>(i)]);
  }
  training_error_ = error / static_cast<double>(count);
}

NeuralEnsemble::Prediction NeuralEnsemble::predict(const float* input) const {
  if (!fitted()) throw Error("NeuralEnsemble::predict: expected a fitted ensemble");
  std::vector<double> values;
  values.reserve(networks_.size());
  for (const Network& network : networks_) {
    values.push_back(static_cast<double>(network.predict(input)) * scale_ + offset_);
  }
  const auto count = static_cast<double>(values.size());
  const double mean = std::accumulate(values.begin(), values.end(), 0.0) / count;
  double variance = 0.0;
  for (double value : values) variance += (value - mean) * (value - mean);
  variance /= count;
  return {mean, std::sqrt(variance)};
}

}  // namespace nascent
