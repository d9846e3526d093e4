// Access to the files make_fixtures.py wrote (FTBENCH_WEIGHTS_FIXTURES, set by CTest) and the Python
// reference values of each good file.
#pragma once

#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <vector>

#include "runner/weights/state_dict.h"

namespace ftbench::weights::testing {

std::filesystem::path fixtures_dir();
nlohmann::json read_json(const std::filesystem::path& path);

// One tensor as Python saw it: dtype name ("float32"), shape and its contiguous bytes.
struct Expected {
  std::string name;
  std::string dtype;
  std::vector<int64_t> shape;
  std::string bytes;
};

// The reference `ref` (good/<ref>.json + .bin), in file order.
std::vector<Expected> reference(const std::string& ref);

// The contiguous bytes of a CPU tensor.
std::string bytes_of(const at::Tensor& t);

// Removes a directory tree. Not std::filesystem::remove_all: libtorch.so exports its own copy of that
// symbol, which wins the dynamic lookup in torch-linked binaries and crashes (torch 2.11 wheel).
void remove_tree(const std::filesystem::path& dir);

// "float32" etc. for a tensor.
std::string dtype_of(const at::Tensor& t);

}  // namespace ftbench::weights::testing
