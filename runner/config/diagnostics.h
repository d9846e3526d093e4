// Where a config error happened and how to say so: every message is one line that starts with
// "FILE:LINE:COL: " for a value from the file, or "--set KEY=VALUE: " for a value from an override.
//
// Overrides are parsed with their own command-line text as toml++'s source path (see overrides.h), so a
// node's source() alone tells which of the two it came from.
#pragma once

#include <toml++/toml.h>

#include <string>

namespace ftbench::config::detail {

// The message prefix for a node or key at `region`. `file` is used for nodes that have no position
// (tables that an override created), which are then reported at the file's first line.
std::string where(const toml::source_region& region, const std::string& file);

// Throws ftbench::InputError("<at>: <message>").
[[noreturn]] void fail(const std::string& at, const std::string& message);

// The node's type and value for "got ..." in messages: 'string "0.1"', 'integer 5', 'an array'.
std::string describe(const toml::node& node);

}  // namespace ftbench::config::detail
