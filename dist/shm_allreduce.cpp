#include "dist/shm_allreduce.h"

#include <ATen/Functions.h>
#include <fcntl.h>
#include <mpi.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

#include "dist/check.h"
#include "dist/mpi_wait.h"

namespace ftbench::dist {
namespace {

// Operations one rank may have in flight; also the length of the descriptor ring (see in_flight_ limit).
constexpr uint64_t kDescriptors = 64;

static_assert(std::atomic<uint64_t>::is_always_lock_free, "counters shared between processes must be lock-free");

struct alignas(64) Counter {
  std::atomic<uint64_t> value{0};
};

// What a rank says it is reducing in operation `number`: peers compare it with their own.
struct Descriptor {
  uint64_t number = 0;
  int64_t offset = 0;  // bytes from the start of the buffer
  int64_t numel = 0;
  int32_t reduce = 0;  // ReduceOp
  int32_t dtype = 0;   // at::ScalarType
};

// One rank's control segment. Only its rank writes it.
struct ControlBlock {
  Counter arrived;  // the last operation this rank launched
  Counter reduced;  // the last operation whose share this rank has summed
  Counter done;     // the last operation whose other shares this rank has copied
  Descriptor descriptors[kDescriptors];
};

// Segments created by this process so far. Every rank creates the same segments in the same order, so the
// counter names the same segment on every rank.
std::atomic<int64_t> g_segments{0};

std::string segment_name(int64_t job, int64_t index, int rank) {
  return "/ftbench-" + std::to_string(job) + "-" + std::to_string(index) + "-" + std::to_string(rank);
}

// Collective: whether `mine` holds on every rank.
bool all_ranks(bool mine) {
  int in = mine ? 1 : 0;
  int out = 0;
  CHECK_MPI(MPI_Allreduce(&in, &out, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD));
  return out == 1;
}

const char* op_name(ReduceOp op) {
  switch (op) {
    case ReduceOp::kSum: return "sum";
    case ReduceOp::kAverage: return "average";
    case ReduceOp::kMax: return "max";
  }
  return "?";
}

}  // namespace

struct ShmGroup::Segment {
  std::vector<char*> base;  // every rank's segment as mapped here, indexed by rank
  std::size_t bytes = 0;

