// The records stored per run and per epoch: what results::Store writes and results::read_results returns.
// The HDF5 layout they map to is documented in results/SCHEMA.md.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace ftbench::results {

inline constexpr int kSchemaVersion = 1;
inline constexpr int kClasses = 10;

// Root attributes: one experiment per file.
struct ExperimentInfo {
  std::string experiment;   // [experiment] name
  std::string config_toml;  // the resolved experiment, as TOML text
  std::string created;      // ISO 8601 UTC, set when the file is created
  std::vector<std::string> class_names;
};

// The current time as the schema stores every timestamp: ISO 8601 UTC, e.g. "2026-05-01T12:00:00Z".
std::string utc_now();

// kInterrupted: stopped by a signal (exit code 75); a later `ftbench run` restarts or resumes it.
enum class RunStatus { kAbsent, kRunning, kCompleted, kFailed, kInterrupted };
const char* to_string(RunStatus status);

// Per-run attributes, written when the run starts (status, end_time and error when it ends).
struct RunInfo {
  std::string run_id;  // "<model>-<strategy>-s<seed>"
  std::string model;
  std::string strategy;
  std::string weights;         // as configured: "none", "torchvision" or a path
  std::string weights_file;    // the file loaded, "" for "none"
  std::string weights_sha256;  // its sha256 (lowercase hex), "" for "none"
  std::string weights_load;    // how the file mapped onto the model (loaded, re-initialised, skipped keys)
  int64_t seed = 0;
  int64_t world_size = 1;
  std::string backend;  // "mpi" | "nccl"
  std::string device;   // rank 0's device: "cpu" or the GPU's name
  std::string devices;  // every rank's device, counted: "2x NVIDIA H200", or "2x cpu (<CPU model>)"
  int64_t params_total = 0;
  int64_t params_trainable = 0;
  int64_t input_size = 0;
  int64_t global_batch = 0;
  int64_t resumes = 0;       // times the run was resumed from a checkpoint
  std::string param_groups;  // the optimizer's groups at the start: "name lr=.. wd=.. trainable=n/total; ..."
  std::string eval_weights;  // which weights evaluation used: "model", or "ema (decay 0.999)"
  std::string config_toml;  // this run's resolved config
  std::string ftbench_version;
  std::string torch_version;  // LibTorch, e.g. "2.11.0"
  std::string nccl_version;   // e.g. "2.28.9", or "not built (...)" in a build without the NCCL backend
  std::string mpi_version;    // MPI_Get_library_version, first line
  std::string hdf5_version;   // the HDF5 library that wrote the run, e.g. "1.10.10"
  std::string git_commit;
  std::string hostnames;    // comma-separated, one per node
  std::string start_time;   // ISO 8601 UTC
  std::string end_time;     // "" while running
  RunStatus status = RunStatus::kRunning;
  std::string error;        // failure message, "" otherwise
};

// One epoch of one run.
struct EpochRow {
  int64_t epoch = 0;  // 1-based
  double train_loss = 0, train_acc = 0;  // mean over the epoch's training images; acc in [0, 1]
  double test_loss = 0, test_acc = 0;    // over the whole test split; acc (top-1) in [0, 1]
  double test_acc5 = 0;                  // top-5 accuracy over the whole test split, in [0, 1]
  double lr = 0;                         // learning rate at the epoch's first step
  double epoch_seconds = 0;              // wall time of training + evaluation
  // Where rank 0's training time went, summed over the epoch's steps (seconds): preparing batches
  // (gather, augment, resize, normalise), forward + backward + optimizer step, and waiting for the gradient
  // all-reduce after backward (communication not hidden behind backward).
  double data_seconds = 0, compute_seconds = 0, comm_seconds = 0;
  double images_per_second = 0;          // training images / training seconds, all ranks together
  int64_t peak_memory_bytes = 0;  // max over ranks: CUDA peak allocated bytes, or peak RSS on the CPU
  int64_t comm_bytes = 0;         // gradient bytes all-reduced by each rank over the epoch
  int64_t trainable_params = 0;   // parameters that trained in this epoch (changes under `gradual`)
  std::array<std::array<int64_t, kClasses>, kClasses> confusion{};  // [true][predicted] test counts

  // Accuracy of each true class from the confusion matrix (0 where a class has no test images).
  std::array<double, kClasses> per_class_acc() const;
};

struct RunRecord {
  RunInfo info;
  std::vector<EpochRow> epochs;
};

struct FileRecord {
  std::string path;
  int64_t schema_version = 0;
  ExperimentInfo info;
  std::vector<RunRecord> runs;  // in creation order
};

}  // namespace ftbench::results
