// Benchmark (not a test): all-reduce of gradient-sized float32 buffers on the CPU, through shared memory
// (MpiCommunicator::new_buffer, dist/shm_allreduce.h) and through MPI (an ordinary tensor), alternately.
//
//   mpiexec -n 2 build/tests/bench/bench_allreduce [iterations] [MiB ...]
//
// Default sizes are ResNet-18's gradient buckets (1 MiB first, 25 MiB cap: 44.7 MB in all). Prints the median
// and minimum time of one all-reduce of all the buffers, launched together and waited for in order, as the
// gradient reducer does.
#include <ATen/Functions.h>
#include <mpi.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "dist/mpi_communicator.h"
#include "dist/runtime.h"

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

double time_once(ftbench::dist::Communicator& comm, std::vector<at::Tensor>& buffers) {
  MPI_Barrier(MPI_COMM_WORLD);
  const auto start = std::chrono::steady_clock::now();
  std::vector<std::unique_ptr<ftbench::dist::Work>> work;
  for (auto& b : buffers) work.push_back(comm.all_reduce_async(b, ftbench::dist::ReduceOp::kSum));
  for (auto& w : work) w->wait();
  return seconds_since(start);
}

}  // namespace

int main(int argc, char** argv) {
  ftbench::dist::Runtime runtime(&argc, &argv);
  const int iterations = argc > 1 ? std::atoi(argv[1]) : 30;
  std::vector<double> mib;
  for (int i = 2; i < argc; ++i) mib.push_back(std::atof(argv[i]));
  if (mib.empty()) mib = {0.94, 22.5, 19.2};  // ResNet-18's three buckets, 11,181,642 floats in all

  ftbench::dist::MpiCommunicator comm;
  std::vector<at::Tensor> shared;
  std::vector<at::Tensor> plain;
  int64_t total = 0;
  for (const double m : mib) {
    const auto numel = static_cast<int64_t>(m * 1024 * 1024 / 4);
    shared.push_back(comm.new_buffer(numel, at::kFloat).fill_(1));
    plain.push_back(at::ones({numel}));
    total += numel * 4;
  }
  std::vector<double> a;
  std::vector<double> b;
  for (int i = 0; i < iterations; ++i) {
    a.push_back(time_once(comm, shared));
    b.push_back(time_once(comm, plain));
  }
  std::sort(a.begin(), a.end());
  std::sort(b.begin(), b.end());
  if (runtime.rank() == 0) {
    std::printf("%d ranks, %zu buffers, %.1f MB, %d iterations (%s)\n", runtime.size(), mib.size(), total / 1e6,
                iterations, comm.shared_memory() ? "new_buffer in shared memory" : "shared memory off");
    std::printf("new_buffer : median %7.2f ms, min %7.2f ms\n", 1e3 * a[a.size() / 2], 1e3 * a.front());
    std::printf("plain (MPI): median %7.2f ms, min %7.2f ms (MPI_Iallreduce, %s)\n", 1e3 * b[b.size() / 2],
                1e3 * b.front(), ftbench::dist::iallreduce_request().c_str());
  }
  return 0;
}
