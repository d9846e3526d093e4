// Where torchvision's ImageNet weights are found, and the check of the hash prefix in their names.
//
// torchvision caches downloads in $TORCH_HOME/hub/checkpoints (TORCH_HOME defaults to
// $XDG_CACHE_HOME/torch, else ~/.cache/torch) under fixed names such as resnet18-f37072fd.pth. Compute nodes
// usually have no internet, so ftbench never downloads: it looks there, then in the experiment's
// `[weights] dir`, and otherwise says which file it needs and how to fetch it.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace ftbench::weights {

struct SearchDir {
  std::string label;  // how the user set it, e.g. "$TORCH_HOME/hub/checkpoints"
  std::filesystem::path dir;
};

// The directories searched for torchvision's files, in order, without duplicates:
// $TORCH_HOME/hub/checkpoints, $XDG_CACHE_HOME/torch/hub/checkpoints, ~/.cache/torch/hub/checkpoints, and
// `extra_dir` when it is not empty.
std::vector<SearchDir> torchvision_search_dirs(const std::string& extra_dir);

// The first `file_name` found in torchvision_search_dirs. Otherwise throws InputError with the exact file
// name, every place looked, and the command that fetches it (scripts/fetch_weights.sh MODEL).
std::filesystem::path find_torchvision_file(const std::string& model, const std::string& file_name,
                                            const std::string& extra_dir);

// torchvision's names end in "-<first hex digits of the sha256>.<ext>" (resnet18-f37072fd.pth -> "f37072fd").
// nullopt when `file_name` has no such suffix (at least 8 lowercase hex digits).
std::optional<std::string> hash_prefix_in_name(const std::string& file_name);

// Throws InputError when the name of `path` carries a hash prefix that `sha256` does not start with: the
// file is incomplete or corrupt. `fix` is appended to the message (e.g. the fetch command).
void check_hash_prefix(const std::filesystem::path& path, const std::string& sha256, const std::string& fix);

}  // namespace ftbench::weights
