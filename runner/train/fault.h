// Fault injection for tests: FTBENCH_FAULT=rank:R,step:S,kind:K makes rank R misbehave at its S-th training
// step (1-based, counted over the whole process). Kinds:
//   hang  - sleep forever (the other ranks must time out and end the job)
//   throw - throw a RuntimeError (this rank reports it and aborts the job)
//   exit  - _exit(3) without a word, as a crashed process would
//   kill  - SIGKILL itself
// Unset or empty: no fault. A malformed value is an InputError, so a typo cannot silently test nothing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace ftbench::train {

struct Fault {
  int rank = -1;
  int64_t step = 0;
  std::string kind;
};

// Parses a FTBENCH_FAULT value; throws InputError when malformed.
Fault parse_fault(const std::string& text);

// The fault from the environment, if any.
std::optional<Fault> fault_from_env();

// Called at every training step; triggers `fault` when it names this rank and step.
void maybe_inject(const std::optional<Fault>& fault, int rank, int64_t step);

}  // namespace ftbench::train
