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
#include <mutex>
#include <string>
#include <thread>

namespace ftbench::train {

class Watchdog {
 public:
  explicit Watchdog(double limit_s);
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  // Arms the watchdog (if paused) and records progress at `where` ("run X, epoch 2, step 7").
  void beat(const std::string& where);
  // Disarms it until the next beat.
  void pause();

 private:
  void watch();

  double limit_s_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stop_ = false;
  bool armed_ = false;
  std::chrono::steady_clock::time_point last_beat_;
  std::string where_;
  std::thread thread_;
};

}  // namespace ftbench::train
