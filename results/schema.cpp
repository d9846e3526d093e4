#include "results/schema.h"

#include "results/h5/error.h"
#include "runner/base/error.h"

namespace ftbench::results::schema {

RunStatus parse_status(const std::string& text) {
  for (RunStatus s : {RunStatus::kRunning, RunStatus::kCompleted, RunStatus::kFailed, RunStatus::kInterrupted})
    if (text == to_string(s)) return s;
  return RunStatus::kAbsent;
}

bool added_later(const std::string& name) {
  for (const char* later : kAddedLater)
    if (name == later) return true;
  return false;
}

ExperimentInfo read_root(const h5::Group& root, const std::string& fix, int64_t& schema_version) {
  const auto not_ours = [&](const std::string& why) {
    return InputError(root.file() + " is not an ftbench results file (" + why + "); " + fix);
  };
  for (const char* key : {kSchemaVersion, kExperiment})
    if (!root.has_attribute(key)) throw not_ours("no root attribute '" + std::string(key) + "'");
  if (!root.has(kRunsGroup)) throw not_ours("no group /" + std::string(kRunsGroup));
  try {
    schema_version = root.int_attribute(kSchemaVersion);
    ExperimentInfo info;
    info.experiment = root.string_attribute(kExperiment);
    if (root.has_attribute(kConfigToml)) info.config_toml = root.string_attribute(kConfigToml);
    if (root.has_attribute(kCreated)) info.created = root.string_attribute(kCreated);
    if (root.has_attribute(kClassNames)) info.class_names = root.strings_attribute(kClassNames);
    return info;
  } catch (const h5::FormatError& e) {
    throw not_ours(e.what());
  }
}

}  // namespace ftbench::results::schema
