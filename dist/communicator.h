// dist::Communicator: the only thing the trainer knows about communication.
//
// Implementations: MpiCommunicator (CPU tensors; dist/mpi_communicator.h) and NcclCommunicator (CUDA tensors
// on this rank's GPU; dist/nccl_communicator.h, built with FTBENCH_WITH_CUDA).
//
// Contract: every method is collective. All ranks call the same methods in the same order with tensors of
// the same dtype and element count; otherwise the job fails (or, for mismatched sizes, is undefined, as in
// MPI). Tensors must be contiguous and on the backend's device. Calls complete before they return: the
// result is in the tensor. Failures throw DistError.
//
// Threading: one thread at a time per communicator.
#pragma once

#include <ATen/core/Tensor.h>

#include <string>

namespace ftbench::dist {

enum class ReduceOp { kSum, kAverage, kMax };

class Communicator {
 public:
  virtual ~Communicator() = default;

  virtual int rank() const = 0;
  virtual int size() const = 0;
  virtual std::string backend() const = 0;  // "mpi" | "nccl"

  // In place: every rank ends with the reduction over all ranks of `tensor`.
  virtual void all_reduce(at::Tensor& tensor, ReduceOp op) = 0;
  // In place: every rank ends with root's `tensor`.
  virtual void broadcast(at::Tensor& tensor, int root) = 0;
  virtual void barrier() = 0;
};

}  // namespace ftbench::dist
