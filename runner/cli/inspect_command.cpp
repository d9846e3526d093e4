// ftbench inspect MODEL [--input-size N] [--num-classes K]   (being written)
#include "runner/cli/commands.h"

namespace ftbench::cli {

Command add_inspect_command(CLI::App& app) {
  CLI::App* cmd = app.add_subcommand("inspect", "Print a model's module tree (being written)");
  return {cmd, [](int, char**) { return 0; }};
}

}  // namespace ftbench::cli
