#include "runner/weights/lookup.h"

#include <cstdlib>

#include "runner/base/error.h"

namespace ftbench::weights {
namespace {

std::string env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

}  // namespace

std::vector<SearchDir> torchvision_search_dirs(const std::string& extra_dir) {
  std::vector<SearchDir> dirs;
  auto add = [&](const std::string& label, const std::filesystem::path& dir) {
    for (const auto& d : dirs) {
      if (d.dir == dir) return;
    }
    dirs.push_back({label, dir});
  };
  if (!env("TORCH_HOME").empty()) add("$TORCH_HOME/hub/checkpoints", std::filesystem::path(env("TORCH_HOME")) / "hub" / "checkpoints");
  if (!env("XDG_CACHE_HOME").empty()) {
    add("$XDG_CACHE_HOME/torch/hub/checkpoints", std::filesystem::path(env("XDG_CACHE_HOME")) / "torch" / "hub" / "checkpoints");
  }
  if (!env("HOME").empty()) add("~/.cache/torch/hub/checkpoints", std::filesystem::path(env("HOME")) / ".cache" / "torch" / "hub" / "checkpoints");
  if (!extra_dir.empty()) add("[weights] dir", extra_dir);
  return dirs;
}

std::filesystem::path find_torchvision_file(const std::string& model, const std::string& file_name,
                                            const std::string& extra_dir) {
  const std::vector<SearchDir> dirs = torchvision_search_dirs(extra_dir);
  std::string looked;
  for (const auto& d : dirs) {
    const std::filesystem::path candidate = d.dir / file_name;
    std::error_code ec;
    if (std::filesystem::is_regular_file(candidate, ec)) return candidate;
    looked += (looked.empty() ? "" : ", ") + d.dir.string() + " (" + d.label + ")";
  }
  throw InputError("torchvision weights for " + model + " not found: no " + file_name + " in " +
                   (looked.empty() ? std::string("any directory (set TORCH_HOME or [weights] dir)") : looked) +
                   ". Fetch it on a machine with internet with `scripts/fetch_weights.sh " + model +
                   "` and copy it into one of these directories, or set [weights] dir");
}

std::optional<std::string> hash_prefix_in_name(const std::string& file_name) {
  const std::string base = std::filesystem::path(file_name).filename().string();
  const std::size_t dot = base.find('.', base.rfind('-') == std::string::npos ? 0 : base.rfind('-'));
  const std::size_t dash = base.rfind('-');
  if (dash == std::string::npos || dot == std::string::npos || dot <= dash + 1) return std::nullopt;
  const std::string hex = base.substr(dash + 1, dot - dash - 1);
  if (hex.size() < 8 || hex.size() > 64 || hex.find_first_not_of("0123456789abcdef") != std::string::npos) {
    return std::nullopt;
  }
  return hex;
}

void check_hash_prefix(const std::filesystem::path& path, const std::string& sha256, const std::string& fix) {
  const auto prefix = hash_prefix_in_name(path.string());
  if (prefix && sha256.rfind(*prefix, 0) != 0) {
    throw InputError(path.string() + ": sha256 is " + sha256.substr(0, 16) + "..., but the name says it starts with " +
                     *prefix + ": the file is incomplete or corrupt. " + fix);
  }
}

}  // namespace ftbench::weights
