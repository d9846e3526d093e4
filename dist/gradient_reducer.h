// dist::GradientReducer: sums the gradients of the trainable parameters over all ranks, bucket by bucket,
// overlapping communication with the rest of backward.
//
// Design (the constraints, then the choices):
// - LibTorch's C++ API has no DistributedDataParallel, so this is ftbench's own reducer.
// - Buckets: trainable parameters are grouped in REVERSE registration order (backward produces the last
//   layers' gradients first); the first bucket holds about `first_bucket_mb`, the others `bucket_cap_mb`.
//   A parameter larger than the cap gets a bucket of its own.
// - Ready marking: a post-accumulate-grad hook on each parameter marks it ready. A bucket whose parameters
//   are all ready is launched asynchronously, but only after every bucket before it: launches happen in
//   bucket-index order on every rank, so ranks can never deadlock on mismatched orders.
// - finalize() launches what has not been launched (a parameter that got no gradient this step, such as an
//   unused auxiliary head, counts as zero), waits for every bucket, and writes the summed gradient back into
//   each parameter's .grad.
// - Frozen parameters (requires_grad == false) are not given to the reducer and take no part.
// - Gradients as bucket views: with grad_dtype fp32 (and parameters of that dtype) each parameter's .grad IS
//   a view into its bucket, so autograd accumulates straight into the buffer that is all-reduced and the
//   sum lands in .grad without a copy either way. prepare_step() zeroes the buckets; callers must not reset
//   .grad themselves: LibTorch's Optimizer::zero_grad() would drop the views (set_to_none) or fail on them
//   (detach_). A .grad replaced by someone else still works, through copies. Each view has its parameter's
//   strides (a channels_last weight's gradient is channels_last too), as DDP lays out its bucket views.
// - grad_dtype bf16: buckets travel as bfloat16 (half the bytes) and are copied back into float32 .grad.
// - Buckets come from Communicator::new_buffer: on MPI within one node they live in shared memory and are
//   all-reduced there (dist/shm_allreduce.h).
// - Overlap: on NCCL, launched buckets run on the communication stream while autograd computes earlier
//   layers. On MPI, buckets are launched from the hooks and progressed (Work::test) at each later hook; how
//   much really overlaps depends on the progress engine (Open MPI progresses non-blocking collectives only
//   inside MPI calls, the shared-memory path only inside test and wait), which is why finalize() waits on
//   the rest.
//
// Threading: hooks run on autograd's thread for the device (for CPU, the thread that called backward()).
// Only one backward may be in flight per reducer. The reducer must outlive every backward it hooks; its
// destructor removes the hooks.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <memory>
#include <vector>

#include "dist/communicator.h"

namespace ftbench::dist {

struct ReducerOptions {
  double first_bucket_mb = 1.0;
  double bucket_cap_mb = 25.0;
  at::ScalarType grad_dtype = at::kFloat;  // kFloat or kBFloat16
};

// Per-step accounting, summed until take_stats().
struct ReducerStats {
  double exposed_comm_seconds = 0;  // time finalize() spent waiting on communication
  int64_t bytes = 0;                // bytes all-reduced (this rank's buffers)
  int64_t steps = 0;
};

// The bucket of each parameter given its size in bytes, in the reducer's order: indices into `bytes`, which
// is in registration order; bucket 0 holds the LAST parameters. Exposed for tests.
std::vector<std::vector<std::size_t>> assign_buckets(const std::vector<int64_t>& bytes, int64_t first_cap_bytes,
                                                     int64_t cap_bytes);

class GradientReducer {
 public:
  // `params`: the trainable parameters in registration order (model.parameters() filtered by
  // requires_grad), identical on every rank.
  GradientReducer(std::vector<at::Tensor> params, Communicator& comm, ReducerOptions options);
  ~GradientReducer();
  GradientReducer(const GradientReducer&) = delete;
  GradientReducer& operator=(const GradientReducer&) = delete;

  // Call before each backward, instead of zeroing gradients: clears the ready marks and sets every .grad to
  // zero (the bucket views are kept). With zero = false the gradients are kept: the last micro-batch of an
  // accumulated step adds to what prepare_no_sync() backwards left there, and the sum is all-reduced once.
  void prepare_step(bool zero = true);
  // Gradient accumulation (k micro-batches per optimizer step, one all-reduce per step): call this before
  // each of the first k-1 backwards (zero = true on the first), then prepare_step(false) before the last
  // backward, then finalize(). The hooks do not communicate; autograd accumulates into .grad locally.
  void prepare_no_sync(bool zero);
  // Call after backward: every .grad then holds the sum over ranks.
  void finalize();

  std::size_t bucket_count() const;
  const std::vector<std::vector<std::size_t>>& buckets() const;
  ReducerStats take_stats();

  // Called by the hooks.
  void mark_ready(std::size_t param_index);

 private:
  struct Bucket;
  void zero_grads();
  void launch_in_order();
  void launch(Bucket& bucket);
  // The parameter's slice of its bucket, shaped (and, for a dense parameter, strided) like the parameter.
  at::Tensor slot(std::size_t param_index) const;
  static bool is_view(const at::Tensor& grad, const at::Tensor& slot);

  std::vector<at::Tensor> params_;
  Communicator& comm_;
  ReducerOptions options_;
  std::vector<std::vector<std::size_t>> layout_;
  std::vector<std::unique_ptr<Bucket>> buckets_;
  std::vector<std::size_t> bucket_of_;  // param index -> bucket index
  std::vector<int64_t> offset_of_;      // param index -> element offset in its bucket
  std::vector<bool> ready_;
  std::size_t next_launch_ = 0;
  bool active_ = false;
  ReducerStats stats_;
};

}  // namespace ftbench::dist
