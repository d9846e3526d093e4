#include "dist/mpi_communicator.h"

#include <ATen/Functions.h>
#include <c10/util/BFloat16.h>
#include <mpi.h>

#include <chrono>
#include <climits>
#include <cstring>
#include <thread>

#include "dist/check.h"
#include "dist/mpi_wait.h"
#include "dist/runtime.h"
#include "dist/shm_allreduce.h"

namespace ftbench::dist {
namespace {

using Clock = std::chrono::steady_clock;

// bfloat16 sum for MPI: each element is widened to float32, added, and rounded back (round to nearest even).
void bf16_sum(void* in, void* inout, int* len, MPI_Datatype*) {
  const auto* a = static_cast<const c10::BFloat16*>(in);
  auto* b = static_cast<c10::BFloat16*>(inout);
  for (int i = 0; i < *len; ++i) b[i] = c10::BFloat16(static_cast<float>(a[i]) + static_cast<float>(b[i]));
}

MPI_Datatype mpi_type(const at::Tensor& tensor) {
  switch (tensor.scalar_type()) {
    case at::kFloat: return MPI_FLOAT;
    case at::kDouble: return MPI_DOUBLE;
    case at::kBFloat16: return MPI_UINT16_T;
    case at::kInt: return MPI_INT32_T;
    case at::kLong: return MPI_INT64_T;
    case at::kByte: return MPI_UINT8_T;
    default:
      throw DistError("MpiCommunicator: unsupported dtype " + std::string(c10::toString(tensor.scalar_type())) +
                      " on " + rank_tag() + "; expected float32, float64, bfloat16, int32, int64 or uint8");
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

class MpiWork final : public Work {
 public:
  MpiWork(MPI_Request request, at::Tensor tensor, int divide_by, double timeout_s)
      : request_(request), tensor_(std::move(tensor)), divide_by_(divide_by), timeout_s_(timeout_s) {}

  ~MpiWork() override {
    // Only reached without wait() when an error is unwinding and the job is about to end: release the
    // request rather than block on it.
    if (request_ != MPI_REQUEST_NULL) MPI_Request_free(&request_);
  }

  bool test() override {
    if (done_) return true;
    int flag = 0;
    CHECK_MPI(MPI_Test(&request_, &flag, MPI_STATUS_IGNORE));
    if (flag) finish();
    return done_;
  }

  void wait() override {
    if (done_) return;
    wait_request(&request_, timeout_s_, "all_reduce of " + std::to_string(tensor_.numel()) + " elements");
    finish();
  }

 private:
  void finish() {
    done_ = true;
    if (divide_by_ > 1) tensor_.div_(divide_by_);
  }

  MPI_Request request_;
  at::Tensor tensor_;
  int divide_by_;
  double timeout_s_;
  bool done_ = false;
};

class DoneWork final : public Work {
 public:
  bool test() override { return true; }
  void wait() override {}
};

}  // namespace

MpiCommunicator::MpiCommunicator(double timeout_s) : timeout_s_(timeout_s) {
  CHECK_MPI(MPI_Comm_rank(MPI_COMM_WORLD, &rank_));
  CHECK_MPI(MPI_Comm_size(MPI_COMM_WORLD, &size_));
  local_rank_ = node_local_rank();
  MPI_Op op = MPI_OP_NULL;
  CHECK_MPI(MPI_Op_create(&bf16_sum, /*commute=*/1, &op));
  bf16_sum_ = op;
  shm_ = ShmGroup::create(timeout_s_);
}

MpiCommunicator::~MpiCommunicator() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  MPI_Op op = static_cast<MPI_Op>(bf16_sum_);
  if (!finalized && op != MPI_OP_NULL) MPI_Op_free(&op);
}

at::Tensor MpiCommunicator::new_buffer(int64_t numel, const at::TensorOptions& options) {
  if (shm_) return shm_->new_buffer(numel, options);
  return at::zeros({numel}, options);
}

bool MpiCommunicator::is_shared(const at::Tensor& tensor) const { return shm_ && shm_->owns(tensor); }

std::unique_ptr<Work> MpiCommunicator::all_reduce_async(at::Tensor& tensor, ReduceOp op) {
  check_tensor(tensor, "all_reduce");
  const MPI_Datatype type = mpi_type(tensor);
  const bool is_bf16 = tensor.scalar_type() == at::kBFloat16;
  if (op == ReduceOp::kAverage && !at::isFloatingType(tensor.scalar_type())) {
    throw DistError("MpiCommunicator::all_reduce: average of an integer tensor would truncate; use sum");
  }
  if (is_bf16 && op == ReduceOp::kMax) {
    throw DistError("MpiCommunicator::all_reduce: max of bfloat16 is not supported; use sum or average");
  }
  if (size_ == 1 || tensor.numel() == 0) return std::make_unique<DoneWork>();
  if (shm_) {
    if (auto work = shm_->all_reduce_async(tensor, op)) return work;
    shm_->drain();  // an MPI collective follows
  }
  const MPI_Op mpi_op = op == ReduceOp::kMax ? MPI_MAX : is_bf16 ? static_cast<MPI_Op>(bf16_sum_) : MPI_SUM;
  MPI_Request request = MPI_REQUEST_NULL;
  CHECK_MPI(MPI_Iallreduce(MPI_IN_PLACE, tensor.data_ptr(), static_cast<int>(tensor.numel()), type, mpi_op,
                           MPI_COMM_WORLD, &request));
  return std::make_unique<MpiWork>(request, tensor, op == ReduceOp::kAverage ? size_ : 1, timeout_s_);
}

void MpiCommunicator::broadcast(at::Tensor& tensor, int root) {
  check_tensor(tensor, "broadcast");
  const MPI_Datatype type = mpi_type(tensor);
  if (size_ == 1 || tensor.numel() == 0) return;
  if (shm_) shm_->drain();
  MPI_Request request = MPI_REQUEST_NULL;
  CHECK_MPI(MPI_Ibcast(tensor.data_ptr(), static_cast<int>(tensor.numel()), type, root, MPI_COMM_WORLD, &request));
  wait_request(&request, timeout_s_, "broadcast from rank " + std::to_string(root));
}

std::vector<int64_t> MpiCommunicator::all_gather(int64_t value) {
  if (shm_) shm_->drain();
  std::vector<int64_t> values(static_cast<std::size_t>(size_));
  MPI_Request request = MPI_REQUEST_NULL;
  CHECK_MPI(MPI_Iallgather(&value, 1, MPI_INT64_T, values.data(), 1, MPI_INT64_T, MPI_COMM_WORLD, &request));
  wait_request(&request, timeout_s_, "all_gather");
  return values;
}

void MpiCommunicator::barrier() {
  if (shm_) shm_->drain();
  MPI_Request request = MPI_REQUEST_NULL;
  CHECK_MPI(MPI_Ibarrier(MPI_COMM_WORLD, &request));
  wait_request(&request, timeout_s_, "barrier");
}

void wait_request(MPI_Request* request, double timeout_s, const std::string& what) {
  poll_until(
      [request] {
        int done = 0;
        CHECK_MPI(MPI_Test(request, &done, MPI_STATUS_IGNORE));
        return done != 0;
      },
      timeout_s, "MPI " + what);
}

// Spins briefly (most collectives of a training step finish within microseconds of the last rank arriving),
// then yields the core between polls.
void poll_until(const std::function<bool()>& done, double timeout_s, const std::string& what) {
  const auto start = Clock::now();
  const auto deadline = start + std::chrono::duration<double>(timeout_s);
  while (!done()) {
    const auto now = Clock::now();
    if (now > deadline) {
      throw DistError(what + " timed out after " + std::to_string(static_cast<int>(timeout_s)) + " s on " +
                      rank_tag() + ": another rank never joined it (it hung, died or diverged); raise " +
                      "[dist] timeout_s if the job is merely slow");
    }
    if (now - start > std::chrono::milliseconds(2)) std::this_thread::sleep_for(std::chrono::microseconds(50));
  }
}

}  // namespace ftbench::dist
