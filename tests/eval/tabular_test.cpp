#include "nascent/eval/tabular.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "eval/synthetic_table.h"
#include "nascent/core/error.h"
#include "test_support.h"

#include "error_expectations.h"

namespace nascent {
namespace {

using testing_support::count_edges;
using testing_support::csv_lines;
using testing_support::kTableHeader;
using testing_support::synthetic_records;
using testing_support::write_table;

/// The benchmark's CIFAR-10 table, kept beside the repository (see ../shared/data/README.md).
const std::string kRealTable = NASCENT_SOURCE_DIR "/../shared/data/nasbench201/cifar10.csv";

using testing_support::error_message;

const std::vector<std::string> kTwoOperations = {"none", "skip_connect"};

/// The 64 records of the two-operation space: val_acc_12 grows with the skip edges.
std::vector<Nasbench201Record> two_operation_records() {
  return synthetic_records(kTwoOperations, [](const Architecture& architecture, int64_t position,
                                              Nasbench201Record& record) {
    record.val_acc_12 = 40.0 + 5.0 * count_edges(architecture, "skip_connect");
    record.test_acc_200 = 50.0 + 0.5 * static_cast<double>(position);
  });
}

/// Replaces field `column` (0-based, in the schema's order) of a CSV line.
void set_field(std::string& line, size_t column, const std::string& value) {
  size_t start = 0;
  for (size_t i = 0; i < column; ++i) start = line.find(',', start) + 1;
  const size_t end = line.find(',', start);
  line.replace(start, end == std::string::npos ? std::string::npos : end - start, value);
}

class Nasbench201TableFile : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = testing_support::fresh_directory(
        ::testing::UnitTest::GetInstance()->current_test_info()->name());
    path_ = directory_ + "/table.csv";
  }
  void TearDown() override { std::filesystem::remove_all(directory_); }

  /// Loads the two-operation table after `edit` changed its lines (header first).
  std::string load_error(const std::function<void(std::vector<std::string>&)>& edit) {
    std::vector<std::string> lines = csv_lines(two_operation_records());
    lines.insert(lines.begin(), kTableHeader);
    edit(lines);
    const std::string header = lines.front();
    lines.erase(lines.begin());
    write_table(path_, header, lines);
    return error_message([&] {
      Nasbench201Table::load(path_, Nasbench201SpaceOptions().with_operations(kTwoOperations));
    });
  }

  std::string directory_;
  std::string path_;
};

TEST(Nasbench201Table, TheRealTableReproducesItsPublishedFacts) {
  if (!std::filesystem::exists(kRealTable)) GTEST_SKIP() << "no table at " << kRealTable;
  const Nasbench201Table table = Nasbench201Table::load(kRealTable);
  EXPECT_EQ(table.size(), 15625);
  EXPECT_EQ(table.space().family(), "nasbench201");

  const Nasbench201Record& best_test = table.best_by_test_acc_200();
  EXPECT_EQ(best_test.arch_index, 6111);
  EXPECT_DOUBLE_EQ(best_test.test_acc_200, 94.3733);

  // The best architecture by the search signal is a different one of equal test accuracy.
  const Nasbench201Record& best_signal = table.best_by_val_acc_12();
  EXPECT_EQ(best_signal.arch_index, 13714);
  EXPECT_DOUBLE_EQ(best_signal.test_acc_200, 94.3733);
}

TEST(Nasbench201Table, LooksUpARowByStringAndByArchitecture) {
  if (!std::filesystem::exists(kRealTable)) GTEST_SKIP() << "no table at " << kRealTable;
  const Nasbench201Table table = Nasbench201Table::load(kRealTable);

  const std::string arch_str =
      "|avg_pool_3x3~0|+|skip_connect~0|none~1|+|none~0|none~1|skip_connect~2|";
  const auto row = table.find(arch_str);
  ASSERT_TRUE(row.has_value());
  const Nasbench201Record& record = table.records()[static_cast<size_t>(*row)];
  EXPECT_EQ(record.arch_index, 3);
  EXPECT_DOUBLE_EQ(record.val_acc_12, 73.56);
  EXPECT_DOUBLE_EQ(record.train_cost_12_s, 49.9829);
  EXPECT_DOUBLE_EQ(record.val_acc_200, 84.3773);
  EXPECT_DOUBLE_EQ(record.test_acc_200, 86.6167);
  EXPECT_DOUBLE_EQ(record.params_m, 0.073306);
  EXPECT_DOUBLE_EQ(record.flops_m, 7.78305);
  EXPECT_DOUBLE_EQ(record.latency_s, 0.00929077);

  EXPECT_EQ(table.row_of(table.space().parse(arch_str)), *row);
  EXPECT_EQ(table.find("|none~0|"), std::nullopt);
}

