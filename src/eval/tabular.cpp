#include "nascent/eval/tabular.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <utility>

#include "nascent/core/error.h"
#include "nascent/core/text.h"

namespace nascent {

namespace {

/// The columns a table must have, in the order of the schema.
const std::vector<std::string>& required_columns() {
  static const std::vector<std::string> columns = {"arch_index",      "arch_str",    "val_acc_12",
                                                   "train_cost_12_s", "val_acc_200", "test_acc_200",
                                                   "params_m",        "flops_m"};
  return columns;
}

std::string_view trim(std::string_view text) {
  while (!text.empty() && (text.front() == ' ' || text.front() == '\t')) text.remove_prefix(1);
  while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r')) {
    text.remove_suffix(1);
  }
  return text;
}

/// Comma-separated fields. The schema has no field that holds a comma, so no quoting rules
/// are needed beyond dropping quotes around a whole field.
std::vector<std::string_view> split_fields(std::string_view line) {
  std::vector<std::string_view> fields;
  while (true) {
    const size_t comma = line.find(',');
    std::string_view field = trim(line.substr(0, comma));
    if (field.size() >= 2 && field.front() == '"' && field.back() == '"') {
      field = field.substr(1, field.size() - 2);
    }
    fields.push_back(field);
    if (comma == std::string_view::npos) break;
    line.remove_prefix(comma + 1);
  }
  return fields;
}

/// Where a record came from, for error messages: "file:line" or "source: record n".
std::string location(const std::string& source, const std::vector<int64_t>& lines, size_t row) {
  if (row < lines.size()) return fmt::format("{}:{}", source, lines[row]);
  return fmt::format("{}: record {}", source, row + 1);
}

/// Reads the CSV text of one field into a record, naming the place on failure.
class FieldReader {
 public:
  FieldReader(const std::string& path, int64_t line) : path_(path), line_(line) {}

  double number(const std::string& column, std::string_view text) const {
    double value = 0.0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size() || !std::isfinite(value)) {
      throw DataError(fmt::format("{}:{}: column {}: expected a number, found '{}'", path_, line_,
                                  column, text));
    }
    return value;
  }

  int64_t integer(const std::string& column, std::string_view text) const {
    int64_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc() || end != text.data() + text.size()) {
      throw DataError(fmt::format("{}:{}: column {}: expected an integer, found '{}'", path_, line_,
                                  column, text));
    }
    return value;
  }

 private:
  const std::string& path_;
  int64_t line_;
};

}  // namespace

std::string to_string(TabularFidelity fidelity) {
  return fidelity == TabularFidelity::kEpochs12 ? "12 epochs" : "200 epochs";
}

TabularAnswer tabular_answer(const Nasbench201Record& record, TabularFidelity fidelity) {
  // 200 epochs are charged in proportion to 12: the table measured only the 12-epoch cost.
  if (fidelity == TabularFidelity::kEpochs200) {
    return {record.val_acc_200 / 100.0, record.train_cost_12_s * 200.0 / 12.0};
  }
  return {record.val_acc_12 / 100.0, record.train_cost_12_s};
}

Nasbench201Table::Nasbench201Table(SearchSpace space, std::string source)
    : space_(std::move(space)), source_(std::move(source)) {}

Nasbench201Table::Nasbench201Table(std::vector<Nasbench201Record> records,
                                   const Nasbench201SpaceOptions& space_options, std::string source)
    : Nasbench201Table(make_nasbench201_space(space_options), std::move(source)) {
  records_ = std::move(records);
  index({});
}

Nasbench201Table Nasbench201Table::load(const std::string& path,
                                        const Nasbench201SpaceOptions& space_options) {
  // A directory opens as a stream that reads nothing, and would pass for an empty file.
  if (std::filesystem::is_directory(path)) {
    throw DataError(
        fmt::format("{}: expected a NAS-Bench-201 table (CSV), found a directory", path));
  }
  std::ifstream file(path);
  if (!file) {
    throw DataError(
        fmt::format("{}: expected a NAS-Bench-201 table (CSV), found no readable file", path));
  }
  Nasbench201Table table(make_nasbench201_space(space_options), path);

  // Header: find each column by name.
  std::string text;
  int64_t line = 0;
  while (std::getline(file, text)) {
    ++line;
    // A spreadsheet may save CSV with a UTF-8 byte-order mark; it is not part of the first name.
    if (line == 1 && text.starts_with("\xEF\xBB\xBF")) text.erase(0, 3);
    if (!trim(text).empty()) break;
  }
  if (trim(text).empty()) {
    throw DataError(fmt::format("{}: expected a header line, found an empty file", path));
  }
  const std::vector<std::string_view> header_view = split_fields(text);
  const std::vector<std::string> header(header_view.begin(), header_view.end());
  std::unordered_map<std::string, size_t> column_of;
  for (size_t i = 0; i < header.size(); ++i) {
    if (!column_of.emplace(header[i], i).second) {
      throw DataError(
          fmt::format("{}:{}: expected each column once, found '{}' twice", path, line, header[i]));
    }
  }
  // Only a column the schema does not know can be a misspelling of a missing one.
  std::vector<std::string> unknown_columns;
  for (const auto& name : header) {
    const auto& required = required_columns();
    if (name != "latency_s" &&
        std::find(required.begin(), required.end(), name) == required.end()) {
      unknown_columns.push_back(name);
    }
  }
  for (const auto& column : required_columns()) {
    if (!column_of.count(column)) {
      const auto hint = closest_match(column, unknown_columns);
      throw DataError(fmt::format("{}:{}: expected a column '{}', found the columns {}{}", path,
                                  line, column, fmt::join(header, ", "),
                                  hint ? fmt::format(" (is '{}' misspelt?)", *hint) : ""));
    }
  }
  const auto column = [&](const std::string& name) { return column_of.at(name); };
  const bool has_latency = column_of.count("latency_s") > 0;
  const size_t latency_column = has_latency ? column("latency_s") : 0;

  // Rows: numbers here, meaning (ranges, cell strings, coverage) in index().
  std::vector<int64_t> lines;
  while (std::getline(file, text)) {
    ++line;
    if (trim(text).empty()) continue;
    const std::vector<std::string_view> fields = split_fields(text);
    if (fields.size() != header.size()) {
      throw DataError(fmt::format("{}:{}: expected {} fields as in the header, found {}", path,
                                  line, header.size(), fields.size()));
    }

    const FieldReader read(path, line);
    Nasbench201Record record;
    record.arch_index = read.integer("arch_index", fields[column("arch_index")]);
    record.arch_str = std::string(fields[column("arch_str")]);
    record.val_acc_12 = read.number("val_acc_12", fields[column("val_acc_12")]);
    record.train_cost_12_s = read.number("train_cost_12_s", fields[column("train_cost_12_s")]);
    record.val_acc_200 = read.number("val_acc_200", fields[column("val_acc_200")]);
    record.test_acc_200 = read.number("test_acc_200", fields[column("test_acc_200")]);
    record.params_m = read.number("params_m", fields[column("params_m")]);
    record.flops_m = read.number("flops_m", fields[column("flops_m")]);
    record.latency_s = has_latency ? read.number("latency_s", fields[latency_column])
                                   : std::numeric_limits<double>::quiet_NaN();
    table.records_.push_back(std::move(record));
    lines.push_back(line);
  }

  table.index(lines);
  return table;
}

