// dist::ShmGroup: all-reduce through shared memory, for the CPU ranks of a job that runs on one node.
//
// Why: between ranks on one machine, an MPI all-reduce copies every byte through MPI's own buffers (or with
// process_vm_readv), around 5 passes over the data per rank. Here the buffers that are all-reduced (the
// gradient reducer's buckets) live in shared memory from the start, mapped into every rank of the node, so
// each rank sums its 1/p share of all ranks' buffers in place and then copies the other shares' sums: 2.5
// passes at 2 ranks. 44.7 MB of ResNet-18 gradients between 2 ranks: 13 ms through Open MPI's ring, 6 ms
// here (tests/bench/RESULTS.md).
//
// How:
// - Buffers: new_buffer() is collective. Each rank creates a POSIX shared-memory segment (shm_open, with
//   posix_fallocate so that a full /dev/shm fails here rather than with SIGBUS later), maps its peers' ones,
//   and unlinks its own name once all have mapped it: nothing is left in /dev/shm, even after a crash, and a
//   buffer lives as long as its tensor (the mappings go with its last reference, without a collective). Every
//   rank creates the same buffers in the same order, so a tensor's offset in its buffer names the same
//   elements on every rank.
// - Control: one more small segment per rank holds three counters (arrived, reduced, done), each written by
//   its rank only, and the last 64 operations' descriptors, which peers compare with their own (a rank that
//   diverged makes the others throw instead of summing the wrong elements).
// - One operation, number k, on rank r of p: publish arrived = k; once every rank has arrived, sum share r
//   of all p buffers into share r of its own buffer (and divide, for an average); publish reduced = k; once
//   every rank has reduced, copy the other shares from their owners' buffers; publish done = k; complete once
//   every rank is done, so that no rank reuses its buffer while another still reads it. Each element is
//   summed by one rank, in rank order ((b0 + b1) + b2 ...): every rank ends with the same bits, and the sum
//   does not depend on which share an element falls into.
// - Progress: operations advance in launch order whenever any of them is tested or waited for; the gradient
//   reducer tests from its autograd hooks. A wait polls like every MPI wait (dist/mpi_wait.h: spin 2 ms, then
//   sleep between checks) and gives up with DistError after the communicator's timeout.
//
// Not used (create() returns nullptr on every rank, and MPI does the work) where the job spans nodes, has
// one rank, or FTBENCH_SHM_ALLREDUCE=0 is set, or any rank cannot create its control segment. A buffer that
// any rank cannot create is an ordinary tensor instead, all-reduced by MPI; rank 0 warns once on stderr.
//
// Threading: like the communicator, one thread at a time.
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/TensorOptions.h>

#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include "dist/communicator.h"

namespace ftbench::dist {

class ShmGroup {
 public:
  // Collective over MPI_COMM_WORLD. nullptr, on every rank, where the group cannot or should not be used (see
  // above).
  static std::unique_ptr<ShmGroup> create(double timeout_s);
  ~ShmGroup();
  ShmGroup(const ShmGroup&) = delete;
  ShmGroup& operator=(const ShmGroup&) = delete;

  // Collective: a zeroed contiguous CPU tensor of `numel` elements in shared memory, or, where any rank could
  // not create its segment, an ordinary zeroed tensor (all ranks get the same kind).
  at::Tensor new_buffer(int64_t numel, const at::TensorOptions& options);

  // Whether `tensor` lies inside one of this group's buffers (then all_reduce_async takes it).
  bool owns(const at::Tensor& tensor) const;

  // Starts the reduction of `tensor` if it lies in one of this group's buffers; nullptr (nothing started)
  // otherwise. Every rank must pass the same elements of the same buffer, with the same op; a floating dtype
  // for kAverage.
  std::unique_ptr<Work> all_reduce_async(at::Tensor& tensor, ReduceOp op);

  // Completes every operation in flight. The communicator calls it before any MPI collective, so that no
  // rank blocks in MPI while a peer waits for it here.
  void drain();

  struct Segment;
  struct Control;
  struct Op;

 private:
  ShmGroup(int rank, int size, double timeout_s);
  // The live buffer that holds all of `tensor`'s elements, if any.
  std::shared_ptr<Segment> find(const at::Tensor& tensor) const;
  // Advances the operations in launch order as far as they go without waiting; true once `op` is complete.
  bool progress(const Op* op);
  void wait_for(const Op* op);

  int rank_;
  int size_;
  double timeout_s_;
  int64_t job_id_ = 0;          // rank 0's process id: names this job's segments
  uint64_t next_op_ = 1;        // number of the next operation, the same on every rank
  bool warned_ = false;         // rank 0 has said that a buffer fell back to MPI
  std::shared_ptr<Segment> control_;
  std::vector<std::weak_ptr<Segment>> buffers_;
  std::deque<std::shared_ptr<Op>> in_flight_;

  friend class ShmWork;
};

}  // namespace ftbench::dist
