// Learning-rate schedules, evaluated per optimiser step.
//
// A run's LR at optimiser step s (0-based) of T is base_lr x warmup(s) x decay(s):
// - warmup: linear from 0, (s + 1) / W for the first W = round(warmup_epochs x steps_per_epoch) steps, then 1;
// - decay:  constant: 1;
//           cosine:   0.5 (1 + cos(pi (s - W) / (T - W))) after the warmup (1 during it), reaching 0 at s = T;
//           step:     gamma^(number of milestones m with s >= m x steps_per_epoch), i.e. multiplied by gamma
//                     after each milestone epoch (1-based epochs: milestone 2 = from epoch 3's first step on).
// Parameter groups keep their multiplier (discriminative LRs): a group's LR is the schedule's LR x its mult.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runner/config/config.h"

namespace ftbench::train {

enum class Schedule { kConstant, kCosine, kStep };
Schedule parse_schedule(const std::string& name);  // names validated by the config layer

// LR at `step` (0-based) of `total_steps`, without warmup. Cosine decays from base_lr to 0 over the run (the
// value at step == total_steps would be 0; the last step used is total_steps - 1). For kStep use LrSchedule.
double lr_at(Schedule schedule, double base_lr, int64_t step, int64_t total_steps);

struct LrSchedule {
  Schedule kind = Schedule::kConstant;
  double base_lr = 0.01;
  int64_t total_steps = 0;      // optimiser steps in the run
  int64_t steps_per_epoch = 1;  // optimiser steps per epoch
  int64_t warmup_steps = 0;
  std::vector<int64_t> milestones;  // kStep: epochs (1-based) after which the LR is multiplied by gamma
  double gamma = 0.1;

  double at(int64_t step) const;
};

// The schedule of a run's [train] table, for `steps_per_epoch` optimiser steps per epoch.
LrSchedule make_schedule(const config::TrainConfig& train, int64_t steps_per_epoch);

}  // namespace ftbench::train
