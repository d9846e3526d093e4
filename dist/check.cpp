#include "dist/check.h"

#include <mpi.h>
#include <unistd.h>

#include <array>

namespace ftbench::dist {

std::string rank_tag() {
  int initialized = 0, finalized = 0;
  MPI_Initialized(&initialized);
  MPI_Finalized(&finalized);
  int rank = -1;
  if (initialized && !finalized) MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  std::array<char, 256> host{};
  gethostname(host.data(), host.size() - 1);
  return "[rank " + (rank >= 0 ? std::to_string(rank) : std::string("?")) + "@" + host.data() + "]";
}

std::string mpi_error_text(int code) {
  std::array<char, MPI_MAX_ERROR_STRING> text{};
  int length = 0;
  if (MPI_Error_string(code, text.data(), &length) != MPI_SUCCESS) return "MPI error " + std::to_string(code);
  return std::string(text.data(), static_cast<std::size_t>(length));
}

void throw_call_failure(const char* library, const char* call, const char* file, int line,
                        const std::string& detail) {
  throw DistError(std::string(library) + " call " + call + " failed at " + file + ":" + std::to_string(line) +
                  " on " + rank_tag() + ": " + detail);
}

}  // namespace ftbench::dist
