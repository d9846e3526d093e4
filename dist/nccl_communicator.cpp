#include "dist/nccl_communicator.h"

#include <ATen/Functions.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime.h>
#include <mpi.h>
#include <nccl.h>

#include <chrono>
#include <thread>

#include "dist/check.h"
#include "dist/mpi_wait.h"
#include "dist/runtime.h"

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
  c10::cuda::CUDAStream stream{c10::cuda::getDefaultCUDAStream()};  // replaced by a pool stream in the ctor

  // Aborts the communicator (once) and throws: after a NCCL error or a timeout it cannot be trusted.
  [[noreturn]] void fail(const std::string& message) {
    if (!aborted && comm != nullptr) ncclCommAbort(comm);
    aborted = true;
    throw DistError(message + " on " + rank_tag() + "; the NCCL communicator was aborted");
  }

  // Polls until `ready()` is true, the communicator reports an error, or the timeout passes.
  template <typename Ready>
  void poll(Ready ready, const std::string& what) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
    for (;;) {
      if (ready()) return;
      ncclResult_t async = ncclSuccess;
      ncclCommGetAsyncError(comm, &async);
      if (async != ncclSuccess && async != ncclInProgress) fail("NCCL " + what + " failed: " + ncclGetErrorString(async));
      if (std::chrono::steady_clock::now() > deadline) {
        fail("NCCL " + what + " timed out after " + std::to_string(static_cast<int>(timeout_s)) +
             " s: another rank never joined it; raise [dist] timeout_s if the job is merely slow");
      }
      std::this_thread::sleep_for(std::chrono::microseconds(20));
    }
  }

  // Waits until a non-blocking communicator call (init, finalize) has completed.
  void wait_idle(const std::string& what) {
    poll(
        [&] {
          ncclResult_t state = ncclInProgress;
          ncclCommGetAsyncError(comm, &state);
          return state == ncclSuccess;
        },
        what);
  }
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

void check_cuda_tensor(const at::Tensor& tensor, int device, const char* what) {
  if (!tensor.is_cuda() || tensor.get_device() != device || !tensor.is_contiguous()) {
    throw DistError(std::string("NcclCommunicator::") + what + " needs a contiguous tensor on cuda:" +
                    std::to_string(device) + " on " + rank_tag() + "; got " + tensor.device().str());
  }
}

// An in-flight collective on the communication stream, completed by `done`.
class NcclWork final : public Work {
 public:
  NcclWork(std::shared_ptr<NcclCommunicator::State> state, cudaEvent_t done, std::string what)
      : state_(std::move(state)), done_(done), what_(std::move(what)) {}
  ~NcclWork() override { cudaEventDestroy(done_); }

  bool test() override {
    if (finished_) return true;
    const cudaError_t status = cudaEventQuery(done_);
    if (status == cudaErrorNotReady) return false;
    if (status != cudaSuccess) state_->fail(std::string("CUDA error in ") + what_ + ": " + cudaGetErrorString(status));
    finish();
    return true;
  }

  void wait() override {
    if (finished_) return;
    state_->poll([&] { return cudaEventQuery(done_) != cudaErrorNotReady; }, what_);
    test();
  }

 private:
  void finish() {
    finished_ = true;
    // Later kernels on the compute stream must see the reduced values.
    c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(state_->device));
    CHECK_CUDA(cudaStreamWaitEvent(c10::cuda::getCurrentCUDAStream().stream(), done_, 0));
  }

  std::shared_ptr<NcclCommunicator::State> state_;
  cudaEvent_t done_;
  std::string what_;
  bool finished_ = false;
};

}  // namespace

NcclCommunicator::NcclCommunicator(int device_index, double timeout_s) : state_(std::make_shared<State>()) {
  state_->device = device_index;
  state_->timeout_s = timeout_s;
  CHECK_MPI(MPI_Comm_rank(MPI_COMM_WORLD, &rank_));
  CHECK_MPI(MPI_Comm_size(MPI_COMM_WORLD, &size_));
  local_rank_ = node_local_rank();
  CHECK_CUDA(cudaSetDevice(device_index));
  state_->stream = c10::cuda::getStreamFromPool(/*isHighPriority=*/true, static_cast<c10::DeviceIndex>(device_index));

  ncclUniqueId id{};
  if (rank_ == 0) CHECK_NCCL(ncclGetUniqueId(&id));
  CHECK_MPI(MPI_Bcast(&id, sizeof(id), MPI_BYTE, 0, MPI_COMM_WORLD));
  CHECK_MPI(MPI_Barrier(MPI_COMM_WORLD));

  ncclConfig_t config = NCCL_CONFIG_INITIALIZER;
  config.blocking = 0;  // never block inside NCCL: we poll with a deadline instead
  CHECK_NCCL(ncclCommInitRankConfig(&state_->comm, size_, id, rank_, &config));
  state_->wait_idle("communicator init");
}

