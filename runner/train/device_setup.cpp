#include "runner/train/device_setup.h"

#include <ATen/Context.h>
#include <torch/types.h>

#include <cstdlib>

#include "runner/base/error.h"

namespace ftbench::train {

void check_recipes_for_device(const config::Experiment& experiment, at::Device device) {
  if (device.is_cuda()) return;
  for (const auto& run : experiment.runs) {
    if (run.train.precision != "bf16") continue;
    const bool from_train_table = experiment.train.precision == "bf16";
    throw InputError(experiment.source_path + ": " +
                     (from_train_table ? std::string("train.precision") : "[[runs]] train.precision of run " + run.id) +
                     " = \"bf16\" needs a CUDA GPU, but this job runs on " + device.str() +
                     " (ftbench trains bf16 with CUDA autocast only); set precision = \"fp32\", or run on GPU nodes");
  }
}

bool is_conv_net(const std::string& model) {
  return model.rfind("vit_", 0) != 0 && model.rfind("swin_", 0) != 0;
}

at::MemoryFormat resolve_memory_format(const std::string& setting, const std::string& model) {
  if (setting == "channels_last") return at::MemoryFormat::ChannelsLast;
  if (setting == "contiguous") return at::MemoryFormat::Contiguous;
  return is_conv_net(model) ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
}

namespace {

// `t` with the strides that `format` gives its sizes. Not t.contiguous(format): that returns `t` itself when
// it already counts as contiguous in `format`, and a tensor with a size-1 dimension counts as both. A
// depthwise weight [C, 1, 3, 3] then keeps its NCHW strides, suggests NCHW to oneDNN, and its convolution runs
// the slow NCHW im2col path (1.4x slower training for mobilenet_v2 on the CPU). Tensor::to with a memory
// format copies unless the suggested format already matches, as Module.to(memory_format=...) does in Python.
at::Tensor in_format(const at::Tensor& t, at::MemoryFormat format) {
  return t.to(t.options(), /*non_blocking=*/false, /*copy=*/false, format);
}

}  // namespace

void convert_memory_format(torch::nn::Module& module, at::MemoryFormat format) {
  torch::NoGradGuard no_grad;
  for (auto& p : module.parameters()) {
    if (p.dim() == 4) p.set_data(in_format(p.data(), format));
  }
  for (auto& b : module.buffers()) {
    if (b.dim() == 4) b.set_data(in_format(b.data(), format));
  }
}

void apply_determinism(bool deterministic) {
  auto& context = at::globalContext();
  context.setDeterministicAlgorithms(deterministic, /*warn_only=*/false);
  context.setDeterministicCuDNN(deterministic);
  context.setBenchmarkCuDNN(!deterministic);
}

std::string set_cublas_workspace_config(bool deterministic) {
  if (deterministic) setenv("CUBLAS_WORKSPACE_CONFIG", ":4096:8", /*overwrite=*/0);
  const char* value = std::getenv("CUBLAS_WORKSPACE_CONFIG");
  return value != nullptr ? value : "";
}

}  // namespace ftbench::train
