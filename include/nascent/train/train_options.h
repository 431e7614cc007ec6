#pragma once

/// Settings of the one training loop nascent uses for candidates and for the final model.

#include <cstdint>
#include <string>

namespace nascent {

/// Options of Trainer. Validated by TrainOptions::validate() before any training starts.
struct TrainOptions {
  int64_t epochs = 2;
  /// The most epochs validate() accepts.
  static constexpr int64_t kMaxEpochs = 100000;
  int64_t batch_size = 128;
  /// "sgd" or "adamw".
  std::string optimizer = "sgd";
  double learning_rate = 0.05;
  /// SGD only.
  double momentum = 0.9;
  bool nesterov = true;
  double weight_decay = 5e-4;
  /// Linear warm-up from 0 over this many epochs (may be fractional), then cosine decay to 0.
  double warmup_epochs = 0.0;
  double label_smoothing = 0.0;
  /// Random crop after zero padding by this many pixels; 0 disables.
  int64_t crop_padding = 0;
  /// Random horizontal flip with probability 1/2.
  bool horizontal_flip = false;
  /// Batch size for validation and test passes (no gradients, so it can be larger).
  int64_t eval_batch_size = 1000;
  /// Train in channels-last (NHWC) memory layout: oneDNN's convolutions, depthwise convolutions
  /// and pooling run faster in it on CPU. Only where numbers live in memory changes, not the
  /// computation; false trains in LibTorch's default NCHW layout (the "plain path").
  bool channels_last = true;
  /// After an epoch that ends before the batch norms' moving averages have forgotten their
  /// initial values (fewer than 44 steps in all at momentum 0.1), recompute their statistics
  /// from training batches before validating (see recompute_batch_norm_statistics()).
  bool precise_batch_norm = true;

  /// Throws nascent::Error naming the first bad field, what was expected and what was found.
  void validate() const;
};

}  // namespace nascent
