// models::Registry: every architecture ftbench can train, by its torchvision name.
//
// An entry holds what the rest of ftbench needs to know about a model without building it: its native and
// minimum input size, its classification head(s), its stages (for freezing strategies), torchvision's
// ImageNet weight file name, and a one-line note on its place in the history of pretrained image models.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "runner/models/classifier.h"

namespace ftbench::models {

// A stage for freezing strategies: a name users write (`freeze:layer2`) and the parameter-name prefixes it
// covers (resnet's "layer2" is one prefix; vgg's "block2" is the convolutions features.5 and features.7).
struct Stage {
  std::string name;
  std::vector<std::string> prefixes;
};

struct ModelEntry {
  std::string name;                       // torchvision's name, e.g. "resnet18"
  std::function<ClassifierPtr(int64_t)> build;  // builds with `num_classes` outputs, torchvision's init
  int64_t native_input_size = 224;        // what its ImageNet weights were trained at
  int64_t min_input_size = 32;            // smallest input ftbench accepts for it
  bool exact_input_size = false;          // true when only native_input_size works (vit_b_16: 224)
  std::vector<std::string> head;          // parameter prefixes replaced for a new number of classes
  std::vector<Stage> stages;              // ordered input to output; every parameter is in exactly one
  std::vector<double> aux_loss_weights;   // one per auxiliary head (inception_v3: 0.4; googlenet: 0.3, 0.3)
  std::string weights_file;               // torchvision's ImageNet weights, e.g. "resnet18-f37072fd.pth"
  std::string note;                       // one line of history
};

// A stage that is a single module: Stage{prefix, {prefix}}.
Stage stage(const std::string& prefix);

// All registered models, in a stable order (the order `inspect` and error messages list them).
const std::vector<ModelEntry>& all_models();

// Names of all registered models.
std::vector<std::string> model_names();

// The entry for `name`; throws InputError listing the valid names and the closest one.
const ModelEntry& find_model(const std::string& name);

// Builds `name` and replaces its head for `num_classes` (no replacement when num_classes is 1000).
ClassifierPtr build_model(const std::string& name, int64_t num_classes);

// Checks an input size against the entry's limits; throws InputError naming the minimum (or the exact size).
void check_input_size(const ModelEntry& entry, int64_t input_size);

// Whether parameter `name` lies under the module path `prefix` (a stage's or the head's): "layer1" covers
// "layer1.0.conv1.weight", not "layer10.weight"; "fc" covers "fc" and "fc.weight", not "fc2.weight".
bool under_prefix(const std::string& name, const std::string& prefix);

// Parameter counts of a built model.
int64_t count_parameters(const torch::nn::Module& module, bool trainable_only = false);

}  // namespace ftbench::models
