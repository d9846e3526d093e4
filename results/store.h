// results::Store: the writer of one experiment's HDF5 results file. Only rank 0 creates one.
//
// Every change replaces the file atomically (a copy is changed, then renamed over it; store.cpp says why
// this and not SWMR), so the path always names a complete file that any reader may open at any time.
//
// Contract:
// - open() creates the file (and its parent directory) or opens an existing one for append, and holds a
//   WriterLock for the Store's lifetime. An existing file that belongs to another experiment (a different
//   root `experiment` attribute), or that is not an ftbench results file, is refused with InputError and
//   left untouched; so is a file that another ftbench process is writing.
// - begin_run() creates /runs/<run_id> with its attributes and empty, extendible per-epoch datasets, status
//   "running". A run group left incomplete by an earlier attempt (status running, failed or interrupted) is
//   replaced; a completed run is never touched (the caller checks status() first and skips it).
// - append_epoch() adds one row to every per-epoch dataset; readers see the whole row or none of it.
// - finish_run() sets status (completed, failed or interrupted), end_time and error.
// - run_config() is a stored run's resolved configuration (its config_toml attribute), to tell whether a
//   re-run may resume or skip it; resume_run() reopens an incomplete run at a checkpoint: its per-epoch
//   datasets are cut to the checkpoint's row count (so each epoch appears exactly once however far the
//   killed job had written), status "running", end_time and error cleared, `resumes` incremented.
// - discard_run() deletes a run's group, completed or not (`ftbench run --restart` on a changed run).
// Errors: I/O and HDF5 failures throw RuntimeError with the HDF5 error stack summarised in one line.
// Threading: not thread-safe; one writer (rank 0).
#pragma once

#include <memory>
#include <string>

#include "results/metrics.h"

namespace ftbench::results {

// The version of the HDF5 library that writes, e.g. "1.10.10" (the run attribute hdf5_version).
std::string hdf5_library_version();

class Store {
 public:
  static Store open(const std::string& path, const ExperimentInfo& info);
  Store(Store&&) noexcept;
  Store& operator=(Store&&) noexcept;
  ~Store();

  RunStatus status(const std::string& run_id) const;
  void begin_run(const RunInfo& info);
  void append_epoch(const std::string& run_id, const EpochRow& row);
  void finish_run(const std::string& run_id, RunStatus status, const std::string& end_time,
                  const std::string& error = "");
  std::string run_config(const std::string& run_id) const;  // "" when the run is absent
  void resume_run(const std::string& run_id, int64_t rows);
  void discard_run(const std::string& run_id);
  const std::string& path() const;

 private:
  struct Impl;
  explicit Store(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ftbench::results
