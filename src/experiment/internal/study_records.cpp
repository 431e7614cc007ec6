#include "experiment/internal/study_records.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>

namespace nascent::internal {

double unix_now() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

std::string study_lock_path(const std::string& output_dir) {
  return (std::filesystem::path(output_dir) / "study.lock").string();
}

int64_t trial_epochs(const TrialRecord& trial, int64_t full_epochs) {
  const auto result = nlohmann::json::parse(trial.result_json, nullptr, false);
  if (result.is_object() && result.contains("epochs") && result["epochs"].is_number_integer()) {
    return result["epochs"].get<int64_t>();
  }
  return full_epochs;
}

std::vector<TrialRecord> longest_trained(const std::vector<TrialRecord>& trials,
                                         int64_t full_epochs) {
  int64_t longest = 0;
  for (const auto& trial : trials) {
    if (trial.state != TrialState::kComplete || std::isnan(trial.validation_accuracy)) continue;
    longest = std::max(longest, trial_epochs(trial, full_epochs));
  }
  std::vector<TrialRecord> comparable;
  for (const auto& trial : trials) {
    if (trial.state == TrialState::kComplete && trial_epochs(trial, full_epochs) == longest) {
      comparable.push_back(trial);
    }
  }
  return comparable;
}

nlohmann::json counts_json(const Store& store) {
  nlohmann::json counts = nlohmann::json::object();
  for (const auto& [state, count] : store.count_by_state()) counts[to_string(state)] = count;
  return counts;
}

double stored_double(const Store& store, const std::string& key, double fallback) {
  const auto value = store.study_value(key);
  return value ? std::stod(*value) : fallback;
}

}  // namespace nascent::internal
