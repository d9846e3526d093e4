// The OpenMP wait-policy rule (runner/cli/omp_policy.h): libgomp's spinning default unless a rank's team,
// with the node's other unbound ranks, needs more CPUs than the process may use.
#include <gtest/gtest.h>

#include <cstdlib>

#include "runner/cli/omp_policy.h"

namespace ftbench::cli {
namespace {

ThreadPlacement placement(int ranks, int threads, int online, int allowed) {
  return ThreadPlacement{ranks, threads, online, allowed};
}

TEST(OmpWait, SpinsWhenEveryThreadHasACore) {
  EXPECT_FALSE(should_sleep_when_waiting(placement(1, 2, 2, 2)));   // 1 rank x 2 threads on 2 cores
  EXPECT_FALSE(should_sleep_when_waiting(placement(1, 0, 16, 16)));  // default threads: all cores
  EXPECT_FALSE(should_sleep_when_waiting(placement(4, 0, 16, 16)));  // default: 4 threads each
  EXPECT_FALSE(should_sleep_when_waiting(placement(4, 4, 16, 4)));   // bound to 4 CPUs each (--bind-to)
}

TEST(OmpWait, NoTeamNoWaiting) {
  EXPECT_FALSE(should_sleep_when_waiting(placement(2, 1, 2, 2)));  // 2 ranks x 1 thread
  EXPECT_FALSE(should_sleep_when_waiting(placement(3, 0, 2, 2)));  // 3 ranks on 2 cores: 1 thread each
  EXPECT_FALSE(should_sleep_when_waiting(placement(1, 1, 1, 1)));
}

TEST(OmpWait, SleepsWhenTheTeamsOversubscribe) {
  EXPECT_TRUE(should_sleep_when_waiting(placement(2, 2, 2, 2)));   // 2 ranks x 2 threads on 2 cores
  EXPECT_TRUE(should_sleep_when_waiting(placement(1, 4, 2, 2)));   // more threads than cores
  EXPECT_TRUE(should_sleep_when_waiting(placement(1, 2, 16, 1)));  // bound to one CPU, 2 threads
  EXPECT_TRUE(should_sleep_when_waiting(placement(1, 8, 16, 4)));  // 8 threads asked in a 4-CPU cpuset
  EXPECT_FALSE(should_sleep_when_waiting(placement(1, 0, 16, 4)));  // default: the cpuset's 4
}

TEST(OmpWait, DefaultThreadsAreTheRanksOwnCpus) {
  EXPECT_EQ(default_threads(placement(1, 0, 16, 16)), 16);
  EXPECT_EQ(default_threads(placement(4, 0, 16, 16)), 4);  // unbound: cores shared among the node's ranks
  EXPECT_EQ(default_threads(placement(3, 0, 2, 2)), 1);    // never 0
  EXPECT_EQ(default_threads(placement(8, 0, 64, 4)), 4);   // srun --cpus-per-task=4: the cpuset's CPUs
  EXPECT_EQ(default_threads(placement(1, 0, 64, 4)), 4);   // one task in a 4-CPU cpuset
  EXPECT_EQ(default_threads(placement(8, 0, 64, 32)), 8);  // a step's cpuset may be shared: 64 / 8, not 32
  EXPECT_EQ(default_threads(placement(2, 0, 2, 1)), 1);    // mpirun --bind-to core
}

TEST(OmpWait, ReadsTheLaunchersLocalRankCount) {
  ASSERT_EQ(setenv("OMPI_COMM_WORLD_LOCAL_SIZE", "3", 1), 0);
  EXPECT_EQ(current_placement(2).local_ranks, 3);
  EXPECT_EQ(current_placement(2).threads_per_rank, 2);
  ASSERT_EQ(setenv("OMPI_COMM_WORLD_LOCAL_SIZE", "junk", 1), 0);
  ASSERT_EQ(unsetenv("MPI_LOCALNRANKS"), 0);
  ASSERT_EQ(unsetenv("SLURM_NTASKS_PER_NODE"), 0);
  EXPECT_EQ(current_placement(0).local_ranks, 1);
  const ThreadPlacement here = current_placement(0);
  EXPECT_GE(here.online_cpus, 1);
  EXPECT_GE(here.allowed_cpus, 1);
  EXPECT_LE(here.allowed_cpus, here.online_cpus);
}

TEST(OmpWait, ReportsAndWarnsOnlyWithoutTheUsersChoice) {
  ASSERT_EQ(unsetenv("OMP_WAIT_POLICY"), 0);
  ASSERT_EQ(unsetenv("GOMP_SPINCOUNT"), 0);
  EXPECT_EQ(omp_wait_setting(), "default");
  EXPECT_NE(oversubscription_warning(100000, 2), "");  // more threads than any machine has cores
  EXPECT_EQ(oversubscription_warning(1, 1), "");
  ASSERT_EQ(setenv("OMP_WAIT_POLICY", "PASSIVE", 1), 0);
  ASSERT_EQ(setenv("GOMP_SPINCOUNT", "1000", 1), 0);
  EXPECT_EQ(omp_wait_setting(), "OMP_WAIT_POLICY=PASSIVE GOMP_SPINCOUNT=1000");
  EXPECT_EQ(oversubscription_warning(100000, 2), "");
}

}  // namespace
}  // namespace ftbench::cli
