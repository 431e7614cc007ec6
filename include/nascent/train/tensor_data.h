#pragma once

/// Datasets as LibTorch tensors, held once as uint8 and normalised per batch.

#include <torch/torch.h>

#include "nascent/data/dataset.h"

namespace nascent {

/// A dataset as tensors. Images stay uint8 ([N, C, H, W]) to save memory; batches are
/// converted to float and normalised with the per-channel mean and std of the training data.
struct TensorData {
  torch::Tensor images;  // [N, C, H, W] uint8
  torch::Tensor labels;  // [N] int64
  torch::Tensor mean;    // [1, C, 1, 1] float, in [0, 1] pixel units
  torch::Tensor std;     // [1, C, 1, 1] float

  int64_t size() const { return labels.size(0); }

  /// Copies `dataset` into tensors, normalising with the given statistics.
  static TensorData from(const ImageDataset& dataset, torch::Tensor mean, torch::Tensor std);

  /// Per-channel mean and std of a dataset's pixels, in [0, 1] units: [1, C, 1, 1] each.
  static std::pair<torch::Tensor, torch::Tensor> channel_statistics(const ImageDataset& dataset);

  /// Float, normalised images at `indices` (int64 [B]): [B, C, H, W].
  torch::Tensor batch_images(const torch::Tensor& indices) const;
};

}  // namespace nascent
