// tune_malloc_for_training (runner/cli/malloc_tuning.h): after it, a large block comes from the heap, not from
// its own mmap, and freeing it does not give the pages back to the kernel, so the next step reuses them.
// (glibc's default at start: a 24 MiB block gets an mmap of its own and is unmapped on free.)
#include <gtest/gtest.h>
#include <malloc.h>

#include <cstdlib>
#include <cstring>

#include "runner/cli/malloc_tuning.h"

namespace ftbench::cli {
namespace {

TEST(MallocTuning, LargeBlocksComeFromTheHeapAndStayThere) {
  ASSERT_EQ(unsetenv("GLIBC_TUNABLES"), 0);
  ASSERT_TRUE(tune_malloc_for_training());
  constexpr std::size_t kBytes = 24 << 20;
  const struct mallinfo2 before = mallinfo2();
  auto* block = static_cast<char*>(std::malloc(kBytes));
  ASSERT_NE(block, nullptr);
  std::memset(block, 1, kBytes);
  const struct mallinfo2 live = mallinfo2();
  EXPECT_EQ(live.hblks, before.hblks) << "the block got an mmap of its own";
  EXPECT_GE(live.arena, before.arena + kBytes) << "the heap did not grow by the block";
  std::free(block);
  const struct mallinfo2 after = mallinfo2();
  EXPECT_EQ(after.arena, live.arena) << "freeing the block trimmed the heap";
}

TEST(MallocTuning, KeepsTheUsersSettings) {
  ASSERT_EQ(setenv("GLIBC_TUNABLES", "glibc.malloc.trim_threshold=0", 1), 0);
  EXPECT_FALSE(tune_malloc_for_training());
  ASSERT_EQ(unsetenv("GLIBC_TUNABLES"), 0);
  ASSERT_EQ(setenv("MALLOC_ARENA_MAX", "2", 1), 0);
  EXPECT_FALSE(tune_malloc_for_training());
  ASSERT_EQ(unsetenv("MALLOC_ARENA_MAX"), 0);
}

}  // namespace
}  // namespace ftbench::cli
