#pragma once

/// Small text helpers shared by config parsing and error messages.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace nascent {

/// Levenshtein distance between two strings.
int64_t edit_distance(std::string_view a, std::string_view b);

/// The closest of `candidates` to `word` if it is close enough to be a likely typo.
std::optional<std::string> closest_match(std::string_view word,
                                         const std::vector<std::string>& candidates);

/// "a, b or c" for error messages.
std::string join_choices(const std::vector<std::string>& choices);

/// "1 epoch", "3 epochs": `count` and `noun`, with an "s" unless `count` is 1.
std::string count_of(int64_t count, std::string_view noun);

/// Shortest decimal text that reads back to the same double ("0.5", "1e-05").
std::string format_double(double value);

/// 64-bit FNV-1a hash.
uint64_t fnv1a_64(std::string_view text);

/// The offset of the first byte of `text` that does not start a well-formed UTF-8 sequence
/// (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF); nullopt when all of
/// `text` is UTF-8. Names and paths that nascent records in JSON must be UTF-8.
std::optional<size_t> first_invalid_utf8(std::string_view text);

/// `text` for a message: each byte outside a well-formed UTF-8 sequence written as \xHH, so
/// that the message itself is UTF-8 ("caf\xE9").
std::string escape_invalid_utf8(std::string_view text);

}  // namespace nascent
