#pragma once

/// Errors nascent reports. Every message says what was expected, what was found and where, so
/// that `main` can print it as one line without a stack trace.

#include <cstdint>
#include <stdexcept>
#include <string>

namespace nascent {

/// Base of every error nascent throws on purpose.
class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& message) : std::runtime_error(message) {}
};

/// A problem in an experiment file: carries the file, the line and the key path.
class ConfigError : public Error {
 public:
  /// `line` is 1-based; 0 means the location is unknown (for example, a missing key).
  ConfigError(std::string file, int64_t line, std::string key_path, const std::string& problem);

  const std::string& file() const { return file_; }
  int64_t line() const { return line_; }
  const std::string& key_path() const { return key_path_; }

 private:
  std::string file_;
  int64_t line_;
  std::string key_path_;
};

/// An architecture that cannot be built for the input shape (for example, a skip between
/// tensors of different shapes). The search records it as INVALID instead of training it.
class InvalidArchitecture : public Error {
 public:
  /// `layer` names the layer (for example "s2.l1"), `decision` the decision responsible.
  InvalidArchitecture(std::string layer, std::string decision, const std::string& reason);

  const std::string& layer() const { return layer_; }
  const std::string& decision() const { return decision_; }

 private:
  std::string layer_;
  std::string decision_;
};

/// A data file that is missing or malformed.
class DataError : public Error {
 public:
  using Error::Error;
};

/// A failure of the study store (SQLite).
class StoreError : public Error {
 public:
  using Error::Error;
};

}  // namespace nascent
