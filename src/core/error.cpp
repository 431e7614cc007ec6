#include "nascent/core/error.h"

#include <fmt/format.h>

namespace nascent {

namespace {

std::string describe_config_problem(const std::string& file, int64_t line,
                                    const std::string& key_path, const std::string& problem) {
  std::string where = file;
  if (line > 0) where += fmt::format(":{}", line);
  if (!key_path.empty()) return fmt::format("{}: {}: {}", where, key_path, problem);
  return fmt::format("{}: {}", where, problem);
}

}  // namespace

ConfigError::ConfigError(std::string file, int64_t line, std::string key_path,
                         const std::string& problem)
    : Error(describe_config_problem(file, line, key_path, problem)),
      file_(std::move(file)),
      line_(line),
      key_path_(std::move(key_path)) {}

InvalidArchitecture::InvalidArchitecture(std::string layer, std::string decision,
                                         const std::string& reason)
    : Error(fmt::format("layer {} ({}): {}", layer, decision, reason)),
      layer_(std::move(layer)),
      decision_(std::move(decision)) {}

}  // namespace nascent
