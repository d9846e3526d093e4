#include "runner/train/stop_signal.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>

namespace ftbench::train {
namespace {

std::atomic<int> g_signal{0};
// The lines the handler prints, made before any signal can arrive (snprintf is not async-signal-safe).
char g_first_line[160];
char g_second_line[160];

void write_line(const char* text) {
  const ssize_t ignored = ::write(STDERR_FILENO, text, std::strlen(text));
  (void)ignored;
}

extern "C" void on_stop_signal(int signal) {
  int expected = 0;
  if (g_signal.compare_exchange_strong(expected, signal)) {
    write_line(g_first_line);
    return;
  }
  write_line(g_second_line);
  ::_exit(128 + signal);
}

}  // namespace

void StopSignal::install(int rank) {
  char who[32] = "ftbench";
  if (rank >= 0) std::snprintf(who, sizeof who, "ftbench: rank %d", rank);
  std::snprintf(g_first_line, sizeof g_first_line,
                "%s got a stop signal: stopping at the next step boundary to save a checkpoint (signal again to "
                "exit at once)\n",
                who);
  std::snprintf(g_second_line, sizeof g_second_line, "%s got a second stop signal: exiting now without a checkpoint\n",
                who);
  struct sigaction action {};
  action.sa_handler = on_stop_signal;
  sigemptyset(&action.sa_mask);
  action.sa_flags = SA_RESTART;  // MPI and file I/O carry on; the flag is read at the next step boundary
  for (const int signal : {SIGTERM, SIGINT, SIGUSR1}) sigaction(signal, &action, nullptr);
}

int StopSignal::received() { return g_signal.load(); }

bool StopSignal::any_rank(dist::Communicator& comm, std::string* who) {
  const std::vector<int64_t> signals = comm.all_gather(received());
  for (std::size_t r = 0; r < signals.size(); ++r) {
    if (signals[r] == 0) continue;
    if (who != nullptr) *who = name(static_cast<int>(signals[r])) + " on rank " + std::to_string(r);
    return true;
  }
  return false;
}

std::string StopSignal::name(int signal) {
  switch (signal) {
    case SIGTERM: return "SIGTERM";
    case SIGINT: return "SIGINT";
    case SIGUSR1: return "SIGUSR1";
    default: return "signal " + std::to_string(signal);
  }
}

}  // namespace ftbench::train
