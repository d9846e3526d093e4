// Reads ftbench results files back (for `ftbench report`, the end-of-experiment summary, and tests).
// Errors: a missing file, a file that is not HDF5, or one that is not an ftbench results file throws
// InputError naming the file.
#pragma once

#include <string>
#include <vector>

#include "results/metrics.h"

namespace ftbench::results {

FileRecord read_results(const std::string& path);

// Expands files and directories (every *.h5 directly inside, sorted by name) into a list of files.
// A path that is neither is an InputError.
std::vector<std::string> expand_inputs(const std::vector<std::string>& paths);

}  // namespace ftbench::results
