#include "nascent/data/dataset.h"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>
#include <utility>

#include "nascent/core/error.h"
#include "nascent/core/random.h"

namespace nascent {

namespace {

/// `indices` grouped by their label, each group in the order of `indices`.
std::vector<std::vector<int64_t>> group_by_class(const std::vector<int64_t>& indices,
                                                 const std::vector<int64_t>& labels,
                                                 int64_t num_classes, const char* caller) {
  std::vector<std::vector<int64_t>> groups(static_cast<size_t>(std::max<int64_t>(num_classes, 0)));
  for (const int64_t index : indices) {
    if (index < 0 || index >= static_cast<int64_t>(labels.size())) {
      throw Error(
          fmt::format("{}: expected indices in [0, {}), found {}", caller, labels.size(), index));
    }
    const int64_t label = labels[static_cast<size_t>(index)];
    if (label < 0 || label >= num_classes) {
      throw Error(fmt::format("{}: expected labels in [0, {}), found {} at index {}", caller,
                              num_classes, label, index));
    }
    groups[static_cast<size_t>(label)].push_back(index);
  }
  return groups;
}

/// How many of each group to take so that the counts add up to exactly `total`: every group
/// gets the floor of its proportional share, and the leftover goes to the groups with the
/// largest fractional parts (Hamilton's largest remainder method), ties to the lower class.
/// Each count is therefore within 1 of the exact proportion and never exceeds its group.
std::vector<int64_t> proportional_counts(const std::vector<std::vector<int64_t>>& groups,
                                         int64_t population, int64_t total) {
  std::vector<int64_t> counts(groups.size());
  std::vector<int64_t> remainders(groups.size());
  int64_t assigned = 0;
  for (size_t group = 0; group < groups.size(); ++group) {
    // Exact integer arithmetic: total * size <= population^2 fits int64 for any dataset that
    // fits in memory, and avoids platform-dependent floating-point rounding.
    const int64_t share = total * static_cast<int64_t>(groups[group].size());
    counts[group] = share / population;
    remainders[group] = share % population;
    assigned += counts[group];
  }

  std::vector<size_t> order(groups.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return remainders[a] > remainders[b]; });
  for (size_t rank = 0; assigned < total; ++rank) {
    ++counts[order[rank]];
    ++assigned;
  }
  return counts;
}

/// Fisher–Yates shuffle driven by Rng::index, so a seed gives the same order on every
/// platform (std::shuffle's use of the engine is implementation-defined).
void shuffle(std::vector<int64_t>& values, Rng& rng) {
  for (int64_t last = static_cast<int64_t>(values.size()) - 1; last > 0; --last) {
    const int64_t pick = rng.index(last + 1);
    std::swap(values[static_cast<size_t>(last)], values[static_cast<size_t>(pick)]);
  }
}

}  // namespace

ImageDataset ImageDataset::subset(const std::vector<int64_t>& indices) const {
  ImageDataset result;
  result.channels = channels;
  result.height = height;
  result.width = width;
  result.num_classes = num_classes;
  result.labels.reserve(indices.size());
  result.pixels.reserve(indices.size() * static_cast<size_t>(image_bytes()));

  for (const int64_t index : indices) {
    if (index < 0 || index >= size()) {
      throw Error(fmt::format("ImageDataset::subset: expected indices in [0, {}), found {}", size(),
                              index));
    }
    const auto image = pixels.begin() + index * image_bytes();
    result.pixels.insert(result.pixels.end(), image, image + image_bytes());
    result.labels.push_back(labels[static_cast<size_t>(index)]);
  }
  return result;
}

ImageDataset ImageDataset::concatenate(const ImageDataset& other) const {
  if (other.channels != channels || other.height != height || other.width != width) {
    throw Error(fmt::format(
        "ImageDataset::concatenate: expected images of shape {}x{}x{} (CxHxW), found {}x{}x{}",
        channels, height, width, other.channels, other.height, other.width));
  }

  ImageDataset result = *this;
  // Labels share one numbering, so the union of classes is the larger of the two counts.
  result.num_classes = std::max(num_classes, other.num_classes);
  result.pixels.insert(result.pixels.end(), other.pixels.begin(), other.pixels.end());
  result.labels.insert(result.labels.end(), other.labels.begin(), other.labels.end());
  return result;
}

Split stratified_split(const std::vector<int64_t>& labels, int64_t num_classes,
                       int64_t validation_size, uint64_t seed) {
  const int64_t population = static_cast<int64_t>(labels.size());
  if (validation_size < 1 || validation_size > population - 1) {
    throw Error(fmt::format(
        "stratified_split: expected validation_size in [1, {}] for {} examples, found {}",
        population - 1, population, validation_size));
  }

  std::vector<int64_t> all_indices(labels.size());
  std::iota(all_indices.begin(), all_indices.end(), int64_t{0});
  std::vector<std::vector<int64_t>> groups =
      group_by_class(all_indices, labels, num_classes, "stratified_split");
  const std::vector<int64_t> validation_counts =
      proportional_counts(groups, population, validation_size);

  // One generator walks the classes in order, so the split depends only on the seed and labels.
  Rng rng(seed);
  Split split;
  for (size_t group = 0; group < groups.size(); ++group) {
    std::vector<int64_t>& members = groups[group];
    shuffle(members, rng);
    const auto boundary = members.begin() + validation_counts[group];
    split.validation.insert(split.validation.end(), members.begin(), boundary);
    split.train.insert(split.train.end(), boundary, members.end());
  }

  std::sort(split.train.begin(), split.train.end());
  std::sort(split.validation.begin(), split.validation.end());
  return split;
}

std::vector<int64_t> stratified_subset(const std::vector<int64_t>& indices,
                                       const std::vector<int64_t>& labels, int64_t num_classes,
                                       int64_t count, uint64_t seed) {
  if (count < 0) {
    throw Error(fmt::format("stratified_subset: expected a count >= 0, found {}", count));
  }
  // Sorting first makes the subset depend on the set of indices, not on their order.
  std::vector<int64_t> sorted_indices = indices;
  std::sort(sorted_indices.begin(), sorted_indices.end());
  std::vector<std::vector<int64_t>> groups =
      group_by_class(sorted_indices, labels, num_classes, "stratified_subset");

  const int64_t population = static_cast<int64_t>(indices.size());
  if (count >= population) return sorted_indices;

  const std::vector<int64_t> counts = proportional_counts(groups, population, count);
  Rng rng(seed);
  std::vector<int64_t> chosen;
  chosen.reserve(static_cast<size_t>(count));
  for (size_t group = 0; group < groups.size(); ++group) {
    std::vector<int64_t>& members = groups[group];
    shuffle(members, rng);
    chosen.insert(chosen.end(), members.begin(), members.begin() + counts[group]);
  }

  std::sort(chosen.begin(), chosen.end());
  return chosen;
}

}  // namespace nascent
