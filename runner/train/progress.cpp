#include "runner/train/progress.h"

#include <unistd.h>

#include <cstdio>

namespace ftbench::train {

Progress::Progress(bool enabled) : Progress(enabled, isatty(STDOUT_FILENO) != 0) {}

Progress::Progress(bool enabled, bool interactive) : enabled_(enabled), interactive_(interactive) {}

void Progress::begin_epoch(const std::string& run_id, int64_t epoch, int64_t epochs, int64_t steps) {
  run_id_ = run_id;
  epoch_ = epoch;
  epochs_ = epochs;
  steps_ = steps;
  start_ = last_draw_ = std::chrono::steady_clock::now();
}

void Progress::step(int64_t steps_done, int64_t images_done) {
  if (!enabled_ || !interactive_) return;
  const auto now = std::chrono::steady_clock::now();
  if (steps_done < steps_ && now - last_draw_ < std::chrono::milliseconds(200)) return;
  last_draw_ = now;
  const double elapsed = std::chrono::duration<double>(now - start_).count();
  const double fraction = steps_ > 0 ? static_cast<double>(steps_done) / static_cast<double>(steps_) : 1.0;
  const double eta = fraction > 0 ? elapsed / fraction - elapsed : 0.0;
  constexpr int kWidth = 24;
  const int filled = static_cast<int>(fraction * kWidth);
  std::string bar(static_cast<std::size_t>(filled), '#');
  bar.resize(kWidth, '.');
  std::printf("\r%s epoch %lld/%lld [%s] %3.0f%% %7.1f img/s ETA %4.0fs ", run_id_.c_str(),
              static_cast<long long>(epoch_), static_cast<long long>(epochs_), bar.c_str(), 100.0 * fraction,
              elapsed > 0 ? static_cast<double>(images_done) / elapsed : 0.0, eta);
  std::fflush(stdout);
}

void Progress::end_epoch(const std::string& summary_line) {
  if (!enabled_) return;
  // Clear the live bar, then leave the plain line behind in the scrollback.
  if (interactive_) std::printf("\r\033[K");
  std::printf("%s\n", summary_line.c_str());
  std::fflush(stdout);
}

void Progress::message(const std::string& line) {
  if (!enabled_) return;
  std::printf("%s\n", line.c_str());
  std::fflush(stdout);
}

}  // namespace ftbench::train
