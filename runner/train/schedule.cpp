#include "runner/train/schedule.h"

#include <algorithm>
#include <cmath>

#include "runner/base/error.h"

namespace ftbench::train {

Schedule parse_schedule(const std::string& name) {
  if (name == "constant") return Schedule::kConstant;
  if (name == "cosine") return Schedule::kCosine;
  if (name == "step") return Schedule::kStep;
  throw InputError("unknown schedule '" + name + "'; expected constant, cosine or step");
}

double lr_at(Schedule schedule, double base_lr, int64_t step, int64_t total_steps) {
  switch (schedule) {
    case Schedule::kConstant:
    case Schedule::kStep: return base_lr;
    case Schedule::kCosine: {
      if (total_steps <= 0) return base_lr;
      const double progress = static_cast<double>(step) / static_cast<double>(total_steps);
      return 0.5 * base_lr * (1.0 + std::cos(M_PI * progress));
    }
  }
  return base_lr;
}

double LrSchedule::at(int64_t step) const {
  double lr = base_lr;
  if (step < warmup_steps) lr *= static_cast<double>(step + 1) / static_cast<double>(warmup_steps);
  switch (kind) {
    case Schedule::kConstant: break;
    case Schedule::kCosine:
      if (step >= warmup_steps) lr = lr_at(Schedule::kCosine, lr, step - warmup_steps, total_steps - warmup_steps);
      break;
    case Schedule::kStep:
      for (const int64_t m : milestones) {
        if (step >= m * steps_per_epoch) lr *= gamma;
      }
      break;
  }
  return lr;
}

LrSchedule make_schedule(const config::TrainConfig& train, int64_t steps_per_epoch) {
  LrSchedule s;
  s.kind = parse_schedule(train.schedule);
  s.base_lr = train.lr;
  s.steps_per_epoch = std::max<int64_t>(1, steps_per_epoch);
  s.total_steps = s.steps_per_epoch * train.epochs;
  s.warmup_steps = std::min<int64_t>(s.total_steps, std::llround(train.warmup_epochs * static_cast<double>(s.steps_per_epoch)));
  s.milestones = train.milestones;
  s.gamma = train.gamma;
  return s;
}

}  // namespace ftbench::train
