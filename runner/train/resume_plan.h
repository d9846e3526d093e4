// What a (re-)run of an experiment does with each of its runs, decided by rank 0 before any training from
// the results file and the checkpoints:
//   skip    the results file holds the run as completed, trained with the same settings;
//   resume  the run is incomplete (running, interrupted or failed) and has a checkpoint: it continues from it;
//   fresh   the run is new, incomplete without a checkpoint, or --restart was given: it starts at epoch 1
//           (its old group and checkpoints are discarded when it starts).
// "The same settings" is config::changed_run_keys: a run stored with other settings is bad input (exit 2,
// naming the changed keys) unless --restart, which discards it and trains it anew. Completed runs with
// unchanged settings are skipped even with --restart (delete the results file to train them again).
#pragma once

#include <cstdint>
#include <vector>

#include "results/store.h"
#include "runner/config/config.h"

namespace ftbench::train {

enum class RunStart : int64_t { kSkip = 0, kFresh = 1, kResume = 2 };

// One entry per run of `experiment`, in order. Throws InputError naming the results file, the run and the
// changed keys, or a damaged checkpoint marker.
std::vector<RunStart> plan_runs(const config::Experiment& experiment, const results::Store& store, bool restart);

}  // namespace ftbench::train
