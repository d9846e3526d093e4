// write_safetensors: tensors to a .safetensors file (used by `weights convert`, `forward` and checkpoints).
#pragma once

#include <ATen/core/Tensor.h>

#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace ftbench::weights {

// Writes `tensors` in the given order (each copied to the CPU, contiguous; tensors that share memory are
// written separately, as safetensors requires), with optional string `metadata`. The file appears
// atomically: it is written beside `path` under a temporary name and renamed, so a reader never sees half
// a file. Throws InputError for unwritable names/dtypes or a missing directory, RuntimeError on I/O failure.
void write_safetensors(const std::filesystem::path& path, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata = {});

}  // namespace ftbench::weights