TEST(Nasbench201Table, AnswersTheSearchInFractionsAndChargesByFidelity) {
  Nasbench201Record record;
  record.val_acc_12 = 80.0;
  record.val_acc_200 = 90.0;
  record.train_cost_12_s = 60.0;

  const TabularAnswer twelve = tabular_answer(record, TabularFidelity::kEpochs12);
  EXPECT_DOUBLE_EQ(twelve.objective, 0.8);
  EXPECT_DOUBLE_EQ(twelve.cost_s, 60.0);

  const TabularAnswer two_hundred = tabular_answer(record, TabularFidelity::kEpochs200);
  EXPECT_DOUBLE_EQ(two_hundred.objective, 0.9);
  EXPECT_DOUBLE_EQ(two_hundred.cost_s, 1000.0);
}

TEST_F(Nasbench201TableFile, ReadsColumnsByNameInAnyOrder) {
  // Columns reversed, an unknown column added, latency_s left out, CRLF line ends, a blank line.
  std::string text =
      "extra,flops_m,params_m,test_acc_200,val_acc_200,train_cost_12_s,"
      "val_acc_12,arch_str,arch_index\r\n";
  const auto records = two_operation_records();
  for (const auto& record : records) {
    text += fmt::format("x,{},{},{},{},{},{},{},{}\r\n", record.flops_m, record.params_m,
                        record.test_acc_200, record.val_acc_200, record.train_cost_12_s,
                        record.val_acc_12, record.arch_str, record.arch_index);
  }
  text += "\r\n";
  testing_support::write_text(path_, text);

  const Nasbench201Table table =
      Nasbench201Table::load(path_, Nasbench201SpaceOptions().with_operations(kTwoOperations));
  ASSERT_EQ(table.size(), 64);
  for (size_t i = 0; i < records.size(); ++i) {
    EXPECT_EQ(table.records()[i].arch_str, records[i].arch_str);
    EXPECT_EQ(table.records()[i].arch_index, records[i].arch_index);
    EXPECT_DOUBLE_EQ(table.records()[i].val_acc_12, records[i].val_acc_12);
    EXPECT_DOUBLE_EQ(table.records()[i].test_acc_200, records[i].test_acc_200);
    EXPECT_TRUE(std::isnan(table.records()[i].latency_s));
  }
  // All six edges skip: the best signal; the last row: the best test accuracy.
  EXPECT_EQ(table.best_by_val_acc_12().arch_str,
            "|skip_connect~0|+|skip_connect~0|skip_connect~1|+|skip_connect~0|skip_connect~1|"
            "skip_connect~2|");
  EXPECT_EQ(table.best_by_test_acc_200().arch_index, 63);
}

TEST_F(Nasbench201TableFile, AByteOrderMarkBeforeTheHeaderIsIgnored) {
  // Spreadsheets save CSV with a UTF-8 byte-order mark, here right before arch_index.
  std::string text =
      "\xEF\xBB\xBF"
      "arch_index,arch_str,val_acc_12,train_cost_12_s,val_acc_200,test_acc_200,params_m,flops_m\n";
  for (const auto& record : two_operation_records()) {
    text += fmt::format("{},{},{},{},{},{},{},{}\n", record.arch_index, record.arch_str,
                        record.val_acc_12, record.train_cost_12_s, record.val_acc_200,
                        record.test_acc_200, record.params_m, record.flops_m);
  }
  testing_support::write_text(path_, text);

  const Nasbench201Table table =
      Nasbench201Table::load(path_, Nasbench201SpaceOptions().with_operations(kTwoOperations));
  EXPECT_EQ(table.size(), 64);
}

TEST_F(Nasbench201TableFile, AMissingOrEmptyFileIsNamed) {
  EXPECT_EQ(error_message([&] { Nasbench201Table::load(directory_ + "/absent.csv"); }),
            directory_ +
                "/absent.csv: expected a NAS-Bench-201 table (CSV), found no readable "
                "file");
  testing_support::write_text(path_, "\n\n");
  EXPECT_EQ(error_message([&] { Nasbench201Table::load(path_); }),
            path_ + ": expected a header line, found an empty file");
}

// Found by a fresh-user test: `bench nasbench201 --table /tmp` said "found an empty file".
TEST_F(Nasbench201TableFile, ADirectoryIsCalledADirectory) {
  EXPECT_EQ(error_message([&] { Nasbench201Table::load(directory_); }),
            directory_ + ": expected a NAS-Bench-201 table (CSV), found a directory");
}

