// cli::phase: one setup step of a collective command (run, bench), ended the same way on every rank.
#pragma once

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

}  // namespace ftbench::cli
