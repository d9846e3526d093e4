#include "results/metrics.h"

namespace ftbench::results {

const char* to_string(RunStatus status) {
  switch (status) {
    case RunStatus::kAbsent: return "absent";
    case RunStatus::kRunning: return "running";
    case RunStatus::kCompleted: return "completed";
    case RunStatus::kFailed: return "failed";
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
