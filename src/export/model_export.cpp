#include "nascent/export/model_export.h"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>

#include "nascent/core/error.h"
#include "nascent/export/checkpoint.h"
#include "nascent/nn/build_network.h"
#include "nascent/space/nasbench201.h"
#include "nascent/store/store.h"
#include "nascent/store/study_files.h"

namespace nascent {

namespace {

namespace fs = std::filesystem;

nlohmann::json read_summary(const std::string& study_dir) {
  const std::string path = (fs::path(study_dir) / "summary.json").string();
  std::ifstream file(path);
  if (!file) {
    throw Error(
        fmt::format("{}: expected a study directory with summary.json (written when "
                    "nascent search finishes), found none",
                    study_dir));
  }
  try {
    return nlohmann::json::parse(file);
  } catch (const nlohmann::json::exception& error) {
    throw Error(fmt::format("{}: expected JSON, found a parse error: {}", path, error.what()));
  }
}

/// A failed write leaves nothing behind: neither `path` nor its temporary file.
void write_atomically(const std::string& path, const std::string& bytes) {
  const std::string temporary = path + ".partial";
  std::error_code error;
  {
    std::ofstream file(temporary, std::ios::binary);
    file.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!file) {
      fs::remove(temporary, error);
      throw Error(
          fmt::format("--output {}: expected a writable file, found that it cannot be "
                      "written",
                      path));
    }
  }
  fs::rename(temporary, path, error);
  if (error) {
    fs::remove(temporary, error);
    throw Error(
        fmt::format("--output {}: expected a file that can be replaced, found that it "
                    "cannot be",
                    path));
  }
}

}  // namespace

std::string onnx_from_checkpoint(const NetworkFamily& family, const Architecture& architecture,
                                 const ImageShape& input, int64_t num_classes,
                                 const std::string& checkpoint_path) {
  const BuiltNetwork network = build_network(family, architecture, input, num_classes);
  const CheckpointNormalisation normalisation =
      load_checkpoint_strict(*network.module, checkpoint_path, architecture.to_string());

  OnnxExportInput request;
  request.family = family;
  request.architecture = architecture;
  request.input = input;
  request.num_classes = num_classes;
  request.weights = module_weights(*network.module);
  const torch::Tensor mean = normalisation.mean.to(torch::kFloat32).contiguous().view({-1});
  const torch::Tensor std = normalisation.std.to(torch::kFloat32).contiguous().view({-1});
  request.input_mean.assign(mean.data_ptr<float>(), mean.data_ptr<float>() + mean.numel());
  request.input_std.assign(std.data_ptr<float>(), std.data_ptr<float>() + std.numel());
  return export_onnx(request);
}

std::string missing_final_model_advice(const nlohmann::json& summary) {
  // A search that ended (it wrote its stop reason) without a best trial completed none.
  const auto best = summary.find("best");
  const auto stop_reason = summary.find("stop_reason");
  if (best != summary.end() && best->is_null() && stop_reason != summary.end() &&
      stop_reason->is_string()) {
    return fmt::format(
        "its search stopped ({}) before any trial completed; run nascent search again with a "
        "larger budget",
        stop_reason->get<std::string>());
  }
  return "run nascent search to the end first";
}

nlohmann::json export_model(const ModelExportOptions& options) {
  if (options.format != "onnx" && options.format != "torch") {
    throw Error(fmt::format("--format: expected onnx or torch, found '{}'", options.format));
  }
  check_study_output(options.output, "--output", options.study_dir);
  const nlohmann::json summary = read_summary(options.study_dir);
  const nlohmann::json& best = summary.value("best", nlohmann::json());
  const std::string checkpoint = (fs::path(options.study_dir) / "model.pt").string();
  if (!best.is_object() || !best.contains("test_accuracy") || !fs::exists(checkpoint)) {
    throw Error(
        fmt::format("{}: expected a finished study with a final model (model.pt), "
                    "found none; {}",
                    options.study_dir, missing_final_model_advice(summary)));
  }

  // Only the final model has weights; any other trial's were not kept.
  const int64_t best_id = best["trial_id"].get<int64_t>();
  if (options.trial_id != best_id) {
    const bool exists =
        Store::open_study_directory(options.study_dir).trial(options.trial_id).has_value();
    if (!exists) {
      throw Error(fmt::format("--trial {}: expected a trial of study {}, found none",
                              options.trial_id, options.study_dir));
    }
    throw Error(
        fmt::format("--trial {}: expected the trial whose weights were kept, found one "
                    "without them: nascent keeps only the final model (trial {}, "
                    "retrained as model.pt); export --trial {}",
                    options.trial_id, best_id, best_id));
  }

  NetworkFamily family;
  if (summary.contains("space")) {
    family.family = summary["space"]["family"].get<std::string>();
    family.cell.cells_per_stage = summary["space"]["cells_per_stage"].get<int64_t>();
    family.cell.channels = summary["space"]["channels"].get<int64_t>();
  }
  const std::string arch_text = best["arch"].get<std::string>();
  const Architecture architecture = family.family == "nasbench201"
                                        ? make_nasbench201_space().parse(arch_text)
                                        : Architecture::from_string(arch_text);
  const auto& shape = summary["data"]["input_shape"];
  const ImageShape input{shape[0].get<int64_t>(), shape[1].get<int64_t>(), shape[2].get<int64_t>()};
  const int64_t num_classes = summary["data"]["num_classes"].get<int64_t>();

  int64_t bytes = 0;
  if (options.format == "onnx") {
    const std::string model =
        onnx_from_checkpoint(family, architecture, input, num_classes, checkpoint);
    write_atomically(options.output, model);
    bytes = static_cast<int64_t>(model.size());
  } else {
    // A verified copy: loaded strictly into the architecture, then saved again.
    const BuiltNetwork network = build_network(family, architecture, input, num_classes);
    const CheckpointNormalisation normalisation =
        load_checkpoint_strict(*network.module, checkpoint, arch_text);
    save_checkpoint(*network.module, normalisation, options.output);
    bytes = static_cast<int64_t>(fs::file_size(options.output));
  }
  return {{"trial_id", best_id},
          {"format", options.format},
          {"output", options.output},
          {"bytes", bytes},
          {"arch", arch_text}};
}

}  // namespace nascent
