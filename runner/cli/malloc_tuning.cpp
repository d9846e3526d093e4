#include "runner/cli/malloc_tuning.h"

#include <malloc.h>

#include <cstdlib>
#include <cstring>

extern char** environ;

namespace ftbench::cli {
namespace {

bool user_tuned_malloc() {
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if (tunables != nullptr && std::strstr(tunables, "glibc.malloc.") != nullptr) return true;
  for (char** e = environ; *e != nullptr; ++e) {
    if (std::strncmp(*e, "MALLOC_", 7) == 0) return true;  // MALLOC_MMAP_THRESHOLD_=..., MALLOC_ARENA_MAX=...
  }
  return false;
}

}  // namespace

bool tune_malloc_for_training() {
  if (user_tuned_malloc()) return false;
  constexpr int kMmapThreshold = 32 << 20;  // glibc's largest on 64-bit; above it blocks are still mmap()ed
  const bool mmap_ok = mallopt(M_MMAP_THRESHOLD, kMmapThreshold) == 1;
  const bool trim_ok = mallopt(M_TRIM_THRESHOLD, -1) == 1;  // -1: never trim
  return mmap_ok && trim_ok;
}

}  // namespace ftbench::cli
