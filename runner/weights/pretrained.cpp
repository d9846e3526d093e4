#include "runner/weights/pretrained.h"

#include <regex>

#include "runner/base/error.h"
#include "runner/weights/lookup.h"
#include "runner/weights/sha256.h"
#include "runner/weights/state_dict.h"

namespace ftbench::weights {

std::filesystem::path resolve_weights(const std::string& weights, const models::ModelEntry& model,
                                      const std::string& extra_dir) {
  if (weights == "torchvision") {
    if (model.weights_file.empty()) {
      throw InputError("model " + model.name + " has no torchvision ImageNet weights; use weights = \"none\" or a path");
    }
    return find_torchvision_file(model.name, model.weights_file, extra_dir);
  }
  if (weights.empty() || weights == "none") {
    throw InputError("weights = \"" + weights + "\" names no file (\"none\" means random initialisation)");
  }
  std::error_code ec;
  if (!std::filesystem::is_regular_file(weights, ec)) {
    throw InputError(weights + ": weights file not found; `weights` must be \"torchvision\", \"none\" or the path of a "
                               ".pth, .pt or .safetensors file");
  }
  return weights;
}

bool is_torchvision_file_name(const std::filesystem::path& path) {
  const std::string name = path.filename().string();
  for (const auto& entry : models::all_models()) {
    if (!entry.weights_file.empty() && entry.weights_file == name) return true;
  }
  return false;
}

void rename_legacy_densenet_keys(StateDict& state) {
  // "denselayer1.norm.1.weight" -> "denselayer1.norm1.weight": the names of torchvision's DenseNet weight
  // files predate its module names (torchvision renames them the same way when it loads them).
  static const std::regex legacy(R"(^(.*denselayer\d+\.(?:norm|relu|conv))\.((?:[12])\.(?:weight|bias|running_mean|running_var|num_batches_tracked))$)");
  for (auto& [name, tensor] : state.tensors) {
    std::smatch m;
    if (std::regex_match(name, m, legacy)) name = m[1].str() + m[2].str();
  }
}

PretrainedWeights load_pretrained(torch::nn::Module& model, const models::ModelEntry& entry,
                                  const std::string& weights, const std::string& extra_dir, bool strict) {
  PretrainedWeights out;
  out.path = resolve_weights(weights, entry, extra_dir);
  out.sha256 = sha256_file(out.path);
  if (weights == "torchvision" || is_torchvision_file_name(out.path)) {
    check_hash_prefix(out.path, out.sha256,
                      "Delete it and fetch it again: scripts/fetch_weights.sh " + entry.name);
  }
  StateDict state = read_state_dict(out.path);
  rename_legacy_densenet_keys(state);
  out.format = state.format;
  out.report = load_state_dict(model, state, entry.head, strict);
  return out;
}

PretrainedWeights check_pretrained(const models::ModelEntry& entry, const std::string& weights,
                                   const std::string& extra_dir, bool strict, int64_t num_classes) {
  const models::ClassifierPtr model = models::build_model(entry.name, num_classes);  // as the trainer builds it
  return load_pretrained(*model, entry, weights, extra_dir, strict);
}

}  // namespace ftbench::weights
