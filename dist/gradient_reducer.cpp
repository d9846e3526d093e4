#include "dist/gradient_reducer.h"

#include <ATen/Functions.h>
#include <torch/csrc/autograd/function_hook.h>
#include <torch/csrc/autograd/variable.h>

#include <chrono>

#include "dist/check.h"

namespace ftbench::dist {
namespace {

constexpr double kMiB = 1024.0 * 1024.0;

class ReadyHook final : public torch::autograd::PostAccumulateGradHook {
 public:
  ReadyHook(GradientReducer* reducer, std::size_t index) : reducer_(reducer), index_(index) {}
  void operator()(const torch::autograd::Variable& /*param*/) override { reducer_->mark_ready(index_); }

 private:
  GradientReducer* reducer_;
  std::size_t index_;
};

}  // namespace

struct GradientReducer::Bucket {
  std::vector<std::size_t> params;  // indices into params_
  at::Tensor buffer;                // flat, grad_dtype, on the parameters' device
  std::size_t pending = 0;          // parameters not yet ready this step
  std::unique_ptr<Work> work;       // in flight once launched
};

std::vector<std::vector<std::size_t>> assign_buckets(const std::vector<int64_t>& bytes, int64_t first_cap_bytes,
                                                     int64_t cap_bytes) {
  std::vector<std::vector<std::size_t>> buckets;
  std::vector<std::size_t> current;
  int64_t filled = 0;
  for (std::size_t k = bytes.size(); k-- > 0;) {
    const int64_t cap = buckets.empty() ? first_cap_bytes : cap_bytes;
    if (!current.empty() && filled + bytes[k] > cap) {
      buckets.push_back(std::move(current));
      current.clear();
      filled = 0;
    }
    current.push_back(k);
    filled += bytes[k];
  }
  if (!current.empty()) buckets.push_back(std::move(current));
  return buckets;
}

GradientReducer::GradientReducer(std::vector<at::Tensor> params, Communicator& comm, ReducerOptions options)
    : params_(std::move(params)), comm_(comm), options_(options) {
  if (options_.grad_dtype != at::kFloat && options_.grad_dtype != at::kBFloat16) {
    throw DistError("GradientReducer: grad_dtype must be float32 or bfloat16");
  }
  const int64_t element_bytes = options_.grad_dtype == at::kFloat ? 4 : 2;
  std::vector<int64_t> bytes;
  for (const auto& p : params_) bytes.push_back(p.numel() * element_bytes);
  layout_ = assign_buckets(bytes, static_cast<int64_t>(options_.first_bucket_mb * kMiB),
                           static_cast<int64_t>(options_.bucket_cap_mb * kMiB));

  bucket_of_.resize(params_.size());
  offset_of_.resize(params_.size());
  ready_.assign(params_.size(), false);
  for (std::size_t b = 0; b < layout_.size(); ++b) {
    auto bucket = std::make_unique<Bucket>();
    bucket->params = layout_[b];
    int64_t numel = 0;
    for (const std::size_t i : layout_[b]) {
      bucket_of_[i] = b;
      offset_of_[i] = numel;
      numel += params_[i].numel();
    }
    bucket->buffer = comm_.new_buffer(numel, params_[layout_[b].front()].options().dtype(options_.grad_dtype));
    buckets_.push_back(std::move(bucket));
  }
  for (std::size_t i = 0; i < params_.size(); ++i) {
    torch::autograd::impl::set_post_acc_grad_hooks(params_[i], std::make_unique<ReadyHook>(this, i));
  }
  // Gradients as views into the buckets (see the header): autograd then accumulates in place into them.
  for (std::size_t i = 0; i < params_.size(); ++i) {
    at::Tensor& p = params_[i];
    if (buckets_[bucket_of_[i]]->buffer.scalar_type() == p.scalar_type()) p.mutable_grad() = slot(i);
  }
}

bool GradientReducer::is_view(const at::Tensor& grad, const at::Tensor& slot) {
  return grad.defined() && grad.data_ptr() == slot.data_ptr() && grad.numel() == slot.numel();
}

GradientReducer::~GradientReducer() {
  for (auto& p : params_) torch::autograd::impl::set_post_acc_grad_hooks(p, nullptr);
}

void GradientReducer::prepare_step(bool zero) {
  std::fill(ready_.begin(), ready_.end(), false);
  for (auto& bucket : buckets_) {
    bucket->pending = bucket->params.size();
    bucket->work.reset();
  }
  if (zero) zero_grads();
  next_launch_ = 0;
  active_ = true;
}

void GradientReducer::prepare_no_sync(bool zero) {
  if (active_) throw DistError("GradientReducer::prepare_no_sync() during a step that was not finalized");
  if (zero) zero_grads();
}

void GradientReducer::zero_grads() {
  for (auto& bucket : buckets_) bucket->buffer.zero_();
  // A .grad that is not (or no longer) a bucket view is zeroed on its own.
  for (std::size_t i = 0; i < params_.size(); ++i) {
    at::Tensor& p = params_[i];
    if (p.grad().defined() && !is_view(p.grad(), slot(i))) p.mutable_grad().zero_();
  }
}

void GradientReducer::mark_ready(std::size_t param_index) {
  // Hooks also fire outside training steps (e.g. a test's own backward); only a prepared step counts, and a
  // parameter counts once per step even if autograd accumulates into it twice.
  if (!active_ || ready_[param_index]) return;
  ready_[param_index] = true;
  Bucket& bucket = *buckets_[bucket_of_[param_index]];
  --bucket.pending;
  launch_in_order();
  // Give in-flight MPI operations a chance to progress while backward goes on.
  for (std::size_t b = 0; b < next_launch_; ++b) {
    if (buckets_[b]->work) buckets_[b]->work->test();
  }
}

void GradientReducer::launch_in_order() {
  while (next_launch_ < buckets_.size() && buckets_[next_launch_]->pending == 0) {
    launch(*buckets_[next_launch_]);
    ++next_launch_;
  }
}

void GradientReducer::launch(Bucket& bucket) {
  for (const std::size_t i : bucket.params) {
    const at::Tensor& p = params_[i];
    at::Tensor s = slot(i);
    if (is_view(p.grad(), s)) continue;  // autograd accumulated in place (or nothing: still zero)
    if (p.grad().defined()) {
      s.copy_(p.grad());  // converts float32 to bfloat16 where the bucket is
    } else {
      s.zero_();  // no gradient this step (an unused branch): contributes zero
    }
  }
  stats_.bytes += bucket.buffer.numel() * bucket.buffer.element_size();
  bucket.work = comm_.all_reduce_async(bucket.buffer, ReduceOp::kSum);
}

void GradientReducer::finalize() {
  if (!active_) throw DistError("GradientReducer::finalize() called without prepare_step()");
  // Parameters that got no gradient never became ready: their buckets are launched now, still in order.
  for (auto& bucket : buckets_) bucket->pending = 0;
  launch_in_order();

  const auto start = std::chrono::steady_clock::now();
  for (auto& bucket : buckets_) bucket->work->wait();
  stats_.exposed_comm_seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  for (std::size_t i = 0; i < params_.size(); ++i) {
    at::Tensor& p = params_[i];
    const at::Tensor s = slot(i);
    if (is_view(p.grad(), s)) continue;  // the sum is already in .grad
    if (p.grad().defined()) {
      p.mutable_grad().copy_(s);  // copy_ converts bfloat16 back to the parameter's dtype
    } else {
      p.mutable_grad() = s.to(p.scalar_type(), /*non_blocking=*/false, /*copy=*/true);  // keeps s's strides
    }
  }
  ++stats_.steps;
  active_ = false;
}

at::Tensor GradientReducer::slot(std::size_t param_index) const {
  const at::Tensor& p = params_[param_index];
  const at::Tensor& buffer = buckets_[bucket_of_[param_index]]->buffer;
  const int64_t offset = buffer.storage_offset() + offset_of_[param_index];
  // A dense parameter's elements span exactly numel() slots whatever its layout, so its slot can take the
  // parameter's own strides (a channels_last weight gets a channels_last gradient, which the kernels and the
  // fused optimizer read without a copy). Anything else gets the plain row-major view.
  if (p.is_non_overlapping_and_dense()) return buffer.as_strided(p.sizes(), p.strides(), offset);
  return buffer.narrow(0, offset_of_[param_index], p.numel()).view(p.sizes());
}

std::size_t GradientReducer::bucket_count() const { return buckets_.size(); }

const std::vector<std::vector<std::size_t>>& GradientReducer::buckets() const { return layout_; }

ReducerStats GradientReducer::take_stats() {
  ReducerStats out = stats_;
  stats_ = ReducerStats{};
  return out;
}

}  // namespace ftbench::dist
