#include "nascent/data/idx_reader.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "nascent/core/error.h"

#include "error_expectations.h"

namespace nascent {
namespace {

namespace fs = std::filesystem;

/// An IDX file: magic 0x00 0x00 <type> <dimension count>, big-endian uint32 dims, data.
std::vector<uint8_t> idx_file(uint8_t type, const std::vector<uint32_t>& dims,
                              const std::vector<uint8_t>& data) {
  std::vector<uint8_t> bytes = {0x00, 0x00, type, static_cast<uint8_t>(dims.size())};
  for (const uint32_t dim : dims) {
    bytes.push_back(static_cast<uint8_t>(dim >> 24));
    bytes.push_back(static_cast<uint8_t>(dim >> 16));
    bytes.push_back(static_cast<uint8_t>(dim >> 8));
    bytes.push_back(static_cast<uint8_t>(dim));
  }
  bytes.insert(bytes.end(), data.begin(), data.end());
  return bytes;
}

void write_raw(const fs::path& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

void write_gzip(const fs::path& path, const std::vector<uint8_t>& bytes) {
  gzFile file = gzopen(path.string().c_str(), "wb");
  ASSERT_NE(file, nullptr) << path;
  const int written = gzwrite(file, bytes.data(), static_cast<unsigned>(bytes.size()));
  ASSERT_EQ(gzclose(file), Z_OK) << path;
  ASSERT_EQ(written, static_cast<int>(bytes.size())) << path;
}

/// The message of the DataError that `action` throws; fails the test if it throws nothing or
/// something else, or if the message spans more than one line.
std::string data_error_message(const std::function<void()>& action) {
  try {
    action();
  } catch (const DataError& error) {
    const std::string message = error.what();
    EXPECT_EQ(message.find('\n'), std::string::npos) << message;
    return message;
  } catch (const std::exception& error) {
    ADD_FAILURE() << "expected nascent::DataError, caught: " << error.what();
    return "";
  }
  ADD_FAILURE() << "expected nascent::DataError, nothing was thrown";
  return "";
}

// Three 2x3 one-channel images with distinct pixels, and their labels.
const std::vector<uint8_t> kPixels = {0,  1,  2,  3,  4,  5,  10, 11, 12,
                                      13, 14, 15, 20, 21, 22, 23, 24, 25};
const std::vector<uint8_t> kLabels = {2, 0, 1};

class IdxReaderTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* test = ::testing::UnitTest::GetInstance()->current_test_info();
    directory_ =
        fs::temp_directory_path() / (std::string("nascent_idx_") + test->test_suite_name() + "_" +
                                     test->name() + "_" + std::to_string(std::random_device()()));
    fs::create_directories(directory_);
  }

  void TearDown() override { fs::remove_all(directory_); }

  std::string path(const std::string& name) const { return (directory_ / name).string(); }

  /// Writes the standard three-image files under `images_name` and `labels_name`.
  void write_standard_pair(const std::string& images_name, const std::string& labels_name,
                           bool gzip) {
    const auto images = idx_file(0x08, {3, 2, 3}, kPixels);
    const auto labels = idx_file(0x08, {3}, kLabels);
    if (gzip) {
      write_gzip(path(images_name), images);
      write_gzip(path(labels_name), labels);
    } else {
      write_raw(path(images_name), images);
      write_raw(path(labels_name), labels);
    }
  }

  void expect_standard_dataset(const ImageDataset& dataset) {
    EXPECT_EQ(dataset.channels, 1);
    EXPECT_EQ(dataset.height, 2);
    EXPECT_EQ(dataset.width, 3);
    EXPECT_EQ(dataset.num_classes, 3);
    EXPECT_EQ(dataset.size(), 3);
    EXPECT_EQ(dataset.pixels, kPixels);
    EXPECT_EQ(dataset.labels, (std::vector<int64_t>{2, 0, 1}));
  }

