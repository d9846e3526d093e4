// train::Watchdog: a rank that stops making progress names itself and ends the job.
//
// A hung rank (a deadlock, a stuck device, an injected `hang`) cannot report anything from its training
// thread, and the other ranks, waiting in a collective, only know that someone did not arrive. So each rank
// runs a thread that watches a heartbeat the training loop beats at every micro-batch: when a beat is older
// than the limit ([dist] timeout_s), the thread prints "[rank R@host] made no progress for N s in <where>" and
// ends the job (dist::abort_job). The hung rank's last beat predates the others' wait, so its message comes
// first. Outside the training loop (evaluation, checkpoints, loading) the watchdog is paused.
//
// Thread-safety: beat() and pause() from the training thread; the watch thread only reads.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

namespace ftbench::train {

class Watchdog {
 public:
  Watchdog(double limit_s, std::string run_id);
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  // Arms the watchdog (if paused) and records progress at `epoch`, `step` and (0 for none) `micro_batch`.
  // Cheap: called at every micro-batch; the message is only formatted on a stall.
  void beat(int64_t epoch, int64_t step, int64_t micro_batch);
  // Disarms it until the next beat.
  void pause();

 private:
  void watch();
  std::string where() const;  // "run X, epoch 2, step 7"; under mutex_

  double limit_s_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  bool armed_ = false;
  std::chrono::steady_clock::time_point last_beat_;
  std::string run_id_;
  int64_t epoch_ = 0, step_ = 0, micro_batch_ = 0;
  std::thread thread_;
};

}  // namespace ftbench::train
