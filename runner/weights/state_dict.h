// weights::StateDict and read_state_dict: a weight file (torch.save zip or legacy, or safetensors) read
// into named CPU tensors, the file format detected from its content.
//
// This is the LibTorch-facing layer over the torch-free parsers: each storage becomes one c10 storage, and
// tensors are strided views of it exactly as in Python, so tensors that shared memory when saved share it
// here too. Nothing in the file is executed (unpickler.h), and every size is checked against the file
// before anything is allocated.
#pragma once

#include <ATen/core/Tensor.h>

#include <filesystem>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "runner/weights/raw_state_dict.h"
#include "runner/weights/torch_zip.h"

namespace ftbench::weights {

struct StateDict {
  std::string source;  // the file it came from, for messages
  std::string format;  // "torch.save zip", "torch.save legacy" or "safetensors"
  std::vector<std::pair<std::string, at::Tensor>> tensors;  // in file order, names without "module."
  std::map<std::string, std::string> metadata;              // safetensors __metadata__

  // The tensor called `name`, or nullptr.
  const at::Tensor* find(const std::string& name) const;
};

// Reads a weights file. Throws InputError("<path>: <problem>") for anything missing, malformed, truncated
// or refused.
StateDict read_state_dict(const std::filesystem::path& path);

// Makes tensors from a parsed file: storages with bytes are copied from them, storages with a `record` are
// read from `records` (which may be null when there are none). `where` names the file in errors.
StateDict make_state_dict(const RawStateDict& raw, RecordSource* records, const std::string& where);

}  // namespace ftbench::weights
