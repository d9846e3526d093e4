// MpiCommunicator under mpiexec with 1, 2 and 3 ranks: every dtype the trainer uses, sizes 0, 1, odd and
// large, sum/average/max, broadcast from every root, the setup-phase exit agreement, and the all-reduce
// algorithm Runtime asks Open MPI for.
#include <ATen/Functions.h>
#include <gtest/gtest.h>

#include <cstdlib>

#include "dist/check.h"
#include "dist/mpi_communicator.h"
#include "dist/runtime.h"
#include "tests/dist/rank_values.h"
#include "tests/mpi_test_env.h"

namespace ftbench::dist {
namespace {

using testing::contribution;
using testing::expected_sum;

class AllReduce : public ::testing::TestWithParam<std::tuple<at::ScalarType, int64_t>> {};

TEST_P(AllReduce, SumMatchesClosedForm) {
  const auto [dtype, n] = GetParam();
  MpiCommunicator comm;
  at::Tensor t = contribution(comm.rank(), n, dtype);
  comm.all_reduce(t, ReduceOp::kSum);
  EXPECT_TRUE(at::equal(t, expected_sum(comm.size(), n, dtype)));
}

TEST_P(AllReduce, MaxIsLastRanksContribution) {
  const auto [dtype, n] = GetParam();
  MpiCommunicator comm;
  at::Tensor t = contribution(comm.rank(), n, dtype);
  if (dtype == at::kBFloat16) {
    EXPECT_THROW(comm.all_reduce(t, ReduceOp::kMax), DistError);
    return;
  }
  comm.all_reduce(t, ReduceOp::kMax);
  EXPECT_TRUE(at::equal(t, contribution(comm.size() - 1, n, dtype)));
}

TEST_P(AllReduce, AverageForFloatsRefusedForIntegers) {
  const auto [dtype, n] = GetParam();
  MpiCommunicator comm;
  at::Tensor t = contribution(comm.rank(), n, dtype);
  if (!at::isFloatingType(dtype)) {
    EXPECT_THROW(comm.all_reduce(t, ReduceOp::kAverage), DistError);
    return;
  }
  comm.all_reduce(t, ReduceOp::kAverage);
  const at::Tensor expected = expected_sum(comm.size(), n, at::kDouble) / comm.size();
  const double rtol = dtype == at::kBFloat16 ? 1.0 / 128 : 1e-6;  // one bfloat16 rounding of the quotient
  EXPECT_TRUE(at::allclose(t.to(at::kDouble), expected, rtol, /*atol=*/0));
}

INSTANTIATE_TEST_SUITE_P(DtypesAndSizes, AllReduce,
                         ::testing::Combine(::testing::Values(at::kFloat, at::kDouble, at::kBFloat16, at::kInt, at::kLong),
                                            ::testing::Values(int64_t{0}, int64_t{1}, int64_t{1001},
                                                              int64_t{3} << 20)));

TEST(Broadcast, EveryRootReachesEveryRank) {
  MpiCommunicator comm;
  for (int root = 0; root < comm.size(); ++root) {
    at::Tensor t = contribution(comm.rank(), 4097, at::kFloat);
    comm.broadcast(t, root);
    EXPECT_TRUE(at::equal(t, contribution(root, 4097, at::kFloat))) << "root " << root;
  }
}

TEST(Communicator, RejectsUnsupportedDtypeAndNonContiguous) {
  MpiCommunicator comm;
  at::Tensor half = at::ones({4}, at::TensorOptions().dtype(at::kHalf));
  EXPECT_THROW(comm.all_reduce(half, ReduceOp::kSum), DistError);
  at::Tensor strided = at::ones({4, 4}).t();
  EXPECT_THROW(comm.broadcast(strided, 0), DistError);
}

TEST(AgreeOnExit, EveryRankGetsTheWorstCode) {
  const Runtime& runtime = ftbench::testing::runtime();
  // Nobody fails: 0 everywhere.
  EXPECT_EQ(agree_on_exit(runtime, 0, ""), 0);
  // Only the last rank fails with bad input (2); the others succeed, or fail at run time (1): every rank
  // must come away with 2, the largest code.
  const bool last = runtime.rank() == runtime.size() - 1;
  const int local = last ? 2 : (runtime.size() > 2 && runtime.rank() == 1 ? 1 : 0);
  EXPECT_EQ(agree_on_exit(runtime, local, "rank " + std::to_string(runtime.rank()) + " failed"), 2);
}

TEST(Runtime, RanksAndLocalRanksAreConsistent) {
  const Runtime& runtime = ftbench::testing::runtime();
  EXPECT_GE(runtime.rank(), 0);
  EXPECT_LT(runtime.rank(), runtime.size());
  // All ranks of a test run share one machine, so the node communicator is the whole world.
  EXPECT_EQ(runtime.local_size(), runtime.size());
  EXPECT_EQ(runtime.local_rank(), runtime.rank());
  EXPECT_EQ(runtime.hostnames().size(), 1u);
  MpiCommunicator comm;
  EXPECT_EQ(comm.local_rank(), runtime.local_rank());
}

// Runtime asks Open MPI for the ring non-blocking all-reduce unless the environment already chose one: the CTest
// case communicator_np3_user_iallreduce sets its own (binomial) and names it in FTBENCH_TEST_IALLREDUCE, and
// runs every test above with it.
TEST(Runtime, NonBlockingAllReduceIsTheRingUnlessTheUserChose) {
  if (mpi_library_version().rfind("Open MPI", 0) != 0) GTEST_SKIP() << "not Open MPI: " << mpi_library_version();
  const char* expected = std::getenv("FTBENCH_TEST_IALLREDUCE");
  EXPECT_EQ(iallreduce_algorithm(), expected != nullptr ? expected : "ring");  // what Open MPI really uses
  EXPECT_EQ(iallreduce_request(), expected != nullptr ? expected : "ring");    // what `bench` reports
}

}  // namespace
}  // namespace ftbench::dist
