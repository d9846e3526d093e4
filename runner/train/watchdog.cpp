#include "runner/train/watchdog.h"

#include <cstdio>
#include <utility>

#include "dist/check.h"
#include "dist/runtime.h"
#include "runner/base/error.h"

namespace ftbench::train {

Watchdog::Watchdog(double limit_s, std::string run_id)
    : limit_s_(limit_s), run_id_(std::move(run_id)), thread_([this] { watch(); }) {}

Watchdog::~Watchdog() {
  {
    const std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  thread_.join();
}

void Watchdog::beat(int64_t epoch, int64_t step, int64_t micro_batch) {
  const std::lock_guard<std::mutex> lock(mutex_);
  armed_ = true;
  last_beat_ = std::chrono::steady_clock::now();
  epoch_ = epoch;
  step_ = step;
  micro_batch_ = micro_batch;
}

void Watchdog::pause() {
  const std::lock_guard<std::mutex> lock(mutex_);
  armed_ = false;
}

std::string Watchdog::where() const {
  return "run " + run_id_ + ", epoch " + std::to_string(epoch_) + ", step " + std::to_string(step_) +
         (micro_batch_ > 0 ? " micro-batch " + std::to_string(micro_batch_) : "");
}

void Watchdog::watch() {
  const auto limit = std::chrono::duration<double>(limit_s_);
  std::unique_lock<std::mutex> lock(mutex_);
  while (!stop_) {
    // Wakes at least once a second, so a stall is noticed within a second of the limit.
    wake_.wait_for(lock, std::chrono::seconds(1));
    if (stop_ || !armed_ || std::chrono::steady_clock::now() - last_beat_ < limit) continue;
    std::fprintf(stderr,
                 "ftbench: error: %s made no progress for %.0f s in %s: this rank is hung (a deadlock, a stuck "
                 "device or an injected fault); ending the job. Raise [dist] timeout_s if its steps are merely "
                 "that slow\n",
                 dist::rank_tag().c_str(), limit_s_, where().c_str());
    std::fflush(stderr);
    dist::abort_job(static_cast<int>(ExitCode::kRuntime));
  }
}

}  // namespace ftbench::train
