#include "nascent/experiment/study_pareto.h"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "nascent/core/error.h"
#include "nascent/eval/pareto.h"
#include "nascent/eval/training_evaluator.h"
#include "nascent/experiment/config.h"
#include "nascent/store/store.h"

namespace nascent {

nlohmann::json study_pareto(const std::string& output_dir) {
  return study_pareto(Store::open_study_directory(output_dir), output_dir);
}

nlohmann::json study_pareto(const Store& store, const std::string& study_dir) {
  const auto config_text = store.study_value("config_text");
  if (!config_text) {
    throw Error(fmt::format("{}: expected the experiment file stored with the study, found none",
                            store.path()));
  }
  const ExperimentConfig config = parse_experiment_config(
      *config_text, store.study_value("config_path").value_or(store.path()));
  nlohmann::json result =
      pareto_json(pareto_report(store.trials(), config.objectives), config.objectives);
  if (!study_dir.empty()) result["directory"] = study_dir;
  result["storage"] = store.path();

  // A compact form of each architecture when the data's shape is known.
  if (const auto shape = study_input_shape(store, study_dir)) {
    const int64_t num_classes = std::stoll(store.study_value("num_classes").value_or("0"));
    for (const char* list : {"front", "least_violating"}) {
      for (auto& entry : result[list]) {
        const ArchitectureCheck check =
            check_architecture(config.network, config.space.parse(entry["arch"].get<std::string>()),
                               *shape, num_classes);
        entry["short"] = check.short_description;
      }
    }
  }
  return result;
}

std::optional<ImageShape> study_input_shape(const Store& store, const std::string& output_dir) {
  if (const auto stored = store.study_value("input_shape")) {
    ImageShape shape;
    std::istringstream(*stored) >> shape.channels >> shape.height >> shape.width;
    if (shape.channels > 0 && shape.height > 0 && shape.width > 0) return shape;
  }
  // Studies created before the shape was stored have it in summary.json once finished.
  if (output_dir.empty()) return std::nullopt;
  std::ifstream file((std::filesystem::path(output_dir) / "summary.json").string());
  const nlohmann::json summary = nlohmann::json::parse(file, nullptr, false);
  if (summary.is_discarded() || !summary.contains("data")) return std::nullopt;
  const auto& shape = summary["data"].value("input_shape", nlohmann::json());
  if (!shape.is_array() || shape.size() != 3) return std::nullopt;
  return ImageShape{shape[0].get<int64_t>(), shape[1].get<int64_t>(), shape[2].get<int64_t>()};
}

}  // namespace nascent
