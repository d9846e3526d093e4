// The registry's families: one function per architecture family, each defined in that family's file. The
// registry (registry.cpp) is their concatenation, in the order of the history of pretrained image models.
#pragma once

#include <vector>

#include "runner/models/registry.h"

namespace ftbench::models {

std::vector<ModelEntry> alexnet_family();       // alexnet.cpp: alexnet
std::vector<ModelEntry> vgg_family();           // vgg.cpp: vgg11/13/16/19 and their _bn variants
std::vector<ModelEntry> googlenet_family();     // googlenet.cpp: googlenet
std::vector<ModelEntry> inception_family();     // inception.cpp: inception_v3
std::vector<ModelEntry> resnet_family();        // resnet.cpp: resnet18/34/50/101/152, resnext50_32x4d, wide_resnet50_2
std::vector<ModelEntry> squeezenet_family();    // squeezenet.cpp: squeezenet1_1
std::vector<ModelEntry> densenet_family();      // densenet.cpp: densenet121/161/169/201
std::vector<ModelEntry> mobilenet_family();     // mobilenet.cpp: mobilenet_v2, mobilenet_v3_small/large
std::vector<ModelEntry> shufflenet_family();    // shufflenet.cpp: shufflenet_v2_x1_0
std::vector<ModelEntry> mnasnet_family();       // mnasnet.cpp: mnasnet1_0
std::vector<ModelEntry> efficientnet_family();  // efficientnet.cpp: efficientnet_b0 to b3
std::vector<ModelEntry> regnet_family();        // regnet.cpp: regnet_y_400mf, regnet_y_800mf
std::vector<ModelEntry> vit_family();           // vit.cpp: vit_b_16
std::vector<ModelEntry> swin_family();          // swin.cpp: swin_t
std::vector<ModelEntry> convnext_family();      // convnext.cpp: convnext_tiny

}  // namespace ftbench::models
