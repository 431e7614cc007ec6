#pragma once

/// Full-training evaluation of macro-space architectures on an image dataset.

#include <memory>

#include "nascent/data/dataset.h"
#include "nascent/eval/evaluator.h"
#include "nascent/nn/network_family.h"
#include "nascent/nn/network_plan.h"
#include "nascent/train/train_options.h"

namespace nascent {

/// Hard limits on an architecture's cost; 0 means no limit. An architecture above a limit is
/// invalid: it is never trained and does not count against the budget.
struct CostLimits {
  int64_t max_params = 0;
  /// Multiply-accumulates per image.
  int64_t max_flops = 0;
};

/// ArchitectureCheck of a macro-space architecture by shape inference (no LibTorch needed).
ArchitectureCheck check_macro_architecture(const Architecture& architecture,
                                           const ImageShape& input, int64_t num_classes,
                                           const CostLimits& limits = {});

/// ArchitectureCheck of an architecture of any family: shape inference for the macro space,
/// the analytic cost for NAS-Bench-201 cells (always buildable); then the cost limits.
ArchitectureCheck check_architecture(const NetworkFamily& family, const Architecture& architecture,
                                     const ImageShape& input, int64_t num_classes,
                                     const CostLimits& limits = {});

/// Builds each architecture with LibTorch, trains it on `train` with `options` and scores it
/// by accuracy on `validation`. A non-finite loss makes the trial FAILED with the step.
std::unique_ptr<Evaluator> make_training_evaluator(const ImageDataset& train,
                                                   const ImageDataset& validation,
                                                   const TrainOptions& options,
                                                   const CostLimits& limits = {},
                                                   const NetworkFamily& family = {});

}  // namespace nascent
