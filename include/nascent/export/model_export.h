#pragma once

/// `nascent export`: a study's trained model as ONNX or as a LibTorch checkpoint.

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>

#include "nascent/export/onnx.h"

namespace nascent {

/// What to export and where.
struct ModelExportOptions {
  /// The study directory (summary.json, model.pt, study.db).
  std::string study_dir;
  /// The trial whose architecture and weights are exported. Only the final model (the best
  /// trial, retrained and saved as model.pt) has weights; other trials are refused.
  int64_t trial_id = 0;
  /// "onnx" or "torch".
  std::string format = "onnx";
  /// The file to write (atomically: a temporary file, then a rename).
  std::string output;
};

/// Exports the trial's model. Returns {"trial_id", "format", "output", "bytes", "arch"}.
/// Throws nascent::Error for a missing study or model, a trial without weights, an unknown
/// format, or a checkpoint that does not fit the architecture.
nlohmann::json export_model(const ModelExportOptions& options);

/// What to do about a study whose summary.json has no final model: run the search to its end,
/// or, when the search ended before any trial completed, run it again with a larger budget.
std::string missing_final_model_advice(const nlohmann::json& summary);

/// The ONNX bytes of `architecture` with the weights and normalisation of the checkpoint at
/// `checkpoint_path`, loaded strictly (see load_checkpoint_strict()).
std::string onnx_from_checkpoint(const NetworkFamily& family, const Architecture& architecture,
                                 const ImageShape& input, int64_t num_classes,
                                 const std::string& checkpoint_path);

}  // namespace nascent
