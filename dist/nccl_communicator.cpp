#include "dist/nccl_communicator.h"

#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime.h>
#include <mpi.h>
#include <nccl.h>

#include <chrono>
#include <climits>
#include <thread>

#include "dist/check.h"

#define CHECK_NCCL(call)                                                                          \
  do {                                                                                            \
    const ncclResult_t ftbench_nccl_rc_ = (call);                                                 \
    if (ftbench_nccl_rc_ != ncclSuccess && ftbench_nccl_rc_ != ncclInProgress) {                  \
      ::ftbench::dist::throw_call_failure("NCCL", #call, __FILE__, __LINE__,                      \
                                          ncclGetErrorString(ftbench_nccl_rc_));                  \
    }                                                                                             \
  } while (0)

#define CHECK_CUDA(call)                                                                          \
  do {                                                                                            \
    const cudaError_t ftbench_cuda_rc_ = (call);                                                  \
    if (ftbench_cuda_rc_ != cudaSuccess) {                                                        \
      ::ftbench::dist::throw_call_failure("CUDA", #call, __FILE__, __LINE__,                      \
                                          cudaGetErrorString(ftbench_cuda_rc_));                  \
    }                                                                                             \
  } while (0)

namespace ftbench::dist {

struct NcclCommunicator::State {
  ncclComm_t comm = nullptr;
  int device = 0;
  double timeout_s = 600;
  bool aborted = false;
};

namespace {

ncclDataType_t nccl_type(const at::Tensor& tensor) {
  switch (tensor.scalar_type()) {
    case at::kFloat: return ncclFloat32;
    case at::kDouble: return ncclFloat64;
    case at::kHalf: return ncclFloat16;
    case at::kBFloat16: return ncclBfloat16;
    case at::kInt: return ncclInt32;
    case at::kLong: return ncclInt64;
    case at::kByte: return ncclUint8;
    default:
      throw DistError("NcclCommunicator: unsupported dtype " + std::string(c10::toString(tensor.scalar_type())) +
                      " on " + rank_tag());
  }
}

// Polls until the communicator has no operation in progress, or fails. Used after non-blocking init.
void wait_ready(ncclComm_t comm, double timeout_s, const char* what) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  for (;;) {
    ncclResult_t state = ncclSuccess;
    CHECK_NCCL(ncclCommGetAsyncError(comm, &state));
    if (state == ncclSuccess) return;
    if (state != ncclInProgress) {
      ncclCommAbort(comm);
      throw DistError(std::string("NCCL ") + what + " failed on " + rank_tag() + ": " + ncclGetErrorString(state));
    }
    if (std::chrono::steady_clock::now() > deadline) {
      ncclCommAbort(comm);
      throw DistError(std::string("NCCL ") + what + " timed out after " + std::to_string(timeout_s) + " s on " +
                      rank_tag() + "; a rank did not arrive (raise [dist] timeout_s if the job is just slow)");
    }
    std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
}

}  // namespace

NcclCommunicator::NcclCommunicator(int device_index, double timeout_s) : state_(std::make_unique<State>()) {
  state_->device = device_index;
  state_->timeout_s = timeout_s;
  CHECK_MPI(MPI_Comm_rank(MPI_COMM_WORLD, &rank_));
  CHECK_MPI(MPI_Comm_size(MPI_COMM_WORLD, &size_));
  CHECK_CUDA(cudaSetDevice(device_index));

  ncclUniqueId id{};
  if (rank_ == 0) CHECK_NCCL(ncclGetUniqueId(&id));
  CHECK_MPI(MPI_Bcast(&id, sizeof(id), MPI_BYTE, 0, MPI_COMM_WORLD));
  CHECK_MPI(MPI_Barrier(MPI_COMM_WORLD));

  ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
  config.blocking = 0;  // never block inside NCCL: we poll with a deadline instead
  CHECK_NCCL(ncclCommInitRankConfig(&state_->comm, size_, id, rank_, &config));
  wait_ready(state_->comm, timeout_s, "communicator init");
}

NcclCommunicator::~NcclCommunicator() {
  if (state_ == nullptr || state_->comm == nullptr || state_->aborted) return;
  // ncclCommDestroy can block forever if a peer is gone; finalize with a bounded wait, abort otherwise.
  try {
    CHECK_NCCL(ncclCommFinalize(state_->comm));
    wait_ready(state_->comm, state_->timeout_s, "communicator finalize");
    ncclCommDestroy(state_->comm);
  } catch (...) {
    // wait_ready already aborted the communicator; a destructor must not throw.
  }
}

namespace {

// Waits for `stream` with the same deadline discipline as init: no call here can block forever.
void wait_stream(ncclComm_t comm, cudaStream_t stream, double timeout_s, const char* what, bool* aborted) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  for (;;) {
    const cudaError_t status = cudaStreamQuery(stream);
    if (status == cudaSuccess) return;
    if (status != cudaErrorNotReady) {
      throw_call_failure("CUDA", "cudaStreamQuery", __FILE__, __LINE__, cudaGetErrorString(status));
    }
    ncclResult_t async = ncclSuccess;
    ncclCommGetAsyncError(comm, &async);
    if ((async != ncclSuccess && async != ncclInProgress) || std::chrono::steady_clock::now() > deadline) {
      ncclCommAbort(comm);
      *aborted = true;
      throw DistError(std::string("NCCL ") + what + (async != ncclSuccess && async != ncclInProgress
                                                         ? std::string(" failed: ") + ncclGetErrorString(async)
                                                         : " timed out after " + std::to_string(timeout_s) + " s") +
                      " on " + rank_tag() + "; the communicator was aborted");
    }
    std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
}

void check_cuda_tensor(const at::Tensor& tensor, int device, const char* what) {
  if (!tensor.is_cuda() || tensor.get_device() != device || !tensor.is_contiguous()) {
    throw DistError(std::string("NcclCommunicator::") + what + " needs a contiguous tensor on cuda:" +
                    std::to_string(device) + " on " + rank_tag() + "; got " + tensor.device().str());
  }
}

}  // namespace

void NcclCommunicator::all_reduce(at::Tensor& tensor, ReduceOp op) {
  check_cuda_tensor(tensor, state_->device, "all_reduce");
  if (tensor.numel() == 0) return;
  const ncclRedOp_t nccl_op = op == ReduceOp::kSum ? ncclSum : op == ReduceOp::kAverage ? ncclAvg : ncclMax;
  c10::cuda::CUDAGuard guard(state_->device);
  cudaStream_t stream = c10::cuda::getCurrentCUDAStream(state_->device).stream();
  CHECK_NCCL(ncclAllReduce(tensor.data_ptr(), tensor.data_ptr(), static_cast<size_t>(tensor.numel()),
                           nccl_type(tensor), nccl_op, state_->comm, stream));
  wait_stream(state_->comm, stream, state_->timeout_s, "all_reduce", &state_->aborted);
}

void NcclCommunicator::broadcast(at::Tensor& tensor, int root) {
  check_cuda_tensor(tensor, state_->device, "broadcast");
  if (tensor.numel() == 0) return;
  c10::cuda::CUDAGuard guard(state_->device);
  cudaStream_t stream = c10::cuda::getCurrentCUDAStream(state_->device).stream();
  CHECK_NCCL(ncclBroadcast(tensor.data_ptr(), tensor.data_ptr(), static_cast<size_t>(tensor.numel()),
                           nccl_type(tensor), root, state_->comm, stream));
  wait_stream(state_->comm, stream, state_->timeout_s, "broadcast", &state_->aborted);
}

void NcclCommunicator::barrier() { CHECK_MPI(MPI_Barrier(MPI_COMM_WORLD)); }

std::string nccl_runtime_version() {
  int version = 0;
  if (ncclGetVersion(&version) != ncclSuccess) return "unknown";
  // NCCL >= 2.9 encodes major*10000 + minor*100 + patch.
  return std::to_string(version / 10000) + "." + std::to_string(version / 100 % 100) + "." +
         std::to_string(version % 100);
}

}  // namespace ftbench::dist
