#pragma once

// Assertions on nascent's error messages, shared by the test files.

#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "nascent/core/error.h"

namespace nascent::testing_support {

/// The message of the nascent::Error that `action` throws; fails the test otherwise.
inline std::string error_message(const std::function<void()>& action) {
  try {
    action();
  } catch (const Error& error) {
    return error.what();
  }
  ADD_FAILURE() << "expected nascent::Error, nothing was thrown";
  return "";
}

}  // namespace nascent::testing_support

/// Expects `part` to occur in `text`, printing both when it does not.
#define EXPECT_CONTAINS(text, part)                          \
  EXPECT_NE(std::string(text).find(part), std::string::npos) \
      << "missing \"" << (part) << "\" in: " << (text)
