#include "runner/train/placement.h"

#include <torch/cuda.h>

#include "dist/mpi_communicator.h"
#include "runner/base/error.h"
#ifdef FTBENCH_HAVE_NCCL
#include <c10/cuda/CUDAFunctions.h>
#include <cuda_runtime.h>

#include "dist/nccl_communicator.h"
#endif

namespace ftbench::train {

bool nccl_built() {
#ifdef FTBENCH_HAVE_NCCL
  return true;
#else
  return false;
#endif
}

std::string nccl_version() {
#ifdef FTBENCH_HAVE_NCCL
  return dist::nccl_runtime_version();
#else
  return "not built (configure with -DFTBENCH_WITH_CUDA=ON)";
#endif
}

Placement place_rank(const dist::Runtime& runtime, double timeout_s) {
  Placement placement;
#ifdef FTBENCH_HAVE_NCCL
  const int64_t gpus = torch::cuda::is_available() ? static_cast<int64_t>(torch::cuda::device_count()) : 0;
  if (gpus > 0) {
    if (runtime.local_size() > gpus) {
      throw InputError(std::to_string(runtime.local_size()) + " ranks on " + runtime.hostname() + " but only " +
                       std::to_string(gpus) + " visible GPU(s); launch one rank per GPU (mpirun -np " +
                       std::to_string(gpus) + " per node, or srun --ntasks-per-node=" + std::to_string(gpus) + ")");
    }
    const int device = runtime.local_rank();
    placement.device = at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(device));
    c10::cuda::set_device(static_cast<c10::DeviceIndex>(device));
    cudaDeviceProp props{};
    if (cudaGetDeviceProperties(&props, device) == cudaSuccess) placement.device_name = props.name;
    placement.comm = std::make_unique<dist::NcclCommunicator>(device, timeout_s);
    return placement;
  }
#endif
  (void)runtime;
  (void)timeout_s;
  placement.device = at::Device(at::kCPU);
  placement.device_name = "cpu";
  placement.comm = std::make_unique<dist::MpiCommunicator>();
  return placement;
}

}  // namespace ftbench::train
