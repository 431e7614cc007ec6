#pragma once

// Helpers shared by tests: temporary directories and small synthetic IDX datasets.

#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <unistd.h>

#include "nascent/data/dataset.h"
#include "nascent/train/runtime.h"

namespace nascent::testing_support {

/// A fresh, empty directory unique to this process and `name`.
inline std::string fresh_directory(const std::string& name) {
  const auto path = std::filesystem::temp_directory_path() /
                    ("nascent_test_" + std::to_string(getpid()) + "_" + name);
  std::filesystem::remove_all(path);
  std::filesystem::create_directories(path);
  return path.string();
}

inline void write_big_endian(std::vector<uint8_t>& bytes, uint32_t value) {
  for (int shift = 24; shift >= 0; shift -= 8)
    bytes.push_back(static_cast<uint8_t>(value >> shift));
}

/// Writes a gzip IDX file: magic 0x0000080<dims>, the dimensions, then the bytes.
inline void write_idx_gz(const std::string& path, const std::vector<uint32_t>& dims,
                         const std::vector<uint8_t>& data) {
  std::vector<uint8_t> bytes = {0, 0, 0x08, static_cast<uint8_t>(dims.size())};
  for (uint32_t dim : dims) write_big_endian(bytes, dim);
  bytes.insert(bytes.end(), data.begin(), data.end());
  gzFile file = gzopen(path.c_str(), "wb");
  gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size()));
  gzclose(file);
}

/// A learnable 4-class problem of 12x12 images: class c has a bright 5x5 square in quadrant c
/// on a noisy background. Writes train-/t10k- IDX files into `directory`.
inline void write_quadrant_dataset(const std::string& directory, uint32_t train_count,
                                   uint32_t test_count, uint32_t seed = 7) {
  std::mt19937 generator(seed);
  const auto make = [&](uint32_t count, const std::string& prefix) {
    std::vector<uint8_t> pixels;
    std::vector<uint8_t> labels;
    for (uint32_t i = 0; i < count; ++i) {
      const uint8_t label = static_cast<uint8_t>(i % 4);
      labels.push_back(label);
      const int top = (label / 2) * 6 + static_cast<int>(generator() % 2);
      const int left = (label % 2) * 6 + static_cast<int>(generator() % 2);
      for (int y = 0; y < 12; ++y) {
        for (int x = 0; x < 12; ++x) {
          const bool inside = y >= top && y < top + 5 && x >= left && x < left + 5;
          const int noise = static_cast<int>(generator() % 90);
          pixels.push_back(static_cast<uint8_t>(inside ? 150 + noise : noise));
        }
      }
    }
    write_idx_gz(directory + "/" + prefix + "-images-idx3-ubyte.gz", {count, 12, 12}, pixels);
    write_idx_gz(directory + "/" + prefix + "-labels-idx1-ubyte.gz", {count}, labels);
  };
  make(train_count, "train");
  make(test_count, "t10k");
}

/// A fixture whose tests train on one LibTorch thread, each on its own quadrant dataset of
/// `kTrainCount` training and `kTestCount` test images in data_dir_.
template <uint32_t kTrainCount, uint32_t kTestCount>
class QuadrantDataTest : public ::testing::Test {
 protected:
  void SetUp() override {
    set_torch_threads(1);
    const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
    data_dir_ =
        fresh_directory(std::string("data_") + test->test_suite_name() + "_" + test->name());
    write_quadrant_dataset(data_dir_, kTrainCount, kTestCount);
  }

  std::string data_dir_;
};

/// In memory, 4 classes of 12x12 images: a bright square in quadrant `label` on noise (columns
/// [1, 6) or [6, 11), mirror images of each other in a 12-pixel row).
inline ImageDataset quadrant_images(int64_t count, uint32_t seed) {
  std::mt19937 generator(seed);
  ImageDataset dataset;
  dataset.channels = 1;
  dataset.height = 12;
  dataset.width = 12;
  dataset.num_classes = 4;
  for (int64_t i = 0; i < count; ++i) {
    const int64_t label = i % 4;
    dataset.labels.push_back(label);
    const int64_t top = (label / 2) * 6;
    const int64_t left = 1 + (label % 2) * 5;
    for (int64_t y = 0; y < 12; ++y) {
      for (int64_t x = 0; x < 12; ++x) {
        const bool inside = y >= top && y < top + 5 && x >= left && x < left + 5;
        const int noise = static_cast<int>(generator() % 100);
        dataset.pixels.push_back(static_cast<uint8_t>(inside ? 120 + noise : noise));
      }
    }
  }
  return dataset;
}

inline void write_text(const std::string& path, const std::string& text) {
  std::ofstream file(path);
  file << text;
}

}  // namespace nascent::testing_support
