#include "results/metrics.h"

#include <chrono>
#include <ctime>

namespace ftbench::results {

std::string utc_now() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char text[32];
  std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return text;
}

const char* to_string(RunStatus status) {
  switch (status) {
    case RunStatus::kAbsent: return "absent";
    case RunStatus::kRunning: return "running";
    case RunStatus::kCompleted: return "completed";
    case RunStatus::kFailed: return "failed";
    case RunStatus::kInterrupted: return "interrupted";
  }
  return "unknown";
}

std::array<double, kClasses> EpochRow::per_class_acc() const {
  std::array<double, kClasses> acc{};
  for (int c = 0; c < kClasses; ++c) {
    int64_t total = 0;
    for (int64_t n : confusion[c]) total += n;
    acc[c] = total > 0 ? static_cast<double>(confusion[c][c]) / static_cast<double>(total) : 0.0;
  }
  return acc;
}

}  // namespace ftbench::results
