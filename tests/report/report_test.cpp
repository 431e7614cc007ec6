// The HTML report, loaded in headless Chromium: the page runs, its charts and table are
// there, sorting works, and a screenshot is taken. Also the ticks of the trial axis.

#include "nascent/report/html_report.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>

#include "error_expectations.h"
#include "nascent/store/store.h"
#include "nascent/store/study_files.h"
#include "test_support.h"

namespace nascent {
namespace {

using testing_support::fresh_directory;
using testing_support::write_text;

constexpr const char* kConfig = R"(study: report-test
space: {family: macro}
budget: {max_trials: 5}
objectives:
  optimize: [accuracy, params, latency_ms]
  constraints: {params: 50000}
)";

constexpr const char* kBest =
    "stem.width=16 stages=1 s1.depth=2 s1.downsample=max_pool s1.l1.op=conv s1.l1.width=32 "
    "s1.l1.kernel=3 s1.l1.activation=relu s1.l1.batch_norm=true s1.l2.op=sep_conv "
    "s1.l2.width=32 s1.l2.kernel=5 s1.l2.activation=silu s1.l2.batch_norm=true s1.l2.skip=1 "
    "head.dense_layers=1 head.dense1.width=64 head.dropout=0.2";

/// A study directory with five trials (one failed, one too large) and a summary.
std::string write_study() {
  const std::string dir = fresh_directory("report_study");
  Store store(dir + "/study.db");
  store.set_study_value("config_text", kConfig);
  store.set_study_value("config_path", "report.yaml");
  store.set_study_value("num_classes", "10");
  const std::vector<std::tuple<TrialState, double, int64_t, double>> rows = {
      {TrialState::kComplete, 0.80, 12000, 0.20},
      {TrialState::kComplete, 0.86, 30000, 0.35},
      {TrialState::kFailed, std::nan(""), 9000, 0.1},
      {TrialState::kComplete, 0.84, 41000, 0.50},
      {TrialState::kComplete, 0.90, 90000, 0.90}};
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& [state, accuracy, params, latency] = rows[i];
    TrialRecord record;
    record.architecture = i == 1 ? kBest : fmt::format("arch{}", i);
    record.architecture_hash = fmt::format("{:016x}", i);
    record.state = state;
    record.validation_accuracy = accuracy;
    record.params = params;
    record.flops = params * 50;
    record.train_seconds = 10.0 + static_cast<double>(i);
    record.started_at = 1000.0 + 60.0 * static_cast<double>(i);
    record.finished_at = record.started_at + 50.0;
    record.result_json = fmt::format(R"({{"latency_ms": {}}})", latency);
    store.insert_finished_trial(record);
  }
  const nlohmann::json summary = {{"data", {{"input_shape", {1, 28, 28}}, {"num_classes", 10}}},
                                  {"best",
                                   {{"trial_id", 2},
                                    {"arch", kBest},
                                    {"val_accuracy", 0.86},
                                    {"test_accuracy", 0.9},
                                    {"params", 30000},
                                    {"latency_ms", 0.35}}}};
  write_text(dir + "/summary.json", summary.dump());
  return dir;
}

/// Runs headless Chromium on the page; returns its exit status and standard output.
std::pair<int, std::string> chromium(const std::string& arguments) {
  const std::string profile = fresh_directory("chromium_profile");
  const std::string command = fmt::format(
      "timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run "
      "--disable-background-networking --disable-component-update --disable-sync "
      "--user-data-dir={} {} 2>/dev/null",
      profile, arguments);
  FILE* pipe = popen(command.c_str(), "r");
  std::string output;
  std::array<char, 4096> buffer{};
  while (size_t read = fread(buffer.data(), 1, buffer.size(), pipe))
    output.append(buffer.data(), read);
  const int status = pclose(pipe);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, output};
}

int64_t count(const std::string& text, const std::string& part) {
  int64_t found = 0;
  for (size_t at = text.find(part); at != std::string::npos; at = text.find(part, at + 1)) ++found;
  return found;
}

