// Which settings of a run changed between two resolved configurations (config::RunSpec::resolved_toml).
//
// A re-run of an experiment resumes or skips the runs its results file already holds only when each run's
// configuration is the one they were trained with; otherwise the user must say --restart. This decides
// "the same": keys that change what a run computes must be equal, keys that only say where things are or
// how the job is launched may differ (kLocationKeys below), so a job may resume after its data moved, on
// another cluster, or with more threads.
//
// Thread-safety: pure functions.
#pragma once

#include <string>
#include <vector>

namespace ftbench::config {

// The keys ignored by changed_run_keys: where files are, and how fast or how patiently the job runs.
//   experiment.output, experiment.seeds (a run has its own seed), experiment.checkpoint_dir,
//   experiment.checkpoint_keep, experiment.checkpoint_every, data.path, weights.dir, train.threads,
//   dist.backend, dist.bucket_cap_mb, dist.timeout_s.
extern const std::vector<std::string> kLocationKeys;

// The changed keys as "key: BEFORE -> AFTER" (TOML spellings; "(unset)" for a key only one side has), sorted
// by key; empty when the two configurations train the same run. A text that is not valid TOML yields one
// entry saying so, never an exception.
std::vector<std::string> changed_run_keys(const std::string& before, const std::string& after);

}  // namespace ftbench::config
