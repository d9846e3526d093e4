#include "runner/cli/omp_policy.h"

#include <unistd.h>

#include <cstdlib>

namespace ftbench::cli {

void ensure_passive_omp_wait(char** argv) {
  if (std::getenv("OMP_WAIT_POLICY") != nullptr) return;  // the user's choice, or already re-executed
  if (setenv("OMP_WAIT_POLICY", "PASSIVE", /*overwrite=*/0) != 0) return;
  execv("/proc/self/exe", argv);
  // Only reached when exec failed (no /proc): keep going with the default policy.
}

}  // namespace ftbench::cli