NcclCommunicator::~NcclCommunicator() {
  if (state_ == nullptr || state_->comm == nullptr || state_->aborted) return;
  // ncclCommDestroy can block forever if a peer is gone: finalize with a bounded wait, abort otherwise.
  try {
    CHECK_NCCL(ncclCommFinalize(state_->comm));
    state_->wait_idle("communicator finalize");
    ncclCommDestroy(state_->comm);
  } catch (...) {
    // poll() already aborted the communicator; a destructor must not throw.
  }
}

double NcclCommunicator::timeout_s() const { return state_->timeout_s; }

at::Tensor NcclCommunicator::new_buffer(int64_t numel, const at::TensorOptions& options) {
  return at::zeros({numel}, options);
}

std::unique_ptr<Work> NcclCommunicator::all_reduce_async(at::Tensor& tensor, ReduceOp op) {
  check_cuda_tensor(tensor, state_->device, "all_reduce");
  c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(state_->device));
  cudaStream_t compute = c10::cuda::getCurrentCUDAStream().stream();
  cudaStream_t comm = state_->stream.stream();

  // The side stream starts only after the compute stream has produced the tensor.
  cudaEvent_t ready = nullptr, done = nullptr;
  CHECK_CUDA(cudaEventCreateWithFlags(&ready, cudaEventDisableTiming));
  CHECK_CUDA(cudaEventRecord(ready, compute));
  CHECK_CUDA(cudaStreamWaitEvent(comm, ready, 0));
  cudaEventDestroy(ready);
  // The allocator must not hand the memory to another tensor while the side stream still uses it.
  c10::cuda::CUDACachingAllocator::recordStream(tensor.storage().data_ptr(), state_->stream);

  if (tensor.numel() > 0) {
    const ncclRedOp_t nccl_op = op == ReduceOp::kSum ? ncclSum : op == ReduceOp::kAverage ? ncclAvg : ncclMax;
    CHECK_NCCL(ncclAllReduce(tensor.data_ptr(), tensor.data_ptr(), static_cast<size_t>(tensor.numel()),
                             nccl_type(tensor), nccl_op, state_->comm, comm));
  }
  CHECK_CUDA(cudaEventCreateWithFlags(&done, cudaEventDisableTiming));
  CHECK_CUDA(cudaEventRecord(done, comm));
  return std::make_unique<NcclWork>(state_, done, "all_reduce of " + std::to_string(tensor.numel()) + " elements");
}

void NcclCommunicator::broadcast(at::Tensor& tensor, int root) {
  check_cuda_tensor(tensor, state_->device, "broadcast");
  if (tensor.numel() == 0) return;
  c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(state_->device));
  cudaStream_t stream = c10::cuda::getCurrentCUDAStream().stream();
  CHECK_NCCL(ncclBroadcast(tensor.data_ptr(), tensor.data_ptr(), static_cast<size_t>(tensor.numel()),
                           nccl_type(tensor), root, state_->comm, stream));
  state_->poll([&] { return cudaStreamQuery(stream) != cudaErrorNotReady; }, "broadcast");
}

std::vector<int64_t> NcclCommunicator::all_gather(int64_t value) {
  // Small host values: MPI is simpler and needs no device round trip. Bounded like every NCCL wait, since
  // the trainer calls it at every step (StopSignal::any_rank).
  std::vector<int64_t> values(static_cast<std::size_t>(size_));
  MPI_Request request = MPI_REQUEST_NULL;
  CHECK_MPI(MPI_Iallgather(&value, 1, MPI_INT64_T, values.data(), 1, MPI_INT64_T, MPI_COMM_WORLD, &request));
  wait_request(&request, state_->timeout_s, "all_gather");
  return values;
}

void NcclCommunicator::barrier() {
  at::Tensor token = at::zeros({1}, at::TensorOptions().dtype(at::kFloat).device(at::kCUDA, state_->device));
  all_reduce(token, ReduceOp::kSum);
}

std::string nccl_runtime_version() {
  int version = 0;
  if (ncclGetVersion(&version) != ncclSuccess) return "unknown";
  // NCCL >= 2.9 encodes major*10000 + minor*100 + patch.
  return std::to_string(version / 10000) + "." + std::to_string(version / 100 % 100) + "." +
         std::to_string(version % 100);
}

}  // namespace ftbench::dist
