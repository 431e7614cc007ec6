#include "nascent/export/checkpoint.h"

#include <fmt/format.h>

#include <filesystem>
#include <set>

#include "nascent/core/error.h"

namespace nascent {

namespace {

constexpr const char* kMeanKey = "nascent_input_mean";
constexpr const char* kStdKey = "nascent_input_std";

std::string shape_text(const torch::Tensor& tensor) {
  return fmt::format("[{}]", fmt::join(tensor.sizes(), ", "));
}

/// A checkpoint's tensors read into memory, checked against a module before anything is
/// copied into it.
struct PendingTensor {
  torch::Tensor target;
  torch::Tensor stored;
};

void collect(torch::nn::Module& module, torch::serialize::InputArchive& archive,
             const std::string& prefix, const std::string& path, const std::string& architecture,
             std::vector<PendingTensor>& pending) {
  const auto mismatch = [&](const std::string& detail) {
    return Error(fmt::format("checkpoint {}: does not fit architecture '{}': {}", path,
                             architecture, detail));
  };
  std::set<std::string> expected;
  const auto read_tensor = [&](const std::string& name, torch::Tensor& target) {
    expected.insert(name);
    torch::Tensor stored;
    if (!archive.try_read(name, stored) || !stored.defined()) {
      throw mismatch(fmt::format("expected tensor '{}{}' of shape {}, found none", prefix, name,
                                 shape_text(target)));
    }
    if (stored.sizes() != target.sizes()) {
      throw mismatch(fmt::format("expected tensor '{}{}' of shape {}, found shape {}", prefix, name,
                                 shape_text(target), shape_text(stored)));
    }
    pending.push_back({target, stored});
  };
  for (auto& parameter : module.named_parameters(/*recurse=*/false)) {
    read_tensor(parameter.key(), parameter.value());
  }
  for (auto& buffer : module.named_buffers(/*recurse=*/false)) {
    read_tensor(buffer.key(), buffer.value());
  }
  for (const auto& child : module.named_children()) {
    expected.insert(child.key());
    torch::serialize::InputArchive child_archive;
    if (!archive.try_read(child.key(), child_archive)) {
      throw mismatch(fmt::format("expected module '{}{}', found none", prefix, child.key()));
    }
    collect(*child.value(), child_archive, prefix + child.key() + ".", path, architecture, pending);
  }

  // Anything else stored here belongs to a different architecture (the normalisation lives
  // at the top level; "training" is the mode flag every saved module carries).
  for (const auto& key : archive.keys()) {
    if (expected.count(key) || key == "training") continue;
    if (prefix.empty() && (key == kMeanKey || key == kStdKey)) continue;
    throw mismatch(
        fmt::format("expected only the tensors of this architecture, found an extra "
                    "'{}{}'",
                    prefix, key));
  }
}

}  // namespace

CheckpointNormalisation load_checkpoint_strict(torch::nn::Module& module, const std::string& path,
                                               const std::string& architecture) {
  if (!std::filesystem::exists(path)) {
    throw Error(
        fmt::format("checkpoint {}: expected a LibTorch checkpoint written by nascent, "
                    "found no file",
                    path));
  }
  torch::serialize::InputArchive archive;
  try {
    archive.load_from(path);
  } catch (const c10::Error& error) {
    std::string message = error.what_without_backtrace();
    throw Error(
        fmt::format("checkpoint {}: expected a LibTorch archive, found a file LibTorch "
                    "cannot read: {}",
                    path, message.substr(0, message.find('\n'))));
  }

  std::vector<PendingTensor> pending;
  collect(module, archive, "", path, architecture, pending);
  CheckpointNormalisation normalisation;
  if (!archive.try_read(kMeanKey, normalisation.mean) ||
      !archive.try_read(kStdKey, normalisation.std)) {
    throw Error(
        fmt::format("checkpoint {}: expected the input normalisation ({}, {}), found "
                    "none",
                    path, kMeanKey, kStdKey));
  }

  // Every tensor fits: only now is the module changed.
  torch::NoGradGuard no_grad;
  for (auto& tensor : pending) tensor.target.copy_(tensor.stored);
  return normalisation;
}

void save_checkpoint(torch::nn::Module& module, const CheckpointNormalisation& normalisation,
                     const std::string& path) {
  const std::string temporary = path + ".partial";
  torch::serialize::OutputArchive archive;
  module.save(archive);
  archive.write(kMeanKey, normalisation.mean, /*is_buffer=*/true);
  archive.write(kStdKey, normalisation.std, /*is_buffer=*/true);
  archive.save_to(temporary);
  std::filesystem::rename(temporary, path);
}

WeightMap module_weights(torch::nn::Module& module) {
  WeightMap weights;
  const auto add = [&](const std::string& name, const torch::Tensor& tensor) {
    const torch::Tensor values = tensor.detach().to(torch::kFloat32).contiguous();
    WeightTensor weight;
    weight.shape.assign(values.sizes().begin(), values.sizes().end());
    weight.values.assign(values.data_ptr<float>(), values.data_ptr<float>() + values.numel());
    weights[name] = std::move(weight);
  };
  for (const auto& parameter : module.named_parameters()) add(parameter.key(), parameter.value());
  for (const auto& buffer : module.named_buffers()) add(buffer.key(), buffer.value());
  return weights;
}

}  // namespace nascent
