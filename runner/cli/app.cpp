#include <cstdio>
#include <vector>

#include "runner/base/error.h"
#include "runner/cli/commands.h"
#include "runner/cli/malloc_tuning.h"
#include "runner/cli/omp_policy.h"

namespace ftbench::cli {

int main(int argc, char** argv) {
  CLI::App app{"ftbench: which ImageNet-pretrained model, fine-tuned which way, is best on CIFAR-10 for the "
               "time and GPUs you have. Launch `run` with mpirun or srun, one rank per GPU.",
               "ftbench"};
  app.require_subcommand(1);
  app.set_version_flag("--version", version_text);

  const std::vector<Command> commands = {add_run_command(app), add_report_command(app), add_data_command(app),
                                         add_weights_command(app), add_forward_command(app),
                                         add_inspect_command(app), add_bench_command(app)};

  try {
    app.parse(argc, argv);
  } catch (const CLI::Success& e) {
    return app.exit(e);  // --help, --version
  } catch (const CLI::ParseError& e) {
    app.exit(e);
    return static_cast<int>(ExitCode::kBadInput);
  }

  for (const auto& command : commands) {
    if (command.app->parsed()) {
      // The commands that train: OpenMP threads sleep at once when they would oversubscribe (omp_policy.h).
      if (command.app->get_name() == "run" || command.app->get_name() == "bench") {
        const CLI::Option* threads = command.app->get_option_no_throw("--threads");
        choose_omp_wait(argv, threads != nullptr && threads->count() > 0 ? threads->as<int>() : 0);
        tune_malloc_for_training();  // freed tensors stay in the heap (malloc_tuning.h)
      }
      try {
        return command.handler(argc, argv);
      } catch (const Error& e) {
        std::fprintf(stderr, "ftbench: error: %s\n", e.what());
        return static_cast<int>(e.code());
      }
    }
  }
  return static_cast<int>(ExitCode::kBadInput);
}

}  // namespace ftbench::cli
