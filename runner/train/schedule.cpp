#include "runner/train/schedule.h"

#include <cmath>

#include "runner/base/error.h"

namespace ftbench::train {

Schedule parse_schedule(const std::string& name) {
  if (name == "constant") return Schedule::kConstant;
  if (name == "cosine") return Schedule::kCosine;
  throw InputError("unknown schedule '" + name + "'; expected constant or cosine");
}

double lr_at(Schedule schedule, double base_lr, int64_t step, int64_t total_steps) {
  switch (schedule) {
    case Schedule::kConstant: return base_lr;
    case Schedule::kCosine: {
      if (total_steps <= 0) return base_lr;
      const double progress = static_cast<double>(step) / static_cast<double>(total_steps);
      return 0.5 * base_lr * (1.0 + std::cos(M_PI * progress));
    }
  }
  return base_lr;
}

}  // namespace ftbench::train
