// The runs of an experiment: the [matrix] cross product, or the explicit [[runs]] tables (exactly one of
// the two must be given).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "runner/config/config.h"        // Experiment, ParseOptions
#include "runner/config/table_reader.h"  // TableReader

namespace ftbench::config::detail {

// [matrix] as resolved (defaults filled in), kept so the resolved TOML can be written the same way.
struct Matrix {
  std::vector<std::string> models;
  std::vector<std::string> strategies{"full"};
  std::string weights = "none";
  bool strict_weights = true;
};

// Fills experiment.runs (in matrix order: models, then strategies, then seeds) from the top-level table
// `root`; experiment.seeds and experiment.train must already be read. Returns the matrix when the runs
// came from one. Throws InputError for an unknown model, both or neither of [matrix] and [[runs]], and
// duplicate run ids.
std::optional<Matrix> read_runs(const TableReader& root, const ParseOptions& options, Experiment& experiment);

}  // namespace ftbench::config::detail
