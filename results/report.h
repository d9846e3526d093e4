// Comparison tables over one or more results files: what `ftbench report` prints and the trainer's
// end-of-experiment summary.
#pragma once

#include <string>
#include <vector>

#include "results/metrics.h"

namespace ftbench::results {

enum class Format { kMarkdown, kCsv, kJson };

// Parses "md" | "markdown" | "csv" | "json"; anything else throws InputError listing the choices.
Format parse_format(const std::string& text);

// One row per run: experiment, run id, model, strategy, seed, params, status, epochs, best test accuracy
// (and its epoch), final test accuracy, total training time, mean img/s. Markdown is a fixed-width table;
// CSV has a header line; JSON is a list of objects with stable keys (documented in results/SCHEMA.md).
std::string format_report(const std::vector<FileRecord>& files, Format format);

// One run's per-epoch table (`ftbench report FILE --epochs RUN_ID`). Throws InputError when no file holds
// the run, listing the run ids that exist.
std::string format_epochs(const std::vector<FileRecord>& files, const std::string& run_id, Format format);

}  // namespace ftbench::results