  fs::path directory_;
};

TEST_F(IdxReaderTest, ReadsRawFilesExactly) {
  write_standard_pair("images", "labels", /*gzip=*/false);
  expect_standard_dataset(read_idx_dataset(path("images"), path("labels")));
}

TEST_F(IdxReaderTest, ReadsGzipFilesExactly) {
  write_standard_pair("images.gz", "labels.gz", /*gzip=*/true);
  expect_standard_dataset(read_idx_dataset(path("images.gz"), path("labels.gz")));
}

TEST_F(IdxReaderTest, ReadsGzipFilesWithoutSuffixByTheirMagic) {
  write_standard_pair("images", "labels", /*gzip=*/true);
  expect_standard_dataset(read_idx_dataset(path("images"), path("labels")));
}

TEST_F(IdxReaderTest, ConvertsFourDimensionalImagesToPlanarLayout) {
  // Two 2x2 RGB images stored [N, H, W, C]: pixel p of image n has channel values
  // (100n + p, 100n + p + 10, 100n + p + 20).
  std::vector<uint8_t> interleaved;
  for (uint8_t image = 0; image < 2; ++image) {
    for (uint8_t pixel = 0; pixel < 4; ++pixel) {
      for (uint8_t channel = 0; channel < 3; ++channel) {
        interleaved.push_back(static_cast<uint8_t>(100 * image + pixel + 10 * channel));
      }
    }
  }
  write_gzip(path("images.gz"), idx_file(0x08, {2, 2, 2, 3}, interleaved));
  write_gzip(path("labels.gz"), idx_file(0x08, {2}, {1, 0}));

  const ImageDataset dataset = read_idx_dataset(path("images.gz"), path("labels.gz"));

  EXPECT_EQ(dataset.channels, 3);
  EXPECT_EQ(dataset.height, 2);
  EXPECT_EQ(dataset.width, 2);
  const std::vector<uint8_t> planar = {0,   1,   2,   3,   10,  11,  12,  13,  20,  21,  22,  23,
                                       100, 101, 102, 103, 110, 111, 112, 113, 120, 121, 122, 123};
  EXPECT_EQ(dataset.pixels, planar);
  EXPECT_EQ(dataset.labels, (std::vector<int64_t>{1, 0}));
}

TEST_F(IdxReaderTest, NumClassesIsLargestLabelPlusOne) {
  write_raw(path("images"), idx_file(0x08, {3, 2, 3}, kPixels));
  write_raw(path("labels"), idx_file(0x08, {3}, {7, 255, 0}));

  const ImageDataset dataset = read_idx_dataset(path("images"), path("labels"));

  EXPECT_EQ(dataset.num_classes, 256);
  EXPECT_EQ(dataset.labels, (std::vector<int64_t>{7, 255, 0}));
}

TEST_F(IdxReaderTest, ReportsMissingFileWithItsPath) {
  write_standard_pair("images", "labels", /*gzip=*/false);

  const std::string message =
      data_error_message([&] { read_idx_dataset(path("absent-images"), path("labels")); });

  EXPECT_CONTAINS(message, path("absent-images"));
  EXPECT_CONTAINS(message, "expected an IDX file, found no file");
}

TEST_F(IdxReaderTest, ReportsDirectoryInsteadOfFile) {
  write_standard_pair("images", "labels", /*gzip=*/false);
  fs::create_directories(path("folder"));

  const std::string message =
      data_error_message([&] { read_idx_dataset(path("images"), path("folder")); });

  EXPECT_CONTAINS(message, path("folder"));
  EXPECT_CONTAINS(message, "found a directory");
}

TEST_F(IdxReaderTest, ReportsWrongMagicAsHex) {
  std::vector<uint8_t> bytes = idx_file(0x08, {3, 2, 3}, kPixels);
  bytes[0] = 0x12;
  bytes[1] = 0x34;
  write_raw(path("images"), bytes);
  write_raw(path("labels"), idx_file(0x08, {3}, kLabels));

  const std::string message =
      data_error_message([&] { read_idx_dataset(path("images"), path("labels")); });

  EXPECT_CONTAINS(message, path("images"));
  EXPECT_CONTAINS(message, "expected IDX magic 0x00000803 or 0x00000804");
  EXPECT_CONTAINS(message, "found 0x12340803");
}

TEST_F(IdxReaderTest, ReportsLabelsFileGivenAsImages) {
  write_raw(path("labels"), idx_file(0x08, {3}, kLabels));

  const std::string message =
      data_error_message([&] { read_idx_dataset(path("labels"), path("labels")); });

  EXPECT_CONTAINS(message, path("labels"));
  EXPECT_CONTAINS(message, "expected IDX magic 0x00000803 or 0x00000804");
  EXPECT_CONTAINS(message, "found 0x00000801 (dimension count 1)");
}

TEST_F(IdxReaderTest, ReportsImagesFileGivenAsLabels) {
  write_raw(path("images"), idx_file(0x08, {3, 2, 3}, kPixels));

  const std::string message =
      data_error_message([&] { read_idx_dataset(path("images"), path("images")); });

  EXPECT_CONTAINS(message, "expected IDX magic 0x00000801 (unsigned byte labels)");
  EXPECT_CONTAINS(message, "found 0x00000803");
}

TEST_F(IdxReaderTest, ReportsWrongDataType) {
  // 0x0D is the IDX code for 32-bit floats.
  write_raw(path("images"), idx_file(0x0D, {3, 2, 3}, kPixels));
  write_raw(path("labels"), idx_file(0x08, {3}, kLabels));

  const std::string message =
      data_error_message([&] { read_idx_dataset(path("images"), path("labels")); });

  EXPECT_CONTAINS(message, path("images"));
  EXPECT_CONTAINS(message, "expected IDX data type 0x08 (unsigned byte), found 0x0d");
}

TEST_F(IdxReaderTest, ReportsFileShorterThanMagic) {
  write_raw(path("images"), {0x00, 0x00});
  write_raw(path("labels"), idx_file(0x08, {3}, kLabels));

  const std::string message =
      data_error_message([&] { read_idx_dataset(path("images"), path("labels")); });

  EXPECT_CONTAINS(message, path("images"));
  EXPECT_CONTAINS(message, "expected at least 4 bytes of IDX magic, found 2 bytes");
}

TEST_F(IdxReaderTest, ReportsTruncatedHeader) {
  // Magic for three dimensions, but only one dimension follows.
  write_raw(path("images"), {0x00, 0x00, 0x08, 0x03, 0x00, 0x00, 0x00, 0x03});
  write_raw(path("labels"), idx_file(0x08, {3}, kLabels));

  const std::string message =
      data_error_message([&] { read_idx_dataset(path("images"), path("labels")); });

  EXPECT_CONTAINS(message, path("images"));
  EXPECT_CONTAINS(message, "expected a 16-byte IDX header, found 8 bytes");
}

TEST_F(IdxReaderTest, ReportsTruncatedRawData) {
  const std::vector<uint8_t> short_pixels(kPixels.begin(), kPixels.begin() + 10);
  write_raw(path("images"), idx_file(0x08, {3, 2, 3}, short_pixels));
  write_raw(path("labels"), idx_file(0x08, {3}, kLabels));

  const std::string message =
      data_error_message([&] { read_idx_dataset(path("images"), path("labels")); });

  EXPECT_CONTAINS(message, path("images"));
  EXPECT_CONTAINS(message, "expected 18 data bytes for dimensions 3x2x3, found 10 (truncated)");
}

TEST_F(IdxReaderTest, ReportsTruncatedGzipData) {
  write_gzip(path("images.gz"), idx_file(0x08, {3, 2, 3}, kPixels));
  write_gzip(path("labels.gz"), idx_file(0x08, {3}, {2, 0}));

  const std::string message =
      data_error_message([&] { read_idx_dataset(path("images.gz"), path("labels.gz")); });

  EXPECT_CONTAINS(message, path("labels.gz"));
  EXPECT_CONTAINS(message, "expected 3 data bytes for dimensions 3, found 2 (truncated)");
}

TEST_F(IdxReaderTest, ReportsCutGzipStream) {
  // A download that stopped part-way: the compressed stream itself ends early.
  std::vector<uint8_t> pixels(4 * 16 * 16);
  std::mt19937 engine(7);
  for (uint8_t& pixel : pixels) pixel = static_cast<uint8_t>(engine());
  write_gzip(path("full.gz"), idx_file(0x08, {4, 16, 16}, pixels));
  std::ifstream in(path("full.gz"), std::ios::binary);
  std::vector<uint8_t> compressed((std::istreambuf_iterator<char>(in)),
                                  std::istreambuf_iterator<char>());
  compressed.resize(compressed.size() / 2);
  write_raw(path("images.gz"), compressed);
  write_raw(path("labels"), idx_file(0x08, {4}, {0, 1, 2, 3}));

  const std::string message =
      data_error_message([&] { read_idx_dataset(path("images.gz"), path("labels")); });

  EXPECT_CONTAINS(message, path("images.gz"));
  EXPECT_CONTAINS(message, "expected 1024 data bytes for dimensions 4x16x16, found");
}

TEST_F(IdxReaderTest, ReportsCorruptGzipStream) {
  write_gzip(path("labels.gz"), idx_file(0x08, {3}, kLabels));
  std::vector<uint8_t> compressed;
  {
    std::ifstream in(path("labels.gz"), std::ios::binary);
    compressed.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  // The gzip trailer is the CRC-32 of the data, then its length; break the checksum.
  compressed[compressed.size() - 8] ^= 0xFF;
  write_raw(path("labels.gz"), compressed);
  write_raw(path("images"), idx_file(0x08, {3, 2, 3}, kPixels));

  const std::string message =
      data_error_message([&] { read_idx_dataset(path("images"), path("labels.gz")); });

  EXPECT_CONTAINS(message,
                  path("labels.gz") + ": expected a readable IDX file, found a read error");
  EXPECT_EQ(message.find(path("labels.gz"), 1), std::string::npos) << message;
}

TEST_F(IdxReaderTest, ReportsTrailingBytes) {
  std::vector<uint8_t> long_pixels = kPixels;
  long_pixels.push_back(99);
  write_raw(path("images"), idx_file(0x08, {3, 2, 3}, long_pixels));
  write_raw(path("labels"), idx_file(0x08, {3}, kLabels));

  const std::string message =
      data_error_message([&] { read_idx_dataset(path("images"), path("labels")); });

  EXPECT_CONTAINS(message, "expected 18 data bytes for dimensions 3x2x3, found 19");
}

TEST_F(IdxReaderTest, ReportsImageAndLabelCountMismatch) {
  write_raw(path("images"), idx_file(0x08, {3, 2, 3}, kPixels));
  write_raw(path("labels"), idx_file(0x08, {2}, {0, 1}));

  const std::string message =
      data_error_message([&] { read_idx_dataset(path("images"), path("labels")); });

  EXPECT_CONTAINS(message, path("labels"));
  EXPECT_CONTAINS(message, path("images"));
  EXPECT_CONTAINS(message, "(3 images), found 2 labels");
}

TEST_F(IdxReaderTest, ReportsZeroImages) {
  write_raw(path("images"), idx_file(0x08, {0, 2, 3}, {}));
  write_raw(path("labels"), idx_file(0x08, {0}, {}));

  const std::string message =
      data_error_message([&] { read_idx_dataset(path("images"), path("labels")); });

  EXPECT_CONTAINS(message, path("images"));
  EXPECT_CONTAINS(message, "expected at least one image, found 0");
}

TEST_F(IdxReaderTest, ReportsEmptyImageShape) {
  write_raw(path("images"), idx_file(0x08, {3, 0, 3}, {}));
  write_raw(path("labels"), idx_file(0x08, {3}, kLabels));

  const std::string message =
      data_error_message([&] { read_idx_dataset(path("images"), path("labels")); });

  EXPECT_CONTAINS(message, "expected non-empty images, found shape 1x0x3");
}

class IdxDirectoryTest : public IdxReaderTest {};

TEST_F(IdxDirectoryTest, ReadsGzipAndRawFiles) {
  write_standard_pair("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", true);
  write_standard_pair("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", false);

  const DatasetFiles files = read_idx_directory(directory_.string(), "");

  expect_standard_dataset(files.train);
  expect_standard_dataset(files.test);
}

TEST_F(IdxDirectoryTest, PrefersGzipFileWhenBothExist) {
  write_standard_pair("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", true);
  write_standard_pair("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", true);
  write_raw(path("train-images-idx3-ubyte"), {0xFF});

  const DatasetFiles files = read_idx_directory(directory_.string(), "");

  expect_standard_dataset(files.train);
}

TEST_F(IdxDirectoryTest, NumClassesIsLargestOfTrainAndTest) {
  write_raw(path("train-images-idx3-ubyte"), idx_file(0x08, {3, 2, 3}, kPixels));
  write_raw(path("train-labels-idx1-ubyte"), idx_file(0x08, {3}, {0, 1, 2}));
  write_raw(path("t10k-images-idx3-ubyte"), idx_file(0x08, {3, 2, 3}, kPixels));
  write_raw(path("t10k-labels-idx1-ubyte"), idx_file(0x08, {3}, {4, 0, 1}));

  const DatasetFiles files = read_idx_directory(directory_.string(), "");

  EXPECT_EQ(files.train.num_classes, 5);
  EXPECT_EQ(files.test.num_classes, 5);
}

TEST_F(IdxDirectoryTest, ReportsMissingFileWithDebianPackage) {
  write_standard_pair("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", true);
  write_standard_pair("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", true);
  fs::remove(path("t10k-labels-idx1-ubyte.gz"));

  const std::string message =
      data_error_message([&] { read_idx_directory(directory_.string(), "dataset-fashion-mnist"); });

  EXPECT_CONTAINS(message, path("t10k-labels-idx1-ubyte.gz"));
  EXPECT_CONTAINS(message, path("t10k-labels-idx1-ubyte"));
  EXPECT_CONTAINS(message, "install it with: apt-get install dataset-fashion-mnist");
}

TEST_F(IdxDirectoryTest, ReportsMissingFileWithoutPackage) {
  const std::string message = data_error_message([&] { read_idx_directory(path("nowhere"), ""); });

  EXPECT_CONTAINS(message, path("nowhere/train-images-idx3-ubyte.gz"));
  EXPECT_EQ(message.find("apt-get"), std::string::npos) << message;
}

TEST_F(IdxDirectoryTest, ReportsDifferentTrainAndTestShapes) {
  write_standard_pair("train-images-idx3-ubyte", "train-labels-idx1-ubyte", false);
  write_raw(path("t10k-images-idx3-ubyte"), idx_file(0x08, {3, 3, 2}, kPixels));
  write_raw(path("t10k-labels-idx1-ubyte"), idx_file(0x08, {3}, kLabels));

  const std::string message =
      data_error_message([&] { read_idx_directory(directory_.string(), ""); });

  EXPECT_CONTAINS(message, path("t10k-images-idx3-ubyte"));
  EXPECT_CONTAINS(message, "expected images of shape 1x2x3 (CxHxW)");
  EXPECT_CONTAINS(message, "found 1x3x2");
}

TEST(FashionMnistTest, ReadsInstalledDataset) {
  const std::string directory = "/usr/share/datasets/fashion-mnist";
  if (!fs::exists(fs::path(directory) / "train-images-idx3-ubyte.gz") &&
      !fs::exists(fs::path(directory) / "train-images-idx3-ubyte")) {
    GTEST_SKIP() << "Fashion-MNIST is not installed in " << directory;
  }

  const DatasetFiles files = read_idx_directory(directory, "dataset-fashion-mnist");

  for (const ImageDataset* part : {&files.train, &files.test}) {
    EXPECT_EQ(part->channels, 1);
    EXPECT_EQ(part->height, 28);
    EXPECT_EQ(part->width, 28);
    EXPECT_EQ(part->num_classes, 10);
    EXPECT_EQ(part->pixels.size(), part->labels.size() * 28 * 28);
  }
  EXPECT_EQ(files.train.size(), 60000);
  EXPECT_EQ(files.test.size(), 10000);

  // Fashion-MNIST is balanced: 6000 train and 1000 test images per class.
  std::array<int64_t, 10> train_counts{};
  std::array<int64_t, 10> test_counts{};
  for (const int64_t label : files.train.labels) ++train_counts[static_cast<size_t>(label)];
  for (const int64_t label : files.test.labels) ++test_counts[static_cast<size_t>(label)];
  for (size_t label = 0; label < 10; ++label) {
    EXPECT_EQ(train_counts[label], 6000) << "class " << label;
    EXPECT_EQ(test_counts[label], 1000) << "class " << label;
  }
}

}  // namespace
}  // namespace nascent
