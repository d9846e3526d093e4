// --set KEY=VALUE overrides, applied to the parsed file before validation so that an override is checked by
// exactly the code that checks the file.
#pragma once

#include <toml++/toml.h>

#include <string>
#include <vector>

#include "runner/config/config.h"  // Override

namespace ftbench::config::detail {

// Writes each override into `root`, in order (a later one wins). VALUE is read as a TOML value, or taken
// as a string when it is not one. Every node an override adds carries "--set KEY=VALUE" as its source
// path, so later errors about it name the override instead of a file position.
// Throws InputError for a malformed override (no '=', a bad key, a key inside [[runs]]).
void apply_overrides(toml::table& root, const std::vector<Override>& overrides);

// Whether a toml++ source path names an override rather than a file.
bool is_override_source(const std::string& source_path);

}  // namespace ftbench::config::detail
