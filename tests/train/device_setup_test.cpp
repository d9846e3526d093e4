// Device-dependent recipe settings: memory format resolution and conversion, bf16 refused on CPU with the
// file and the key, CUBLAS_WORKSPACE_CONFIG for deterministic runs.
#include <ATen/Functions.h>
#include <gtest/gtest.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <cstdlib>

#include "runner/base/error.h"
#include "runner/models/registry.h"
#include "runner/train/device_setup.h"
#include "runner/train/optimizer.h"
#include "runner/train/step.h"
#include "runner/train/strategy.h"

namespace ftbench::train {
namespace {

const at::Device kCpu(at::kCPU);
const at::Device kCuda(at::kCUDA, 0);  // only compared, never used

TEST(MemoryFormat, AutoIsChannelsLastForConvNets) {
  EXPECT_EQ(resolve_memory_format("auto", "resnet18"), at::MemoryFormat::ChannelsLast);
  EXPECT_EQ(resolve_memory_format("auto", "convnext_tiny"), at::MemoryFormat::ChannelsLast);
  EXPECT_EQ(resolve_memory_format("auto", "vit_b_16"), at::MemoryFormat::Contiguous);
  EXPECT_EQ(resolve_memory_format("auto", "swin_t"), at::MemoryFormat::Contiguous);
  EXPECT_EQ(resolve_memory_format("channels_last", "vit_b_16"), at::MemoryFormat::ChannelsLast);
  EXPECT_EQ(resolve_memory_format("contiguous", "resnet18"), at::MemoryFormat::Contiguous);
  for (const auto& name : models::model_names()) {
    EXPECT_EQ(is_conv_net(name), name != "vit_b_16" && name != "swin_t") << name;
  }
}

// Depthwise [C, 1, 3, 3] and 1x1 [O, I, 1, 1] weights count as contiguous in both formats; after the
// conversion they must also suggest channels_last, which is what oneDNN goes by (else it picks its slow NCHW
// path for them).
TEST(MemoryFormat, ConversionGivesDepthwiseAndPointwiseWeightsChannelsLastStrides) {
  auto model = models::build_model("mobilenet_v2", 10);
  int depthwise = 0, pointwise = 0;
  for (const auto& p : model->parameters()) {
    if (p.dim() == 4 && p.size(1) == 1) ++depthwise;
    if (p.dim() == 4 && p.size(2) == 1 && p.size(3) == 1) ++pointwise;
  }
  ASSERT_GT(depthwise, 10);
  ASSERT_GT(pointwise, 10);
  convert_memory_format(*model, at::MemoryFormat::ChannelsLast);
  for (const auto& p : model->parameters()) {
    if (p.dim() == 4) {
      EXPECT_EQ(p.suggest_memory_format(), at::MemoryFormat::ChannelsLast) << p.sizes() << " " << p.strides();
    }
  }
}

// One SGD step of resnet18 on a fixed batch, in `format`: the update of every parameter.
std::vector<at::Tensor> one_step_update(at::MemoryFormat format) {
  torch::manual_seed(5);
  auto model = models::build_model("resnet18", 10);
  convert_memory_format(*model, format);
  for (const auto& p : model->parameters()) {
    if (p.dim() == 4) {
      EXPECT_TRUE(p.is_contiguous(format)) << p.sizes();
      EXPECT_EQ(p.suggest_memory_format(), format) << p.sizes();
    }
  }
  std::vector<at::Tensor> before;
  for (const auto& p : model->parameters()) before.push_back(p.detach().clone());
  Strategy strategy("full", models::find_model("resnet18"), *model);
  strategy.apply(1);
  const config::TrainConfig t;
  const auto groups = make_param_groups(strategy, t);
  auto optimizer = make_optimizer(groups, t);
  model->train();
  Stepper stepper(*model, *optimizer, StepOptions{});
  StepTotals totals{at::zeros({1}, at::kDouble), at::zeros({1}, at::kLong)};
  const MicroBatch batch{at::randn({8, 3, 64, 64}).contiguous(format), at::randint(0, 10, {8}, at::kLong)};
  stepper.step(1, [&](int64_t) { return batch; }, 8, totals);
  std::vector<at::Tensor> update;
  const auto params = model->parameters();
  for (std::size_t i = 0; i < params.size(); ++i) update.push_back(params[i].detach().contiguous() - before[i]);
  return update;
}

// The same step in either layout, up to float32 summation order (convolutions sum in another order).
TEST(MemoryFormat, ChannelsLastTrainsTheSameModel) {
  const auto nchw = one_step_update(at::MemoryFormat::Contiguous);
  const auto nhwc = one_step_update(at::MemoryFormat::ChannelsLast);
  ASSERT_EQ(nchw.size(), nhwc.size());
  for (std::size_t i = 0; i < nchw.size(); ++i) {
    const double scale = nchw[i].abs().max().item<double>();
    const double diff = (nchw[i] - nhwc[i]).abs().max().item<double>();
    EXPECT_GT(scale, 0) << "parameter " << i << " did not move";
    EXPECT_LE(diff, 1e-3 * scale) << "parameter " << i << ": update differs by " << diff << " of " << scale;
  }
}

config::Experiment experiment_with(const std::string& train_precision, const std::string& run_precision) {
  config::Experiment e;
  e.source_path = "experiments/x.toml";
  e.train.precision = train_precision;
  config::RunSpec run;
  run.id = "resnet18-full-s0";
  run.train.precision = run_precision;
  e.runs.push_back(run);
  return e;
}

TEST(Precision, Bf16IsRefusedOnCpuNamingTheFileAndTheKey) {
  try {
    check_recipes_for_device(experiment_with("bf16", "bf16"), kCpu);
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    const std::string message = e.what();
    EXPECT_EQ(message.rfind("experiments/x.toml: train.precision = \"bf16\" needs a CUDA GPU", 0), 0u) << message;
    EXPECT_NE(message.find("set precision = \"fp32\""), std::string::npos) << message;
    EXPECT_EQ(e.code(), ExitCode::kBadInput);
  }
  // Set only in a [[runs]] table: the message names the run.
  try {
    check_recipes_for_device(experiment_with("fp32", "bf16"), kCpu);
    FAIL() << "expected an InputError";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("[[runs]] train.precision of run resnet18-full-s0"), std::string::npos)
        << e.what();
  }
  EXPECT_NO_THROW(check_recipes_for_device(experiment_with("bf16", "bf16"), kCuda));
  EXPECT_NO_THROW(check_recipes_for_device(experiment_with("fp32", "fp32"), kCpu));
}

TEST(Determinism, CublasWorkspaceConfigIsSetUnlessTheUserSetIt) {
  unsetenv("CUBLAS_WORKSPACE_CONFIG");
  EXPECT_EQ(set_cublas_workspace_config(false), "");
  EXPECT_EQ(set_cublas_workspace_config(true), ":4096:8");
  setenv("CUBLAS_WORKSPACE_CONFIG", ":16:8", 1);
  EXPECT_EQ(set_cublas_workspace_config(true), ":16:8");  // also deterministic; the user's choice stays
  unsetenv("CUBLAS_WORKSPACE_CONFIG");
}

}  // namespace
}  // namespace ftbench::train
