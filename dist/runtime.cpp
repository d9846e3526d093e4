#include "dist/runtime.h"

#include <mpi.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cstdio>
#include <cstdlib>

#include "dist/check.h"

namespace ftbench::dist {
namespace {

MPI_Comm as_comm(void* comm) { return static_cast<MPI_Comm>(comm); }

}  // namespace

Runtime::Runtime(int* argc, char*** argv) {
  int provided = MPI_THREAD_SINGLE;
  CHECK_MPI(MPI_Init_thread(argc, argv, MPI_THREAD_MULTIPLE, &provided));
  thread_multiple_ = provided >= MPI_THREAD_MULTIPLE;
  // Errors come back as return codes (checked by CHECK_MPI) instead of killing the job inside MPI, so the
  // failing rank can say what failed before the job ends.
  MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
  CHECK_MPI(MPI_Comm_rank(MPI_COMM_WORLD, &rank_));
  CHECK_MPI(MPI_Comm_size(MPI_COMM_WORLD, &size_));

  MPI_Comm node = MPI_COMM_NULL;
  CHECK_MPI(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, rank_, MPI_INFO_NULL, &node));
  CHECK_MPI(MPI_Comm_rank(node, &local_rank_));
  CHECK_MPI(MPI_Comm_size(node, &local_size_));
  node_comm_ = node;

  std::array<char, MPI_MAX_PROCESSOR_NAME> name{};
  int length = 0;
  CHECK_MPI(MPI_Get_processor_name(name.data(), &length));
  hostname_.assign(name.data(), static_cast<std::size_t>(length));
}

Runtime::~Runtime() {
  int finalized = 0;
  MPI_Finalized(&finalized);
  if (finalized) return;
  MPI_Comm node = as_comm(node_comm_);
  if (node != MPI_COMM_NULL) MPI_Comm_free(&node);
  MPI_Finalize();
}

std::vector<std::string> Runtime::hostnames() const {
  // Fixed-width gather: host names are short, and a fixed width keeps this one collective.
  std::array<char, MPI_MAX_PROCESSOR_NAME> mine{};
  std::copy_n(hostname_.data(), std::min<std::size_t>(hostname_.size(), mine.size() - 1), mine.data());
  std::vector<char> all(static_cast<std::size_t>(size_) * mine.size());
  CHECK_MPI(MPI_Allgather(mine.data(), static_cast<int>(mine.size()), MPI_CHAR, all.data(),
                          static_cast<int>(mine.size()), MPI_CHAR, MPI_COMM_WORLD));
  std::vector<std::string> hosts;
  for (int r = 0; r < size_; ++r) {
    std::string host(all.data() + static_cast<std::size_t>(r) * mine.size());
    if (std::find(hosts.begin(), hosts.end(), host) == hosts.end()) hosts.push_back(host);
  }
  return hosts;
}

std::vector<int64_t> Runtime::all_gather(int64_t value) const {
  std::vector<int64_t> values(static_cast<std::size_t>(size_));
  CHECK_MPI(MPI_Allgather(&value, 1, MPI_INT64_T, values.data(), 1, MPI_INT64_T, MPI_COMM_WORLD));
  return values;
}

void Runtime::abort(int code) const { abort_job(code); }

void abort_job(int code) {
  std::fflush(stdout);
  std::fflush(stderr);
  MPI_Abort(MPI_COMM_WORLD, code);
  // MPI_Abort does not return on Open MPI; keep the promise of [[noreturn]] regardless.
  std::_Exit(code);
}

int agree_on_exit(const Runtime& runtime, int local_code, const std::string& local_message) {
  // Lowest failing rank speaks; the job's exit code is the largest code any rank reports, so a bad-input
  // error (2) on one rank is not masked by a runtime error (1) on another.
  int failing_rank = local_code != 0 ? runtime.rank() : INT_MAX;
  int first_failing = INT_MAX;
  int code = 0;
  CHECK_MPI(MPI_Allreduce(&failing_rank, &first_failing, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD));
  CHECK_MPI(MPI_Allreduce(&local_code, &code, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD));
  if (first_failing == runtime.rank()) {
    std::fprintf(stderr, "ftbench: error: %s\n", local_message.c_str());
    std::fflush(stderr);
  }
  return code;
}

int node_local_rank() {
  MPI_Comm node = MPI_COMM_NULL;
  CHECK_MPI(MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &node));
  int local = 0;
  MPI_Comm_rank(node, &local);
  MPI_Comm_free(&node);
  return local;
}

std::string mpi_library_version() {
  std::array<char, MPI_MAX_LIBRARY_VERSION_STRING> text{};
  int length = 0;
  MPI_Get_library_version(text.data(), &length);
  std::string version(text.data(), static_cast<std::size_t>(length));
  const auto cut = version.find_first_of(",\n");
  return cut == std::string::npos ? version : version.substr(0, cut);
}

}  // namespace ftbench::dist
