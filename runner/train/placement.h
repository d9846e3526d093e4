// Where a rank runs: its device and its communicator.
//
// One rank per GPU: rank with local rank L uses visible GPU L (CUDA_VISIBLE_DEVICES is respected, since
// CUDA numbers only the visible devices) and the NCCL backend. Without a usable GPU, or in a build without
// the NCCL backend, every rank runs on the CPU with the MPI backend.
#pragma once

#include <ATen/core/Tensor.h>

#include <memory>
#include <string>

#include "dist/communicator.h"
#include "dist/runtime.h"

namespace ftbench::train {

struct Placement {
  at::Device device{at::kCPU};
  std::unique_ptr<dist::Communicator> comm;
  std::string device_name;  // "cpu" or the GPU's name, for results provenance
};

// Collective. `backend` is [dist] backend: "auto" (NCCL when this build has it and a GPU is visible, else
// MPI on the CPU), "nccl" (an InputError without a GPU or NCCL), or "mpi" (CPU, even where GPUs exist).
// Throws InputError when a node has more ranks than visible GPUs (the fix: one rank per GPU).
Placement place_rank(const dist::Runtime& runtime, const std::string& backend, double timeout_s);

// The device type place_rank() will choose for `backend` on this node (cuda:0 stands for any GPU), without
// creating a CUDA context: for checks that must fail before anything is set up. Not collective.
at::Device planned_device(const std::string& backend);

// Whether this build has the NCCL backend, and NCCL's version ("not built" otherwise).
bool nccl_built();
std::string nccl_version();

}  // namespace ftbench::train
