#include "runner/config/diff.h"

#include <toml++/toml.h>

#include <algorithm>
#include <map>
#include <sstream>

#include "runner/config/literals.h"  // toml_float

namespace ftbench::config {

const std::vector<std::string> kLocationKeys{
    "experiment.output",  "experiment.seeds", "experiment.checkpoint_dir", "experiment.checkpoint_keep",
    "experiment.checkpoint_every", "data.path", "weights.dir",           "train.threads",
    "dist.backend",       "dist.bucket_cap_mb", "dist.timeout_s"};

namespace {

using Flat = std::map<std::string, std::string>;

std::string spell(const toml::node& node) {
  // Floats as the config writer spells them (shortest round trip: 0.1, not 0.10000000000000001).
  if (const auto* real = node.as_floating_point()) return detail::toml_float(real->get());
  if (const auto* text = node.as_string()) return detail::toml_string(text->get());
  std::ostringstream out;
  node.visit([&](const auto& value) { out << value; });
  return out.str();
}

// Every leaf as "a.b.c" -> its TOML spelling. An array of tables with one element (a run's [[runs]]) is
// flattened without an index, "runs.model"; with more, "runs[1].model". Arrays of values are leaves.
void flatten(const toml::table& table, const std::string& prefix, Flat& out) {
  for (const auto& [key, node] : table) {
    const std::string name = prefix.empty() ? std::string(key.str()) : prefix + "." + std::string(key.str());
    if (const toml::table* child = node.as_table()) {
      flatten(*child, name, out);
    } else if (const toml::array* array = node.as_array(); array != nullptr && array->is_array_of_tables()) {
      for (std::size_t i = 0; i < array->size(); ++i) {
        const std::string item = array->size() == 1 ? name : name + "[" + std::to_string(i) + "]";
        flatten(*array->get(i)->as_table(), item, out);
      }
    } else {
      out[name] = spell(node);
    }
  }
}

bool parse(const std::string& text, Flat& out) {
  try {
    flatten(toml::parse(text), "", out);
    return true;
  } catch (const toml::parse_error&) {
    return false;
  }
}

}  // namespace

std::vector<std::string> changed_run_keys(const std::string& before, const std::string& after) {
  Flat old_keys, new_keys;
  if (!parse(before, old_keys)) return {"(the stored configuration is not valid TOML)"};
  if (!parse(after, new_keys)) return {"(the new configuration is not valid TOML)"};
  const auto ignored = [](const std::string& key) {
    return std::find(kLocationKeys.begin(), kLocationKeys.end(), key) != kLocationKeys.end();
  };
  std::map<std::string, std::string> changes;
  for (const auto& [key, value] : old_keys) {
    const auto it = new_keys.find(key);
    const std::string now = it == new_keys.end() ? "(unset)" : it->second;
    if (!ignored(key) && now != value) changes[key] = key + ": " + value + " -> " + now;
  }
  for (const auto& [key, value] : new_keys) {
    if (!ignored(key) && old_keys.count(key) == 0) changes[key] = key + ": (unset) -> " + value;
  }
  std::vector<std::string> out;
  for (auto& [key, line] : changes) out.push_back(std::move(line));
  return out;
}

}  // namespace ftbench::config
