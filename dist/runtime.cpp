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

// Open MPI's MCA parameter that picks libnbc's MPI_Iallreduce algorithm, and its name as an environment
// variable. libnbc's own choice for an in-place all-reduce, or any on fewer than 4 ranks, is the binomial
// one: the whole buffer is reduced up a tree to rank 0 and broadcast back down. The ring (a reduce-scatter,
// then an all-gather) moves each rank's share of the buffer only, 2(p-1)/p of it: 44.7 MB of ResNet-18
// gradients between 2 ranks took 25 ms binomial and 13 ms ring (tests/bench/RESULTS.md). Every rank still
// ends with the same bits, as the ring reduces each element on one rank only.
constexpr const char* kIallreduceParam = "coll_libnbc_iallreduce_algorithm";
constexpr const char* kIallreduceEnv = "OMPI_MCA_coll_libnbc_iallreduce_algorithm";

}  // namespace

void prefer_ring_iallreduce() { setenv(kIallreduceEnv, "ring", /*overwrite=*/0); }

std::string iallreduce_request() {
  const char* value = std::getenv(kIallreduceEnv);
  return value != nullptr ? value : "";
}

std::string iallreduce_algorithm() {
  int provided = 0;
  if (MPI_T_init_thread(MPI_THREAD_SINGLE, &provided) != MPI_SUCCESS) return "";
  std::string name;
  int index = -1;
  std::array<char, 256> text{};
  int length = static_cast<int>(text.size());
  int verbosity = 0, bind = 0, scope = 0, description_length = 0, count = 0, value = -1;
  MPI_Datatype type = MPI_DATATYPE_NULL;
  MPI_T_enum enumtype = MPI_T_ENUM_NULL;
  MPI_T_cvar_handle handle = MPI_T_CVAR_HANDLE_NULL;
  if (MPI_T_cvar_get_index(kIallreduceParam, &index) == MPI_SUCCESS &&
      MPI_T_cvar_get_info(index, text.data(), &length, &verbosity, &type, &enumtype, nullptr, &description_length,
                          &bind, &scope) == MPI_SUCCESS &&
      type == MPI_INT && MPI_T_cvar_handle_alloc(index, nullptr, &handle, &count) == MPI_SUCCESS) {
    if (count == 1 && MPI_T_cvar_read(handle, &value) == MPI_SUCCESS) name = std::to_string(value);
    MPI_T_cvar_handle_free(&handle);
    int items = 0;
    length = static_cast<int>(text.size());
    if (enumtype != MPI_T_ENUM_NULL && MPI_T_enum_get_info(enumtype, &items, text.data(), &length) == MPI_SUCCESS) {
      for (int i = 0; i < items; ++i) {
        int item = 0;
        length = static_cast<int>(text.size());
        if (MPI_T_enum_get_item(enumtype, i, &item, text.data(), &length) == MPI_SUCCESS && item == value) {
          name.assign(text.data());
          break;
        }
      }
    }
  }
  MPI_T_finalize();
  return name;
}

Runtime::Runtime(int* argc, char*** argv) {
  prefer_ring_iallreduce();  // read by Open MPI during MPI_Init only
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
