// How a collective command (run, bench) ends a failure on every rank:
//   phase           a setup step, before collective work starts: every rank agrees on the exit code
//   fail_collective an error once collective work has started: this rank reports it and aborts the job
#pragma once

#include <cstdio>
#include <exception>
#include <string>

#include "dist/runtime.h"
#include "runner/base/error.h"

namespace ftbench::cli {

// Runs `step` on this rank and returns the job-wide exit code (0 when every rank succeeded); the lowest
// failing rank prints its message (dist::agree_on_exit). For checks before any collective work starts.
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

// For an error thrown once collective work has started, when the other ranks may be waiting in a collective
// that this rank will never join: prints "[rank R@host] message", ends the whole job with MPI_Abort when there
// are other ranks, and returns the exit code (an Error's own, else the runtime error code).
inline int fail_collective(const dist::Runtime& runtime, const std::exception& e) {
  const auto* error = dynamic_cast<const Error*>(&e);
  const int code = static_cast<int>(error != nullptr ? error->code() : ExitCode::kRuntime);
  std::fprintf(stderr, "ftbench: error: [rank %d@%s] %s\n", runtime.rank(), runtime.hostname().c_str(), e.what());
  std::fflush(stderr);
  if (runtime.size() > 1) runtime.abort(code);
  return code;
}

}  // namespace ftbench::cli
