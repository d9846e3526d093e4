#include "runner/train/augment.h"

#include <ATen/Functions.h>
#include <ATen/ops/upsample_bilinear2d.h>

#include <vector>

#include "runner/train/sharding.h"

namespace ftbench::train {
namespace {

constexpr int64_t kPad = 4;
constexpr int64_t kSide = 32;

// Random crop (zero padding kPad) and horizontal flip as one gather: for each sample, the source row and
// column of every output pixel in the padded image.
at::Tensor crop_and_flip(const at::Tensor& batch, const at::Tensor& indices, const BatchSpec& spec) {
  const int64_t n = batch.size(0);
  std::vector<int64_t> rows(static_cast<std::size_t>(n * kSide)), cols(static_cast<std::size_t>(n * kSide));
  const int64_t* index = indices.data_ptr<int64_t>();
  for (int64_t i = 0; i < n; ++i) {
    const uint64_t r = mix64(static_cast<uint64_t>(spec.seed), static_cast<uint64_t>(spec.epoch),
                             static_cast<uint64_t>(index[i]));
    const int64_t dy = static_cast<int64_t>(r % (2 * kPad + 1));
    const int64_t dx = static_cast<int64_t>((r >> 8) % (2 * kPad + 1));
    const bool flip = ((r >> 16) & 1U) != 0;
    for (int64_t k = 0; k < kSide; ++k) {
      rows[static_cast<std::size_t>(i * kSide + k)] = dy + k;
      cols[static_cast<std::size_t>(i * kSide + k)] = dx + (flip ? kSide - 1 - k : k);
    }
  }
  const auto device = batch.device();
  const auto long_options = at::TensorOptions().dtype(at::kLong);
  at::Tensor row_index = at::from_blob(rows.data(), {n, 1, kSide, 1}, long_options).to(device);
  at::Tensor col_index = at::from_blob(cols.data(), {n, 1, 1, kSide}, long_options).to(device);
  at::Tensor sample_index = at::arange(n, long_options.device(device)).view({n, 1, 1, 1});
  at::Tensor channel_index = at::arange(batch.size(1), long_options.device(device)).view({1, -1, 1, 1});

  at::Tensor padded = at::constant_pad_nd(batch, {kPad, kPad, kPad, kPad}, 0);
  return padded.index({sample_index, channel_index, row_index, col_index});
}

}  // namespace

at::Tensor prepare_batch(const at::Tensor& images, const at::Tensor& indices, const BatchSpec& spec) {
  at::Tensor batch = images.index_select(0, indices.to(images.device()));
  if (spec.augment) batch = crop_and_flip(batch, indices, spec);

  at::Tensor x = batch.to(at::kFloat).div_(255.0);
  if (spec.input_size != x.size(-1)) {
    // Bilinear, half-pixel centres (align_corners=false), as torchvision's Resize on tensors.
    x = at::upsample_bilinear2d(x, {spec.input_size, spec.input_size}, /*align_corners=*/false);
  }
  const auto options = x.options();
  const at::Tensor mean = at::tensor({0.485, 0.456, 0.406}, options).view({1, 3, 1, 1});
  const at::Tensor std = at::tensor({0.229, 0.224, 0.225}, options).view({1, 3, 1, 1});
  return x.sub_(mean).div_(std);
}

}  // namespace ftbench::train
