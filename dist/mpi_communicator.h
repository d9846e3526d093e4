// MpiCommunicator: Communicator over MPI_COMM_WORLD for CPU tensors.
// Supported dtypes: float32, float64, int32, int64, uint8 (sum, average, max; average is sum / size, and
// for integer tensors is refused because it would truncate).
#pragma once

#include "dist/communicator.h"

namespace ftbench::dist {

class MpiCommunicator final : public Communicator {
 public:
  MpiCommunicator();  // requires MPI to be initialised (dist::Runtime)

  int rank() const override { return rank_; }
  int size() const override { return size_; }
  std::string backend() const override { return "mpi"; }

  void all_reduce(at::Tensor& tensor, ReduceOp op) override;
  void broadcast(at::Tensor& tensor, int root) override;
  void barrier() override;

 private:
  int rank_ = 0;
  int size_ = 1;
};

}  // namespace ftbench::dist
