#include <hdf5.h>
#include <torch/version.h>

#include <string>

#include "dist/runtime.h"
#include "runner/cli/commands.h"
#include "runner/train/placement.h"

namespace ftbench::cli {

std::string version_text() {
  unsigned major = 0, minor = 0, release = 0;
  H5get_libversion(&major, &minor, &release);
  std::string text;
  text += "ftbench  " FTBENCH_VERSION " (" FTBENCH_GIT_COMMIT ")\n";
  text += "LibTorch " TORCH_VERSION "\n";
  text += "MPI      " + dist::mpi_library_version() + "\n";
  text += "HDF5     " + std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(release) + "\n";
  text += "NCCL     " + train::nccl_version();
  return text;
}

}  // namespace ftbench::cli
