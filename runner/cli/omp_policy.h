// The OpenMP wait policy of the commands that train (run, bench).
//
// LibTorch's CPU kernels run on libgomp's thread team. When a thread reaches the end of a parallel region
// first, libgomp's default lets it spin for a while (GOMP_SPINCOUNT, 300,000 turns) before it sleeps, so that
// the next region starts without a wake-up. Both choices lose badly somewhere (tests/bench/RESULTS.md,
// mobilenet_v2@32, 1 rank x 2 threads on 2 cores):
// - each thread on a core of its own (a cluster node, a quiet machine): spinning was 1.7-2.2x faster than
//   sleeping at once (OMP_WAIT_POLICY=PASSIVE), whose futex wake-up at every region costs more than many of
//   mobilenet's small kernels;
// - more threads than cores: a spinning thread holds the core that the thread it waits for needs; with six
//   other busy processes on the 2 cores, PASSIVE was 1.6x faster than the default.
//
// So ftbench keeps libgomp's default, which is also what a PyTorch script gets, unless the rank's own threads
// would oversubscribe its CPUs as far as can be told before MPI starts: the ranks on this node (from the
// launcher's environment: Open MPI's mpirun, MPICH's Hydra, srun --ntasks-per-node), the intra-op threads
// asked for (bench --threads; `run` reads its config later, so it resolves them as 0, default_threads(), and
// warns afterwards if [train] threads oversubscribes), and the CPUs the process may run on. Then it sets
// OMP_WAIT_POLICY=PASSIVE. Load from other jobs cannot be known in advance; on a shared machine set
// OMP_WAIT_POLICY=PASSIVE yourself (scripts/test.sh does, for CTest's parallel tests).
//
// libgomp reads OMP_WAIT_POLICY only when it is loaded, before main(), so the process sets it and
// re-executes itself (same pid, before MPI is initialised, so mpirun and srun see nothing change). A value
// the user set for OMP_WAIT_POLICY or GOMP_SPINCOUNT is always kept, and nothing is re-executed.
#pragma once

#include <string>

namespace ftbench::cli {

// What the process knows before MPI starts about where its threads will run.
struct ThreadPlacement {
  int local_ranks = 1;       // ranks of this job on this node
  int threads_per_rank = 0;  // intra-op threads asked for; 0: default_threads()
  int online_cpus = 1;       // CPUs of the machine
  int allowed_cpus = 1;      // CPUs this process may run on (its affinity mask: a binding or a cpuset)
};

// The placement of this process from its environment and affinity, with `threads_per_rank` as asked.
ThreadPlacement current_placement(int threads_per_rank);

// The intra-op threads of a rank that asked for none (threads_per_rank 0): the machine's cores shared among
// the node's ranks, but never more than the CPUs the rank may use when it is bound to fewer than the machine
// has (mpirun --bind-to, a Slurm cpuset). At least 1. `run` and `bench` resolve "0" with this.
int default_threads(const ThreadPlacement& placement);
// The same for this process, with the node's rank count from MPI.
int default_threads_here(int local_ranks);

// Whether the waiting threads of this placement should sleep at once: the rank runs a team (2+ threads) and
// the team, with the node's other ranks unless the rank is bound to its own CPUs, needs more CPUs than it
// may use.
bool should_sleep_when_waiting(const ThreadPlacement& placement);

// Call before MPI_Init and before any thread starts. Sets OMP_WAIT_POLICY=PASSIVE and re-executes the
// process when should_sleep_when_waiting() says so and the user set neither variable; returns otherwise (or
// when exec failed: the process continues with libgomp's default).
void choose_omp_wait(char** argv, int threads_per_rank);

// The wait policy in effect, for reports: "default" (libgomp's spin, then sleep), or the variables set, e.g.
// "OMP_WAIT_POLICY=PASSIVE" or "OMP_WAIT_POLICY=ACTIVE GOMP_SPINCOUNT=10000".
std::string omp_wait_setting();

// After threads are resolved: a one-line warning when should_sleep_when_waiting() says this rank's `threads`
// (with `local_ranks` ranks on the node, MPI's count) oversubscribe while libgomp spins (the user set neither
// variable): the case choose_omp_wait could not see before the config was read; empty otherwise.
std::string oversubscription_warning(int threads, int local_ranks);

}  // namespace ftbench::cli
