// Helpers shared by the config tests: parse text as "exp.toml" and capture the one-line error.
#pragma once

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>

#include "runner/base/error.h"
#include "runner/config/config.h"

namespace ftbench::config::testing {

inline ParseOptions options_with_models() {
  ParseOptions options;
  options.known_models = {"resnet18", "vgg16", "inception_v3"};
  return options;
}

inline ParseOptions with_overrides(std::initializer_list<const char*> texts) {
  ParseOptions options = options_with_models();
  for (const char* text : texts) options.overrides.push_back(Override{text});
  return options;
}

// The InputError message parse_experiment_text() throws for `text`, or "" (and a test failure) if none.
inline std::string error_of(const std::string& text, const ParseOptions& options = options_with_models()) {
  try {
    parse_experiment_text(text, "exp.toml", options);
  } catch (const InputError& error) {
    return error.what();
  }
  ADD_FAILURE() << "expected an InputError for:\n" << text;
  return "";
}

// Every error is one line that starts with "LOCATION: " and holds each expected piece (key, value, hint).
#define EXPECT_ERROR(message, location, ...)                                                \
  do {                                                                                      \
    const std::string expect_error_text = (message);                                        \
    EXPECT_EQ(expect_error_text.find('\n'), std::string::npos) << expect_error_text;        \
    EXPECT_EQ(expect_error_text.rfind(std::string(location) + ": ", 0), 0u)                 \
        << "expected location " << (location) << " at the start of: " << expect_error_text; \
    for (const char* piece : {__VA_ARGS__}) {                                               \
      EXPECT_NE(expect_error_text.find(piece), std::string::npos)                           \
          << "missing \"" << piece << "\" in: " << expect_error_text;                       \
    }                                                                                       \
  } while (0)

// A minimal valid experiment, to which tests append or which they edit.
inline const std::string kMinimal = "[experiment]\nname = \"demo\"\n[matrix]\nmodels = [\"resnet18\"]\n";

}  // namespace ftbench::config::testing
