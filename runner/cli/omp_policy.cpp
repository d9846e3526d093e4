#include "runner/cli/omp_policy.h"

#include <sched.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <thread>

namespace ftbench::cli {
namespace {

// A positive integer from the environment, or 0.
int env_count(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') return 0;
  char* end = nullptr;
  const long n = std::strtol(value, &end, 10);
  return (*end == '\0' && n > 0 && n < 1000000) ? static_cast<int>(n) : 0;
}

bool user_chose_wait_policy() {
  return std::getenv("OMP_WAIT_POLICY") != nullptr || std::getenv("GOMP_SPINCOUNT") != nullptr;
}

// A rank bound to fewer CPUs than the machine has shares them with no other rank (mpirun --bind-to, a Slurm
// cpuset). Unbound ranks share all the CPUs.
bool is_bound(const ThreadPlacement& p) { return p.allowed_cpus < p.online_cpus; }

}  // namespace

ThreadPlacement current_placement(int threads_per_rank) {
  ThreadPlacement p;
  // mpirun (Open MPI), Hydra (MPICH), srun with --ntasks-per-node; alone: 1.
  for (const char* name : {"OMPI_COMM_WORLD_LOCAL_SIZE", "MPI_LOCALNRANKS", "SLURM_NTASKS_PER_NODE"}) {
    if (const int n = env_count(name); n > 0) {
      p.local_ranks = n;
      break;
    }
  }
  p.threads_per_rank = std::max(0, threads_per_rank);
  p.online_cpus = static_cast<int>(std::max(1U, std::thread::hardware_concurrency()));
  cpu_set_t mask;
  CPU_ZERO(&mask);
  p.allowed_cpus = sched_getaffinity(0, sizeof(mask), &mask) == 0 ? std::max(1, CPU_COUNT(&mask)) : p.online_cpus;
  return p;
}

int default_threads(const ThreadPlacement& p) {
  const int shared = std::max(1, p.online_cpus / std::max(1, p.local_ranks));
  // Bound: never more threads than CPUs. Not simply allowed_cpus: a cpuset may be the whole job step's,
  // shared by all its ranks on the node, and nothing before MPI tells the two apart.
  if (is_bound(p)) return std::max(1, std::min(p.allowed_cpus, shared));
  return shared;
}

int default_threads_here(int local_ranks) {
  ThreadPlacement p = current_placement(0);
  p.local_ranks = std::max(1, local_ranks);
  return default_threads(p);
}

bool should_sleep_when_waiting(const ThreadPlacement& p) {
  const int threads = p.threads_per_rank > 0 ? p.threads_per_rank : default_threads(p);
  if (threads < 2) return false;  // no team, nobody waits on a barrier
  const int demand = is_bound(p) ? threads : std::max(1, p.local_ranks) * threads;
  return demand > p.allowed_cpus;
}

void choose_omp_wait(char** argv, int threads_per_rank) {
  if (user_chose_wait_policy()) return;  // the user's choice, or already re-executed
  if (!should_sleep_when_waiting(current_placement(threads_per_rank))) return;
  if (setenv("OMP_WAIT_POLICY", "PASSIVE", /*overwrite=*/0) != 0) return;
  execv("/proc/self/exe", argv);
  // Only reached when exec failed (no /proc): keep going with the default policy.
}

std::string omp_wait_setting() {
  std::string out;
  for (const char* name : {"OMP_WAIT_POLICY", "GOMP_SPINCOUNT"}) {
    if (const char* value = std::getenv(name)) out += (out.empty() ? "" : " ") + std::string(name) + "=" + value;
  }
  return out.empty() ? "default" : out;
}

std::string oversubscription_warning(int threads, int local_ranks) {
  if (user_chose_wait_policy()) return "";
  ThreadPlacement p = current_placement(threads);
  p.local_ranks = std::max(1, local_ranks);
  if (!should_sleep_when_waiting(p)) return "";
  return std::to_string(p.local_ranks) + " rank(s) x " + std::to_string(threads) + " threads on " +
         std::to_string(p.allowed_cpus) + " CPUs: waiting OpenMP threads spin and slow each other down; set "
         "OMP_WAIT_POLICY=PASSIVE, or fewer threads ([train] threads, bench --threads)";
}

}  // namespace ftbench::cli
