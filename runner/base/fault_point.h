// Crash points for the crash-consistency tests: FTBENCH_FAULT_POINT=NAME[:N] makes this process SIGKILL
// itself the N-th time (default: the first) it passes the point NAME. The points:
//   checkpoint  half of a checkpoint's temporary file is written (runner/train/checkpoint.cpp)
//   results     the results file's new copy is written and flushed, not yet renamed over the file
//               (results/store.cpp)
// Unset: nothing happens, at the cost of one getenv per point passed (a few per epoch). Training-step
// faults (hang, throw, exit, kill on a given rank and step) are FTBENCH_FAULT, runner/train/fault.h.
#pragma once

namespace ftbench {

void fault_point(const char* name);

}  // namespace ftbench
