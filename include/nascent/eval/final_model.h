#pragma once

/// The end of a search: retrain the best architecture, test it once, time it, save it.

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "nascent/data/dataset.h"
#include "nascent/nn/network_family.h"
#include "nascent/nn/network_plan.h"
#include "nascent/space/architecture.h"
#include "nascent/store/trial.h"
#include "nascent/train/train_options.h"

namespace nascent {

/// What the final model measured.
struct FinalModelReport {
  double test_accuracy = 0.0;
  double test_loss = 0.0;
  int64_t params = 0;
  int64_t flops = 0;
  /// Median latency of a batch-1 forward pass after warm-up, in milliseconds.
  double latency_ms = 0.0;
  double train_seconds = 0.0;
  std::vector<EpochMetrics> epochs;
  /// Set when the final training diverged; the other fields are then meaningless.
  std::string error;
};

/// Trains `architecture` from scratch on `train` (the search's training and validation data
/// together), evaluates it once on `test`, measures its latency and writes a LibTorch
/// checkpoint (weights plus the input normalisation) to `checkpoint_path`.
FinalModelReport train_final_model(const NetworkFamily& family, const Architecture& architecture,
                                   const ImageDataset& train, const ImageDataset& test,
                                   const TrainOptions& options, uint64_t seed,
                                   const std::string& checkpoint_path,
                                   const std::function<void(const EpochMetrics&)>& on_epoch,
                                   const std::function<void(int64_t, int64_t)>& on_step);

/// Rebuilds `architecture`, loads the checkpoint and returns its accuracy on `test`. Throws
/// nascent::Error when the file is missing or its tensors do not fit the architecture.
double evaluate_checkpoint(const NetworkFamily& family, const Architecture& architecture,
                           int64_t num_classes, const std::string& checkpoint_path,
                           const ImageDataset& test);

}  // namespace nascent
