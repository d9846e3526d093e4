// What rank 0 prints while a run trains.
//
// On a terminal: one live line per epoch (a bar, img/s and ETA), redrawn in place. Elsewhere (Slurm logs,
// pipes, files): nothing during the epoch, then one plain line per epoch. FTBENCH_PROGRESS=bar|lines
// overrides the detection.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace ftbench::train {

class Progress {
 public:
  // `enabled` is false on every rank but 0. `interactive` defaults to whether stdout reaches a terminal.
  explicit Progress(bool enabled);
  Progress(bool enabled, bool interactive);

  void begin_epoch(const std::string& run_id, int64_t epoch, int64_t epochs, int64_t steps);
  void step(int64_t steps_done, int64_t images_done);  // cheap when not interactive
  void end_epoch(const std::string& summary_line);     // prints the epoch's final line
  void message(const std::string& line);               // a plain line, rank 0 only

 private:
  bool enabled_;
  bool interactive_;
  std::string run_id_;
  int64_t epoch_ = 0, epochs_ = 0, steps_ = 0;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_draw_;
};

}  // namespace ftbench::train
