#include "runner/models/registry.h"

#include <memory>

#include "runner/base/error.h"
#include "runner/base/text.h"
#include "runner/models/resnet.h"

namespace ftbench::models {
namespace {

inline constexpr int64_t kImageNetClasses = 1000;

ModelEntry resnet_entry(const std::string& name, BlockKind block, std::vector<int64_t> layers,
                        const std::string& weights_file, const std::string& note) {
  ModelEntry entry;
  entry.name = name;
  entry.build = [block, layers](int64_t num_classes) -> ClassifierPtr {
    return std::make_shared<ResNet>(block, layers, num_classes);
  };
  entry.native_input_size = 224;
  entry.min_input_size = 32;
  entry.head = {"fc"};
  entry.stages = {"conv1", "bn1", "layer1", "layer2", "layer3", "layer4", "fc"};
  entry.weights_file = weights_file;
  entry.note = note;
  return entry;
}

std::vector<ModelEntry> make_registry() {
  return {
      resnet_entry("resnet18", BlockKind::kBasic, {2, 2, 2, 2}, "resnet18-f37072fd.pth",
                   "ResNet (2015): identity shortcuts (out += identity) make deep nets trainable; 18 layers"),
      resnet_entry("resnet34", BlockKind::kBasic, {3, 4, 6, 3}, "resnet34-b627a593.pth",
                   "ResNet (2015) with 34 layers of BasicBlocks"),
      resnet_entry("resnet50", BlockKind::kBottleneck, {3, 4, 6, 3}, "resnet50-0676ba61.pth",
                   "ResNet (2015) with 1x1-3x3-1x1 Bottleneck blocks; the standard transfer-learning backbone"),
      resnet_entry("resnet101", BlockKind::kBottleneck, {3, 4, 23, 3}, "resnet101-63fe2227.pth",
                   "ResNet (2015), 101 layers"),
      resnet_entry("resnet152", BlockKind::kBottleneck, {3, 8, 36, 3}, "resnet152-394f9c45.pth",
                   "ResNet (2015), 152 layers: the ILSVRC 2015 winner's depth"),
  };
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

}  // namespace ftbench::models
