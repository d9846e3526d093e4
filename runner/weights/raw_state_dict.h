// weights::RawStateDict: what a weight file holds, as the torch-free parsers see it: named strided tensors
// over storages, each storage a run of bytes in the file (or a zip record still to be read).
//
// Every tensor has been checked to lie inside its storage, and every storage inside the file, before a
// RawStateDict is returned; tensor_bridge.h turns one into at::Tensors.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "runner/weights/bytes.h"
#include "runner/weights/dtype.h"

namespace ftbench::weights {

struct RawStorage {
  std::string key;     // the file's own name for it (torch storage key, or the tensor name in safetensors)
  uint64_t nbytes = 0;
  ByteSpan bytes;      // located bytes (legacy, safetensors): size == nbytes
  std::string record;  // or the zip record that holds them (torch zip), read when tensors are made
  bool used = false;   // some tensor of the state dict refers to it (checkpoints hold storages we skip)
};

struct RawTensor {
  std::string name;
  DType dtype{};
  std::vector<int64_t> shape;
  std::vector<int64_t> strides;  // in elements
  int64_t storage_offset = 0;    // in elements
  std::size_t storage = 0;       // index into RawStateDict::storages
};

struct RawStateDict {
  std::string format;  // "torch.save zip", "torch.save legacy", "safetensors"
  std::vector<RawStorage> storages;
  std::vector<RawTensor> tensors;             // in file order
  std::map<std::string, std::string> metadata;  // safetensors __metadata__
};

}  // namespace ftbench::weights
