#pragma once

/// `nascent report`: a study as one self-contained HTML page (inline SVG charts and a little
/// inline JavaScript, nothing fetched from the network). Torch-free.

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

#include "nascent/eval/objectives.h"
#include "nascent/nn/network_family.h"
#include "nascent/store/store.h"
#include "nascent/store/trial.h"

namespace nascent {

/// Everything the page shows.
struct ReportInput {
  std::string title;
  std::vector<TrialRecord> trials;
  ObjectivesConfig objectives;
  NetworkFamily family;
  ImageShape input;
  int64_t num_classes = 0;
  /// summary.json, or null when the search has not finished.
  nlohmann::json summary;
};

/// The page. Sections and their element ids: charts "chart-accuracy-trial",
/// "chart-accuracy-time", "chart-pareto-params", "chart-pareto-latency" (each an <svg
/// class="chart">), the table "trials" (rows sortable by clicking a header, or on load with
/// "#sort=<column>" in the address), and the diagram "best-architecture".
std::string render_html_report(const ReportInput& input);

/// Reads the study in `study_dir` (study.db, the stored config and summary.json when present),
/// writes the page to `output` and returns {"output", "trials", "bytes"}, plus "warning" when
/// summary.json is damaged (the page then leaves out the final model). Throws nascent::Error
/// when the directory holds no study or the file cannot be written.
nlohmann::json write_study_report(const std::string& study_dir, const std::string& output);

/// The same for an opened store: a study run by workers, or a search run with --storage.
/// `study_dir`, when not empty, is the directory of that search, whose summary.json is read
/// when present.
nlohmann::json write_study_report(const Store& store, const std::string& study_dir,
                                  const std::string& output);

}  // namespace nascent
