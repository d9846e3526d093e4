// dist::Runtime: MPI bring-up and tear-down for one ftbench process, owned by RAII.
//
// Works under `mpirun -np N`, under `srun --mpi=pmix`, and as a singleton (`build/ftbench run ...` with no
// launcher), which Open MPI supports. MPI is initialised with MPI_THREAD_MULTIPLE where the library grants it,
// because later stages (the gradient reducer) may call MPI from autograd threads.
//
// Before MPI_Init it asks Open MPI for the ring algorithm for non-blocking all-reduce (prefer_ring_iallreduce
// below), the one collective whose speed matters to training on the CPU.
//
// Local rank and local size come from MPI_Comm_split_type(MPI_COMM_TYPE_SHARED): the ranks on this node. They
// decide the GPU of a rank and the default number of intra-op threads.
//
// Threading: construct and destroy on the main thread, once per process.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace ftbench::dist {

class Runtime {
 public:
  Runtime(int* argc, char*** argv);
  ~Runtime();
  Runtime(const Runtime&) = delete;
  Runtime& operator=(const Runtime&) = delete;

  int rank() const { return rank_; }
  int size() const { return size_; }
  int local_rank() const { return local_rank_; }
  int local_size() const { return local_size_; }
  const std::string& hostname() const { return hostname_; }
  bool thread_multiple() const { return thread_multiple_; }

  // Distinct host names of all ranks, in rank order of first appearance. Collective.
  std::vector<std::string> hostnames() const;

  // Every rank's `value`, in rank order. Collective; for setup-time checks, before a Communicator exists.
  std::vector<int64_t> all_gather(int64_t value) const;

  // Ends every rank of the job with `code`. Never returns. Use for failures after the ranks have started
  // to diverge (one rank may be inside a collective that the failed rank will never join).
  [[noreturn]] void abort(int code) const;

 private:
  int rank_ = 0;
  int size_ = 1;
  int local_rank_ = 0;
  int local_size_ = 1;
  bool thread_multiple_ = false;
  std::string hostname_;
  void* node_comm_ = nullptr;  // MPI_Comm, kept opaque so this header does not need <mpi.h>
};

// The first non-ok exit code across all ranks, agreed collectively, with the message of the lowest failing
// rank printed once (to stderr, by that rank). Every rank must call it, with its own local outcome.
//
// This is how setup errors (a bad config, missing data, an existing results file) end the job with the
// same exit code on every rank, without MPI_Abort and before any training starts.
int agree_on_exit(const Runtime& runtime, int local_code, const std::string& local_message);

// This process's rank among the ranks of its node (MPI_Comm_split_type(MPI_COMM_TYPE_SHARED)). Collective.
int node_local_rank();

// Ends every rank of the job with `code` (MPI_Abort on MPI_COMM_WORLD); what Runtime::abort does, for code
// that holds no Runtime (the trainer's watchdog thread). Never returns.
[[noreturn]] void abort_job(int code);

// Sets OMPI_MCA_coll_libnbc_iallreduce_algorithm=ring unless the environment already sets it (a value of
// yours, or `mpirun --mca coll_libnbc_iallreduce_algorithm ...`, wins). Open MPI's non-blocking all-reduce
// otherwise runs binomially for an in-place buffer or fewer than 4 ranks, about twice as slow for gradient
// buckets. Other MPI libraries ignore the variable. Must run before MPI_Init; Runtime's constructor calls it.
void prefer_ring_iallreduce();

// The algorithm asked of Open MPI for MPI_Iallreduce: the value of that variable ("ring", or yours), which
// is what Open MPI uses (the environment overrides its parameter files). What `ftbench bench` reports.
std::string iallreduce_request();

// The algorithm Open MPI's libnbc really uses for MPI_Iallreduce ("ring", "ignore" for its own choice, ...),
// read back through the MPI tool interface; "" where the library has no such parameter (not Open MPI). After
// MPI_Init. Slow (about 0.2 s: opening the tool interface registers every component's parameters), so it is
// for tests and diagnostics.
std::string iallreduce_algorithm();

// MPI's library version string, e.g. "Open MPI v4.1.4, ..." (first line only). Safe before MPI_Init.
std::string mpi_library_version();

}  // namespace ftbench::dist
