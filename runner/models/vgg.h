// VGG (Simonyan and Zisserman, 2014) exactly as torchvision builds it: configurations A, B, D and E (vgg11,
// vgg13, vgg16, vgg19), each with or without BatchNorm after every convolution (the _bn variants, a later
// addition the paper predates).
//
// Module names follow torchvision (features.0, features.1, ..., classifier.0, classifier.3, classifier.6), so
// torchvision's state dicts load key for key.
#pragma once

#include <vector>

#include "runner/models/classifier.h"

namespace ftbench::models {

// One entry of a VGG configuration: a 3x3 convolution's output channels, or kVggMaxPool for a 2x2/2 max pool.
inline constexpr int64_t kVggMaxPool = 0;

// features -> avgpool (7x7) -> classifier, whose entry 6 is the head.
class VGG : public PooledClassifier {
 public:
  VGG(const std::vector<int64_t>& config, bool batch_norm, int64_t num_classes, double dropout = 0.5);

  void replace_head(int64_t num_classes) override;
};

}  // namespace ftbench::models
