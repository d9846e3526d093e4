// ResNets against torchvision: the same parameter and buffer names, in the same order, with the same
// shapes; and the parameter counts the foundation issue names.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cstdlib>
#include <fstream>

#include "runner/base/error.h"
#include "runner/models/registry.h"
#include "runner/models/resnet.h"

namespace ftbench::models {
namespace {

nlohmann::json torchvision_reference() {
  const char* path = std::getenv("FTBENCH_TORCHVISION_NAMES");
  if (path == nullptr) throw std::runtime_error("FTBENCH_TORCHVISION_NAMES is not set (CTest sets it)");
  std::ifstream in(path);
  if (!in) throw std::runtime_error(std::string("cannot read ") + path);
  return nlohmann::json::parse(in);
}

std::vector<std::pair<std::string, std::vector<int64_t>>> shapes(
    const std::vector<std::pair<std::string, at::Tensor>>& named) {
  std::vector<std::pair<std::string, std::vector<int64_t>>> out;
  for (const auto& [name, tensor] : named) out.emplace_back(name, tensor.sizes().vec());
  return out;
}

std::vector<std::pair<std::string, std::vector<int64_t>>> shapes(const nlohmann::json& object) {
  std::vector<std::pair<std::string, std::vector<int64_t>>> out;
  // nlohmann::json sorts object keys; torchvision's order is not needed, the C++ side is sorted too.
  for (const auto& [name, shape] : object.items()) out.emplace_back(name, shape.get<std::vector<int64_t>>());
  return out;
}

template <typename Items>
std::vector<std::pair<std::string, at::Tensor>> to_pairs(const Items& items) {
  std::vector<std::pair<std::string, at::Tensor>> out;
  for (const auto& item : items) out.emplace_back(item.key(), item.value());
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  return out;
}

class MatchesTorchvision : public ::testing::TestWithParam<std::string> {};

TEST_P(MatchesTorchvision, ParameterAndBufferNamesAndShapes) {
  const std::string spec = GetParam();
  const std::string name = spec.substr(0, spec.find(':'));
  const int64_t classes = std::stoll(spec.substr(spec.find(':') + 1));
  const nlohmann::json reference = torchvision_reference().at(spec);

  const ClassifierPtr model = build_model(name, classes);
  EXPECT_EQ(shapes(to_pairs(model->named_parameters())), shapes(reference.at("params")));
  EXPECT_EQ(shapes(to_pairs(model->named_buffers())), shapes(reference.at("buffers")));
}

INSTANTIATE_TEST_SUITE_P(ResNets, MatchesTorchvision,
                         ::testing::Values("resnet18:10", "resnet18:1000", "resnet34:10", "resnet50:10",
                                           "resnet101:1000", "resnet152:10"),
                         [](const auto& param_info) {
                           std::string n = param_info.param;
                           std::replace(n.begin(), n.end(), ':', '_');
                           return n;
                         });

TEST(ResNet18, ParameterCountsFor1000And10Classes) {
  EXPECT_EQ(count_parameters(*build_model("resnet18", 1000)), 11689512);
  EXPECT_EQ(count_parameters(*build_model("resnet18", 10)), 11181642);
  EXPECT_EQ(count_parameters(*build_model("resnet18", 10), /*trainable_only=*/true), 11181642);
}

TEST(ResNet18, ForwardShapesAtCifarAndImageNetSizes) {
  const ClassifierPtr model = build_model("resnet18", 10);
  model->eval();
  EXPECT_EQ(model->forward(at::randn({2, 3, 32, 32})).sizes(), (std::vector<int64_t>{2, 10}));
  EXPECT_EQ(model->forward(at::randn({1, 3, 224, 224})).sizes(), (std::vector<int64_t>{1, 10}));
}

TEST(ResNet18, BlocksUseIdentityOrProjectionShortcutsLikeTorchvision) {
  const auto model = std::dynamic_pointer_cast<ResNet>(build_model("resnet18", 10));
  ASSERT_NE(model, nullptr);
  // Stage 1 keeps 64 channels at stride 1: identity shortcuts. Stages 2-4 open with a strided 1x1
  // projection, because their first block halves the resolution and doubles the channels.
  EXPECT_FALSE(model->layer1[0]->as<BasicBlock>()->downsample);
  EXPECT_TRUE(model->layer2[0]->as<BasicBlock>()->downsample);
  EXPECT_FALSE(model->layer2[1]->as<BasicBlock>()->downsample);
}

TEST(Registry, UnknownModelIsBadInputWithSuggestion) {
  try {
    find_model("resnet81");
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("did you mean 'resnet18'?"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("resnet50"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace ftbench::models
