// Device-dependent parts of a training recipe: precision, memory format, cuDNN and determinism settings.
//
// - precision "bf16" is CUDA autocast (runner/train/step.h). On CPU it is refused before any training
//   (exit 2, naming the file and the key): CPU runs are fp32 only.
// - memory_format "auto": channels_last for conv nets, on CUDA (cuDNN's NHWC kernels) and on the CPU alike
//   (oneDNN's NHWC kernels matched or beat its NCHW im2col path for every zoo conv net measured, by up to 2x;
//   tests/bench/RESULTS.md). Every zoo model is a conv net except the transformers vit_* and swin_* (their
//   convolution is one patch embedding; the rest is matmuls on token sequences, which channels_last cannot
//   help).
// - cuDNN benchmark mode on unless [experiment] deterministic; deterministic runs use deterministic
//   algorithms (cuDNN included) and need CUBLAS_WORKSPACE_CONFIG set before CUDA initialises
//   (set_cublas_workspace_config, called by `ftbench run` before the first CUDA call).
#pragma once

#include <ATen/core/Tensor.h>
#include <c10/core/MemoryFormat.h>
#include <torch/nn/module.h>

#include <string>

#include "runner/config/config.h"

namespace ftbench::train {

// Throws InputError naming the experiment file and the key when a run asks for what `device` cannot do
// (bf16 on CPU). Call on every rank after placement, before training, so that all ranks exit 2 together.
void check_recipes_for_device(const config::Experiment& experiment, at::Device device);

// True for every zoo model but the vision transformers (vit_*, swin_*).
bool is_conv_net(const std::string& model);

// The memory format a run trains in: "channels_last" and "contiguous" as given; "auto" is channels_last for
// conv nets (on every device) and contiguous for the transformers.
at::MemoryFormat resolve_memory_format(const std::string& setting, const std::string& model);

// Puts every 4-D parameter and buffer of `module` in `format` (Module::to does not take a memory format).
void convert_memory_format(torch::nn::Module& module, at::MemoryFormat format);

// Global LibTorch settings for an experiment: deterministic algorithms, cuDNN determinism and benchmark mode.
void apply_determinism(bool deterministic);

// With `deterministic`, sets CUBLAS_WORKSPACE_CONFIG=:4096:8 unless the user set it; must run before CUDA
// initialises (cuBLAS reads it when it creates its handle). Returns the value in effect ("" when unset).
std::string set_cublas_workspace_config(bool deterministic);

}  // namespace ftbench::train
