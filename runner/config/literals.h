// TOML spellings of plain values, shared by error messages ("got string \"0.1\"") and the resolved-config
// writer, so that what a message shows can be pasted back into a file.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ftbench::config::detail {

// A TOML basic string: "..." with quotes, backslashes and control characters escaped.
std::string toml_string(const std::string& text);

// The shortest text that reads back as the same double, always with a '.' or exponent so TOML sees a
// float ("1.0", "0.0005", "1e-05"); "nan", "inf" and "-inf" for the non-finite values.
std::string toml_float(double value);

std::string toml_bool(bool value);

// "[a, b]" with each element already spelled as TOML.
std::string toml_array(const std::vector<std::string>& spelled);

}  // namespace ftbench::config::detail
