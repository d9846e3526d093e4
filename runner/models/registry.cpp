#include "runner/models/registry.h"

#include <memory>

#include "runner/base/error.h"
#include "runner/base/text.h"
#include "runner/models/families.h"

namespace ftbench::models {
namespace {

inline constexpr int64_t kImageNetClasses = 1000;

std::vector<ModelEntry> make_registry() {
  // The history of pretrained image models, in order: AlexNet (2012) -> VGG -> GoogLeNet/Inception -> ResNet
  // -> SqueezeNet -> DenseNet -> MobileNet/ShuffleNet/MnasNet/EfficientNet -> RegNet -> ViT/Swin/ConvNeXt.
  std::vector<ModelEntry> out;
  for (auto family : {alexnet_family, vgg_family, googlenet_family, inception_family, resnet_family,
                      squeezenet_family, densenet_family, mobilenet_family, shufflenet_family, mnasnet_family,
                      efficientnet_family, regnet_family, vit_family, swin_family, convnext_family}) {
    for (auto& entry : family()) out.push_back(std::move(entry));
  }
  return out;
}

}  // namespace

const std::vector<ModelEntry>& all_models() {
  static const std::vector<ModelEntry> registry = make_registry();
  return registry;
}

std::vector<std::string> model_names() {
  std::vector<std::string> names;
  for (const auto& entry : all_models()) names.push_back(entry.name);
  return names;
}

const ModelEntry& find_model(const std::string& name) {
  for (const auto& entry : all_models()) {
    if (entry.name == name) return entry;
  }
  const std::string closest = closest_match(name, model_names());
  throw InputError("unknown model '" + name + "'" + (closest.empty() ? "" : "; did you mean '" + closest + "'?") +
                   " Valid models: " + join_alternatives(model_names(), ", "));
}

Stage stage(const std::string& prefix) { return Stage{prefix, {prefix}}; }

void check_input_size(const ModelEntry& entry, int64_t input_size) {
  if (entry.exact_input_size && input_size != entry.native_input_size) {
    throw InputError("input_size " + std::to_string(input_size) + " does not fit " + entry.name + ", which takes " +
                     std::to_string(entry.native_input_size) + "x" + std::to_string(entry.native_input_size) +
                     " only; use input_size = \"model\"");
  }
  if (input_size < entry.min_input_size) {
    throw InputError("input_size " + std::to_string(input_size) + " is below " + entry.name + "'s minimum of " +
                     std::to_string(entry.min_input_size) + "; use input_size >= " +
                     std::to_string(entry.min_input_size) + " or \"model\"");
  }
}

ClassifierPtr build_model(const std::string& name, int64_t num_classes) {
  const ModelEntry& entry = find_model(name);
  // Built as torchvision builds it for ImageNet, then given a new head: the same path as fine-tuning from
  // pretrained weights, so parameter names and initialisation match torchvision's.
  ClassifierPtr model = entry.build(kImageNetClasses);
  if (num_classes != kImageNetClasses) model->replace_head(num_classes);
  return model;
}

int64_t count_parameters(const torch::nn::Module& module, bool trainable_only) {
  int64_t total = 0;
  for (const auto& p : module.parameters(/*recurse=*/true)) {
    if (!trainable_only || p.requires_grad()) total += p.numel();
  }
  return total;
}

bool under_prefix(const std::string& name, const std::string& prefix) {
  return name == prefix || (name.size() > prefix.size() && name.compare(0, prefix.size(), prefix) == 0 &&
                            name[prefix.size()] == '.');
}

}  // namespace ftbench::models
