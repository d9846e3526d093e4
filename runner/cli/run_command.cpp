// ftbench run EXPERIMENT.toml [--output FILE.h5] [--set key=value]...
//
// Launched with mpirun/srun, one rank per GPU (or as a plain process: a world of one). Setup happens in
// phases, and after each one the ranks agree on the outcome (dist::agree_on_exit): a bad config, missing
// data or a refused results file ends every rank with the same exit code before any training starts, and
// only one rank prints the message. Once training has started, ranks can be inside different collectives,
// so a failure there ends the job with MPI_Abort.
#include <ATen/Parallel.h>

#include <cstdio>
#include <memory>
#include <optional>
#include <thread>

#include "dist/runtime.h"
#include "results/reader.h"
#include "results/report.h"
#include "results/store.h"
#include "runner/base/error.h"
#include "runner/cli/commands.h"
#include "runner/config/config.h"
#include "runner/data/cifar10.h"
#include "runner/models/registry.h"
#include "runner/train/device_setup.h"
#include "runner/train/placement.h"
#include "runner/train/trainer.h"
#include "runner/weights/pretrained.h"

namespace ftbench::cli {
namespace {

struct RunOptions {
  std::string experiment;
  std::string output;
  std::vector<std::string> overrides;
};

// Runs `step` on this rank and returns the job-wide exit code (0 when every rank succeeded).
template <typename Step>
int phase(const dist::Runtime& runtime, Step&& step) {
  int code = 0;
  std::string message;
  try {
    step();
  } catch (const Error& e) {
    code = static_cast<int>(e.code());
    message = e.what();
  } catch (const std::exception& e) {
    code = static_cast<int>(ExitCode::kRuntime);
    message = e.what();
  }
  return dist::agree_on_exit(runtime, code, message);
}

// Default intra-op threads: the node's cores shared among its ranks, so 2 ranks on 2 cores don't fight.
int default_threads(const dist::Runtime& runtime) {
  const int cores = static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
  return std::max(1, cores / std::max(1, runtime.local_size()));
}

data::SynthOptions synth_options(const config::Experiment& experiment) {
  data::SynthOptions options;
  if (experiment.data.train_size > 0) options.train_size = experiment.data.train_size;
  if (experiment.data.test_size > 0) options.test_size = experiment.data.test_size;
  options.seed = 0;
  return options;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& item : items) out += (out.empty() ? "" : ",") + item;
  return out;
}

int run(const RunOptions& options, int argc, char** argv) {
  dist::Runtime runtime(&argc, &argv);
  at::set_num_interop_threads(1);

  config::Experiment experiment;
  int code = phase(runtime, [&] {
    config::ParseOptions parse;
    parse.known_models = models::model_names();
    for (const auto& entry : models::all_models()) {
      for (const auto& stage : entry.stages) parse.model_stages[entry.name].push_back(stage.name);
    }
    for (const auto& text : options.overrides) parse.overrides.push_back({text});
    experiment = config::parse_experiment(options.experiment, parse);
    if (!options.output.empty()) experiment.output = options.output;
    // cuBLAS reads this when CUDA first creates its handle, so it is set here, before placement touches CUDA.
    train::set_cublas_workspace_config(experiment.deterministic);
    config::validate_for_world(experiment, runtime.size());
    // bf16 on a CPU job is refused here, before the results file is touched.
    train::check_recipes_for_device(experiment, train::planned_device(experiment.dist.backend));
    for (const auto& r : experiment.runs) {
      train::resolve_input_size(experiment, r.model);
      // Rank 0 loads the weights; a missing file is refused here, before any training starts.
      if (r.weights != "none" && runtime.rank() == 0) {
        weights::resolve_weights(r.weights, models::find_model(r.model), experiment.weights_dir);
      }
    }
  });
  if (code != 0) return code;

  // Synthetic data is generated on first use, once per node (local rank 0); the files are written
  // atomically, so nodes sharing a file system cannot see a half-written dataset.
  const bool synthetic = experiment.data.dataset == "synthetic";
  code = phase(runtime, [&] {
    if (synthetic && runtime.local_rank() == 0 &&
        !data::synthetic_matches(experiment.data.path, synth_options(experiment))) {
      if (runtime.rank() == 0) std::printf("# generating synthetic data in %s\n", experiment.data.path.c_str());
      data::write_synthetic(experiment.data.path, synth_options(experiment));
    }
  });
  if (code != 0) return code;

  data::Dataset dataset;
  std::optional<results::Store> store;
  code = phase(runtime, [&] {
    dataset = data::read_cifar10(experiment.data.path, experiment.data.train_size, experiment.data.test_size);
    if (runtime.rank() == 0) {
      store.emplace(results::Store::open(
          experiment.output, {experiment.name, experiment.resolved_toml, /*created=*/"", data::class_names()}));
    }
  });
  if (code != 0) return code;

  train::TrainContext ctx;
  train::Placement placement;
  code = phase(runtime, [&] {
    placement = train::place_rank(runtime, experiment.dist.backend, experiment.dist.timeout_s);
    ctx.comm = placement.comm.get();
    ctx.device = placement.device;
    ctx.device_name = placement.device_name;
    ctx.threads = default_threads(runtime);
    ctx.hostnames = join(runtime.hostnames());
  });
  if (code != 0) return code;

  if (runtime.rank() == 0) {
    std::printf("# ftbench %s | experiment %s | %zu run(s) | %d rank(s), %s on %s | %d thread(s)/rank | %s\n",
                FTBENCH_VERSION, experiment.name.c_str(), experiment.runs.size(), runtime.size(),
                placement.comm->backend().c_str(), placement.device.str().c_str(), ctx.threads,
                experiment.output.c_str());
    std::fflush(stdout);
  }

  try {
    train::run_experiment(experiment, dataset, ctx, store ? &*store : nullptr);
  } catch (const std::exception& e) {
    const auto* error = dynamic_cast<const Error*>(&e);
    const int exit_code = static_cast<int>(error != nullptr ? error->code() : ExitCode::kRuntime);
    std::fprintf(stderr, "ftbench: error: [rank %d@%s] %s\n", runtime.rank(), runtime.hostname().c_str(), e.what());
    std::fflush(stderr);
    if (runtime.size() > 1) runtime.abort(exit_code);  // other ranks may be waiting in a collective
    return exit_code;
  }

  if (runtime.rank() == 0) {
    store.reset();  // close the file before reading it back
    std::printf("\n%s", results::format_report({results::read_results(experiment.output)},
                                               results::Format::kMarkdown).c_str());
    std::printf("results: %s\n", experiment.output.c_str());
  }
  return 0;
}

}  // namespace

Command add_run_command(CLI::App& app) {
  auto options = std::make_shared<RunOptions>();
  CLI::App* cmd = app.add_subcommand("run", "Fine-tune every run of an experiment (launch with mpirun/srun)");
  cmd->add_option("experiment", options->experiment, "Experiment file (TOML)")->required();
  cmd->add_option("--output,-o", options->output, "Results file (default: [experiment] output)");
  cmd->add_option("--set", options->overrides, "Override a config key, e.g. --set train.epochs=1 (repeatable)");
  return {cmd, [options](int argc, char** argv) { return run(*options, argc, argv); }};
}

}  // namespace ftbench::cli
