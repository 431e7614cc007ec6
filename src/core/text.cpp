#include "nascent/core/text.h"

#include <fmt/format.h>

#include <algorithm>

namespace nascent {

int64_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<int64_t> previous(b.size() + 1);
  std::vector<int64_t> current(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) previous[j] = static_cast<int64_t>(j);

  for (size_t i = 1; i <= a.size(); ++i) {
    current[0] = static_cast<int64_t>(i);
    for (size_t j = 1; j <= b.size(); ++j) {
      const int64_t substitution = previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      current[j] = std::min({previous[j] + 1, current[j - 1] + 1, substitution});
    }
    std::swap(previous, current);
  }
  return previous[b.size()];
}

std::optional<std::string> closest_match(std::string_view word,
                                         const std::vector<std::string>& candidates) {
  std::optional<std::string> best;
  int64_t best_distance = 0;
  for (const auto& candidate : candidates) {
    const int64_t distance = edit_distance(word, candidate);
    if (!best || distance < best_distance) {
      best = candidate;
      best_distance = distance;
    }
  }

  // Only suggest when at most a third of the word differs; otherwise the hint misleads.
  const int64_t tolerance = std::max<int64_t>(1, static_cast<int64_t>(word.size()) / 3);
  if (best && best_distance <= tolerance) return best;
  return std::nullopt;
}

std::string join_choices(const std::vector<std::string>& choices) {
  std::string text;
  for (size_t i = 0; i < choices.size(); ++i) {
    if (i > 0) text += (i + 1 == choices.size()) ? " or " : ", ";
    text += choices[i];
  }
  return text;
}

std::string format_double(double value) { return fmt::format("{}", value); }

uint64_t fnv1a_64(std::string_view text) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

}  // namespace nascent
