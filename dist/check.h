// CHECK_MPI / CHECK_NCCL / CHECK_CUDA: turn a failed library call into a typed exception that carries the
// call's text, file:line, and this process's rank and host, so a failure reads like a per-rank stack trace.
// runner/main.cpp catches it, prints it once, and ends the whole job (MPI_Abort): no rank is left hanging.
#pragma once

#include <string>

#include "runner/base/error.h"

namespace ftbench::dist {

// A failure inside the distributed layer (exit code 1).
class DistError : public RuntimeError {
 public:
  using RuntimeError::RuntimeError;
};

// "[rank R@host]" for messages; rank is -1 before MPI is up.
std::string rank_tag();

// Formats "<call> failed at file:line on [rank r@host]: <detail>" and throws DistError.
[[noreturn]] void throw_call_failure(const char* library, const char* call, const char* file, int line,
                                     const std::string& detail);

// Text for an MPI error code (MPI_Error_string).
std::string mpi_error_text(int code);

}  // namespace ftbench::dist

#define CHECK_MPI(call)                                                                           \
  do {                                                                                            \
    const int ftbench_mpi_rc_ = (call);                                                           \
    if (ftbench_mpi_rc_ != 0 /* MPI_SUCCESS */) {                                                 \
      ::ftbench::dist::throw_call_failure("MPI", #call, __FILE__, __LINE__,                       \
                                          ::ftbench::dist::mpi_error_text(ftbench_mpi_rc_));      \
    }                                                                                             \
  } while (0)
