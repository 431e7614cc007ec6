#include "nascent/data/idx_reader.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <system_error>
#include <vector>

#include "nascent/core/error.h"

namespace nascent {

namespace {

constexpr uint8_t kUnsignedByteType = 0x08;
constexpr int64_t kMagicBytes = 4;
constexpr int64_t kDimensionBytes = 4;

/// The dimensions of an IDX file and where its data starts.
struct IdxHeader {
  std::vector<int64_t> dims;
  int64_t data_offset = 0;
};

struct GzFileCloser {
  void operator()(gzFile file) const { gzclose(file); }
};

/// The whole content of `path`, decompressed. gzread passes files without the gzip magic
/// through unchanged, so one path serves raw and compressed files.
std::vector<uint8_t> read_file_bytes(const std::string& path) {
  std::error_code status_error;
  const auto status = std::filesystem::status(path, status_error);
  if (!std::filesystem::exists(status)) {
    throw DataError(fmt::format("{}: expected an IDX file, found no file at that path", path));
  }
  if (!std::filesystem::is_regular_file(status)) {
    throw DataError(
        fmt::format("{}: expected an IDX file, found a directory or special file", path));
  }

  errno = 0;
  const std::unique_ptr<gzFile_s, GzFileCloser> file(gzopen(path.c_str(), "rb"));
  if (!file) {
    const int open_error = errno;
    throw DataError(fmt::format("{}: expected a readable IDX file, found it cannot be opened ({})",
                                path, std::generic_category().message(open_error)));
  }
  // A larger buffer than zlib's 8 KiB default cuts the number of read calls for 50 MB files.
  gzbuffer(file.get(), 1 << 20);

  std::vector<uint8_t> bytes;
  constexpr unsigned kChunkBytes = 1 << 20;
  while (true) {
    const size_t filled = bytes.size();
    bytes.resize(filled + kChunkBytes);
    const int read = gzread(file.get(), bytes.data() + filled, kChunkBytes);
    if (read < 0) {
      int zlib_error = 0;
      std::string reason = gzerror(file.get(), &zlib_error);
      // zlib prefixes its message with the path, which the message below already starts with.
      if (reason.starts_with(path + ": ")) reason.erase(0, path.size() + 2);
      throw DataError(
          fmt::format("{}: expected a readable IDX file, found a read error ({})", path, reason));
    }
    bytes.resize(filled + static_cast<size_t>(read));
    if (read == 0) break;
  }
  return bytes;
}

std::string format_magic(int64_t dimension_count) {
  return fmt::format("0x{:08x}", (kUnsignedByteType << 8) | dimension_count);
}

/// Parses and checks the header: magic 0x00 0x00 <type> <dimension count>, then each
/// dimension as a big-endian uint32. `kind` ("images", "labels") names the file in messages.
IdxHeader parse_header(const std::vector<uint8_t>& bytes, const std::string& path,
                       const std::vector<int64_t>& allowed_dimension_counts,
                       const std::string& kind) {
  const int64_t file_bytes = static_cast<int64_t>(bytes.size());
  if (file_bytes < kMagicBytes) {
    throw DataError(fmt::format("{}: expected at least {} bytes of IDX magic, found {} bytes", path,
                                kMagicBytes, file_bytes));
  }

  std::vector<std::string> expected_magics;
  for (const int64_t count : allowed_dimension_counts) {
    expected_magics.push_back(format_magic(count));
  }
  const std::string expected = fmt::format("{}", fmt::join(expected_magics, " or "));
  const uint32_t magic = (uint32_t{bytes[0]} << 24) | (uint32_t{bytes[1]} << 16) |
                         (uint32_t{bytes[2]} << 8) | uint32_t{bytes[3]};
  if (bytes[0] != 0 || bytes[1] != 0) {
    throw DataError(
        fmt::format("{}: expected IDX magic {} ({}), found 0x{:08x}", path, expected, kind, magic));
  }
  if (bytes[2] != kUnsignedByteType) {
    throw DataError(fmt::format(
        "{}: expected IDX data type 0x{:02x} (unsigned byte), found 0x{:02x} (magic 0x{:08x})",
        path, kUnsignedByteType, bytes[2], magic));
  }
  const int64_t dimension_count = bytes[3];
  if (std::find(allowed_dimension_counts.begin(), allowed_dimension_counts.end(),
                dimension_count) == allowed_dimension_counts.end()) {
    throw DataError(
        fmt::format("{}: expected IDX magic {} ({}), found 0x{:08x} (dimension count {})", path,
                    expected, kind, magic, dimension_count));
  }

  IdxHeader header;
  header.data_offset = kMagicBytes + dimension_count * kDimensionBytes;
  if (file_bytes < header.data_offset) {
    throw DataError(fmt::format("{}: expected a {}-byte IDX header, found {} bytes (truncated)",
                                path, header.data_offset, file_bytes));
  }
  for (int64_t dim = 0; dim < dimension_count; ++dim) {
    const uint8_t* field = bytes.data() + kMagicBytes + dim * kDimensionBytes;
    header.dims.push_back((int64_t{field[0]} << 24) | (int64_t{field[1]} << 16) |
                          (int64_t{field[2]} << 8) | int64_t{field[3]});
  }
  return header;
}

/// Checks that exactly the product of the dimensions follows the header.
void check_data_size(const std::vector<uint8_t>& bytes, const IdxHeader& header,
                     const std::string& path) {
  std::vector<std::string> dim_texts;
  int64_t expected_bytes = 1;
  for (const int64_t dim : header.dims) {
    dim_texts.push_back(std::to_string(dim));
    // Four uint32 dimensions can overflow int64; no file that large could be read anyway.
    if (dim != 0 && expected_bytes > std::numeric_limits<int64_t>::max() / dim) {
      throw DataError(fmt::format("{}: expected dimensions that fit in memory, found {}", path,
                                  fmt::join(dim_texts, "x")));
    }
    expected_bytes *= dim;
  }

  const int64_t found_bytes = static_cast<int64_t>(bytes.size()) - header.data_offset;
  if (found_bytes != expected_bytes) {
    throw DataError(fmt::format("{}: expected {} data bytes for dimensions {}, found {}{}", path,
                                expected_bytes, fmt::join(dim_texts, "x"), found_bytes,
                                found_bytes < expected_bytes ? " (truncated)" : ""));
  }
}

/// Reads the images into `dataset`, converting [N, H, W, C] files to planar [N, C, H, W].
void read_images(const std::string& path, ImageDataset& dataset) {
  const std::vector<uint8_t> bytes = read_file_bytes(path);
  const IdxHeader header = parse_header(bytes, path, {3, 4}, "unsigned byte images");
  check_data_size(bytes, header, path);

  const int64_t count = header.dims[0];
  dataset.height = header.dims[1];
  dataset.width = header.dims[2];
  dataset.channels = header.dims.size() == 4 ? header.dims[3] : 1;
  if (count == 0) {
    throw DataError(fmt::format("{}: expected at least one image, found 0", path));
  }
  if (dataset.image_bytes() == 0) {
    throw DataError(fmt::format("{}: expected non-empty images, found shape {}x{}x{} (CxHxW)", path,
                                dataset.channels, dataset.height, dataset.width));
  }

  const uint8_t* data = bytes.data() + header.data_offset;
  if (dataset.channels == 1) {
    dataset.pixels.assign(data, bytes.data() + bytes.size());
    return;
  }
  const int64_t plane = dataset.height * dataset.width;
  const int64_t image_bytes = dataset.image_bytes();
  dataset.pixels.resize(static_cast<size_t>(count * image_bytes));
  for (int64_t image = 0; image < count; ++image) {
    const uint8_t* source = data + image * image_bytes;             // [H, W, C]
    uint8_t* target = dataset.pixels.data() + image * image_bytes;  // [C, H, W]
    for (int64_t pixel = 0; pixel < plane; ++pixel) {
      for (int64_t channel = 0; channel < dataset.channels; ++channel) {
        target[channel * plane + pixel] = source[pixel * dataset.channels + channel];
      }
    }
  }
}

void read_labels(const std::string& path, ImageDataset& dataset) {
  const std::vector<uint8_t> bytes = read_file_bytes(path);
  const IdxHeader header = parse_header(bytes, path, {1}, "unsigned byte labels");
  check_data_size(bytes, header, path);

  dataset.labels.assign(bytes.begin() + header.data_offset, bytes.end());
  const auto largest = std::max_element(dataset.labels.begin(), dataset.labels.end());
  dataset.num_classes = largest == dataset.labels.end() ? 0 : *largest + 1;
}

/// `directory`/`stem`.gz if it exists, else `directory`/`stem`; a missing file names both
/// candidates and, if known, the package that installs them.
std::string find_idx_file(const std::string& directory, const std::string& stem,
                          const std::string& debian_package) {
  const std::filesystem::path base = std::filesystem::path(directory) / stem;
  const std::string compressed = base.string() + ".gz";
  std::error_code status_error;
  if (std::filesystem::exists(compressed, status_error)) return compressed;
  if (std::filesystem::exists(base, status_error)) return base.string();

  std::string message =
      fmt::format("{}: expected an IDX file (or {}), found neither", compressed, base.string());
  if (!debian_package.empty()) {
    message += fmt::format("; install it with: apt-get install {}", debian_package);
  }
  throw DataError(message);
}

std::string describe_shape(const ImageDataset& dataset) {
  return fmt::format("{}x{}x{}", dataset.channels, dataset.height, dataset.width);
}

}  // namespace

ImageDataset read_idx_dataset(const std::string& images_path, const std::string& labels_path) {
  ImageDataset dataset;
  read_images(images_path, dataset);
  read_labels(labels_path, dataset);

  const int64_t image_count = static_cast<int64_t>(dataset.pixels.size()) / dataset.image_bytes();
  if (image_count != dataset.size()) {
    throw DataError(
        fmt::format("{}: expected one label per image of {} ({} images), found {} "
                    "labels",
                    labels_path, images_path, image_count, dataset.size()));
  }
  return dataset;
}

DatasetFiles read_idx_directory(const std::string& directory, const std::string& debian_package) {
  // Locate every file before reading any, so a missing test file is reported before the
  // train images have been decompressed for nothing.
  const std::string train_images =
      find_idx_file(directory, "train-images-idx3-ubyte", debian_package);
  const std::string train_labels =
      find_idx_file(directory, "train-labels-idx1-ubyte", debian_package);
  const std::string test_images =
      find_idx_file(directory, "t10k-images-idx3-ubyte", debian_package);
  const std::string test_labels =
      find_idx_file(directory, "t10k-labels-idx1-ubyte", debian_package);

  DatasetFiles files;
  files.train = read_idx_dataset(train_images, train_labels);
  files.test = read_idx_dataset(test_images, test_labels);

  if (files.test.channels != files.train.channels || files.test.height != files.train.height ||
      files.test.width != files.train.width) {
    throw DataError(fmt::format("{}: expected images of shape {} (CxHxW) as in {}, found {}",
                                test_images, describe_shape(files.train), train_images,
                                describe_shape(files.test)));
  }

  // A class missing from one part must not shift the meaning of the output layer.
  const int64_t num_classes = std::max(files.train.num_classes, files.test.num_classes);
  files.train.num_classes = num_classes;
  files.test.num_classes = num_classes;
  return files;
}

}  // namespace nascent