  ~Segment() {
    for (char* p : base) {
      if (p != nullptr) munmap(p, bytes);
    }
  }
};

struct ShmGroup::Op {
  uint64_t number = 0;
  std::shared_ptr<Segment> segment;  // keeps every rank's mapping alive until the operation ends
  int64_t offset = 0;
  int64_t numel = 0;
  ReduceOp reduce = ReduceOp::kSum;
  at::ScalarType dtype = at::kFloat;
  int state = 0;  // 0 arrived, 1 own share reduced, 2 other shares copied, 3 complete
};

namespace {

// Creates this rank's segment of `bytes` bytes and maps every peer's one; nullptr on every rank if any rank
// failed. Collective.
std::shared_ptr<ShmGroup::Segment> create_segment(int64_t job, int rank, int size, std::size_t bytes,
                                                  bool control) {
  const std::size_t page = static_cast<std::size_t>(sysconf(_SC_PAGESIZE));
  auto segment = std::make_shared<ShmGroup::Segment>();
  segment->bytes = std::max<std::size_t>(page, (bytes + page - 1) / page * page);
  segment->base.assign(static_cast<std::size_t>(size), nullptr);
  const int64_t index = g_segments.fetch_add(1);

  const std::string name = segment_name(job, index, rank);
  const int fd = shm_open(name.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
  const bool created = fd >= 0;
  if (created) {
    // Reserves the pages now: a /dev/shm too small for the buffer fails here, not with SIGBUS on first touch.
    if (posix_fallocate(fd, 0, static_cast<off_t>(segment->bytes)) == 0) {
      void* p = mmap(nullptr, segment->bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
      if (p != MAP_FAILED) {
        segment->base[static_cast<std::size_t>(rank)] = static_cast<char*>(p);
        if (control) new (p) ControlBlock();
      }
    }
    close(fd);
  }
  bool ok = all_ranks(segment->base[static_cast<std::size_t>(rank)] != nullptr);
  if (ok) {
    bool mapped = true;
    for (int q = 0; q < size; ++q) {
      if (q == rank) continue;
      const int peer = shm_open(segment_name(job, index, q).c_str(), O_RDWR, 0);
      if (peer < 0) {
        mapped = false;
        continue;
      }
      void* p = mmap(nullptr, segment->bytes, PROT_READ | PROT_WRITE, MAP_SHARED, peer, 0);
      close(peer);
      if (p == MAP_FAILED) {
        mapped = false;
      } else {
        segment->base[static_cast<std::size_t>(q)] = static_cast<char*>(p);
      }
    }
    ok = all_ranks(mapped);  // also: every peer has mapped this rank's segment, so its name can go
  }
  if (created) shm_unlink(name.c_str());
  return ok ? segment : nullptr;
}

}  // namespace

class ShmWork final : public Work {
 public:
  ShmWork(ShmGroup* group, std::shared_ptr<ShmGroup::Op> op) : group_(group), op_(std::move(op)) {}
  bool test() override { return group_->progress(op_.get()); }
  void wait() override { group_->wait_for(op_.get()); }

 private:
  ShmGroup* group_;
  std::shared_ptr<ShmGroup::Op> op_;
};

ShmGroup::ShmGroup(int rank, int size, double timeout_s) : rank_(rank), size_(size), timeout_s_(timeout_s) {}

ShmGroup::~ShmGroup() = default;

std::unique_ptr<ShmGroup> ShmGroup::create(double timeout_s) {
  int rank = 0;
  int size = 1;
  CHECK_MPI(MPI_Comm_rank(MPI_COMM_WORLD, &rank));
  CHECK_MPI(MPI_Comm_size(MPI_COMM_WORLD, &size));
  if (size == 1) return nullptr;
  const char* setting = std::getenv("FTBENCH_SHM_ALLREDUCE");
  const bool wanted = setting == nullptr || std::strcmp(setting, "0") != 0;
  MPI_Comm node = MPI_COMM_NULL;
  CHECK_MPI(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank, MPI_INFO_NULL, &node));
  int local_size = 0;
  CHECK_MPI(MPI_Comm_size(node, &local_size));
  CHECK_MPI(MPI_Comm_free(&node));
  if (!all_ranks(wanted && local_size == size)) return nullptr;

  std::unique_ptr<ShmGroup> group(new ShmGroup(rank, size, timeout_s));
  int64_t job = static_cast<int64_t>(getpid());  // rank 0's, which no other job on this node has now
  CHECK_MPI(MPI_Bcast(&job, 1, MPI_INT64_T, 0, MPI_COMM_WORLD));
  group->job_id_ = job;
  group->control_ = create_segment(job, rank, size, sizeof(ControlBlock), /*control=*/true);
  if (!group->control_) return nullptr;
  return group;
}

at::Tensor ShmGroup::new_buffer(int64_t numel, const at::TensorOptions& options) {
  const at::TensorOptions cpu = options.device(at::kCPU);
  const auto bytes = static_cast<std::size_t>(numel) * c10::elementSize(c10::typeMetaToScalarType(cpu.dtype()));
  std::shared_ptr<Segment> segment = create_segment(job_id_, rank_, size_, bytes, /*control=*/false);
  if (!segment) {
    if (rank_ == 0 && !warned_) {
      std::fprintf(stderr,
                   "ftbench: warning: a rank could not create a %.1f MB shared-memory buffer (is /dev/shm full or "
                   "small? `df -h /dev/shm`; in Docker, raise --shm-size); all-reducing it through MPI instead, "
                   "which is slower\n",
                   static_cast<double>(bytes) / 1e6);
      warned_ = true;
    }
    return at::zeros({numel}, cpu);
  }
  buffers_.erase(std::remove_if(buffers_.begin(), buffers_.end(),
                                [](const std::weak_ptr<Segment>& s) { return s.expired(); }),
                 buffers_.end());
  buffers_.push_back(segment);
  char* data = segment->base[static_cast<std::size_t>(rank_)];
  // The tensor holds the segment: its mappings go with the tensor's storage. Fresh shared memory is zeroed.
  return at::from_blob(data, {numel}, [segment](void*) mutable { segment.reset(); }, cpu);
}

std::shared_ptr<ShmGroup::Segment> ShmGroup::find(const at::Tensor& tensor) const {
  if (!tensor.defined() || !tensor.device().is_cpu() || !tensor.is_contiguous()) return nullptr;
  const char* begin = static_cast<const char*>(tensor.const_data_ptr());
  const char* end = begin + tensor.nbytes();
  for (const auto& weak : buffers_) {
    std::shared_ptr<Segment> segment = weak.lock();
    if (!segment) continue;
    const char* base = segment->base[static_cast<std::size_t>(rank_)];
    if (begin >= base && end <= base + segment->bytes) return segment;
  }
  return nullptr;
}

bool ShmGroup::owns(const at::Tensor& tensor) const { return find(tensor) != nullptr; }

std::unique_ptr<Work> ShmGroup::all_reduce_async(at::Tensor& tensor, ReduceOp op) {
  std::shared_ptr<Segment> segment = find(tensor);
  if (!segment) return nullptr;
  // The descriptor ring holds kDescriptors operations: complete the oldest before its slot is reused.
  if (in_flight_.size() >= kDescriptors) wait_for(in_flight_.front().get());

  auto o = std::make_shared<Op>();
  o->number = next_op_++;
  o->offset = static_cast<const char*>(tensor.const_data_ptr()) - segment->base[static_cast<std::size_t>(rank_)];
  o->numel = tensor.numel();
  o->reduce = op;
  o->dtype = tensor.scalar_type();
  o->segment = std::move(segment);

  auto* mine = reinterpret_cast<ControlBlock*>(control_->base[static_cast<std::size_t>(rank_)]);
  mine->descriptors[o->number % kDescriptors] =
      Descriptor{o->number, o->offset, o->numel, static_cast<int32_t>(op), static_cast<int32_t>(o->dtype)};
  mine->arrived.value.store(o->number, std::memory_order_release);
  in_flight_.push_back(o);
  return std::make_unique<ShmWork>(this, std::move(o));
}

bool ShmGroup::progress(const Op* target) {
  const auto control = [this](int q) {
    return reinterpret_cast<const ControlBlock*>(control_->base[static_cast<std::size_t>(q)]);
  };
  const auto all_reached = [&](auto counter, uint64_t k) {
    for (int q = 0; q < size_; ++q) {
      if ((control(q)->*counter).value.load(std::memory_order_acquire) < k) return false;
    }
    return true;
  };
  auto* mine = reinterpret_cast<ControlBlock*>(control_->base[static_cast<std::size_t>(rank_)]);

  while (target->state != 3) {
    Op& op = *in_flight_.front();  // target is in flight, so the queue is not empty
    const uint64_t k = op.number;
    const at::TensorOptions options = at::TensorOptions().dtype(op.dtype);
    const int64_t element = static_cast<int64_t>(c10::elementSize(op.dtype));
    // Share s of rank q's buffer: elements [numel*s/p, numel*(s+1)/p) of this operation's tensor.
    const auto share = [&](int q, int s) {
      const int64_t lo = op.numel * s / size_;
      const int64_t hi = op.numel * (s + 1) / size_;
      return at::from_blob(op.segment->base[static_cast<std::size_t>(q)] + op.offset + lo * element, {hi - lo},
                           options);
    };
    if (op.state == 0) {
      if (!all_reached(&ControlBlock::arrived, k)) return false;
      for (int q = 0; q < size_; ++q) {
        const Descriptor& d = control(q)->descriptors[k % kDescriptors];
        if (d.number != k || d.offset != op.offset || d.numel != op.numel ||
            d.reduce != static_cast<int32_t>(op.reduce) || d.dtype != static_cast<int32_t>(op.dtype)) {
          throw DistError("all_reduce (shared memory, #" + std::to_string(k) + ") on " + rank_tag() + ": rank " +
                          std::to_string(q) + " reduces " + std::to_string(d.numel) + " elements at byte " +
                          std::to_string(d.offset) + ", this rank " + std::to_string(op.numel) + " " +
                          c10::toString(op.dtype) + " at byte " + std::to_string(op.offset) + " (" +
                          op_name(op.reduce) + "): the ranks' collectives diverged");
        }
      }
      at::Tensor out = share(rank_, rank_);
      if (out.numel() > 0) {
        // ((b0 + b1) + b2) + ... in rank order, whichever rank sums the share: every element is added up the
        // same way. The result lands in this rank's own share, which only this rank reads before then.
        const auto combine = [&](at::Tensor& into, const at::Tensor& a, const at::Tensor& b) {
          if (op.reduce == ReduceOp::kMax) {
            at::maximum_out(into, a, b);
          } else {
            at::add_out(into, a, b);
          }
        };
        if (rank_ <= 1) {
          combine(out, share(0, rank_), share(1, rank_));  // out is one of the two: same elements, in place
        } else {
          at::Tensor partial = share(0, rank_).clone();  // ranks below this one first, without touching out
          for (int q = 1; q < rank_; ++q) combine(partial, partial, share(q, rank_));
          combine(out, partial, out);
        }
        for (int q = std::max(2, rank_ + 1); q < size_; ++q) combine(out, out, share(q, rank_));
        if (op.reduce == ReduceOp::kAverage) out.div_(size_);
      }
      mine->reduced.value.store(k, std::memory_order_release);
      op.state = 1;
    }
    if (op.state == 1) {
      if (!all_reached(&ControlBlock::reduced, k)) return false;
      for (int q = 0; q < size_; ++q) {
        if (q != rank_) share(rank_, q).copy_(share(q, q));
      }
      mine->done.value.store(k, std::memory_order_release);
      op.state = 2;
    }
    if (op.state == 2) {
      // No rank may reuse its buffer (the next backward writes into it) while a peer still copies from it.
      if (!all_reached(&ControlBlock::done, k)) return false;
      op.state = 3;
      in_flight_.pop_front();
    }
  }
  return true;
}

void ShmGroup::wait_for(const Op* op) {
  poll_until([this, op] { return progress(op); }, timeout_s_,
             "all_reduce of " + std::to_string(op->numel) + " elements (shared memory, #" +
                 std::to_string(op->number) + ")");
}

void ShmGroup::drain() {
  if (!in_flight_.empty()) wait_for(in_flight_.back().get());
}

}  // namespace ftbench::dist
