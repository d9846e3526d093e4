// ftbench run EXPERIMENT.toml [--output FILE.h5] [--set key=value]... [--only INDEX] [--list] [--restart]
//
// Launched with mpirun/srun, one rank per GPU (or as a plain process: a world of one). Setup happens in
// phases, and after each one the ranks agree on the outcome (dist::agree_on_exit): a bad config, missing
// data or a refused results file ends every rank with the same exit code before any training starts, and
// only one rank prints the message. Once training has started, ranks can be inside different collectives,
// so a failure there ends the job with MPI_Abort; a stop signal is the exception: the ranks agree on it at a
// step boundary (train::StopSignal), so each returns 75 and MPI finalizes normally.
#include <ATen/Parallel.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "dist/runtime.h"
#include "results/reader.h"
#include "results/report.h"
#include "results/store.h"
#include "runner/base/error.h"
#include "runner/cli/commands.h"
#include "runner/cli/phase.h"
#include "runner/cli/omp_policy.h"
#include "runner/config/config.h"
#include "runner/data/cifar10.h"
#include "runner/models/registry.h"
#include "runner/train/device_setup.h"
#include "runner/train/placement.h"
#include "runner/train/resume_plan.h"
#include "runner/train/stop_signal.h"
#include "runner/train/trainer.h"
#include "runner/weights/pretrained.h"

