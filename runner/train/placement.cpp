#include "runner/train/placement.h"

#include <torch/cuda.h>

#include <algorithm>
#include <functional>

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

at::Device planned_device(const std::string& backend) {
#ifdef FTBENCH_HAVE_NCCL
  if (backend != "mpi" && torch::cuda::is_available() && torch::cuda::device_count() > 0) return {at::kCUDA, 0};
#else
  (void)backend;
#endif
  return at::Device(at::kCPU);
}

Placement place_rank(const dist::Runtime& runtime, const std::string& backend, double timeout_s) {
  Placement placement;
  int64_t gpus = 0;
#ifdef FTBENCH_HAVE_NCCL
  if (backend != "mpi") gpus = torch::cuda::is_available() ? static_cast<int64_t>(torch::cuda::device_count()) : 0;
#endif
  // Every rank must choose the same backend; a job spanning GPU and GPU-less nodes is refused here,
  // before the backends' collectives could mismatch.
  const auto sees_gpu = runtime.all_gather(gpus > 0 ? 1 : 0);
  for (std::size_t r = 0; r < sees_gpu.size(); ++r) {
    if (sees_gpu[r] != sees_gpu[0]) {
      throw InputError("rank " + std::to_string(r) + (sees_gpu[r] ? " sees a GPU but rank 0 does not"
                                                                    : " sees no GPU but rank 0 does") +
                       "; run all ranks on GPU nodes, or set [dist] backend = \"mpi\"");
    }
  }
  if (backend == "nccl" && gpus == 0) {
    throw InputError(std::string("[dist] backend = \"nccl\" but ") +
                     (nccl_built() ? "no GPU is visible on " + runtime.hostname()
                                   : "this ftbench was built without NCCL (-DFTBENCH_WITH_CUDA=OFF)") +
                     "; use backend = \"auto\" or \"mpi\"");
  }
#ifdef FTBENCH_HAVE_NCCL
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
    // Two ranks of one node on one physical GPU (e.g. each given CUDA_VISIBLE_DEVICES=0) would make NCCL
    // fail obscurely; compare the GPUs' UUIDs, with the host name, across ranks.
    const std::string identity = runtime.hostname() + "/" + std::string(props.uuid.bytes, sizeof props.uuid.bytes);
    const auto ids = runtime.all_gather(static_cast<int64_t>(std::hash<std::string>{}(identity)));
    for (int r = 0; r < runtime.size(); ++r) {
      if (r != runtime.rank() && ids[static_cast<std::size_t>(r)] == ids[static_cast<std::size_t>(runtime.rank())]) {
        throw InputError("ranks " + std::to_string(std::min(r, runtime.rank())) + " and " +
                         std::to_string(std::max(r, runtime.rank())) + " share one GPU (" + placement.device_name +
                         ") on " + runtime.hostname() + "; launch one rank per GPU and check CUDA_VISIBLE_DEVICES");
      }
    }
    placement.comm = std::make_unique<dist::NcclCommunicator>(device, timeout_s);
    return placement;
  }
#endif
  (void)runtime;
  (void)timeout_s;
  placement.device = at::Device(at::kCPU);
  placement.device_name = "cpu";
  placement.comm = std::make_unique<dist::MpiCommunicator>(timeout_s);
  return placement;
}

}  // namespace ftbench::train
