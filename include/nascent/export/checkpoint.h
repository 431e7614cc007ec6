#pragma once

/// Strict loading of nascent checkpoints and conversion of a module's tensors to plain float
/// arrays for the torch-free exporters. Includes torch/torch.h.

#include <torch/torch.h>

#include <string>

#include "nascent/export/onnx.h"

namespace nascent {

/// The input normalisation stored next to the weights.
struct CheckpointNormalisation {
  torch::Tensor mean;  // [1, C, 1, 1]
  torch::Tensor std;   // [1, C, 1, 1]
};

/// Loads every parameter and buffer of `module` from the checkpoint at `path`, all or nothing:
/// a tensor that is missing, has another shape, or is left over in the file (the checkpoint of
/// a different architecture) is an error naming the tensor, and `module` is left unchanged.
/// `architecture` is only used in messages.
CheckpointNormalisation load_checkpoint_strict(torch::nn::Module& module, const std::string& path,
                                               const std::string& architecture);

/// Writes `module` and the normalisation as a nascent checkpoint (atomically: a temporary
/// file, then a rename).
void save_checkpoint(torch::nn::Module& module, const CheckpointNormalisation& normalisation,
                     const std::string& path);

/// Every parameter and buffer of `module` by its dotted name, as float arrays.
WeightMap module_weights(torch::nn::Module& module);

}  // namespace nascent
