// The per-step data pipeline: uint8 images in, a normalised float batch out, on the run's device.
//
// gather the batch -> (train) random crop with 4 px zero padding and horizontal flip, per sample ->
// float in [0, 1] -> bilinear resize to the input size -> ImageNet mean/std normalisation.
//
// The crop offsets and flips of a sample are a function of (seed, epoch, global sample index) only, so a
// sample is augmented identically whichever rank sees it, at any world size.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace ftbench::train {

struct BatchSpec {
  int64_t input_size = 32;  // output side in pixels
  bool augment = false;     // crop + flip (training only)
  int64_t seed = 0;
  int64_t epoch = 0;
};

// `images`: uint8 [N, 3, 32, 32] on the device. `indices`: int64 CPU tensor of global sample indices.
// Returns float [B, 3, input_size, input_size] on the images' device.
at::Tensor prepare_batch(const at::Tensor& images, const at::Tensor& indices, const BatchSpec& spec);

}  // namespace ftbench::train
