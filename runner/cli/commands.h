// ftbench's subcommands. Each adds itself to the CLI11 app and returns a handler that runs once the
// command line has been parsed; the handler returns the process exit code (runner/base/error.h).
#pragma once

#include <CLI/CLI.hpp>

#include <functional>
#include <string>

namespace ftbench::cli {

// argc/argv reach the handler because `run` initialises MPI with them.
using Handler = std::function<int(int argc, char** argv)>;

struct Command {
  CLI::App* app = nullptr;  // the subcommand, owned by the parent app
  Handler handler;
};

Command add_run_command(CLI::App& app);
Command add_report_command(CLI::App& app);
Command add_data_command(CLI::App& app);
Command add_weights_command(CLI::App& app);  // weights check | convert
Command add_forward_command(CLI::App& app);  // one forward pass: the torchvision parity tool
Command add_inspect_command(CLI::App& app);  // module tree, shapes, parameters, multiply-adds, residuals
Command add_bench_command(CLI::App& app);    // training-step throughput on synthetic data, per rank

// The version block printed by `ftbench --version`.
std::string version_text();

// Parses the command line, runs the chosen subcommand, and maps every error to its exit code.
int main(int argc, char** argv);

}  // namespace ftbench::cli
