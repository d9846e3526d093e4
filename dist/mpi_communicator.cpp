#include "dist/mpi_communicator.h"

#include <ATen/ops/div.h>
#include <mpi.h>

#include <climits>

#include "dist/check.h"

namespace ftbench::dist {
namespace {

MPI_Datatype mpi_type(const at::Tensor& tensor) {
  switch (tensor.scalar_type()) {
    case at::kFloat: return MPI_FLOAT;
    case at::kDouble: return MPI_DOUBLE;
    case at::kInt: return MPI_INT32_T;
    case at::kLong: return MPI_INT64_T;
    case at::kByte: return MPI_UINT8_T;
    default:
      throw DistError("MpiCommunicator: unsupported dtype " + std::string(c10::toString(tensor.scalar_type())) +
                      " on " + rank_tag() + "; expected float32, float64, int32, int64 or uint8");
  }
}

void check_tensor(const at::Tensor& tensor, const char* what) {
  if (!tensor.device().is_cpu() || !tensor.is_contiguous()) {
    throw DistError(std::string("MpiCommunicator::") + what + " needs a contiguous CPU tensor on " + rank_tag() +
                    "; got device " + tensor.device().str());
  }
  if (tensor.numel() > INT_MAX) {
    throw DistError(std::string("MpiCommunicator::") + what + ": tensor of " + std::to_string(tensor.numel()) +
                    " elements exceeds MPI's int count; split it");
  }
}

}  // namespace

MpiCommunicator::MpiCommunicator() {
  CHECK_MPI(MPI_Comm_rank(MPI_COMM_WORLD, &rank_));
  CHECK_MPI(MPI_Comm_size(MPI_COMM_WORLD, &size_));
}

void MpiCommunicator::all_reduce(at::Tensor& tensor, ReduceOp op) {
  check_tensor(tensor, "all_reduce");
  const MPI_Datatype type = mpi_type(tensor);
  if (op == ReduceOp::kAverage && !at::isFloatingType(tensor.scalar_type())) {
    throw DistError("MpiCommunicator::all_reduce: average of an integer tensor would truncate; use sum");
  }
  if (size_ == 1 || tensor.numel() == 0) return;
  const MPI_Op mpi_op = op == ReduceOp::kMax ? MPI_MAX : MPI_SUM;
  CHECK_MPI(MPI_Allreduce(MPI_IN_PLACE, tensor.data_ptr(), static_cast<int>(tensor.numel()), type, mpi_op,
                          MPI_COMM_WORLD));
  if (op == ReduceOp::kAverage) tensor.div_(size_);
}

void MpiCommunicator::broadcast(at::Tensor& tensor, int root) {
  check_tensor(tensor, "broadcast");
  const MPI_Datatype type = mpi_type(tensor);
  if (size_ == 1 || tensor.numel() == 0) return;
  CHECK_MPI(MPI_Bcast(tensor.data_ptr(), static_cast<int>(tensor.numel()), type, root, MPI_COMM_WORLD));
}

void MpiCommunicator::barrier() { CHECK_MPI(MPI_Barrier(MPI_COMM_WORLD)); }

}  // namespace ftbench::dist
