// NcclCommunicator: Communicator over NCCL for CUDA tensors on this rank's GPU. Built only when
// FTBENCH_WITH_CUDA resolves to ON (target ftbench_nccl).
//
// Bring-up (one readable function, in the constructor): rank 0 creates the ncclUniqueId, MPI_Bcast sends it
// to every rank, an MPI_Barrier follows (it avoids an init hang seen under some MPI stacks), then every rank
// joins with a non-blocking ncclCommInitRankConfig and polls until the communicator is ready.
//
// Collectives run on the tensor's current CUDA stream, so they are ordered after the kernels that produced
// the tensor without an extra event. Completion is awaited by polling cudaStreamQuery together with
// ncclCommGetAsyncError, bounded by `timeout_s`: on error or timeout the communicator is aborted
// (ncclCommAbort) and DistError is thrown, instead of a blocking synchronise that could wait forever.
//
// Threading: one thread at a time. Requires MPI to be initialised.
#pragma once

#include <memory>
#include <string>

#include "dist/communicator.h"

namespace ftbench::dist {

class NcclCommunicator final : public Communicator {
 public:
  NcclCommunicator(int device_index, double timeout_s);
  ~NcclCommunicator() override;
  NcclCommunicator(const NcclCommunicator&) = delete;
  NcclCommunicator& operator=(const NcclCommunicator&) = delete;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string backend() const override { return "nccl"; }

  void all_reduce(at::Tensor& tensor, ReduceOp op) override;
  void broadcast(at::Tensor& tensor, int root) override;
  void barrier() override;

 private:
  struct State;
  std::unique_ptr<State> state_;
  int rank_ = 0;
  int size_ = 1;
};

// NCCL's runtime version, e.g. "2.28.9".
std::string nccl_runtime_version();

}  // namespace ftbench::dist
