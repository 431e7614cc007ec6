// `nascent status`: the state of a search's study, read from its store and its directory.

#include "nascent/experiment/study_status.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <optional>

#include "experiment/internal/study_records.h"
#include "nascent/core/error.h"
#include "nascent/eval/pareto.h"
#include "nascent/experiment/config.h"
#include "nascent/store/store.h"

namespace nascent {

namespace {

namespace fs = std::filesystem;
using internal::counts_json;
using internal::longest_trained;
using internal::stored_double;
using internal::unix_now;

/// The complete trial with the highest validation accuracy.
std::optional<TrialRecord> best_trial(const std::vector<TrialRecord>& trials) {
  std::optional<TrialRecord> best;
  for (const auto& trial : trials) {
    if (trial.state != TrialState::kComplete || std::isnan(trial.validation_accuracy)) continue;
    if (!best || trial.validation_accuracy > best->validation_accuracy) best = trial;
  }
  return best;
}

/// Whether a search process holds the study's lock now. Takes and drops a shared lock, which
/// fails while a search holds its exclusive one (and for those microseconds would make a
/// search starting at that instant report the study busy).
bool study_locked(const std::string& output_dir) {
  const std::string path = internal::study_lock_path(output_dir);
  const int descriptor = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (descriptor < 0) return false;  // no search has run here since locks were introduced
  const bool locked = flock(descriptor, LOCK_SH | LOCK_NB) != 0;
  close(descriptor);  // also releases the shared lock if it was taken
  return locked;
}

/// The status of the search whose trials `store` holds, for `nascent status`. `output_dir` is
/// the search's --out directory: its lock tells whether a search runs, and model.pt there is the
/// final model. When that directory is not on this machine (a store shared between machines),
/// whether a search runs is unknown: "search_running" is null, running trials stay running
/// rather than abandoned, and the clock is the stored one.
nlohmann::json search_status(const Store& store, const std::string& output_dir) {
  const auto trials = store.trials();
  std::error_code status_error;  // a directory that cannot be looked at counts as elsewhere
  const bool directory_here = fs::is_directory(output_dir, status_error);
  const bool search_running = directory_here && study_locked(output_dir);
  nlohmann::json status;
  status["directory"] = output_dir;
  status["search_running"] = directory_here ? nlohmann::json(search_running) : nullptr;
  status["trials"] = counts_json(store);
  if (directory_here && !search_running) {
    // Counted as what they are: no process is running them.
    status["trials"]["abandoned"] = status["trials"]["running"];
    status["trials"]["running"] = 0;
  }
  status["max_trials"] = std::stoll(store.study_value("max_trials").value_or("0"));
  status["time_limit_min"] = std::stod(store.study_value("time_limit_min").value_or("0"));
  // The clock is stored after every epoch; while a search holds the study and its clock runs,
  // the seconds since then count too (found by a fresh-user test: 0 s during a first trial).
  double search_elapsed_s = stored_double(store, "search_elapsed_s", 0.0);
  const bool clock_left_running = store.study_value("search_clock_running").value_or("0") == "1";
  const bool clock_running = search_running && clock_left_running;
  if (clock_running) {
    search_elapsed_s +=
        std::max(0.0, unix_now() - stored_double(store, "clock_saved_at", unix_now()));
  }
  status["search_elapsed_s"] = search_elapsed_s;
  // A resumed search keeps the stop reason of the run before until it stops again; with no way
  // to look at the lock, a clock left running may be such a search.
  const bool search_part_may_run = directory_here ? clock_running : clock_left_running;
  status["stop_reason"] =
      search_part_may_run ? std::string() : store.study_value("stop_reason").value_or("");
  status["final_model"] = directory_here && fs::exists(fs::path(output_dir) / "model.pt");
  status["best"] = nullptr;
  // With constraints, the best so far is the best feasible trial, as the search will choose;
  // with several fidelities, among the trials that trained longest. A trial that records no
  // epochs was trained for the full count.
  const std::vector<TrialRecord> comparable =
      longest_trained(trials, std::numeric_limits<int64_t>::max());
  std::optional<TrialRecord> best = best_trial(comparable);
  if (const auto config_text = store.study_value("config_text")) {
    try {
      const ExperimentConfig config = parse_experiment_config(*config_text, "stored config");
      best = best_feasible_trial(comparable, config.objectives);
      if (is_weight_sharing(config.strategy.name)) {
        // The supernet trains before any trial: without this, status would show nothing for
        // the first part of a DARTS search.
        status["supernet"] = {
            {"epochs", config.strategy.supernet_epochs},
            {"epochs_done", std::stoll(store.study_value("supernet_epoch").value_or("0"))},
            {"trained", store.study_value("darts_probabilities").has_value()}};
      }
    } catch (const Error&) {
      // A stored config this version cannot read: fall back to the highest accuracy.
    }
  }
  if (best) {
    status["best"] = {{"trial_id", best->id},
                      {"arch", best->architecture},
                      {"val_accuracy", best->validation_accuracy},
                      {"params", best->params},
                      {"flops", best->flops}};
  }
  nlohmann::json recent = nlohmann::json::array();
  for (const auto& trial : trials) {
    // A trial still RUNNING while no search holds the study was cut off by a crash or a kill;
    // the next `nascent search` records it as interrupted and trains it again.
    const bool abandoned = trial.state == TrialState::kRunning && directory_here && !search_running;
    recent.push_back({{"id", trial.id},
                      {"state", abandoned ? std::string("abandoned") : to_string(trial.state)},
                      {"val_accuracy", std::isnan(trial.validation_accuracy)
                                           ? nlohmann::json(nullptr)
                                           : nlohmann::json(trial.validation_accuracy)},
                      {"params", trial.params},
                      {"seconds", trial.train_seconds},
                      {"error", trial.error}});
  }
  status["trial_list"] = recent;

  // Where the final model stands, for people: a search killed while retraining it leaves none,
  // and the next run of the same command retrains it.
  const std::string stop_reason = status["stop_reason"].get<std::string>();
  std::string final_model = "not yet trained";
  if (output_dir.empty()) {
    final_model = "unknown: the store does not record the search's --out directory";
  } else if (!directory_here) {
    final_model = fmt::format("unknown here: its directory {} is not on this machine", output_dir);
  } else if (status["final_model"].get<bool>()) {
    final_model = "model.pt";
  } else if (search_running && !clock_running && !stop_reason.empty()) {
    final_model = "being trained";
  } else if (!search_running && !stop_reason.empty() && status["best"].is_object() &&
             store.study_value("search_clock_running").value_or("0") == "0") {
    // The search part had ended (a search cut off before that left its clock running).
    final_model = "none: its training was cut off; run the same nascent search to train it";
  }
  status["final_model_state"] = final_model;
  return status;
}

}  // namespace

nlohmann::json study_status(const std::string& output_dir) {
  return search_status(Store::open_study_directory(output_dir), output_dir);
}

nlohmann::json search_study_status(const Store& store) {
  return search_status(store, store.study_value(internal::kSearchDirectoryKey).value_or(""));
}

}  // namespace nascent
