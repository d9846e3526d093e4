// dist::Communicator: the only thing the trainer knows about communication.
//
// Implementations: MpiCommunicator (CPU tensors; dist/mpi_communicator.h) and NcclCommunicator (CUDA tensors
// on this rank's GPU; dist/nccl_communicator.h, built with FTBENCH_WITH_CUDA).
//
// Contract: every collective is called by all ranks in the same order, with tensors of the same dtype and
// element count. Tensors must be contiguous and on the backend's device. The blocking forms return with the
// result in the tensor; the async form returns a Work whose wait() does. Every wait is bounded by the
// communicator's timeout: a rank that never arrives makes the others throw DistError (naming the collective)
// instead of hanging, and the caller ends the job.
//
// Threading: one thread at a time per communicator (the gradient reducer calls it from autograd hooks, which
// for CPU tensors run on the thread that called backward()).
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/TensorOptions.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace ftbench::dist {

enum class ReduceOp { kSum, kAverage, kMax };

// An in-flight collective.
class Work {
 public:
  virtual ~Work() = default;
  // Advances the operation without blocking; true once it has completed.
  virtual bool test() = 0;
  // Blocks until complete. Throws DistError on failure or when the communicator's timeout passes.
  virtual void wait() = 0;
};

class Communicator {
 public:
  virtual ~Communicator() = default;

  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual int local_rank() const = 0;        // rank among the ranks of this node
  virtual std::string backend() const = 0;  // "mpi" | "nccl"
  virtual double timeout_s() const = 0;

  // Collective: a zeroed contiguous tensor of `numel` elements (dtype and device from `options`) meant to be
  // all-reduced again and again, such as a gradient bucket. The MPI backend places it in memory shared by the
  // ranks of the node where it can (dist/shm_allreduce.h); otherwise it is an ordinary tensor.
  virtual at::Tensor new_buffer(int64_t numel, const at::TensorOptions& options) = 0;
  // In place, asynchronously: after wait(), every rank holds the reduction over all ranks. The tensor must
  // stay alive and untouched until then, and the Work must not outlive the communicator.
  virtual std::unique_ptr<Work> all_reduce_async(at::Tensor& tensor, ReduceOp op) = 0;
  // In place: every rank ends with the reduction over all ranks of `tensor`.
  void all_reduce(at::Tensor& tensor, ReduceOp op) { all_reduce_async(tensor, op)->wait(); }
  // In place: every rank ends with root's `tensor`.
  virtual void broadcast(at::Tensor& tensor, int root) = 0;
  // Every rank's `value`, in rank order. For small agreement checks (hashes, counts).
  virtual std::vector<int64_t> all_gather(int64_t value) = 0;
  virtual void barrier() = 0;
};

}  // namespace ftbench::dist
