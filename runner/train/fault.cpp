#include "runner/train/fault.h"

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <thread>
#include <unistd.h>

#include "runner/base/error.h"

namespace ftbench::train {

Fault parse_fault(const std::string& text) {
  Fault fault;
  std::stringstream fields(text);
  std::string field;
  const std::string usage = "FTBENCH_FAULT=" + text + ": expected rank:R,step:S,kind:hang|throw|exit|kill";
  while (std::getline(fields, field, ',')) {
    const auto colon = field.find(':');
    if (colon == std::string::npos) throw InputError(usage);
    const std::string key = field.substr(0, colon), value = field.substr(colon + 1);
    try {
      if (key == "rank") {
        fault.rank = std::stoi(value);
      } else if (key == "step") {
        fault.step = std::stoll(value);
      } else if (key == "kind") {
        fault.kind = value;
      } else {
        throw InputError(usage);
      }
    } catch (const std::logic_error&) {  // stoi/stoll on a non-number
      throw InputError(usage);
    }
  }
  const bool known = fault.kind == "hang" || fault.kind == "throw" || fault.kind == "exit" || fault.kind == "kill";
  if (fault.rank < 0 || fault.step < 1 || !known) throw InputError(usage);
  return fault;
}

std::optional<Fault> fault_from_env() {
  const char* text = std::getenv("FTBENCH_FAULT");
  if (text == nullptr || *text == '\0') return std::nullopt;
  return parse_fault(text);
}

void maybe_inject(const std::optional<Fault>& fault, int rank, int64_t step) {
  if (!fault || fault->rank != rank || fault->step != step) return;
  std::fprintf(stderr, "ftbench: injecting fault '%s' on rank %d at step %lld (FTBENCH_FAULT)\n",
               fault->kind.c_str(), rank, static_cast<long long>(step));
  std::fflush(stderr);
  if (fault->kind == "hang") {
    for (;;) std::this_thread::sleep_for(std::chrono::hours(1));
  }
  if (fault->kind == "throw") throw RuntimeError("injected fault on rank " + std::to_string(rank));
  if (fault->kind == "exit") _exit(3);
  if (fault->kind == "kill") std::raise(SIGKILL);
}

}  // namespace ftbench::train
