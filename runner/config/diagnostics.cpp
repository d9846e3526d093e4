#include "runner/config/diagnostics.h"

#include <sstream>

#include "runner/base/error.h"        // InputError
#include "runner/config/literals.h"   // toml_string, toml_float
#include "runner/config/overrides.h"  // is_override_source

namespace ftbench::config::detail {

std::string where(const toml::source_region& region, const std::string& file) {
  if (region.path && is_override_source(*region.path)) return *region.path;
  if (region.begin.line == 0) return file + ":1:1";
  return file + ":" + std::to_string(region.begin.line) + ":" + std::to_string(region.begin.column);
}

void fail(const std::string& at, const std::string& message) { throw InputError(at + ": " + message); }

std::string describe(const toml::node& node) {
  switch (node.type()) {
    case toml::node_type::string:
      return "string " + toml_string(*node.value<std::string>());
    case toml::node_type::integer:
      return "integer " + std::to_string(*node.value<int64_t>());
    case toml::node_type::floating_point:
      return "float " + toml_float(*node.value<double>());
    case toml::node_type::boolean:
      return std::string("boolean ") + (*node.value<bool>() ? "true" : "false");
    case toml::node_type::array:
      return "an array";
    case toml::node_type::table:
      return "a table";
    default: {
      std::ostringstream text;  // dates and times: toml++ prints them as TOML
      node.visit([&](const auto& typed) { text << typed; });
      return "date/time " + text.str();
    }
  }
}

}  // namespace ftbench::config::detail
