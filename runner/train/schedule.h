// Learning-rate schedules, evaluated per optimiser step.
#pragma once

#include <cstdint>
#include <string>

namespace ftbench::train {

enum class Schedule { kConstant, kCosine };
Schedule parse_schedule(const std::string& name);  // names validated by the config layer

// LR at `step` (0-based) of `total_steps`. Cosine decays from base_lr to 0 over the run (the value at
// step == total_steps would be 0; the last step used is total_steps - 1).
double lr_at(Schedule schedule, double base_lr, int64_t step, int64_t total_steps);

}  // namespace ftbench::train
