// The per-step data pipeline: uint8 images in, a normalised float batch out, on the run's device.
//
// gather the batch -> (train) random crop with 4 px zero padding and horizontal flip, per sample ->
// float -> ImageNet mean/std normalisation -> bilinear resize to the input size -> memory format.
//
// Everything runs as tensor ops on the images' device: on a GPU no per-batch work happens on the host (no
// per-sample loops, no host buffers), and only the batch is ever converted to float, never the dataset.
//
// The crop offsets and flips of a sample are a function of (seed, epoch, global sample index) only, so a
// sample is augmented identically whichever rank sees it, at any world size. The function is a 32-bit
// integer hash evaluated with int64 tensor ops that never overflow (see augment.cpp), so it gives the same
// bits on the CPU and on any GPU; augment_draw() is the same function on the host, as a reference.
#pragma once

#include <ATen/core/Tensor.h>

#include <cstdint>

namespace ftbench::train {

inline constexpr int64_t kCropPad = 4;  // zero padding of the random crop, as RandomCrop(32, padding=4)

struct BatchSpec {
  int64_t input_size = 32;     // output side in pixels
  bool augment = false;        // crop + flip (training only)
  int64_t seed = 0;
  int64_t epoch = 0;
  bool channels_last = false;  // return the batch in channels_last memory format (same values)
};

// One sample's augmentation: the crop's top-left corner in the zero-padded image, each in
// [0, 2 * kCropPad], and whether the crop is mirrored left-right after cropping.
struct AugmentDraw {
  int64_t top = 0;
  int64_t left = 0;
  bool flip = false;
};

// The draw of global sample `index` in `epoch` of a run seeded `seed`, computed on the host.
AugmentDraw augment_draw(int64_t seed, int64_t epoch, int64_t index);

// The draws of a batch, computed on `indices`' device with integer tensor ops: int64 [B, 3] holding
// (top, left, flip) per row, row i equal to augment_draw(seed, epoch, indices[i]). `indices`: 1-D,
// integer (any int64 hashes; a gather needs them in [0, N)).
at::Tensor augment_draws(const at::Tensor& indices, int64_t seed, int64_t epoch);

// Crops each image of a uint8 batch [B, C, H, W] at `draws` (as augment_draws returns, on the same device)
// from its zero-padded copy, and mirrors the flipped ones: uint8 [B, C, H, W]. Same as torchvision's
// pad(kCropPad, fill 0) + crop(top, left, H, W) + horizontal_flip, per sample.
at::Tensor crop_and_flip(const at::Tensor& batch, const at::Tensor& draws);

// A uint8 batch [B, 3, H, W] to the model's input: float32 [B, 3, input_size, input_size], in [0, 1] and
// normalised with ImageNet mean/std, resized bilinearly (half-pixel centres, as torchvision's Resize on
// tensors: no antialiasing when enlarging, antialiased when shrinking), channels_last if asked.
at::Tensor to_model_input(const at::Tensor& batch, int64_t input_size, bool channels_last);

// The whole pipeline. `images`: uint8 [N, 3, H, W] on the run's device (the dataset; never copied).
// `indices`: int64 global sample indices, on the CPU or on the images' device (a CPU tensor is copied to
// the device; that is the only host-to-device transfer). Returns float [B, 3, input_size, input_size] on
// the images' device.
at::Tensor prepare_batch(const at::Tensor& images, const at::Tensor& indices, const BatchSpec& spec);

}  // namespace ftbench::train
