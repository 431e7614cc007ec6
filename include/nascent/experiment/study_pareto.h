#pragma once

/// `nascent pareto`: the Pareto front of a stored study. Torch-free.

#include <nlohmann/json.hpp>

#include <string>

namespace nascent {

/// The front of the study in `output_dir` under the objectives and constraints of its stored
/// experiment file, as pareto_json() writes it (plus "directory"). Works on a study still
/// running or one that stopped early. Throws nascent::Error when DIR holds no study.
nlohmann::json study_pareto(const std::string& output_dir);

}  // namespace nascent
