#include "runner/train/resume_plan.h"

#include "runner/base/error.h"
#include "runner/config/diff.h"
#include "runner/train/checkpoint.h"

namespace ftbench::train {

std::vector<RunStart> plan_runs(const config::Experiment& experiment, const results::Store& store, bool restart) {
  const std::string root = checkpoint_root(experiment);
  std::vector<RunStart> plan;
  for (const config::RunSpec& run : experiment.runs) {
    const results::RunStatus status = store.status(run.id);
    if (status == results::RunStatus::kAbsent) {
      plan.push_back(RunStart::kFresh);
      continue;
    }
    const std::vector<std::string> changes = config::changed_run_keys(store.run_config(run.id), run.resolved_toml);
    if (!changes.empty()) {
      if (!restart) {
        std::string list;
        for (const auto& change : changes) list += (list.empty() ? "" : "; ") + change;
        throw InputError(store.path() + ": run '" + run.id + "' was trained with other settings (" + list +
                         "); re-run with --restart to discard it and train it with the new ones, or write to "
                         "another --output");
      }
      plan.push_back(RunStart::kFresh);
      continue;
    }
    if (status == results::RunStatus::kCompleted) {
      plan.push_back(RunStart::kSkip);
      continue;
    }
    if (restart) {
      plan.push_back(RunStart::kFresh);
      continue;
    }
    const CheckpointDir checkpoints(root + "/" + run.id, experiment.checkpoint_keep);
    plan.push_back(checkpoints.latest() ? RunStart::kResume : RunStart::kFresh);
  }
  return plan;
}

}  // namespace ftbench::train
