// The shared-memory all-reduce (dist/shm_allreduce.h) under mpiexec with 1, 2 and 3 ranks: buffers from
// MpiCommunicator::new_buffer, every reduce op and floating dtype, shares smaller than the world, slices,
// many operations in flight, MPI collectives in between, a rank that diverges or never arrives, and a rank
// that cannot create its segment. The CTest case communicator_np3_user_iallreduce runs the same tests with
// FTBENCH_SHM_ALLREDUCE=0 (buffers are then ordinary tensors, all-reduced by MPI).
#include <ATen/Functions.h>
#include <gtest/gtest.h>
#include <mpi.h>
#include <sys/resource.h>

#include <csignal>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "dist/check.h"
#include "dist/mpi_communicator.h"
#include "tests/dist/rank_values.h"
#include "tests/mpi_test_env.h"

namespace ftbench::dist {
namespace {

bool shm_expected(int world) {
  const char* setting = std::getenv("FTBENCH_SHM_ALLREDUCE");
  return world > 1 && (setting == nullptr || std::strcmp(setting, "0") != 0);
}

using testing::contribution;
using testing::expected_sum;

// Whether every rank holds the same bits as rank 0.
bool same_on_every_rank(Communicator& comm, const at::Tensor& t) {
  at::Tensor root = t.clone();
  comm.broadcast(root, 0);
  const int same = at::equal(root, t) ? 1 : 0;
  int all = 0;
  CHECK_MPI(MPI_Allreduce(&same, &all, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD));
  return all == 1;
}

TEST(SharedMemory, NewBufferIsZeroedAndSharedWhereExpected) {
  MpiCommunicator comm;
  EXPECT_EQ(comm.shared_memory(), shm_expected(comm.size()));
  at::Tensor b = comm.new_buffer(1000, at::kFloat);
  EXPECT_EQ(b.numel(), 1000);
  EXPECT_EQ(b.scalar_type(), at::kFloat);
  EXPECT_TRUE(b.is_contiguous());
  EXPECT_TRUE(at::equal(b, at::zeros({1000})));
  EXPECT_EQ(comm.is_shared(b), comm.shared_memory());
  EXPECT_EQ(comm.is_shared(b.narrow(0, 10, 20)), comm.shared_memory());
  EXPECT_FALSE(comm.is_shared(at::zeros({1000})));
  EXPECT_EQ(comm.new_buffer(0, at::kBFloat16).numel(), 0);
}

class ShmAllReduce : public ::testing::TestWithParam<std::tuple<at::ScalarType, int64_t>> {};

TEST_P(ShmAllReduce, SumAverageAndMaxMatchClosedFormOnEveryRank) {
  const auto [dtype, n] = GetParam();
  MpiCommunicator comm;
  at::Tensor b = comm.new_buffer(n, dtype);
  b.copy_(contribution(comm.rank(), n, dtype));
  comm.all_reduce(b, ReduceOp::kSum);
  EXPECT_TRUE(at::equal(b, expected_sum(comm.size(), n, dtype)));
  EXPECT_TRUE(same_on_every_rank(comm, b));

  b.copy_(contribution(comm.rank(), n, dtype));
  comm.all_reduce(b, ReduceOp::kAverage);
  const at::Tensor mean = expected_sum(comm.size(), n, at::kDouble) / comm.size();
  EXPECT_TRUE(at::allclose(b.to(at::kDouble), mean, dtype == at::kBFloat16 ? 1.0 / 128 : 1e-6, 0));
  EXPECT_TRUE(same_on_every_rank(comm, b));

  if (dtype != at::kBFloat16) {  // refused for bfloat16 on every path (MpiCommunicator)
    b.copy_(contribution(comm.rank(), n, dtype));
    comm.all_reduce(b, ReduceOp::kMax);
    EXPECT_TRUE(at::equal(b, contribution(comm.size() - 1, n, dtype)));
  }
}

// 1 and 2 elements give some of 3 ranks an empty share.
INSTANTIATE_TEST_SUITE_P(DtypesAndSizes, ShmAllReduce,
                         ::testing::Combine(::testing::Values(at::kFloat, at::kDouble, at::kBFloat16),
                                            ::testing::Values(int64_t{1}, int64_t{2}, int64_t{1001},
                                                              int64_t{3} << 20)));

// 1e8 - 1e8 + 1 is 1 summed in rank order and 0 from the last rank first (1e8 + 1 rounds to 1e8 in float32):
// every element, in every rank's share, must come out as the rank-order sum.
TEST(SharedMemory, EveryShareIsSummedInRankOrder) {
  MpiCommunicator comm;
  if (!comm.shared_memory()) GTEST_SKIP() << "no shared-memory all-reduce with " << comm.size() << " rank(s)";
  const float mine = comm.rank() == 0 ? 1e8f : comm.rank() == 1 ? -1e8f : 1.0f;
  at::Tensor b = comm.new_buffer(999, at::kFloat).fill_(mine);
  comm.all_reduce(b, ReduceOp::kSum);
  EXPECT_TRUE(at::equal(b, at::full({999}, static_cast<float>(comm.size() - 2))))
      << "min " << b.min().item<float>() << ", max " << b.max().item<float>();
}

TEST(SharedMemory, SlicesOfOneBufferReduceOnlyTheirElements) {
  MpiCommunicator comm;
  at::Tensor b = comm.new_buffer(3000, at::kFloat);
  b.copy_(contribution(comm.rank(), 3000, at::kFloat));
  at::Tensor middle = b.narrow(0, 1000, 1000);
  comm.all_reduce(middle, ReduceOp::kSum);
  EXPECT_TRUE(at::equal(b.narrow(0, 0, 1000), contribution(comm.rank(), 3000, at::kFloat).narrow(0, 0, 1000)));
  EXPECT_TRUE(at::equal(middle, expected_sum(comm.size(), 3000, at::kFloat).narrow(0, 1000, 1000)));
  EXPECT_TRUE(at::equal(b.narrow(0, 2000, 1000), contribution(comm.rank(), 3000, at::kFloat).narrow(0, 2000, 1000)));
}

// More operations in flight than the descriptor ring holds (64), waited for in reverse order, with an MPI
// collective (which completes them first) in between.
TEST(SharedMemory, ManyOperationsInFlightCompleteInAnyWaitOrder) {
  MpiCommunicator comm;
  constexpr int kOps = 70;
  at::Tensor b = comm.new_buffer(kOps * 33, at::kFloat);
  b.copy_(contribution(comm.rank(), kOps * 33, at::kFloat));
  std::vector<at::Tensor> slices;
  std::vector<std::unique_ptr<Work>> work;
  for (int i = 0; i < kOps; ++i) {
    slices.push_back(b.narrow(0, i * 33, 33));
    work.push_back(comm.all_reduce_async(slices.back(), ReduceOp::kSum));
  }
  EXPECT_EQ(comm.all_gather(comm.rank()).size(), static_cast<std::size_t>(comm.size()));
  for (int i = kOps; i-- > 0;) work[static_cast<std::size_t>(i)]->wait();
  EXPECT_TRUE(at::equal(b, expected_sum(comm.size(), kOps * 33, at::kFloat)));
}

TEST(SharedMemory, RanksThatDivergeAreTold) {
  MpiCommunicator comm;
  if (!comm.shared_memory()) GTEST_SKIP() << "no shared-memory all-reduce with " << comm.size() << " rank(s)";
  at::Tensor b = comm.new_buffer(100, at::kFloat);
  at::Tensor mine = b.narrow(0, 0, 50 + comm.rank());  // a different element count on every rank
  try {
    comm.all_reduce(mine, ReduceOp::kSum);
    ADD_FAILURE() << "no error";
  } catch (const DistError& e) {
    EXPECT_NE(std::string(e.what()).find("diverged"), std::string::npos) << e.what();
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

TEST(SharedMemory, ARankThatNeverArrivesTimesOutTheOthers) {
  MpiCommunicator comm(/*timeout_s=*/0.5);
  if (!comm.shared_memory()) GTEST_SKIP() << "no shared-memory all-reduce with " << comm.size() << " rank(s)";
  at::Tensor b = comm.new_buffer(100, at::kFloat);
  if (comm.rank() == 0) {
    try {
      comm.all_reduce(b, ReduceOp::kSum);
      ADD_FAILURE() << "no error";
    } catch (const DistError& e) {
      EXPECT_NE(std::string(e.what()).find("timed out after"), std::string::npos) << e.what();
    }
  }
  MPI_Barrier(MPI_COMM_WORLD);
}

// The last rank may not create files over 64 KiB (RLIMIT_FSIZE), so its segment for a 1 MiB buffer fails:
// every rank must then get an ordinary tensor, and the all-reduce must still be right (through MPI).
TEST(SharedMemory, ARankWithoutSharedMemoryMakesEveryRankFallBack) {
  MpiCommunicator comm;
  const bool last = comm.rank() == comm.size() - 1;
  rlimit saved{};
  ASSERT_EQ(getrlimit(RLIMIT_FSIZE, &saved), 0);
  void (*previous)(int) = SIG_DFL;
  if (last) {
    previous = std::signal(SIGXFSZ, SIG_IGN);  // the kernel signals before it refuses
    rlimit low = saved;
    low.rlim_cur = 64 * 1024;
    ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &low), 0);
  }
  if (comm.rank() == 0) ::testing::internal::CaptureStderr();
  at::Tensor b = comm.new_buffer(1 << 18, at::kFloat);
  if (comm.rank() == 0) {
    const std::string said = ::testing::internal::GetCapturedStderr();
    // Rank 0 says so (once) where shared memory was on; with it off there is nothing to fall back from.
    EXPECT_EQ(said.find("could not create a 1.0 MB shared-memory buffer") != std::string::npos,
              comm.shared_memory())
        << said;
  }
  if (last) {
    ASSERT_EQ(setrlimit(RLIMIT_FSIZE, &saved), 0);
    std::signal(SIGXFSZ, previous);
  }
  EXPECT_FALSE(comm.is_shared(b));
  b.copy_(contribution(comm.rank(), 1 << 18, at::kFloat));
  comm.all_reduce(b, ReduceOp::kSum);
  EXPECT_TRUE(at::equal(b, expected_sum(comm.size(), 1 << 18, at::kFloat)));
  // A small buffer, which the limit never stopped, is still shared where shared memory is on.
  at::Tensor small = comm.new_buffer(16, at::kFloat);
  EXPECT_EQ(comm.is_shared(small), comm.shared_memory());
  small.copy_(contribution(comm.rank(), 16, at::kFloat));
  comm.all_reduce(small, ReduceOp::kSum);
  EXPECT_TRUE(at::equal(small, expected_sum(comm.size(), 16, at::kFloat)));
}

}  // namespace
}  // namespace ftbench::dist
