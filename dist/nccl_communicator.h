// NcclCommunicator: Communicator over NCCL for CUDA tensors on this rank's GPU. Built only when
// FTBENCH_WITH_CUDA resolves to ON (target ftbench_nccl).
//
// Bring-up (one readable function, in the constructor): rank 0 creates the ncclUniqueId, MPI_Bcast sends it
// to every rank, an MPI_Barrier follows (it avoids an init hang seen under some MPI stacks), then every rank
// joins with a non-blocking ncclCommInitRankConfig and polls until the communicator is ready.
//
// Streams: collectives run on a dedicated communication stream. An event recorded on the caller's current
// (compute) stream orders them after the kernels that produced the tensor; the caching allocator is told
// the tensor is in use on the side stream (recordStream); wait() makes the compute stream wait on an event
// recorded after the collective, so later kernels see the result without a host synchronisation.
//
// Bounded waits: wait() polls cudaEventQuery together with ncclCommGetAsyncError against the timeout; on an
// error or timeout the communicator is aborted (ncclCommAbort) and DistError is thrown. Nothing here calls a
// blocking synchronise that could wait forever.
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
  int local_rank() const override { return local_rank_; }
  std::string backend() const override { return "nccl"; }
  double timeout_s() const override;

  at::Tensor new_buffer(int64_t numel, const at::TensorOptions& options) override;  // an ordinary tensor
  std::unique_ptr<Work> all_reduce_async(at::Tensor& tensor, ReduceOp op) override;
  void broadcast(at::Tensor& tensor, int root) override;
  std::vector<int64_t> all_gather(int64_t value) override;
  void barrier() override;

  struct State;  // NCCL and CUDA handles (nccl_communicator.cpp)

 private:
  std::shared_ptr<State> state_;
  int rank_ = 0;
  int size_ = 1;
  int local_rank_ = 0;
};

// NCCL's runtime version, e.g. "2.28.9".
std::string nccl_runtime_version();

}  // namespace ftbench::dist
