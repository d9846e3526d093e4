// Stopping a job cleanly on SIGTERM, SIGINT or SIGUSR1 (Slurm's warning before a time limit or preemption,
// `scancel --signal`, Ctrl-C, a forwarded `kill`).
//
// The handler only records the signal: the training loop asks at every step boundary whether any rank got
// one (StopSignal::any_rank, one small collective), so all ranks stop together at the same step, never
// inside a collective, save a checkpoint and exit 75 (ExitCode::kInterrupted). A second signal to the same
// process means "now": it exits at once with 128 + the signal number, as a shell reports a killed command.
//
// Thread-safety: the handler is async-signal-safe (an atomic store and write(2)); the rest is called from the
// training thread.
#pragma once

#include <string>

#include "dist/communicator.h"

namespace ftbench::train {

class StopSignal {
 public:
  // Installs the handlers for this process (again: only the printed line changes). `rank` goes into the one
  // line the handler prints; -1 before MPI says which rank this is.
  static void install(int rank);
  // The signal this process received first, or 0.
  static int received();
  // Collective: true when some rank received a signal; `who` then says which, e.g. "SIGUSR1 on rank 1".
  static bool any_rank(dist::Communicator& comm, std::string* who);
  // "SIGTERM", "SIGINT", "SIGUSR1", or "signal N".
  static std::string name(int signal);
};

}  // namespace ftbench::train