namespace ftbench::cli {
namespace {

struct RunOptions {
  std::string experiment;
  std::string output;
  std::vector<std::string> overrides;
  bool list = false;  // print the expanded runs with their indices, train nothing
  int64_t only = -1;  // train only this index of the expanded run list (a Slurm array task)
  bool restart = false;  // discard incomplete runs' checkpoints and runs stored with other settings
};

config::ParseOptions parse_options(const RunOptions& options) {
  config::ParseOptions parse;
  parse.known_models = models::model_names();
  for (const auto& entry : models::all_models()) {
    for (const auto& stage : entry.stages) parse.model_stages[entry.name].push_back(stage.name);
  }
  for (const auto& text : options.overrides) parse.overrides.push_back({text});
  return parse;
}

// `ftbench run EXP --list`: the runs in order with the index --only takes. No MPI, nothing trained.
int list_runs(const RunOptions& options) {
  const config::Experiment experiment = config::parse_experiment(options.experiment, parse_options(options));
  std::printf("# %s: %zu run(s); a Slurm array over them: sbatch --array=0-%zu slurm/sweep-array.sbatch %s\n",
              experiment.name.c_str(), experiment.runs.size(), experiment.runs.size() - 1,
              options.experiment.c_str());
  std::printf("%-5s %-40s %-20s %-16s %-12s %s\n", "index", "run", "model", "strategy", "weights", "seed");
  for (std::size_t i = 0; i < experiment.runs.size(); ++i) {
    const config::RunSpec& r = experiment.runs[i];
    std::printf("%-5zu %-40s %-20s %-16s %-12s %lld\n", i, r.id.c_str(), r.model.c_str(), r.strategy.c_str(),
                r.weights.c_str(), static_cast<long long>(r.seed));
  }
  return 0;
}

// srun without a PMI plugin that Open MPI understands starts N processes that each see a world of one, and
// each would train the whole experiment alone. srun tells its tasks how many they are
// (SLURM_STEP_NUM_TASKS); under mpirun (which sets OMPI_COMM_WORLD_SIZE) that count is mpirun's business.
void check_slurm_world(int world_size) {
  const char* step_tasks = std::getenv("SLURM_STEP_NUM_TASKS");
  if (step_tasks == nullptr || std::getenv("OMPI_COMM_WORLD_SIZE") != nullptr) return;
  const long tasks = std::strtol(step_tasks, nullptr, 10);
  if (tasks <= 0 || tasks == world_size) return;
  throw InputError("srun started " + std::to_string(tasks) + " tasks, but MPI sees a world of " +
                   std::to_string(world_size) + ": the tasks did not join one MPI job. Launch with "
                   "`srun --mpi=pmix ...` (`srun --mpi=list` shows this cluster's plugins), or use mpirun inside "
                   "the allocation; see slurm/README.md");
}

// --only INDEX: keep that run alone; an index past the list is bad input.
void keep_only(config::Experiment& experiment, int64_t index) {
  const auto count = static_cast<int64_t>(experiment.runs.size());
  if (index >= count) {
    throw InputError(experiment.source_path + ": --only " + std::to_string(index) + " is past the last run; the " +
                     "experiment has " + std::to_string(count) + " run(s), indices 0 to " +
                     std::to_string(count - 1) + " (see `ftbench run " + experiment.source_path + " --list`)");
  }
  config::RunSpec run = experiment.runs[static_cast<std::size_t>(index)];
  experiment.runs = {run};
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

// FTBENCH_EXIT_FILE=PATH: rank 0 writes its exit code there as `ftbench run` returns (temp file and rename).
// The Slurm job scripts set it, because srun can report success for a step whose tasks never started; a
// missing file then tells them ftbench never finished. A job that MPI_Abort ends writes nothing, and its
// launcher reports the failure itself.
void record_exit_code(int code) {
  const char* path = std::getenv("FTBENCH_EXIT_FILE");
  if (path == nullptr || *path == '\0') return;
  const std::string target = path;
  const std::string tmp = target + ".tmp";
  std::FILE* f = std::fopen(tmp.c_str(), "w");
  const bool written = f != nullptr && std::fprintf(f, "%d\n", code) > 0;
  const bool closed = f != nullptr && std::fclose(f) == 0;
  if (!written || !closed || std::rename(tmp.c_str(), target.c_str()) != 0) {
    std::fprintf(stderr, "ftbench: warning: cannot write the exit code to FTBENCH_EXIT_FILE=%s\n", path);
  }
}

int run_on_ranks(const RunOptions& options, dist::Runtime& runtime) {
  config::Experiment experiment;
  int code = phase(runtime, [&] {
    check_slurm_world(runtime.size());
    experiment = config::parse_experiment(options.experiment, parse_options(options));
    if (options.only >= 0) keep_only(experiment, options.only);
    if (!options.output.empty()) experiment.output = options.output;
    // cuBLAS reads this when CUDA first creates its handle, so it is set here, before placement touches CUDA.
    train::set_cublas_workspace_config(experiment.deterministic);
    config::validate_for_world(experiment, runtime.size());
    // bf16 on a CPU job is refused here, before the results file is touched.
    train::check_recipes_for_device(experiment, train::planned_device(experiment.dist.backend));
    std::set<std::string> checked;  // model, weights, strictness: each combination is read once
    for (const auto& r : experiment.runs) {
      train::resolve_input_size(experiment, r.model);
      // Rank 0 loads the weights in the trainer; a missing, corrupt, refused or misfitting file is refused
      // here, on every rank with exit 2, before any training starts (in the trainer it would be MPI_Abort).
      const std::string key = r.model + "\n" + r.weights + "\n" + (r.strict_weights ? "strict" : "lenient");
      if (r.weights != "none" && runtime.rank() == 0 && checked.insert(key).second) {
        weights::check_pretrained(models::find_model(r.model), r.weights, experiment.weights_dir, r.strict_weights,
                                  data::kNumClasses);
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
  std::vector<train::RunStart> plan;  // rank 0's: skip, fresh or resume, per run
  code = phase(runtime, [&] {
    dataset = data::read_cifar10(experiment.data.path, experiment.data.train_size, experiment.data.test_size);
    if (runtime.rank() == 0) {
      store.emplace(results::Store::open(
          experiment.output, {experiment.name, experiment.resolved_toml, /*created=*/"", data::class_names()}));
      plan = train::plan_runs(experiment, *store, options.restart);
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
    ctx.threads = default_threads_here(runtime.local_size());  // [train] threads = 0 (omp_policy.h)
    ctx.hostnames = join(runtime.hostnames());
  });
  if (code != 0) return code;

  if (runtime.rank() == 0) {
    std::printf("# ftbench %s | experiment %s | %zu run(s) | %d rank(s), %s on %s | %d thread(s)/rank | %s\n",
                FTBENCH_VERSION, experiment.name.c_str(), experiment.runs.size(), runtime.size(),
                placement.comm->backend().c_str(), placement.device.str().c_str(), ctx.threads,
                experiment.output.c_str());
    std::fflush(stdout);
    int most_threads = ctx.threads;
    for (const auto& run : experiment.runs) {
      if (run.train.threads > 0) most_threads = std::max(most_threads, static_cast<int>(run.train.threads));
    }
    const std::string warning = oversubscription_warning(most_threads, runtime.local_size());
    if (!warning.empty()) std::fprintf(stderr, "ftbench: warning: %s\n", warning.c_str());
  }

  try {
    train::run_experiment(experiment, dataset, ctx, store ? &*store : nullptr, plan);
  } catch (const Interrupted& e) {
    // Every rank stopped at the same step and rank 0 saved the checkpoint: no collective is pending.
    if (runtime.rank() == 0) {
      std::fprintf(stderr, "ftbench: interrupted: %s\n", e.what());
      std::fflush(stderr);
    }
    return static_cast<int>(ExitCode::kInterrupted);
  } catch (const std::exception& e) {
    return fail_collective(runtime, e);
  }

  if (runtime.rank() == 0) {
    store.reset();  // close the file before reading it back
    std::printf("\n%s", results::format_report({results::read_results(experiment.output)},
                                               results::Format::kMarkdown).c_str());
    std::printf("results: %s\n", experiment.output.c_str());
  }
  return 0;
}

int run(const RunOptions& options, int argc, char** argv) {
  if (options.list) return list_runs(options);
  train::StopSignal::install(/*rank=*/-1);  // as early as possible; again below, once the rank is known
  dist::Runtime runtime(&argc, &argv);
  at::set_num_interop_threads(1);
  train::StopSignal::install(runtime.rank());  // after MPI_Init, so that ours are the handlers in place
  const int code = run_on_ranks(options, runtime);
  if (runtime.rank() == 0) record_exit_code(code);
  return code;
}

}  // namespace

Command add_run_command(CLI::App& app) {
  auto options = std::make_shared<RunOptions>();
  CLI::App* cmd = app.add_subcommand("run", "Fine-tune every run of an experiment (launch with mpirun/srun)");
  cmd->add_option("experiment", options->experiment, "Experiment file (TOML)")->required();
  cmd->add_option("--output,-o", options->output, "Results file (default: [experiment] output)");
  cmd->add_option("--set", options->overrides, "Override a config key, e.g. --set train.epochs=1 (repeatable)");
  cmd->add_flag("--list", options->list,
                "Print the experiment's runs (models x strategies x seeds, in order) with their indices; train "
                "nothing");
  cmd->add_option("--only", options->only,
                  "Train only the run with this index in the --list order (one task of a Slurm array; give each "
                  "task its own --output)")
      ->check(CLI::Range(int64_t{0}, int64_t{1000000}));
  cmd->add_flag("--restart", options->restart,
                "Train incomplete runs from epoch 1 instead of resuming their checkpoints, and replace runs that "
                "the results file holds with other settings (completed runs with the same settings are still "
                "skipped)");
  return {cmd, [options](int argc, char** argv) { return run(*options, argc, argv); }};
}

}  // namespace ftbench::cli
