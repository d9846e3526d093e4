#include "runner/config/literals.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace ftbench::config::detail {

std::string toml_string(const std::string& text) {
  std::string out = "\"";
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned char>(c));
          out += escaped;
        } else {
          out += c;  // UTF-8 passes through: TOML files are UTF-8
        }
    }
  }
  return out + "\"";
}

std::string toml_float(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char buffer[64];
  // Shortest round-trip digits in %g layout: 0.0005 rather than 5e-04, exponents only when very large/small.
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::general);
  std::string out(buffer, result.ptr);
  if (out.find_first_of(".e") == std::string::npos) out += ".0";
  return out;
}

std::string toml_bool(bool value) { return value ? "true" : "false"; }

std::string toml_array(const std::vector<std::string>& spelled) {
  std::string out = "[";
  for (std::size_t i = 0; i < spelled.size(); ++i) out += (i ? ", " : "") + spelled[i];
  return out + "]";
}

}  // namespace ftbench::config::detail
