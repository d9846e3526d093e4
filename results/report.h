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

// The per-epoch series a comparison ranks runs by (`ftbench report --metric`).
struct Metric {
  std::string name;     // the dataset: test_acc, test_acc5, train_acc, test_loss or train_loss
  bool higher_is_better = true;
  bool fraction = true;  // an accuracy, shown as a percentage in Markdown
};

// Parses a metric name; anything else throws InputError listing the choices.
Metric parse_metric(const std::string& text);

// The comparison (`ftbench report`): one row per (experiment, run name, model, strategy, weights), where the
// run name is the run id without its "-s<seed>" suffix, so the seeds of one configuration share a row,
// across files (a Slurm array writes one file per task). Per row: parameters, and over the runs that have
// epochs the mean, standard deviation (n - 1) and n of: best metric and its epoch, final metric, time to best,
// total training time, mean img/s, and peak memory. Rows are sorted by the mean best metric, best first;
// rows without epochs last. Keys and units are documented in results/SCHEMA.md.
std::string format_comparison(const std::vector<FileRecord>& files, Format format, const Metric& metric);

// One row per run (`ftbench report --runs`, and the end of `ftbench run`): experiment, run id, model, strategy, seed, params, status, epochs, best test accuracy
// (and its epoch), final test accuracy, total training time, mean img/s. Markdown is a fixed-width table;
// CSV has a header line; JSON is a list of objects with stable keys (documented in results/SCHEMA.md).
std::string format_report(const std::vector<FileRecord>& files, Format format);

// One run's per-epoch table (`ftbench report FILE --epochs RUN_ID`). Throws InputError when no file holds
// the run, listing the run ids that exist.
std::string format_epochs(const std::vector<FileRecord>& files, const std::string& run_id, Format format);

}  // namespace ftbench::results
