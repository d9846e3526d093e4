// The resolved configuration as TOML text: every key written, defaults filled in, overrides applied, in
// a fixed order. It is recorded with the results, so it must read back into the same Experiment.
#pragma once

#include <optional>
#include <string>

#include "runner/config/config.h"  // Experiment, RunSpec
#include "runner/config/runs.h"    // Matrix

namespace ftbench::config::detail {

// The whole experiment: [experiment], [data], [train], then [matrix] when the runs came from one, else
// one [[runs]] table per run with a [runs.train] for the keys that differ from [train].
std::string emit_experiment(const Experiment& experiment, const std::optional<Matrix>& matrix);

// One run as a one-run experiment: [experiment] and [data], the run's effective [train], and a single
// [[runs]] table with its model, strategy, weights and seed.
std::string emit_run(const Experiment& experiment, const RunSpec& run);

}  // namespace ftbench::config::detail
