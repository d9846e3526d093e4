// main() for GoogleTest binaries that run under mpiexec: MPI comes up once (dist::Runtime), every rank runs
// every test, only rank 0 prints, and the exit code is non-zero on every rank if any rank saw a failure.
#include <gtest/gtest.h>
#include <mpi.h>

#include <cstdio>

#include "tests/mpi_test_env.h"

namespace {
const ftbench::dist::Runtime* g_runtime = nullptr;
}  // namespace

const ftbench::dist::Runtime& ftbench::testing::runtime() { return *g_runtime; }

int main(int argc, char** argv) {
  ftbench::dist::Runtime runtime(&argc, &argv);
  g_runtime = &runtime;
  ::testing::InitGoogleTest(&argc, argv);
  if (runtime.rank() != 0) {
    auto& listeners = ::testing::UnitTest::GetInstance()->listeners();
    delete listeners.Release(listeners.default_result_printer());
  }
  const int local = RUN_ALL_TESTS();
  int any = 0;
  MPI_Allreduce(&local, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  if (local != 0) std::fprintf(stderr, "rank %d: some tests FAILED\n", runtime.rank());
  return any;
}