TEST(HtmlReport, LoadsInChromiumWithChartsSortableTableAndDiagram) {
  const std::string dir = write_study();
  const std::string page = dir + "/report.html";
  const nlohmann::json written = write_study_report(dir, page);
  EXPECT_EQ(written["trials"].get<int64_t>(), 5);

  // Self-contained: nothing is fetched from anywhere.
  std::ifstream file(page);
  const std::string html((std::istreambuf_iterator<char>(file)), std::istreambuf_iterator<char>());
  EXPECT_EQ(html.find("http://"), html.find("http://www.w3.org/2000/svg"));
  EXPECT_EQ(html.find("https://"), std::string::npos);
  EXPECT_EQ(html.find("src="), std::string::npos);

  // The DOM after the page's script ran, with the table sorted by parameters, descending.
  const auto [status, dom] =
      chromium(fmt::format("--dump-dom 'file://{}#sort=params:descending'", page));
  ASSERT_EQ(status, 0) << dom;
  EXPECT_NE(dom.find("data-ready=\"true\""), std::string::npos) << "the script did not run";
  EXPECT_NE(dom.find("data-sorted-by=\"params:descending\""), std::string::npos);
  for (const char* chart : {"chart-accuracy-trial", "chart-accuracy-time", "chart-pareto-params",
                            "chart-pareto-latency"}) {
    EXPECT_NE(dom.find(fmt::format("id=\"{}\"", chart)), std::string::npos) << chart;
  }
  EXPECT_EQ(count(dom, "<svg class=\"chart\""), 4);
  // Four complete trials in each of the four charts; trial 5 (90k params) breaks the
  // constraint, so the params front holds trials 1 and 2 only (red points).
  EXPECT_EQ(count(dom, "<circle class=\"point"), 16);
  const size_t params_chart = dom.find("id=\"chart-pareto-params\"");
  const size_t latency_chart = dom.find("id=\"chart-pareto-latency\"");
  const std::string params_svg = dom.substr(params_chart, latency_chart - params_chart);
  EXPECT_EQ(count(params_svg, "class=\"point front\""), 2);
  EXPECT_NE(dom.find("id=\"best-architecture\""), std::string::npos);
  EXPECT_NE(dom.find("s1.l2: sep_conv k5 silu BN (+ node 1)"), std::string::npos);

  // Rows in order of parameters, largest first; the failed trial has a row too.
  std::vector<int64_t> params;
  const std::regex row_params(R"re(<tr[^>]*><td data-value="\d+">\d+</td><td[^>]*>\w+</td>)re"
                              R"re(<td[^>]*>[^<]*</td><td data-value="(\d+)")re");
  for (std::sregex_iterator it(dom.begin(), dom.end(), row_params), end; it != end; ++it) {
    params.push_back(std::stoll((*it)[1]));
  }
  EXPECT_EQ(params, (std::vector<int64_t>{90000, 41000, 30000, 12000, 9000}));

  // A screenshot of the page: a PNG file.
  const std::string screenshot = dir + "/report.png";
  const auto [shot_status, shot_output] = chromium(
      fmt::format("--window-size=1280,2000 --screenshot={} 'file://{}'", screenshot, page));
  ASSERT_EQ(shot_status, 0) << shot_output;
  ASSERT_TRUE(std::filesystem::exists(screenshot));
  EXPECT_GT(std::filesystem::file_size(screenshot), 10000u);
  std::ifstream png(screenshot, std::ios::binary);
  std::array<char, 8> signature{};
  png.read(signature.data(), signature.size());
  EXPECT_EQ(std::string(signature.data() + 1, 3), "PNG");
}

/// The x-axis tick labels of the trial chart of a report on complete trials `first_id`,
/// `first_id` + 1, ..., `last_id`.
std::vector<std::string> trial_axis_ticks(int64_t first_id, int64_t last_id) {
  ReportInput input;
  for (int64_t id = first_id; id <= last_id; ++id) {
    TrialRecord trial;
    trial.id = id;
    trial.architecture = fmt::format("arch{}", id);
    trial.state = TrialState::kComplete;
    trial.validation_accuracy = 0.5 + 0.001 * static_cast<double>(id % 100);
    trial.started_at = 1000.0 + static_cast<double>(id);
    trial.finished_at = trial.started_at + 1.0;
    input.trials.push_back(trial);
  }
  const std::string html = render_html_report(input);
  const size_t chart = html.find("id=\"chart-accuracy-trial\"");
  const std::string svg = html.substr(chart, html.find("</svg>", chart) - chart);
  std::vector<std::string> ticks;
  const std::regex x_tick(R"re(class="tick" text-anchor="middle">([^<]*)<)re");
  for (std::sregex_iterator it(svg.begin(), svg.end(), x_tick), end; it != end; ++it) {
    ticks.push_back((*it)[1]);
  }
  return ticks;
}

TEST(HtmlReport, TrialAxisHasWholeTrialNumbersEachOnce) {
  using Ticks = std::vector<std::string>;
  EXPECT_EQ(trial_axis_ticks(1, 1), (Ticks{"1"}));
  EXPECT_EQ(trial_axis_ticks(1, 2), (Ticks{"1", "2"}));
  EXPECT_EQ(trial_axis_ticks(1, 4), (Ticks{"1", "2", "3", "4"}));
  EXPECT_EQ(trial_axis_ticks(3, 7), (Ticks{"3", "4", "5", "6", "7"}));
  EXPECT_EQ(trial_axis_ticks(1, 7), (Ticks{"2", "4", "6"}));
  EXPECT_EQ(trial_axis_ticks(1, 100), (Ticks{"20", "40", "60", "80", "100"}));
  // Close large ids: exact numbers, not "1k" twice.
  EXPECT_EQ(trial_axis_ticks(998, 1003), (Ticks{"998", "1000", "1002"}));
}

