// Checkpoints: everything a run needs to continue exactly where it stopped.
//
// On disk, per run, in <checkpoint_dir>/<run_id>/ (checkpoint_root() below):
//   epoch-0003.pt              after epoch 3 (written at the end of every epoch)
//   epoch-0004-step-000012.pt  after 12 optimizer steps of epoch 4 (written when a stop signal arrives)
//   latest                     the marker: the newest complete checkpoint and where it stands (TOML)
// A checkpoint is a LibTorch archive (torch::serialize) holding the position, the partial sums of an
// interrupted epoch, the model's parameters and buffers, the optimizer's state, the EMA's averages, every
// rank's random generator states, the world size and the run's resolved configuration. The learning-rate
// schedule is a function of the step count, and the data order a function of (seed, epoch), so the position
// restores both.
//
// Writes are atomic: a temporary file in the same directory is written, fsync'ed and renamed, then the
// directory is fsync'ed; the marker is replaced the same way, after the checkpoint it names. A writer killed
// at any moment leaves the previous marker naming a complete file (and maybe a stale temporary file, removed
// by the next write). The newest `keep` checkpoints are kept; a finished run keeps its final one.
//
// Contract: rank 0 writes and reads (CheckpointDir); every rank encodes and decodes (the bytes are broadcast,
// so no shared file system is needed). Thread-safety: none; the training thread owns them.
#pragma once

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>
#include <torch/optim/optimizer.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "runner/config/config.h"
#include "runner/train/ema.h"

namespace ftbench::train {

// Where a run stands.
struct Position {
  int64_t epoch = 1;          // the epoch in progress, or the next one to start
  int64_t step_in_epoch = 0;  // optimizer steps of `epoch` already done; 0: the epoch starts afresh
  int64_t global_step = 0;    // optimizer steps since the run began (the schedule's clock)
  int64_t epochs_done = 0;    // completed epochs = rows of the run in the results file
};

// The sums of an epoch interrupted part-way, so that its one row covers the whole epoch.
struct PartialEpoch {
  int64_t images = 0;
  double loss_sum = 0;
  int64_t correct = 0;
  double data_seconds = 0, step_seconds = 0, train_seconds = 0, comm_seconds = 0;
  int64_t comm_bytes = 0;
  int64_t peak_memory_bytes = 0;
};

struct CheckpointMeta {
  std::string run_id;
  std::string config_toml;  // the run's resolved configuration when it was written
  int64_t world_size = 1;
  Position position;
  PartialEpoch partial;
  bool final = false;  // written after the last epoch
};

// What one rank contributes: its generator states (CPU, and the device's when it is a GPU), as bytes.
std::string capture_rng_state(at::Device device);
void restore_rng_state(const std::string& state, at::Device device);

// The checkpoint as bytes. `rng_states`: every rank's capture_rng_state(), in rank order.
std::string encode_checkpoint(const CheckpointMeta& meta, const std::vector<std::string>& rng_states,
                              const torch::nn::Module& model, const torch::optim::Optimizer& optimizer,
                              const WeightEma* ema);

// Restores the model, optimizer and EMA (tensors land on the model's device and keep its memory format)
// and this rank's generator states from `bytes`; returns the metadata. `file` names the checkpoint in
// messages. Throws InputError when the bytes are not a checkpoint of this model (missing or differently
// shaped tensors, an EMA that the run does or does not have), so a mismatched file is reported, never
// half-loaded silently.
CheckpointMeta decode_checkpoint(const std::string& bytes, const std::string& file, int rank, at::Device device,
                                 torch::nn::Module& model, torch::optim::Optimizer& optimizer, WeightEma* ema);

// Only the metadata (for planning a resume before any model exists).
CheckpointMeta read_checkpoint_meta(const std::string& bytes, const std::string& file);

// The marker's contents.
struct Marker {
  std::string file;  // the checkpoint's file name in the run's directory
  Position position;
  bool final = false;
};

// One run's checkpoint directory.
class CheckpointDir {
 public:
  CheckpointDir(std::string dir, int64_t keep);

  const std::string& path() const { return dir_; }
  // The marker, if the run has one. Throws InputError for a marker that cannot be read or parsed, or that
  // names a missing file.
  std::optional<Marker> latest() const;
  // The bytes of the checkpoint the marker names. Throws RuntimeError when unreadable.
  std::string read(const Marker& marker) const;
  // Writes a checkpoint at `position` atomically, points the marker at it, and prunes older ones. Creates the
  // directory. Throws RuntimeError (naming the path and the system's reason) on I/O failure.
  void write(const std::string& bytes, const Position& position, bool final);
  // Removes every checkpoint of the run and the marker (a run trained from the start).
  void clear();

 private:
  std::string dir_;
  int64_t keep_;
};

// The directory under which each run has its own: [experiment] checkpoint_dir, or beside the results file:
// results/quickstart.h5 -> results/quickstart.checkpoints.
std::string checkpoint_root(const config::Experiment& experiment);

}  // namespace ftbench::train
