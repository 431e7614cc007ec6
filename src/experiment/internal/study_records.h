#pragma once

// What a search writes into its study and its study directory and `nascent status` reads back:
// shared by the search (nascent_torch) and the status (nascent_core, which workers link).

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

#include "nascent/store/store.h"
#include "nascent/store/trial.h"

namespace nascent::internal {

/// The study value in which a search with --storage records its --out directory (absolute), so
/// that `nascent status --storage` finds the search's lock and final model there.
constexpr const char* kSearchDirectoryKey = "search_directory";

double unix_now();

/// The file a search locks, and status probes, to tell whether a search works on a study.
std::string study_lock_path(const std::string& output_dir);

/// The training epochs of a trial: recorded in its results by a multi-fidelity search, the
/// configured train.epochs (`full_epochs`) otherwise.
int64_t trial_epochs(const TrialRecord& trial, int64_t full_epochs);

/// The complete trials that trained for the most epochs any complete trial trained for: a
/// result after fewer epochs is not comparable with one after more.
std::vector<TrialRecord> longest_trained(const std::vector<TrialRecord>& trials,
                                         int64_t full_epochs);

/// The number of trials in each state, by the state's name.
nlohmann::json counts_json(const Store& store);

/// A numeric study value, or `fallback` when the study has none.
double stored_double(const Store& store, const std::string& key, double fallback);

}  // namespace nascent::internal
