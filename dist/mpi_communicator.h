// MpiCommunicator: Communicator over MPI_COMM_WORLD for CPU tensors.
//
// Dtypes: float32, float64, bfloat16, int32, int64, uint8. bfloat16 has no MPI type: it travels as 16-bit
// words and is reduced by a user-defined MPI_Op that adds in float32 and rounds back to bfloat16. Average is
// the sum divided by the world size, refused for integer tensors (it would truncate).
//
// Within one node, buffers from new_buffer() live in shared memory and are all-reduced there, without MPI
// (dist/shm_allreduce.h; FTBENCH_SHM_ALLREDUCE=0 turns this off). Other tensors, and every collective of a
// job that spans nodes, go through MPI. In-flight shared-memory reductions are completed before any MPI
// collective starts, so that no rank blocks in MPI while a peer waits for it.
//
// Every MPI collective is non-blocking underneath (MPI_Iallreduce, MPI_Ibcast, MPI_Iallgather, MPI_Ibarrier)
// and waited for by polling MPI_Test against a deadline of `timeout_s`, so a missing rank makes this rank
// throw DistError instead of waiting forever.
#pragma once

#include <memory>

#include "dist/communicator.h"

namespace ftbench::dist {

class ShmGroup;

class MpiCommunicator final : public Communicator {
 public:
  // Collective. Requires MPI to be initialised (dist::Runtime).
  explicit MpiCommunicator(double timeout_s = 600);
  ~MpiCommunicator() override;

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  int local_rank() const override { return local_rank_; }
  std::string backend() const override { return "mpi"; }
  double timeout_s() const override { return timeout_s_; }

  at::Tensor new_buffer(int64_t numel, const at::TensorOptions& options) override;
  std::unique_ptr<Work> all_reduce_async(at::Tensor& tensor, ReduceOp op) override;
  void broadcast(at::Tensor& tensor, int root) override;
  std::vector<int64_t> all_gather(int64_t value) override;
  void barrier() override;

  // Whether buffers from new_buffer() are all-reduced in shared memory (one node, 2+ ranks, not turned off).
  bool shared_memory() const { return shm_ != nullptr; }
  // Whether `tensor` lies in a shared-memory buffer, so that all_reduce_async reduces it there.
  bool is_shared(const at::Tensor& tensor) const;

 private:
  int rank_ = 0;
  int size_ = 1;
  int local_rank_ = 0;
  double timeout_s_;
  void* bf16_sum_ = nullptr;  // MPI_Op, opaque so this header does not need <mpi.h>
  std::unique_ptr<ShmGroup> shm_;
};

}  // namespace ftbench::dist
