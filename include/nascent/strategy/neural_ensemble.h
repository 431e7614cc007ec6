#pragma once

/// An ensemble of small fully connected networks that predicts an objective from an encoding of
/// an architecture, with a spread that serves as the uncertainty of Bayesian optimisation.

#include <cstdint>
#include <vector>

namespace nascent {

/// Settings of NeuralEnsemble. The defaults are those of BANANAS (White, Neiswanger and Savani,
/// "BANANAS: Bayesian Optimization with Neural Architectures for Neural Architecture Search",
/// AAAI 2021, and the authors' released code): five networks of ten hidden layers of width 20,
/// mean absolute error, Adam with step 0.01, batches of 32, 150 epochs, no regularisation.
struct NeuralEnsembleOptions {
  /// Networks in the ensemble, each trained from its own initial weights and batch order.
  int64_t networks = 5;
  /// Hidden layers of each network (ReLU); the output layer is linear.
  int64_t hidden_layers = 10;
  /// Units of each hidden layer.
  int64_t width = 20;
  /// Passes over the training points.
  int64_t epochs = 150;
  int64_t batch_size = 32;
  /// Adam's step size (Kingma and Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015).
  double learning_rate = 0.01;

  /// Throws nascent::Error naming the field that is not positive.
  void validate() const;
};

/// An ensemble of multilayer perceptrons trained independently on the same points; the mean of
/// their predictions is the estimate, their standard deviation the uncertainty (Lakshminarayanan,
/// Pritzel and Blundell, "Simple and Scalable Predictive Uncertainty Estimation using Deep
/// Ensembles", NeurIPS 2017, as BANANAS uses it).
///
/// Plain C++ on floats, one thread. Inputs are typically binary encodings (the path encoding of a
/// cell, one-hot decisions), so the first layer visits only the non-zero inputs. Targets are
/// standardised before training, so the step size suits objectives of any unit. Everything
/// random (initial weights, batch order) comes from the seed given to fit(), so a fit repeats
/// exactly.
class NeuralEnsemble {
 public:
  /// The ensemble's estimate at one point, in the units of the targets.
  struct Prediction {
    double mean = 0.0;
    /// Standard deviation of the networks' predictions (over the networks, not a sample
    /// estimate), 0 for a single network.
    double stddev = 0.0;
  };

  explicit NeuralEnsemble(NeuralEnsembleOptions options = {});
  ~NeuralEnsemble();
  NeuralEnsemble(NeuralEnsemble&&) noexcept;
  NeuralEnsemble& operator=(NeuralEnsemble&&) noexcept;

  /// Trains fresh networks on `targets.size()` points whose inputs are the rows of `inputs`
  /// (row-major, `input_width` values per point), replacing any earlier fit. Throws
  /// nascent::Error when there are no points or the sizes disagree.
  void fit(const std::vector<float>& inputs, int64_t input_width,
           const std::vector<double>& targets, uint64_t seed);

  /// True once fit() has run.
  bool fitted() const { return size_ > 0; }

  /// The points of the last fit.
  int64_t size() const { return size_; }

  /// The estimate at a point given its `input_width` inputs. Requires fitted().
  Prediction predict(const float* input) const;

  /// The mean absolute error of the ensemble's mean on its own training points, in the units of
  /// the targets (for measurements).
  double training_error() const { return training_error_; }

 private:
  class Network;

  NeuralEnsembleOptions options_;
  std::vector<Network> networks_;
  int64_t input_width_ = 0;
  int64_t size_ = 0;
  /// Standardisation of the targets: network output * scale + offset is a target.
  double offset_ = 0.0;
  double scale_ = 1.0;
  double training_error_ = 0.0;
};

}  // namespace nascent
