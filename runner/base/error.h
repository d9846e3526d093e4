// ftbench::Error and the process exit codes that every layer (config, data, dist, results, train) shares.
//
// Contract: code that detects a problem throws one of these; only runner/main.cpp turns them into an exit
// status. Nothing below main calls exit() or MPI_Abort, so a failure on one rank is always reported and then
// ends the whole job in one place (see dist/bootstrap.h).
#pragma once

#include <stdexcept>
#include <string>

namespace ftbench {

// Process exit codes (DESIGN.md). Scripts and Slurm job scripts rely on these values.
enum class ExitCode : int {
  kOk = 0,
  kRuntime = 1,      // something failed while running: I/O, MPI, a diverging run, ...
  kBadInput = 2,     // the user can fix it: config, data, weights, paths, usage
  kInterrupted = 75  // stopped by a signal after saving a checkpoint; re-running resumes
};

// Base of every error ftbench reports. what() is one line: what is wrong and how to fix it.
class Error : public std::runtime_error {
 public:
  Error(ExitCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ExitCode code() const noexcept { return code_; }

 private:
  ExitCode code_;
};

// Bad input (exit 2). The message names the file (with line:col for TOML), what was expected, and the fix.
class InputError : public Error {
 public:
  explicit InputError(const std::string& message) : Error(ExitCode::kBadInput, message) {}
};

// A failure at run time (exit 1).
class RuntimeError : public Error {
 public:
  explicit RuntimeError(const std::string& message) : Error(ExitCode::kRuntime, message) {}
};

// A clean stop on a signal (exit 75): every rank stopped at the same step and the run's checkpoint is saved.
class Interrupted : public Error {
 public:
  explicit Interrupted(const std::string& message) : Error(ExitCode::kInterrupted, message) {}
};

}  // namespace ftbench
