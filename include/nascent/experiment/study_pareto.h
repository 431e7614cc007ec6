#pragma once

/// `nascent pareto`: the Pareto front of a stored study. Torch-free.

#include <nlohmann/json.hpp>

#include <optional>
#include <string>

#include "nascent/nn/network_plan.h"
#include "nascent/store/store.h"

namespace nascent {

/// The front of the study in `output_dir` under the objectives and constraints of its stored
/// experiment file, as pareto_json() writes it (plus "directory"). Works on a study still
/// running or one that stopped early. Entries get a compact "short" form of their architecture
/// when the data's shape is known. Throws nascent::Error when DIR holds no study.
nlohmann::json study_pareto(const std::string& output_dir);

/// The same for an opened store: a study run by workers, or a search run with --storage.
/// `study_dir`, when not empty, is the directory of that search (its summary.json knows the
/// data's shape if the store does not) and is reported as "directory".
nlohmann::json study_pareto(const Store& store, const std::string& study_dir);

/// The image shape of a study's data: stored when the search starts, or (older studies) read
/// from summary.json; nothing when neither is there.
std::optional<ImageShape> study_input_shape(const Store& store, const std::string& output_dir);

}  // namespace nascent
