// ftbench report FILE.h5|DIR... [--format md|csv|json] [--metric test_acc] [--epochs RUN_ID | --runs]
#include <cstdio>
#include <memory>

#include "results/reader.h"
#include "results/report.h"
#include "runner/base/error.h"
#include "runner/cli/commands.h"

namespace ftbench::cli {
namespace {

struct ReportOptions {
  std::vector<std::string> inputs;
  std::string format = "md";
  std::string metric = "test_acc";
  std::string epochs_run;
  bool runs = false;
};

}  // namespace

Command add_report_command(CLI::App& app) {
  auto options = std::make_shared<ReportOptions>();
  CLI::App* cmd = app.add_subcommand(
      "report", "Compare runs: one row per model x strategy x weights (mean ± std over seeds), from results files");
  cmd->add_option("inputs", options->inputs, "Results files (.h5) or directories holding them")->required();
  cmd->add_option("--format", options->format, "Output format: md (default), csv or json");
  cmd->add_option("--metric", options->metric,
                  "What 'best' means: test_acc (default), test_acc5, train_acc, test_loss or train_loss");
  auto* epochs = cmd->add_option("--epochs", options->epochs_run, "Print one run's per-epoch table instead (a run id)");
  cmd->add_flag("--runs", options->runs, "One row per run instead of per configuration")->excludes(epochs);

  return {cmd, [options](int, char**) {
            const results::Format format = results::parse_format(options->format);
            const results::Metric metric = results::parse_metric(options->metric);
            std::vector<results::FileRecord> files;
            for (const auto& path : results::expand_inputs(options->inputs)) files.push_back(results::read_results(path));
            std::string text;
            if (!options->epochs_run.empty()) text = results::format_epochs(files, options->epochs_run, format);
            else if (options->runs) text = results::format_report(files, format);
            else text = results::format_comparison(files, format, metric);
            std::fputs(text.c_str(), stdout);
            return 0;
          }};
}

}  // namespace ftbench::cli
