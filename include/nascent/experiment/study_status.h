#pragma once

/// `nascent status`: the state of a search's study, from its study directory or its store.

#include <nlohmann/json.hpp>

#include <string>

namespace nascent {

class Store;

/// The state of a study directory as JSON (counts by state, best trial so far, budget,
/// elapsed time, whether the final model exists). Throws if DIR holds no study.
nlohmann::json study_status(const std::string& output_dir);

/// The state of a study that `nascent search --storage` keeps in `store`, as study_status()
/// shows it for the search's directory: the budget, the search's clock and stop reason. Whether
/// a search runs, and the final model, are read in the --out directory the search recorded in
/// the store; when it is not on this machine, "search_running" is null.
nlohmann::json search_study_status(const Store& store);

}  // namespace nascent
