// AlexNet (Krizhevsky, Sutskever and Hinton, 2012) exactly as torchvision builds it: the "one weird trick"
// variant (64-192-384-256-256 convolutions, no local response normalisation, one tower), whose weights
// torchvision ships as alexnet-owt.
//
// Module names follow torchvision (features.0, features.3, ..., classifier.1, classifier.4, classifier.6), so
// torchvision's state dicts load key for key.
#pragma once

#include "runner/models/classifier.h"

namespace ftbench::models {

// features -> avgpool (6x6) -> classifier, whose entry 6 is the head.
class AlexNet : public PooledClassifier {
 public:
  explicit AlexNet(int64_t num_classes, double dropout = 0.5);

  void replace_head(int64_t num_classes) override;
};

}  // namespace ftbench::models
