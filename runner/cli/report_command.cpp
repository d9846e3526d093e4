// ftbench report FILE.h5|DIR... [--format md|csv|json] [--epochs RUN_ID]
#include <cstdio>
#include <memory>

#include "results/reader.h"
#include "results/report.h"
#include "runner/cli/commands.h"

namespace ftbench::cli {
namespace {

struct ReportOptions {
  std::vector<std::string> inputs;
  std::string format = "md";
  std::string epochs_run;
};

}  // namespace

Command add_report_command(CLI::App& app) {
  auto options = std::make_shared<ReportOptions>();
  CLI::App* cmd = app.add_subcommand("report", "Compare runs: one row per run, from one or more results files");
  cmd->add_option("inputs", options->inputs, "Results files (.h5) or directories holding them")->required();
  cmd->add_option("--format", options->format, "Output format: md (default), csv or json");
  cmd->add_option("--epochs", options->epochs_run, "Print one run's per-epoch table instead (a run id)");

  return {cmd, [options](int, char**) {
            const results::Format format = results::parse_format(options->format);
            std::vector<results::FileRecord> files;
            for (const auto& path : results::expand_inputs(options->inputs)) files.push_back(results::read_results(path));
            const std::string text = options->epochs_run.empty()
                                         ? results::format_report(files, format)
                                         : results::format_epochs(files, options->epochs_run, format);
            std::fputs(text.c_str(), stdout);
            return 0;
          }};
}

}  // namespace ftbench::cli
