#include "runner/base/fault_point.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace ftbench {

void fault_point(const char* name) {
  const char* spec = std::getenv("FTBENCH_FAULT_POINT");
  if (spec == nullptr || *spec == '\0') return;
  const std::string text(spec);
  const auto colon = text.find(':');
  if (text.substr(0, colon) != name) return;
  const long nth = colon == std::string::npos ? 1 : std::strtol(text.c_str() + colon + 1, nullptr, 10);
  static std::atomic<long> passed{0};
  if (++passed != nth) return;
  std::fprintf(stderr, "ftbench: FTBENCH_FAULT_POINT=%s: killing this process (pid %d) at '%s'\n", spec,
               static_cast<int>(::getpid()), name);
  std::fflush(stderr);
  ::kill(::getpid(), SIGKILL);
  ::pause();
}

}  // namespace ftbench
