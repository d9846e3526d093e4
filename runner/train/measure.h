// Measuring training: device synchronisation at phase boundaries, peak memory, and the device's name.
//
// Phase times (data, forward, backward, communication, optimizer) are host wall clock. On a GPU kernels run
// asynchronously, so whoever times a phase waits for the compute stream at its boundaries
// (sync_compute_stream); on the CPU every op has finished when it returns, and the call does nothing.
//
// Peak memory is per process: on CUDA the caching allocator's peak allocated bytes on the device, on the CPU
// the peak resident set size (VmHWM). reset_peak_memory() starts a new window: on Linux, writing "5" to
// /proc/self/clear_refs resets VmHWM to the current RSS; where that is not possible the peak is the
// process's so far.
//
// Used by the trainer's epochs and by `ftbench bench`. Thread-safety: call from the training thread.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>
#include <string>

namespace ftbench::train {

// Waits until every kernel queued on `device`'s current stream has run; nothing on the CPU.
void sync_compute_stream(at::Device device);

// Starts a new peak-memory window for this process on `device`.
void reset_peak_memory(at::Device device);

// This process's peak memory on `device` since the last reset_peak_memory() (bytes; 0 if unknown).
int64_t peak_memory_bytes(at::Device device);

// "cpu (<model name>)" from /proc/cpuinfo for "cpu", else `device_name` (a GPU's name) unchanged.
std::string describe_device(const std::string& device_name);

}  // namespace ftbench::train
