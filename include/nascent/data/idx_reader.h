#pragma once

/// Reader for the IDX format of the MNIST family (MNIST, Fashion-MNIST, KMNIST), raw or
/// gzip-compressed.

#include <string>

#include "nascent/data/dataset.h"

namespace nascent {

/// Reads an IDX images file (type 0x08, 3 dimensions [N, H, W] for one channel, or
/// 4 dimensions [N, H, W, C]) and its labels file (0x08, 1 dimension). Files ending in ".gz"
/// or starting with the gzip magic are decompressed. The number of classes is the largest
/// label + 1. Throws nascent::DataError naming the file and what is wrong.
ImageDataset read_idx_dataset(const std::string& images_path, const std::string& labels_path);

/// Reads "train-images-idx3-ubyte[.gz]", "train-labels-idx1-ubyte[.gz]", "t10k-images-..."
/// and "t10k-labels-..." from `directory`. A missing file is reported with its path and,
/// when `debian_package` is not empty, the Debian package that provides it.
DatasetFiles read_idx_directory(const std::string& directory, const std::string& debian_package);

}  // namespace nascent