// Found by a fresh-user test: a cut-off summary.json made the report fail with the JSON
// library's long message, although the trials are all in study.db.
TEST(HtmlReport, ADamagedSummaryCostsOnlyTheFinalModelWithAWarning) {
  const std::string dir = write_study();
  std::ifstream summary_file(dir + "/summary.json");
  const std::string whole((std::istreambuf_iterator<char>(summary_file)),
                          std::istreambuf_iterator<char>());
  write_text(dir + "/summary.json", whole.substr(0, whole.size() / 2));

  const nlohmann::json result = write_study_report(dir, dir + "/report.html");
  EXPECT_EQ(result["trials"], 5);
  ASSERT_TRUE(result.contains("warning"));
  EXPECT_EQ(result["warning"],
            dir +
                "/summary.json: expected a summary written by nascent search, found a file "
                "that is not JSON; the report shows the trials without the final model (run "
                "the same nascent search to write it again)");
  EXPECT_TRUE(std::filesystem::exists(dir + "/report.html"));

  // JSON without the data's shape: the same, instead of a type error.
  write_text(dir + "/summary.json", R"({"best": null})");
  const nlohmann::json shapeless = write_study_report(dir, dir + "/report.html");
  EXPECT_NE(shapeless["warning"].get<std::string>().find("found one without its data"),
            std::string::npos);

  // A whole summary: no warning.
  write_text(dir + "/summary.json", whole);
  EXPECT_FALSE(write_study_report(dir, dir + "/report.html").contains("warning"));
}

TEST(HtmlReport, RefusesADirectoryWithoutAStudy) {
  const std::string dir = fresh_directory("report_nothing");
  try {
    write_study_report(dir, dir + "/report.html");
    ADD_FAILURE() << "expected an error";
  } catch (const std::exception& error) {
    EXPECT_NE(std::string(error.what()).find("expected a study directory holding study.db"),
              std::string::npos);
  }
  EXPECT_FALSE(std::filesystem::exists(dir + "/report.html"));
}

std::string read_bytes(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
}

// Found by a fresh-user test: `nascent report DIR --output DIR/study.db` replaced the study's
// store with the page, and the trials were gone.
TEST(HtmlReport, RefusesAnOutputThatIsOneOfTheStudysOwnFiles) {
  const std::string dir = write_study();
  const std::string store_bytes = read_bytes(dir + "/study.db");
  const std::string summary_bytes = read_bytes(dir + "/summary.json");
  const std::string name = std::filesystem::path(dir).filename().string();
  std::filesystem::create_symlink(dir + "/study.db", dir + "/link.html");

  // Each way of naming a study's file: directly, through `..`, through a symbolic link.
  const std::vector<std::pair<std::string, std::string>> cases = {
      {dir + "/study.db", dir + "/study.db"},
      {dir + "/summary.json", dir + "/summary.json"},
      {dir + "/../" + name + "/./study.db", dir + "/study.db"},
      {dir + "/link.html", dir + "/study.db"},
      {dir + "/model.pt", dir + "/model.pt"}};
  for (const auto& [output, study_file] : cases) {
    EXPECT_EQ(testing_support::error_message([&] { write_study_report(dir, output); }),
              fmt::format("--output {}: expected a file outside the study, found the study's own "
                          "{}, which writing would destroy; choose another file",
                          output, study_file));
  }
  EXPECT_EQ(read_bytes(dir + "/study.db"), store_bytes);
  EXPECT_EQ(read_bytes(dir + "/summary.json"), summary_bytes);
  EXPECT_FALSE(std::filesystem::exists(dir + "/model.pt"));

  // With --storage, the store's file and those SQLite keeps beside it are the study's.
  const std::string database = dir + "/shared.db";
  for (const std::string& output : {database, database + "-wal"}) {
    EXPECT_EQ(testing_support::error_message(
                  [&] { check_study_output(output, "--output", "", "sqlite://" + database); }),
              fmt::format("--output {}: expected a file outside the study, found the study's own "
                          "{}, which writing would destroy; choose another file",
                          output, output));
  }
  check_study_output(dir + "/report.html", "--output", dir, "sqlite://" + database);
}

// Found by a fresh-user test: an existing directory as --output failed with the filesystem's
// "cannot rename: Is a directory" and left DIR.partial behind.
TEST(HtmlReport, RefusesADirectoryAsOutputAndLeavesNothing) {
  const std::string dir = write_study();
  const std::string output = fresh_directory("report_output_directory");
  EXPECT_EQ(testing_support::error_message([&] { write_study_report(dir, output); }),
            fmt::format("--output {}: expected a file to write, found a directory", output));
  EXPECT_FALSE(std::filesystem::exists(output + ".partial"));
  EXPECT_TRUE(std::filesystem::is_empty(output));
}

}  // namespace
}  // namespace nascent
