#include "runner/train/progress.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

namespace ftbench::train {
namespace {

bool is_terminal_path(const std::string& path) {
  return path.rfind("/dev/pts/", 0) == 0 || path.rfind("/dev/tty", 0) == 0;
}

// Whether a live progress bar reaches a person. FTBENCH_PROGRESS=bar|lines decides when set. Otherwise
// stdout must be a terminal; but Open MPI hands every rank a pseudo-terminal of its own even when mpirun's
// output goes to a file, so under mpirun the terminal that counts is mpirun's (this rank's parent on the
// launch node), checked through /proc.
bool detect_interactive() {
  if (const char* mode = std::getenv("FTBENCH_PROGRESS")) return std::strcmp(mode, "bar") == 0;
  if (isatty(STDOUT_FILENO) == 0) return false;
  if (std::getenv("OMPI_COMM_WORLD_SIZE") == nullptr) return true;
  char target[256] = {};
  const std::string link = "/proc/" + std::to_string(getppid()) + "/fd/1";
  const ssize_t n = readlink(link.c_str(), target, sizeof target - 1);
  return n > 0 && is_terminal_path(target);
}

}  // namespace

Progress::Progress(bool enabled) : Progress(enabled, enabled && detect_interactive()) {}

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
