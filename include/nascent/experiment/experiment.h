#pragma once

/// Running a study: the search loop, resume, the final model and summary.json.

#include <nlohmann/json.hpp>

#include <functional>
#include <memory>
#include <string>

#include "nascent/data/dataset.h"
#include "nascent/eval/evaluator.h"
#include "nascent/experiment/config.h"
#include "nascent/experiment/study_status.h"
#include "nascent/store/trial.h"

namespace nascent {

/// Callbacks through which a search reports progress; the library itself prints nothing.
struct SearchEvents {
  /// A line of information (data loaded, study resumed, phase changes).
  std::function<void(const std::string&)> on_info;
  /// A trial that counts against the budget finished (complete or failed).
  std::function<void(const TrialRecord&, const std::string& short_description)> on_trial;
  /// A training step of the current trial or of the final model.
  std::function<void(int64_t step, int64_t total_steps)> on_step;
  /// An epoch of the final model finished.
  std::function<void(const EpochMetrics&)> on_final_epoch;
};

/// Replaces the evaluator a search uses (tests use a scripted one). Given the config and the
/// data shape, returns an evaluator; when empty, the training evaluator is used.
using EvaluatorFactory = std::function<std::unique_ptr<Evaluator>(const ExperimentConfig&)>;

/// Options of run_search() beyond the config.
struct SearchRunOptions {
  /// Directory of the study: study.db, summary.json, model.pt. Created if absent.
  std::string output_dir;
  /// Where the trials are stored: empty for `output_dir`/study.db, or a URL as
  /// nascent::Store::open() takes it (`sqlite://PATH`, `postgresql://user@host:port/db`).
  /// summary.json and model.pt stay in output_dir either way.
  std::string storage_url;
  /// The study's name in the store named by storage_url; empty means the config's `study`.
  std::string study_name;
  /// Skip retraining the best architecture (tests of the search loop only).
  bool skip_final = false;
  EvaluatorFactory evaluator_factory;
};

/// Runs or resumes the study in `options.output_dir` and returns the summary (also written to
/// summary.json). A study that already exists is resumed: finished trials stay, trials left
/// RUNNING by a dead process become INTERRUPTED and are re-run, and the budget counts what
/// was already done. Throws nascent::Error on bad input (missing data, a config that differs
/// from the stored study, a space with no valid architecture).
nlohmann::json run_search(const ExperimentConfig& config, const SearchRunOptions& options,
                          const SearchEvents& events = {});

/// The evaluator a search of `config` trains candidates with: loads and splits the data as
/// run_search() does, then builds the training evaluator. Workers of a shared study use it.
std::unique_ptr<Evaluator> make_study_evaluator(const ExperimentConfig& config);

/// Reloads the final model of a finished study in this process and measures its test
/// accuracy. Returns {"test_accuracy": measured, "summary_test_accuracy": recorded, ...}.
nlohmann::json evaluate_study(const std::string& output_dir);

/// The images candidates train on and the validation images of the config's study, loaded and
/// split exactly as run_search() does (first: search training, second: validation).
std::pair<ImageDataset, ImageDataset> load_search_datasets(const ExperimentConfig& config);

}  // namespace nascent
