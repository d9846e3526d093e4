#include "runner/train/augment.h"

#include <ATen/Functions.h>

#include <string>

#include "runner/base/error.h"

namespace ftbench::train {
namespace {

// The augmentation hash: a 32-bit xorshift-multiply mixer shaped like Wellons' lowbias32, but with both
// multipliers odd and below 2^31: on an int64 tensor holding a value below 2^32 the product then stays below
// 2^63, so the multiply never overflows, and masking to 32 bits gives exactly the uint32 product, on any
// device. Every step is a bijection of [0, 2^32), so distinct indices of one epoch never share a hash. That
// the draws come out evenly spread and independent across epochs is checked by tests/train/augment_test.cpp.
constexpr int64_t kMask32 = 0xFFFFFFFFLL;
constexpr uint32_t kMul1 = 0x7FEB352DU;
constexpr uint32_t kMul2 = 0x31848BABU;
constexpr uint32_t kSalt = 0x41554731U;  // "AUG1": keeps these draws apart from other uses of the seed
static_assert(kMul1 < (1U << 31) && kMul2 < (1U << 31), "an int64 multiply by a multiplier >= 2^31 can overflow");

constexpr int64_t kChoices = 2 * kCropPad + 1;  // crop offsets per axis

uint32_t hash32(uint32_t x) {
  x ^= x >> 16;
  x *= kMul1;
  x ^= x >> 15;
  x *= kMul2;
  x ^= x >> 16;
  return x;
}

// hash32 on an int64 tensor of values in [0, 2^32), in place.
at::Tensor& hash32_(at::Tensor& x) {
  x.bitwise_xor_(at::bitwise_right_shift(x, 16));
  x.mul_(static_cast<int64_t>(kMul1)).bitwise_and_(kMask32);
  x.bitwise_xor_(at::bitwise_right_shift(x, 15));
  x.mul_(static_cast<int64_t>(kMul2)).bitwise_and_(kMask32);
  x.bitwise_xor_(at::bitwise_right_shift(x, 16));
  return x;
}

uint32_t low32(int64_t v) { return static_cast<uint32_t>(static_cast<uint64_t>(v)); }
uint32_t high32(int64_t v) { return static_cast<uint32_t>(static_cast<uint64_t>(v) >> 32); }

// One 32-bit key per (seed, epoch): host work once per batch, not per sample.
uint32_t run_key(int64_t seed, int64_t epoch) {
  uint32_t key = hash32(low32(seed) ^ kSalt);
  key = hash32(key ^ high32(seed));
  key = hash32(key ^ low32(epoch));
  return hash32(key ^ high32(epoch));
}

std::string shape_of(const at::Tensor& t) {
  std::string s = "[";
  for (int64_t d = 0; d < t.dim(); ++d) s += (d > 0 ? ", " : "") + std::to_string(t.size(d));
  return s + "] " + std::string(c10::toString(t.scalar_type()));
}

void require(bool ok, const std::string& what, const at::Tensor& t) {
  if (!ok) throw RuntimeError("data pipeline: " + what + ", got " + shape_of(t));
}

}  // namespace

AugmentDraw augment_draw(int64_t seed, int64_t epoch, int64_t index) {
  const uint32_t h = hash32(hash32(run_key(seed, epoch) ^ low32(index)) ^ high32(index));
  const uint32_t rest = h / kChoices;
  return {static_cast<int64_t>(h % kChoices), static_cast<int64_t>(rest % kChoices), ((rest / kChoices) & 1U) != 0};
}

at::Tensor augment_draws(const at::Tensor& indices, int64_t seed, int64_t epoch) {
  require(indices.dim() == 1 && at::isIntegralType(indices.scalar_type(), /*includeBool=*/false),
          "indices must be a 1-D integer tensor", indices);
  const at::Tensor index = indices.to(at::kLong);
  // The same arithmetic as augment_draw, one sample per element, every value kept in [0, 2^32) (the mask
  // after the shift makes the arithmetic shift a logical one, should an index be negative).
  at::Tensor h = at::bitwise_and(index, kMask32).bitwise_xor_(static_cast<int64_t>(run_key(seed, epoch)));
  hash32_(h).bitwise_xor_(at::bitwise_right_shift(index, 32).bitwise_and_(kMask32));
  hash32_(h);
  const at::Tensor rest = at::floor_divide(h, kChoices);
  return at::stack({at::remainder(h, kChoices), at::remainder(rest, kChoices),
                    at::floor_divide(rest, kChoices).bitwise_and_(1)},
                   /*dim=*/1);
}

namespace {

// The crops of images[samples[i]] at draws[i], zero outside the image, as one gather straight from
// `images` (for the dataset: no index_select first, no padded copy): output pixel (y, x) of crop i is
// image pixel (top_i - kCropPad + y, left_i - kCropPad + x), or column left_i - kCropPad + (W - 1 - x)
// when flipped; coordinates outside the image are clamped for the gather and their pixels zeroed.
at::Tensor gather_crops(const at::Tensor& images, const at::Tensor& samples, const at::Tensor& draws) {
  const int64_t n = samples.size(0), height = images.size(2), width = images.size(3);
  require(draws.dim() == 2 && draws.size(0) == n && draws.size(1) == 3 && draws.scalar_type() == at::kLong &&
              draws.device() == images.device(),
          "crops need int64 draws [" + std::to_string(n) + ", 3] on the images' device", draws);
  const auto long_options = draws.options();
  const at::Tensor top = draws.select(1, 0).view({n, 1});
  const at::Tensor left = draws.select(1, 1).view({n, 1});
  const at::Tensor flip = draws.select(1, 2).view({n, 1});
  at::Tensor rows = top + at::arange(-kCropPad, height - kCropPad, long_options);
  const at::Tensor mirror = at::arange(width - 1, -width, -2, long_options);  // W-1-2x: x -> W-1-x
  at::Tensor cols = (left + at::arange(-kCropPad, width - kCropPad, long_options)).add_(flip * mirror);
  const at::Tensor inside = (rows.ge(0) & rows.lt(height)).view({n, 1, height, 1}) &
                            (cols.ge(0) & cols.lt(width)).view({n, 1, 1, width});
  at::Tensor crops = images.index({samples.view({n, 1, 1, 1}),
                                   at::arange(images.size(1), long_options).view({1, -1, 1, 1}),
                                   rows.clamp_(0, height - 1).view({n, 1, height, 1}),
                                   cols.clamp_(0, width - 1).view({n, 1, 1, width})});
  return crops.mul_(inside);
}

}  // namespace

at::Tensor crop_and_flip(const at::Tensor& batch, const at::Tensor& draws) {
  require(batch.dim() == 4, "crop_and_flip needs a [B, C, H, W] batch", batch);
  return gather_crops(batch, at::arange(batch.size(0), draws.options()), draws);
}

at::Tensor to_model_input(const at::Tensor& batch, int64_t input_size, bool channels_last) {
  require(batch.dim() == 4 && batch.size(1) == 3 && batch.scalar_type() == at::kByte,
          "expected a uint8 [B, 3, H, W] batch", batch);
  require(input_size > 0, "input_size must be positive (" + std::to_string(input_size) + ")", batch);
  const auto format = channels_last ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
  const int64_t n = batch.size(0), height = batch.size(2), width = batch.size(3);
  const auto float_options = batch.options().dtype(at::kFloat);
  if (n == 0) return at::empty({0, 3, input_size, input_size}, float_options.memory_format(format));

  // Convert and normalise in one pass, at the source resolution: (x / 255 - mean) / std as
  // shift + x * scale. scale and shift are filled on the device from scalars: nothing is copied from the
  // host. Bilinear weights sum to one, so normalising before the resize equals normalising after it, on up
  // to 49x fewer pixels (32 -> 224).
  constexpr double kMean[3] = {0.485, 0.456, 0.406};
  constexpr double kStd[3] = {0.229, 0.224, 0.225};
  const at::Tensor scale = at::empty({1, 3, 1, 1}, float_options);
  const at::Tensor shift = at::empty({1, 3, 1, 1}, float_options);
  for (int64_t c = 0; c < 3; ++c) {
    scale.select(1, c).fill_(1.0 / (255.0 * kStd[c]));
    shift.select(1, c).fill_(-kMean[c] / kStd[c]);
  }
  at::Tensor x = at::empty({n, 3, height, width}, float_options.memory_format(format));
  at::addcmul_out(x, shift, batch, scale);
  if (input_size == height && input_size == width) return x;
  // Half-pixel centres (align_corners=false) as torchvision's Resize on tensors. Its default antialias=True
  // only changes anything when shrinking; enlarging uses the plain (cheaper) bilinear kernel. Both keep the
  // input's memory format.
  const bool shrinks = input_size < height || input_size < width;
  x = shrinks ? at::_upsample_bilinear2d_aa(x, {input_size, input_size}, /*align_corners=*/false)
              : at::upsample_bilinear2d(x, {input_size, input_size}, /*align_corners=*/false);
  return x.contiguous(format);
}

at::Tensor prepare_batch(const at::Tensor& images, const at::Tensor& indices, const BatchSpec& spec) {
  require(images.dim() == 4 && images.scalar_type() == at::kByte, "images must be uint8 [N, 3, H, W]", images);
  require(indices.dim() == 1 && at::isIntegralType(indices.scalar_type(), /*includeBool=*/false),
          "indices must be a 1-D integer tensor", indices);
  // The one host-to-device copy, when the caller's indices live on the host.
  const at::Tensor index = indices.to(images.device(), at::kLong);
  // Only the batch is gathered and converted: the dataset stays uint8.
  const at::Tensor batch = spec.augment ? gather_crops(images, index, augment_draws(index, spec.seed, spec.epoch))
                                        : images.index_select(0, index);
  return to_model_input(batch, spec.input_size, spec.channels_last);
}

}  // namespace ftbench::train
