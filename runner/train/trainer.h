// train::run_experiment: data-parallel fine-tuning of every run of an experiment.
//
// Per run: build the model on every rank from the run's seed, broadcast rank 0's parameters and buffers,
// then for each epoch: this rank's part of each global batch -> forward/backward -> gradients summed over
// ranks -> SGD step; then exact distributed evaluation, metrics reduced to rank 0, one HDF5 row (rank 0).
//
// Checkpoints and resume (checkpoint.h, resume_plan.h): after every epoch rank 0 appends the epoch's row,
// then writes a checkpoint. Runs start as `plan` says: skipped, from epoch 1, or resumed from their newest
// checkpoint (the results file cut back to its epochs). At every step boundary the ranks ask whether any of
// them got SIGTERM, SIGINT or SIGUSR1 (StopSignal); if so all save a checkpoint at that step and throw
// Interrupted (exit 75), the run marked interrupted.
//
// Contract: collective; every rank calls it with the same experiment and dataset. `store` and `plan`
// (plan_runs(), one entry per run) are rank 0's; other ranks pass nullptr and {}. Throws on failure (the
// caller ends the job); rank 0 first marks the run failed (or interrupted) in the store, with the message.
#pragma once

#include <ATen/core/Tensor.h>

#include <string>
#include <vector>

#include "dist/communicator.h"
#include "results/store.h"
#include "runner/config/config.h"
#include "runner/data/cifar10.h"
#include "runner/train/resume_plan.h"

namespace ftbench::train {

struct TrainContext {
  dist::Communicator* comm = nullptr;
  at::Device device{at::kCPU};
  std::string device_name;
  std::string hostnames;  // comma-separated
  int threads = 1;        // intra-op threads per rank when [train] threads is 0 (cores / local ranks)
};

void run_experiment(const config::Experiment& experiment, const data::Dataset& dataset, const TrainContext& ctx,
                    results::Store* store, const std::vector<RunStart>& plan);

// The input size a run trains at: [data] input_size, or the model's native size when it is 0 ("model").
// Throws InputError naming the experiment file when it is below the model's minimum.
int64_t resolve_input_size(const config::Experiment& experiment, const std::string& model);

}  // namespace ftbench::train
