#pragma once

// Small NAS-Bench-201 tables generated in tests: a subset of the operations gives a space of
// the same shape (2 operations: 64 architectures; 3: 729), so that a search can be checked
// exhaustively and quickly.

#include <fmt/format.h>

#include <cstdint>
#include <fstream>
#include <functional>
#include <string>
#include <vector>

#include "nascent/eval/tabular.h"
#include "nascent/space/nasbench201.h"

namespace nascent::testing_support {

/// One record per architecture of the space with `operations`, in enumeration order, filled
/// by `fill` (which sees the architecture and its position); arch_index is the position and
/// arch_str the space's string.
inline std::vector<Nasbench201Record> synthetic_records(
    const std::vector<std::string>& operations,
    const std::function<void(const Architecture&, int64_t, Nasbench201Record&)>& fill) {
  const SearchSpace space =
      make_nasbench201_space(Nasbench201SpaceOptions().with_operations(operations));
  std::vector<Nasbench201Record> records;
  int64_t position = 0;
  for (const auto& architecture : space.enumerate(20000)) {
    Nasbench201Record record;
    record.arch_index = position;
    record.arch_str = space.format(architecture);
    record.val_acc_12 = 50.0;
    record.train_cost_12_s = 10.0;
    record.val_acc_200 = 60.0;
    record.test_acc_200 = 60.0;
    record.params_m = 0.1;
    record.flops_m = 10.0;
    record.latency_s = 0.01;
    fill(architecture, position, record);
    records.push_back(record);
    ++position;
  }
  return records;
}

/// How many edges of `architecture` carry `operation`.
inline int64_t count_edges(const Architecture& architecture, const std::string& operation) {
  int64_t count = 0;
  for (const auto& [name, value] : architecture.values()) count += value == operation ? 1 : 0;
  return count;
}

/// The records as CSV lines (no header), columns in the schema's order.
inline std::vector<std::string> csv_lines(const std::vector<Nasbench201Record>& records) {
  std::vector<std::string> lines;
  for (const auto& record : records) {
    lines.push_back(fmt::format("{},{},{},{},{},{},{},{},{}", record.arch_index, record.arch_str,
                                record.val_acc_12, record.train_cost_12_s, record.val_acc_200,
                                record.test_acc_200, record.params_m, record.flops_m,
                                record.latency_s));
  }
  return lines;
}

/// The schema's header line.
inline const std::string kTableHeader =
    "arch_index,arch_str,val_acc_12,train_cost_12_s,val_acc_200,test_acc_200,params_m,flops_m,"
    "latency_s";

/// Writes `header` and `lines` to `path`, one per line.
inline void write_table(const std::string& path, const std::string& header,
                        const std::vector<std::string>& lines) {
  std::ofstream file(path);
  file << header << "\n";
  for (const auto& line : lines) file << line << "\n";
}

}  // namespace nascent::testing_support
