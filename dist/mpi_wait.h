// dist::wait_request: the bounded wait under every MPI collective ftbench makes once training has started
// (the MPI communicator's, and the NCCL communicator's small host-side agreements); dist::poll_until: the same
// wait for any condition (the shared-memory all-reduce's).
#pragma once

#include <mpi.h>

#include <functional>
#include <string>

namespace ftbench::dist {

// Polls `request` until it completes or `timeout_s` passes; then throws DistError naming `what` and this
// rank: another rank never joined (it hung, died or diverged). Spins briefly, then yields between polls.
void wait_request(MPI_Request* request, double timeout_s, const std::string& what);

// Calls `done` until it returns true or `timeout_s` passes; then throws DistError "<what> timed out after ...",
// naming this rank. Spins for 2 ms, then sleeps 50 us between calls.
void poll_until(const std::function<bool()>& done, double timeout_s, const std::string& what);

}  // namespace ftbench::dist
