#pragma once

/// A tabular benchmark: every architecture of the NAS-Bench-201 cell space with its measured
/// results, read from a CSV file, so that a search can be simulated in milliseconds instead of
/// GPU days (Dong and Yang, ICLR 2020).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "nascent/space/architecture.h"
#include "nascent/space/nasbench201.h"
#include "nascent/space/search_space.h"

namespace nascent {

/// One row of the table. Accuracies are percentages, as in the benchmark.
struct Nasbench201Record {
  /// The benchmark's own index (0 .. 15624 for the full table).
  int64_t arch_index = 0;
  /// The benchmark's cell string (see nasbench201_arch_str()).
  std::string arch_str;
  /// Validation accuracy (%) after 12 epochs: the signal a search may use.
  double val_acc_12 = 0.0;
  /// Seconds 12 epochs of training took: what a search is charged for a new architecture.
  double train_cost_12_s = 0.0;
  /// Validation accuracy (%) after 200 epochs.
  double val_acc_200 = 0.0;
  /// Test accuracy (%) after 200 epochs: what is reported, never what is searched on.
  double test_acc_200 = 0.0;
  /// Millions of parameters and of FLOPs.
  double params_m = 0.0;
  double flops_m = 0.0;
  /// Inference latency in seconds; NaN when the table has no latency_s column.
  double latency_s = 0.0;
};

/// Which training length a query of the table stands for. Searches on the table query 12
/// epochs; multi-fidelity strategies (Hyperband and kin) may also ask for 200.
enum class TabularFidelity { kEpochs12, kEpochs200 };

/// "12 epochs" or "200 epochs".
std::string to_string(TabularFidelity fidelity);

/// What one query of the table tells a search and what it costs.
struct TabularAnswer {
  /// Validation accuracy at the fidelity as a fraction in [0, 1]: the search objective, in the
  /// same unit as a trained evaluator's validation accuracy.
  double objective = 0.0;
  /// Simulated seconds: train_cost_12_s for 12 epochs, train_cost_12_s * 200 / 12 for 200.
  double cost_s = 0.0;
};

/// The answer to a query of `record` at `fidelity`.
TabularAnswer tabular_answer(const Nasbench201Record& record, TabularFidelity fidelity);

/// Every architecture of a NAS-Bench-201 space with its results, looked up by cell string.
///
/// The CSV file starts with a header naming its columns, in any order. Required: arch_index,
/// arch_str, val_acc_12, train_cost_12_s, val_acc_200, test_acc_200, params_m, flops_m.
/// Optional: latency_s. Other columns are ignored. There must be exactly one row per
/// architecture of the space. Nothing else about the file is assumed, so tables of other
/// datasets with the same schema load unchanged.
class Nasbench201Table {
 public:
  /// Reads a CSV file. `space_options` says which space the rows must cover (the full
  /// 15,625-architecture space by default). Throws nascent::DataError naming the file, the
  /// line and the column: a missing file or column, a field that is not a number or is out of
  /// range, an arch_str that does not parse, a repeated architecture or arch_index, or a row
  /// count different from the size of the space.
  static Nasbench201Table load(const std::string& path,
                               const Nasbench201SpaceOptions& space_options = {});

  /// A table from records built in memory (generated tables in tests); the same checks as
  /// load(), with errors naming `source` and the record's position (from 1).
  Nasbench201Table(std::vector<Nasbench201Record> records,
                   const Nasbench201SpaceOptions& space_options, std::string source);

  /// The space whose architectures the table holds; strategies search this space.
  const SearchSpace& space() const { return space_; }

  /// The file (or in-memory source) the table came from.
  const std::string& source() const { return source_; }

  /// Rows in file order.
  const std::vector<Nasbench201Record>& records() const { return records_; }
  int64_t size() const { return static_cast<int64_t>(records_.size()); }

  /// The row of a cell string, or nullopt when the table has none.
  std::optional<int64_t> find(std::string_view arch_str) const;

  /// The row of an architecture of space(). Throws nascent::Error naming the architecture when
  /// the table has no row for it.
  int64_t row_of(const Architecture& architecture) const;

  /// The record with the highest test_acc_200 (the first such row on ties): the optimum a
  /// search is measured against.
  const Nasbench201Record& best_by_test_acc_200() const { return records_[best_test_row_]; }

  /// The record with the highest val_acc_12 (the first such row on ties): what a search that
  /// saw every architecture would report.
  const Nasbench201Record& best_by_val_acc_12() const { return records_[best_val_12_row_]; }

 private:
  Nasbench201Table(SearchSpace space, std::string source);

  /// Checks ranges, uniqueness and coverage and builds the index. `lines[i]` is the file line
  /// of record i, or empty for records built in memory.
  void index(const std::vector<int64_t>& lines);

  SearchSpace space_;
  std::string source_;
  std::vector<Nasbench201Record> records_;
  std::unordered_map<std::string, int64_t> row_by_arch_str_;
  size_t best_test_row_ = 0;
  size_t best_val_12_row_ = 0;
};

}  // namespace nascent