TEST_F(Nasbench201TableFile, HeaderErrorsNameTheColumn) {
  EXPECT_EQ(load_error([](auto& lines) {
              lines[0] =
                  "arch_index,arch_str,val_acc12,train_cost_12_s,val_acc_200,test_acc_200,"
                  "params_m,flops_m,latency_s";
            }),
            path_ +
                ":1: expected a column 'val_acc_12', found the columns arch_index, arch_str, "
                "val_acc12, train_cost_12_s, val_acc_200, test_acc_200, params_m, flops_m, "
                "latency_s (is 'val_acc12' misspelt?)");
  EXPECT_EQ(load_error([](auto& lines) { lines[0] += ",params_m"; }),
            path_ + ":1: expected each column once, found 'params_m' twice");
}

TEST_F(Nasbench201TableFile, FieldErrorsNameTheLineAndColumn) {
  EXPECT_EQ(load_error([](auto& lines) { lines[3] = "2,|x|,abc"; }),
            path_ + ":4: expected 9 fields as in the header, found 3");
  EXPECT_EQ(load_error([](auto& lines) { set_field(lines[3], 2, "4O"); }),
            path_ + ":4: column val_acc_12: expected a number, found '4O'");
  EXPECT_EQ(load_error([](auto& lines) { set_field(lines[5], 0, "4.5"); }),
            path_ + ":6: column arch_index: expected an integer, found '4.5'");
  EXPECT_EQ(load_error([](auto& lines) { set_field(lines[2], 3, ""); }),
            path_ + ":3: column train_cost_12_s: expected a number, found ''");
}

TEST_F(Nasbench201TableFile, OutOfRangeValuesAndBadCellStringsAreNamed) {
  EXPECT_EQ(load_error([](auto& lines) { set_field(lines[7], 4, "101"); }),
            path_ + ":8: column val_acc_200: expected a number in [0, 100], found 101");
  EXPECT_EQ(load_error([](auto& lines) { set_field(lines[7], 3, "-1"); }),
            path_ + ":8: column train_cost_12_s: expected a number in [0, inf], found -1");
  EXPECT_EQ(load_error([](auto& lines) {
              set_field(lines[2], 1,
                        "|nor_conv_3x3~0|+|none~0|none~1|+|none~0|none~1|skip_connect~2|");
            }),
            path_ +
                ":3: column arch_str: arch_str '|nor_conv_3x3~0|+|none~0|none~1|+|none~0|"
                "none~1|skip_connect~2|': expected an operation (none or skip_connect) at "
                "character 2, found 'nor_conv_3x3'");
}

TEST_F(Nasbench201TableFile, RepeatsAndMissingRowsAreErrors) {
  // Line 3 becomes a copy of line 2 with its own index: the architecture repeats.
  EXPECT_EQ(load_error([](auto& lines) { lines[2] = "1" + lines[1].substr(1); }),
            path_ +
                ":3: column arch_str: expected each architecture once, found '|none~0|+|"
                "none~0|none~1|+|none~0|none~1|none~2|' again (first at " +
                path_ + ":2)");
  EXPECT_EQ(load_error([](auto& lines) { lines[3] = "0" + lines[3].substr(1); }),
            path_ + ":4: column arch_index: expected each index once, found 0 again (first at " +
                path_ + ":2)");
  EXPECT_EQ(load_error([](auto& lines) { lines.pop_back(); }),
            path_ +
                ": expected 64 rows, one per architecture of the nasbench201 space with "
                "operations none or skip_connect, found 63");
  // The full space's table cannot be a two-operation file.
  std::vector<std::string> lines = csv_lines(two_operation_records());
  write_table(path_, kTableHeader, lines);
  EXPECT_EQ(error_message([&] { Nasbench201Table::load(path_); }),
            path_ +
                ": expected 15625 rows, one per architecture of the nasbench201 space with "
                "operations none, skip_connect, nor_conv_1x1, nor_conv_3x3 or avg_pool_3x3, "
                "found 64");
}

TEST(Nasbench201Table, RecordsBuiltInMemoryGetTheSameChecks) {
  std::vector<Nasbench201Record> records = two_operation_records();
  const Nasbench201Table table(records, Nasbench201SpaceOptions().with_operations(kTwoOperations),
                               "generated");
  EXPECT_EQ(table.size(), 64);
  EXPECT_EQ(table.source(), "generated");

  records[1].val_acc_12 = -5.0;
  EXPECT_EQ(error_message([&] {
              Nasbench201Table(records, Nasbench201SpaceOptions().with_operations(kTwoOperations),
                               "generated");
            }),
            "generated: record 2: column val_acc_12: expected a number in [0, 100], found -5");
}

}  // namespace
}  // namespace nascent