void Nasbench201Table::index(const std::vector<int64_t>& lines) {
  const auto fail = [&](size_t row, const std::string& problem) {
    throw DataError(fmt::format("{}: {}", location(source_, lines, row), problem));
  };
  const auto require_range = [&](size_t row, const char* column, double value, double low,
                                 double high) {
    if (!(value >= low && value <= high)) {
      fail(row, fmt::format("column {}: expected a number in [{}, {}], found {}", column, low, high,
                            value));
    }
  };
  constexpr double kInfinity = std::numeric_limits<double>::infinity();

  std::unordered_map<int64_t, size_t> row_by_arch_index;
  row_by_arch_str_.reserve(records_.size());
  for (size_t row = 0; row < records_.size(); ++row) {
    const Nasbench201Record& record = records_[row];
    if (record.arch_index < 0) {
      fail(row,
           fmt::format("column arch_index: expected an integer >= 0, found {}", record.arch_index));
    }
    require_range(row, "val_acc_12", record.val_acc_12, 0.0, 100.0);
    require_range(row, "val_acc_200", record.val_acc_200, 0.0, 100.0);
    require_range(row, "test_acc_200", record.test_acc_200, 0.0, 100.0);
    require_range(row, "train_cost_12_s", record.train_cost_12_s, 0.0, kInfinity);
    require_range(row, "params_m", record.params_m, 0.0, kInfinity);
    require_range(row, "flops_m", record.flops_m, 0.0, kInfinity);

    // The key is the space's own string for the architecture, so a lookup by Architecture
    // (formatted by the space) finds the row.
    std::string key;
    try {
      key = space_.format(space_.parse(record.arch_str));
    } catch (const Error& error) {
      fail(row, fmt::format("column arch_str: {}", error.what()));
    }
    if (const auto [it, inserted] = row_by_arch_str_.emplace(key, static_cast<int64_t>(row));
        !inserted) {
      fail(row,
           fmt::format("column arch_str: expected each architecture once, found '{}' again "
                       "(first at {})",
                       record.arch_str, location(source_, lines, static_cast<size_t>(it->second))));
    }
    if (const auto [it, inserted] = row_by_arch_index.emplace(record.arch_index, row); !inserted) {
      fail(row, fmt::format("column arch_index: expected each index once, found {} again "
                            "(first at {})",
                            record.arch_index, location(source_, lines, it->second)));
    }

    if (record.test_acc_200 > records_[best_test_row_].test_acc_200) best_test_row_ = row;
    if (record.val_acc_12 > records_[best_val_12_row_].val_acc_12) best_val_12_row_ = row;
  }

  // Unique rows that all belong to the space cover it exactly when their count is its size.
  const int64_t expected = space_.count(std::numeric_limits<int64_t>::max()).value_or(0);
  if (static_cast<int64_t>(records_.size()) != expected) {
    throw DataError(
        fmt::format("{}: expected {} rows, one per architecture of the {} space "
                    "with operations {}, found {}",
                    source_, expected, space_.family(),
                    join_choices(space_.decisions().front().choices), records_.size()));
  }
}

std::optional<int64_t> Nasbench201Table::find(std::string_view arch_str) const {
  const auto it = row_by_arch_str_.find(std::string(arch_str));
  if (it == row_by_arch_str_.end()) return std::nullopt;
  return it->second;
}

int64_t Nasbench201Table::row_of(const Architecture& architecture) const {
  const std::string arch_str = space_.format(architecture);
  const auto row = find(arch_str);
  if (!row) {
    throw Error(
        fmt::format("{}: expected a row for architecture '{}', found none", source_, arch_str));
  }
  return *row;
}

}  // namespace nascent
