#include "nascent/experiment/study_pareto.h"

#include <fmt/format.h>

#include <filesystem>

#include "nascent/core/error.h"
#include "nascent/eval/pareto.h"
#include "nascent/experiment/config.h"
#include "nascent/store/store.h"

namespace nascent {

nlohmann::json study_pareto(const std::string& output_dir) {
  const std::string db = (std::filesystem::path(output_dir) / "study.db").string();
  if (!std::filesystem::exists(db)) {
    throw Error(
        fmt::format("{}: expected a study directory holding study.db, found none", output_dir));
  }
  const Store store(db);
  const auto config_text = store.study_value("config_text");
  if (!config_text) {
    throw Error(
        fmt::format("{}: expected the experiment file stored with the study, found none", db));
  }
  const ExperimentConfig config =
      parse_experiment_config(*config_text, store.study_value("config_path").value_or(db));
  nlohmann::json result =
      pareto_json(pareto_report(store.trials(), config.objectives), config.objectives);
  result["directory"] = output_dir;
  return result;
}

}  // namespace nascent
