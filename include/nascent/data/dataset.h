#pragma once

/// Image classification data held in memory as bytes, and seeded splits of it.

#include <cstdint>
#include <string>
#include <vector>

namespace nascent {

/// Images as uint8 in [N, C, H, W] order with one integer label each.
struct ImageDataset {
  int64_t channels = 0;
  int64_t height = 0;
  int64_t width = 0;
  int64_t num_classes = 0;
  /// [N, C, H, W], row-major.
  std::vector<uint8_t> pixels;
  /// [N], each in [0, num_classes).
  std::vector<int64_t> labels;

  int64_t size() const { return static_cast<int64_t>(labels.size()); }
  int64_t image_bytes() const { return channels * height * width; }

  /// The images at `indices`, in that order.
  ImageDataset subset(const std::vector<int64_t>& indices) const;

  /// This dataset followed by `other` (same image shape and classes).
  ImageDataset concatenate(const ImageDataset& other) const;
};

/// Indices of a train/validation split.
struct Split {
  std::vector<int64_t> train;
  std::vector<int64_t> validation;
};

/// A seeded split in which each class contributes to the validation set in proportion to its
/// share of `labels`. The two index sets are disjoint and together cover every example.
/// `validation_size` must be in [1, N - 1].
Split stratified_split(const std::vector<int64_t>& labels, int64_t num_classes,
                       int64_t validation_size, uint64_t seed);

/// A seeded, class-stratified subset of `count` of `indices` (all of them if count >= size),
/// sorted ascending. `labels` holds the label of every example of the dataset and is indexed by
/// the values in `indices` (for example, the train indices of a Split and ImageDataset::labels).
std::vector<int64_t> stratified_subset(const std::vector<int64_t>& indices,
                                       const std::vector<int64_t>& labels, int64_t num_classes,
                                       int64_t count, uint64_t seed);

/// The train and test parts of a dataset on disk.
struct DatasetFiles {
  ImageDataset train;
  ImageDataset test;
};

}  // namespace nascent
