// The entry point for the trainer and the CLI: from the config's `weights` value to a loaded model.
//
//   weights = "torchvision"  the registry's file name (e.g. resnet18-f37072fd.pth) in torchvision's cache or
//                            `[weights] dir` (lookup.h)
//   weights = "<path>"       a .pth / .pt / .safetensors file
//   weights = "none"         the caller's business: random initialisation, nothing to load
//
// The file's sha256 is always computed (record it with the run). For torchvision's own file names it must
// start with the hash prefix the name carries.
#pragma once

#include <torch/nn/module.h>

#include <filesystem>
#include <string>

#include "runner/models/registry.h"
#include "runner/weights/load.h"

namespace ftbench::weights {

struct PretrainedWeights {
  std::filesystem::path path;  // the file that was loaded
  std::string sha256;          // of the whole file, lowercase hex
  std::string format;          // "torch.save zip", "torch.save legacy" or "safetensors"
  LoadReport report;
};

// The file `weights` ("torchvision" or a path) stands for. Throws InputError when there is none (see
// find_torchvision_file for the message). Cheap: use it to validate a config before training starts.
std::filesystem::path resolve_weights(const std::string& weights, const models::ModelEntry& model,
                                      const std::string& extra_dir);

// True when `path` is named like one of the registry's torchvision files, whose hash prefix is checked.
bool is_torchvision_file_name(const std::filesystem::path& path);

// torchvision's DenseNet files name their layers "denselayer1.norm.1.weight"; the modules are "norm1". Renames
// such keys in place (other keys are left alone).
void rename_legacy_densenet_keys(StateDict& state);

// resolve_weights, sha256 (+ the hash-prefix check), read_state_dict, load_state_dict(model.head, strict).
// Throws InputError for anything the user can fix: missing file, corrupt file, refused pickle, weights
// that do not fit (strict).
PretrainedWeights load_pretrained(torch::nn::Module& model, const models::ModelEntry& entry,
                                  const std::string& weights, const std::string& extra_dir, bool strict = true);

// Everything load_pretrained checks, on a model of `num_classes` outputs built for the purpose and dropped:
// for `ftbench run` to call on rank 0 before training starts, so that a corrupt, truncated, refused or
// misfitting file ends every rank with exit 2 (a failure inside the trainer ends the job with MPI_Abort).
// Unlike resolve_weights it reads the whole file and builds the model: seconds for the largest models.
PretrainedWeights check_pretrained(const models::ModelEntry& entry, const std::string& weights,
                                   const std::string& extra_dir, bool strict, int64_t num_classes);

}  // namespace ftbench::weights
