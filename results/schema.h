// The names and types of schema v1 (results/SCHEMA.md), shared by the writer (store.cpp) and the reader
// (reader.cpp) so that the two cannot drift apart. Private to results/.
#pragma once

#include <array>
#include <string>
#include <utility>

#include "results/h5/group.h"
#include "results/metrics.h"

namespace ftbench::results::schema {

inline constexpr const char* kRunsGroup = "runs";
inline constexpr const char* kSchemaVersion = "schema_version";
inline constexpr const char* kExperiment = "experiment";
inline constexpr const char* kConfigToml = "config_toml";
inline constexpr const char* kCreated = "created";
inline constexpr const char* kClassNames = "class_names";
inline constexpr const char* kStatus = "status";
inline constexpr const char* kDescription = "description";  // attribute of every per-epoch dataset

// Run attributes, one table per type; status is stored as its to_string() text.
inline const std::array<std::pair<const char*, std::string RunInfo::*>, 23> kRunStrings{{
    {"run_id", &RunInfo::run_id},
    {"model", &RunInfo::model},
    {"strategy", &RunInfo::strategy},
    {"weights", &RunInfo::weights},
    {"weights_file", &RunInfo::weights_file},
    {"weights_sha256", &RunInfo::weights_sha256},
    {"weights_load", &RunInfo::weights_load},
    {"backend", &RunInfo::backend},
    {"device", &RunInfo::device},
    {"devices", &RunInfo::devices},
    {"config_toml", &RunInfo::config_toml},
    {"ftbench_version", &RunInfo::ftbench_version},
    {"torch_version", &RunInfo::torch_version},
    {"nccl_version", &RunInfo::nccl_version},
    {"mpi_version", &RunInfo::mpi_version},
    {"hdf5_version", &RunInfo::hdf5_version},
    {"git_commit", &RunInfo::git_commit},
    {"hostnames", &RunInfo::hostnames},
    {"start_time", &RunInfo::start_time},
    {"end_time", &RunInfo::end_time},
    {"error", &RunInfo::error},
    {"param_groups", &RunInfo::param_groups},
    {"eval_weights", &RunInfo::eval_weights},
}};

inline const std::array<std::pair<const char*, int64_t RunInfo::*>, 7> kRunInts{{
    {"seed", &RunInfo::seed},
    {"world_size", &RunInfo::world_size},
    {"params_total", &RunInfo::params_total},
    {"params_trainable", &RunInfo::params_trainable},
    {"input_size", &RunInfo::input_size},
    {"global_batch", &RunInfo::global_batch},
    {"resumes", &RunInfo::resumes},
}};
inline constexpr const char* kResumes = "resumes";

// Per-epoch scalar series: 1-D datasets of E rows, float64 (kSeries) or int64 (kIntSeries).
template <typename T>
struct Series {
  const char* name;
  T EpochRow::*field;
  const char* description;
};
inline constexpr const char* kEpoch = "epoch";  // int64, 1-based; written last
inline const std::array<Series<double>, 11> kSeries{{
    {"train_loss", &EpochRow::train_loss, "mean training loss over the epoch (cross-entropy, nats)"},
    {"train_acc", &EpochRow::train_acc, "training accuracy over the epoch, fraction in [0, 1]"},
    {"test_loss", &EpochRow::test_loss, "mean loss over the whole test split (cross-entropy, nats)"},
    {"test_acc", &EpochRow::test_acc, "top-1 accuracy over the whole test split, fraction in [0, 1]"},
    {"test_acc5", &EpochRow::test_acc5, "top-5 accuracy over the whole test split, fraction in [0, 1]"},
    {"lr", &EpochRow::lr, "learning rate at the epoch's first step"},
    {"epoch_seconds", &EpochRow::epoch_seconds, "wall time of training + evaluation, seconds"},
    {"data_seconds", &EpochRow::data_seconds, "rank 0's time preparing training batches, seconds"},
    {"compute_seconds", &EpochRow::compute_seconds,
     "rank 0's time in forward, backward and optimizer steps, seconds"},
    {"comm_seconds", &EpochRow::comm_seconds,
     "rank 0's time waiting for the gradient all-reduce after backward (exposed communication), seconds"},
    {"images_per_second", &EpochRow::images_per_second, "training images per second, all ranks together"},
}};
inline const std::array<Series<int64_t>, 3> kIntSeries{{
    {"peak_memory_bytes", &EpochRow::peak_memory_bytes,
     "peak memory of the epoch, bytes, max over ranks: CUDA peak allocated, or peak resident set size on the CPU"},
    {"comm_bytes", &EpochRow::comm_bytes, "gradient bytes all-reduced by each rank during the epoch"},
    {"trainable_params", &EpochRow::trainable_params, "parameters that trained in this epoch"},
}};
// Attributes and series that schema v1 gained after its first files were written (2026-11-29, the results
// issue). Readers give files without them "" (attributes), NaN (float series) or 0 (integer series) instead
// of refusing them; the writer always writes them.
inline const std::array<const char*, 15> kAddedLater{
    "devices",      "torch_version",   "nccl_version", "mpi_version",       "hdf5_version", "test_acc5",
    "data_seconds", "compute_seconds", "comm_seconds", "peak_memory_bytes", "comm_bytes",   "trainable_params",
    "param_groups", "eval_weights", "resumes"};
bool added_later(const std::string& name);

inline constexpr const char* kPerClassAcc = "per_class_acc";  // [E, 10] float64
inline constexpr const char* kConfusion = "confusion";          // [E, 10, 10] int64, [epoch][true][predicted]

// Parses a stored status; kAbsent for text this version does not know.
RunStatus parse_status(const std::string& text);

// Reads the root attributes and checks the marks of an ftbench results file (schema_version, experiment,
// the runs group). A file without them throws InputError "<file> is not an ftbench results file (...); <fix>".
// The schema version is returned as found; callers decide which versions they accept.
ExperimentInfo read_root(const h5::Group& root, const std::string& fix, int64_t& schema_version);

}  // namespace ftbench::results::schema
