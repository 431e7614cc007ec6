#include "nascent/space/architecture.h"

#include <fmt/format.h>

#include <charconv>
#include <nlohmann/json.hpp>

#include "nascent/core/error.h"
#include "nascent/core/text.h"

namespace nascent {

void Architecture::set(const std::string& name, std::string value) {
  for (auto& [existing, existing_value] : values_) {
    if (existing == name) {
      existing_value = std::move(value);
      return;
    }
  }
  values_.emplace_back(name, std::move(value));
}

void Architecture::erase(const std::string& name) {
  std::erase_if(values_, [&](const auto& entry) { return entry.first == name; });
}

bool Architecture::has(std::string_view name) const {
  for (const auto& entry : values_) {
    if (entry.first == name) return true;
  }
  return false;
}

const std::string& Architecture::get(std::string_view name) const {
  for (const auto& entry : values_) {
    if (entry.first == name) return entry.second;
  }
  throw Error(fmt::format("architecture has no decision '{}' (it has: {})", name, to_string()));
}

int64_t Architecture::get_int(std::string_view name) const {
  const std::string& text = get(name);
  int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (error != std::errc() || end != text.data() + text.size()) {
    throw Error(fmt::format("decision '{}': expected an integer, found '{}'", name, text));
  }
  return value;
}

double Architecture::get_float(std::string_view name) const {
  const std::string& text = get(name);
  try {
    size_t consumed = 0;
    const double value = std::stod(text, &consumed);
    if (consumed == text.size()) return value;
  } catch (const std::exception&) {
  }
  throw Error(fmt::format("decision '{}': expected a number, found '{}'", name, text));
}

std::string Architecture::to_string() const {
  std::string text;
  for (const auto& [name, value] : values_) {
    if (!text.empty()) text += ' ';
    text += name;
    text += '=';
    text += value;
  }
  return text;
}

Architecture Architecture::from_string(std::string_view text) {
  Architecture architecture;
  size_t position = 0;
  while (position < text.size()) {
    while (position < text.size() && text[position] == ' ') ++position;
    if (position >= text.size()) break;

    size_t end = text.find(' ', position);
    if (end == std::string_view::npos) end = text.size();
    const std::string_view token = text.substr(position, end - position);
    const size_t equals = token.find('=');
    if (equals == std::string_view::npos || equals == 0 || equals + 1 == token.size()) {
      throw Error(
          fmt::format("architecture string: expected 'decision=value' at character {}, found '{}'",
                      position + 1, token));
    }

    const std::string name(token.substr(0, equals));
    if (architecture.has(name)) {
      throw Error(fmt::format("architecture string: decision '{}' appears twice", name));
    }
    architecture.set(name, std::string(token.substr(equals + 1)));
    position = end;
  }
  return architecture;
}

uint64_t Architecture::hash() const { return fnv1a_64(to_string()); }

std::string Architecture::hash_hex() const { return fmt::format("{:016x}", hash()); }

nlohmann::json Architecture::to_json() const {
  nlohmann::json object = nlohmann::json::object();
  for (const auto& [name, value] : values_) {
    if (value == "true" || value == "false") {
      object[name] = value == "true";
      continue;
    }
    int64_t integer = 0;
    const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), integer);
    if (error == std::errc() && end == value.data() + value.size()) {
      object[name] = integer;
      continue;
    }
    try {
      size_t consumed = 0;
      const double number = std::stod(value, &consumed);
      if (consumed == value.size()) {
        object[name] = number;
        continue;
      }
    } catch (const std::exception&) {
    }
    object[name] = value;
  }
  return object;
}

}  // namespace nascent
