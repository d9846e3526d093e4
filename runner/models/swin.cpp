// Swin Transformer (Liu et al., 2021, "Hierarchical Vision Transformer using Shifted Windows") exactly as
// torchvision builds swin_t.
//
// Swin brings the hierarchy of a CNN back into the transformer. Self-attention runs inside non-overlapping
// 7x7 windows of tokens only, so its cost grows linearly with the image instead of quadratically; every
// second block shifts the window grid by half a window, so information crosses window borders; PatchMerging
// halves the resolution and doubles the channels between the four stages, as a strided convolution would.
// A relative position bias (one learnt number per head and per offset between two tokens of a window)
// replaces ViT's absolute position embedding, which is why Swin accepts any input size.
//
// Tokens are kept as [N, H, W, C] throughout. Module names follow torchvision (features.0.0,
// features.1.0.attn.qkv, features.1.0.attn.relative_position_bias_table, features.2.reduction, ..., norm,
// head), so torchvision's state dicts load key for key.
#include <ATen/ops/adaptive_avg_pool2d.h>
#include <ATen/ops/cat.h>
#include <ATen/ops/constant_pad_nd.h>
#include <ATen/ops/dropout.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/linear.h>
#include <ATen/ops/roll.h>
#include <ATen/ops/softmax.h>
#include <ATen/ops/zeros.h>
#include <torch/nn/init.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/modules/pooling.h>

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "runner/models/families.h"
#include "runner/models/mobile_blocks.h"  // stochastic_depth, SequentialBlock
#include "runner/models/modern_blocks.h"  // trunc_normal_, permute_module, mlp

namespace ftbench::models {
namespace nn = torch::nn;

namespace {

nn::LayerNorm layer_norm(int64_t dim) { return nn::LayerNorm(nn::LayerNormOptions({dim}).eps(1e-5)); }

// Python's bound for a slice index that may count from the end (a[-3:] and a[:-3]): what
// torchvision's mask construction writes as negative indices.
int64_t python_bound(int64_t index, int64_t length) {
  return index < 0 ? std::max<int64_t>(length + index, 0) : std::min(index, length);
}

// The attention mask of a shifted window. After the cyclic shift, the windows along the bottom and right
// edges hold tokens from opposite sides of the image, which must not attend to each other: the padded map is
// labelled with up to 3x3 regions (torchvision's h_slices x w_slices), and token pairs of different regions
// get -100 added to their attention logits (zero after the softmax). [windows, L, L] for L = window^2.
at::Tensor shifted_window_mask(const at::Tensor& like, int64_t pad_h, int64_t pad_w, int64_t window,
                               int64_t shift_h, int64_t shift_w) {
  at::Tensor mask = at::zeros({pad_h, pad_w}, like.options());
  // Each region is [start, stop) along one axis; stop "None" in the Python is the length.
  const std::vector<std::pair<int64_t, int64_t>> h_ranges = {
      {0, python_bound(-window, pad_h)},
      {python_bound(-window, pad_h), python_bound(-shift_h, pad_h)},
      {python_bound(-shift_h, pad_h), pad_h}};
  const std::vector<std::pair<int64_t, int64_t>> w_ranges = {
      {0, python_bound(-window, pad_w)},
      {python_bound(-window, pad_w), python_bound(-shift_w, pad_w)},
      {python_bound(-shift_w, pad_w), pad_w}};
  int64_t label = 0;
  for (const auto& h : h_ranges) {
    for (const auto& w : w_ranges) {
      mask.slice(0, h.first, h.second).slice(1, w.first, w.second).fill_(label);
      ++label;
    }
  }
  const int64_t windows = (pad_h / window) * (pad_w / window);
  mask = mask.view({pad_h / window, window, pad_w / window, window})
             .permute({0, 2, 1, 3})
             .reshape({windows, window * window});
  mask = mask.unsqueeze(1) - mask.unsqueeze(2);
  return mask.masked_fill(mask != 0, -100.0).masked_fill(mask == 0, 0.0);
}

// Window-based multi-head self-attention with a relative position bias, on shifted windows when `shift` is
// non-zero (torchvision's ShiftedWindowAttention and shifted_window_attention). Windows are square.
class ShiftedWindowAttentionImpl : public nn::Module {
 public:
  ShiftedWindowAttentionImpl(int64_t dim, int64_t window, int64_t shift, int64_t num_heads,
                             double attention_dropout, double dropout)
      : window_(window),
        shift_(shift),
        num_heads_(num_heads),
        attention_dropout_(attention_dropout),
        dropout_(dropout) {
    qkv = register_module("qkv", nn::Linear(dim, dim * 3));
    proj = register_module("proj", nn::Linear(dim, dim));
    // One bias per head for each of the (2w - 1)^2 offsets (dy, dx) between two tokens of a window.
    relative_position_bias_table =
        register_parameter("relative_position_bias_table", at::zeros({(2 * window - 1) * (2 * window - 1), num_heads}));
    modern::trunc_normal_(relative_position_bias_table, 0.02);
    relative_position_index = register_buffer("relative_position_index", relative_position_index_for(window));
  }

  // x: [N, H, W, C] -> [N, H, W, C].
  at::Tensor forward(const at::Tensor& input) {
    const int64_t batch = input.size(0), height = input.size(1), width = input.size(2), channels = input.size(3);
    // Pad the map to whole windows (right and bottom).
    const int64_t pad_r = (window_ - width % window_) % window_;
    const int64_t pad_b = (window_ - height % window_) % window_;
    at::Tensor x = at::constant_pad_nd(input, {0, 0, 0, pad_r, 0, pad_b});
    const int64_t pad_h = x.size(1), pad_w = x.size(2);

    // A map no larger than one window has nothing to shift.
    const int64_t shift_h = window_ >= pad_h ? 0 : shift_;
    const int64_t shift_w = window_ >= pad_w ? 0 : shift_;
    const bool shifted = shift_h + shift_w > 0;

    // The cyclic shift: roll the map up-left by half a window, so the fixed window grid now straddles the
    // previous block's window borders.
    if (shifted) x = at::roll(x, {-shift_h, -shift_w}, {1, 2});

    // Partition into windows: [N * windows, window^2, C], each window a short sequence of tokens.
    const int64_t windows = (pad_h / window_) * (pad_w / window_);
    x = x.view({batch, pad_h / window_, window_, pad_w / window_, window_, channels})
            .permute({0, 1, 3, 2, 4, 5})
            .reshape({batch * windows, window_ * window_, channels});
    const int64_t tokens = x.size(1);
    const int64_t head_dim = channels / num_heads_;

    // Multi-head attention within each window.
    const at::Tensor qkv_heads = at::linear(x, qkv->weight, qkv->bias)
                                     .reshape({x.size(0), tokens, 3, num_heads_, head_dim})
                                     .permute({2, 0, 3, 1, 4});
    const at::Tensor q = qkv_heads[0] * std::pow(static_cast<double>(head_dim), -0.5);
    at::Tensor attn = q.matmul(qkv_heads[1].transpose(-2, -1));
    attn = attn + relative_position_bias();
    if (shifted) {
      const at::Tensor mask = shifted_window_mask(x, pad_h, pad_w, window_, shift_h, shift_w);
      attn = attn.view({x.size(0) / windows, windows, num_heads_, tokens, tokens});
      attn = attn + mask.unsqueeze(1).unsqueeze(0);
      attn = attn.view({-1, num_heads_, tokens, tokens});
    }
    attn = at::softmax(attn, -1);
    attn = at::dropout(attn, attention_dropout_, is_training());

    x = attn.matmul(qkv_heads[2]).transpose(1, 2).reshape({x.size(0), tokens, channels});
    x = at::linear(x, proj->weight, proj->bias);
    x = at::dropout(x, dropout_, is_training());

    // Merge the windows back into the map, undo the shift, drop the padding.
    x = x.view({batch, pad_h / window_, pad_w / window_, window_, window_, channels})
            .permute({0, 1, 3, 2, 4, 5})
            .reshape({batch, pad_h, pad_w, channels});
    if (shifted) x = at::roll(x, {shift_h, shift_w}, {1, 2});
    return x.slice(1, 0, height).slice(2, 0, width).contiguous();
  }

  nn::Linear qkv{nullptr}, proj{nullptr};
  at::Tensor relative_position_bias_table;  // [(2w - 1)^2, heads]
  at::Tensor relative_position_index;       // [w^4] int64: the table row for each (query, key) token pair

 private:
  // For tokens i = (hi, wi) and j = (hj, wj) of a window, the row of the offset (hi - hj, wi - wj), both
  // shifted to start from 0: (hi - hj + w - 1) * (2w - 1) + (wi - wj + w - 1).
  static at::Tensor relative_position_index_for(int64_t window) {
    const int64_t n = window * window;
    at::Tensor index = at::empty({n * n}, at::kLong);
    int64_t* out = index.data_ptr<int64_t>();
    for (int64_t i = 0; i < n; ++i) {
      for (int64_t j = 0; j < n; ++j) {
        const int64_t dh = i / window - j / window + window - 1;
        const int64_t dw = i % window - j % window + window - 1;
        out[i * n + j] = dh * (2 * window - 1) + dw;
      }
    }
    return index;
  }

  // [1, heads, L, L]: the table looked up for every token pair of a window.
  at::Tensor relative_position_bias() const {
    const int64_t n = window_ * window_;
    return relative_position_bias_table.index_select(0, relative_position_index)
        .view({n, n, -1})
        .permute({2, 0, 1})
        .contiguous()
        .unsqueeze(0);
  }

  int64_t window_, shift_, num_heads_;
  double attention_dropout_, dropout_;
};
TORCH_MODULE(ShiftedWindowAttention);

// One pre-norm Swin block: x + SD(attention(LN(x))), then x + SD(MLP(LN(x))), where SD is stochastic depth.
class SwinTransformerBlockImpl : public nn::Module {
 public:
  SwinTransformerBlockImpl(int64_t dim, int64_t num_heads, int64_t window, int64_t shift, double mlp_ratio,
                           double dropout, double attention_dropout, double stochastic_depth_prob)
      : norm1(register_module("norm1", layer_norm(dim))),
        attn(register_module("attn",
                             ShiftedWindowAttention(dim, window, shift, num_heads, attention_dropout, dropout))),
        norm2(register_module("norm2", layer_norm(dim))),
        mlp(register_module("mlp", modern::mlp(dim, static_cast<int64_t>(static_cast<double>(dim) * mlp_ratio),
                                               dropout))),
        stochastic_depth_prob_(stochastic_depth_prob) {}

  at::Tensor forward(const at::Tensor& input) {
    at::Tensor x =
        input + mobile::stochastic_depth(attn->forward(norm1->forward(input)), stochastic_depth_prob_, is_training());
    return x + mobile::stochastic_depth(mlp->forward(norm2->forward(x)), stochastic_depth_prob_, is_training());
  }

  nn::LayerNorm norm1{nullptr};
  ShiftedWindowAttention attn{nullptr};
  nn::LayerNorm norm2{nullptr};
  nn::Sequential mlp{nullptr};

 private:
  double stochastic_depth_prob_;  // torchvision's StochasticDepth(p, "row")
};
TORCH_MODULE(SwinTransformerBlock);

// Between stages: each 2x2 group of tokens becomes one token of 4C channels (LayerNorm, then a linear map to
// 2C): half the resolution, twice the channels. Odd maps are padded first.
class PatchMergingImpl : public nn::Module {
 public:
  explicit PatchMergingImpl(int64_t dim)
      : reduction(register_module("reduction", nn::Linear(nn::LinearOptions(4 * dim, 2 * dim).bias(false)))),
        norm(register_module("norm", layer_norm(4 * dim))) {}

  // x: [N, H, W, C] -> [N, ceil(H / 2), ceil(W / 2), 2C].
  at::Tensor forward(const at::Tensor& input) {
    const int64_t height = input.size(-3), width = input.size(-2);
    const at::Tensor x = at::constant_pad_nd(input, {0, 0, 0, width % 2, 0, height % 2});
    auto every_other = [&x](int64_t row, int64_t col) {
      return x.slice(-3, row, x.size(-3), 2).slice(-2, col, x.size(-2), 2);
    };
    // The order of torchvision's x0..x3: (0, 0), (1, 0), (0, 1), (1, 1).
    const at::Tensor merged = at::cat({every_other(0, 0), every_other(1, 0), every_other(0, 1), every_other(1, 1)}, -1);
    return reduction->forward(norm->forward(merged));
  }

  nn::Linear reduction{nullptr};
  nn::LayerNorm norm{nullptr};
};
TORCH_MODULE(PatchMerging);

struct SwinConfig {
  int64_t patch_size;
  int64_t embed_dim;
  std::vector<int64_t> depths;
  std::vector<int64_t> num_heads;
  int64_t window_size;
  double stochastic_depth_prob;
};

class SwinTransformer : public Classifier {
 public:
  SwinTransformer(const SwinConfig& c, int64_t num_classes) {
    constexpr double kMlpRatio = 4.0;
    features = nn::Sequential();
    // features.0, the patch embedding: a patch_size-strided convolution, to NHWC, LayerNorm.
    features->push_back(mobile::SequentialBlock(
        nn::Conv2d(nn::Conv2dOptions(3, c.embed_dim, c.patch_size).stride(c.patch_size)),
        modern::permute_module({0, 2, 3, 1}), layer_norm(c.embed_dim)));

    // The stages, with a PatchMerging between two stages. Stochastic depth grows linearly with the block's
    // position in the whole network, from 0 for the first block to stochastic_depth_prob for the last.
    int64_t total_blocks = 0;
    for (int64_t d : c.depths) total_blocks += d;
    int64_t block_id = 0;
    int64_t dim = c.embed_dim;
    for (size_t i = 0; i < c.depths.size(); ++i) {
      dim = c.embed_dim << i;
      mobile::SequentialBlock stage;
      for (int64_t j = 0; j < c.depths[i]; ++j) {
        const double sd_prob =
            c.stochastic_depth_prob * static_cast<double>(block_id) / static_cast<double>(total_blocks - 1);
        const int64_t shift = j % 2 == 0 ? 0 : c.window_size / 2;  // every second block shifts
        stage->push_back(SwinTransformerBlock(dim, c.num_heads[i], c.window_size, shift, kMlpRatio,
                                              /*dropout=*/0.0, /*attention_dropout=*/0.0, sd_prob));
        ++block_id;
      }
      features->push_back(stage);
      if (i + 1 < c.depths.size()) features->push_back(PatchMerging(dim));
    }
    register_module("features", features);

    norm = register_module("norm", layer_norm(dim));
    avgpool = register_module("avgpool", nn::AdaptiveAvgPool2d(nn::AdaptiveAvgPool2dOptions(1)));
    head = register_module("head", nn::Linear(dim, num_classes));

    // torchvision's initialisation: every Linear (the MLPs' included) truncated normal with std 0.02 and zero
    // bias; convolutions and LayerNorms keep PyTorch's defaults.
    for (auto& module : modules(/*include_self=*/false)) {
      if (auto* linear = module->as<nn::Linear>()) init_linear(*linear);
    }
  }

  at::Tensor forward(const at::Tensor& x) override {
    at::Tensor out = norm->forward(features->forward(x));  // [N, H, W, C]
    out = avgpool->forward(out.permute({0, 3, 1, 2})).flatten(1);
    return head->forward(out);
  }

  void replace_head(int64_t num_classes) override {
    nn::Linear fresh(head->options.in_features(), num_classes);
    init_linear(*fresh);
    head = replace_module("head", fresh);
  }

  nn::Sequential features{nullptr};
  nn::LayerNorm norm{nullptr};
  nn::AdaptiveAvgPool2d avgpool{nullptr};
  nn::Linear head{nullptr};

 private:
  static void init_linear(nn::LinearImpl& linear) {
    modern::trunc_normal_(linear.weight, 0.02);
    if (linear.bias.defined()) nn::init::zeros_(linear.bias);
  }
};

}  // namespace

std::vector<ModelEntry> swin_family() {
  const SwinConfig tiny{/*patch_size=*/4, /*embed_dim=*/96, /*depths=*/{2, 2, 6, 2}, /*num_heads=*/{3, 6, 12, 24},
                        /*window_size=*/7, /*stochastic_depth_prob=*/0.2};
  ModelEntry entry;
  entry.name = "swin_t";
  entry.build = [tiny](int64_t num_classes) -> ClassifierPtr {
    return std::make_shared<SwinTransformer>(tiny, num_classes);
  };
  entry.native_input_size = 224;
  // The 4x4 patches and three PatchMerging steps leave 1x1 at 32, as for the 32x-downsampling CNNs. (Windows
  // are padded, so torchvision runs down to one 4x4 patch; below 32 the later stages would see padding only.)
  entry.min_input_size = 32;
  entry.head = {"head"};
  // The patch embedding (features.0), the four stages (features.1, .3, .5, .7) with the PatchMerging layers
  // between them (features.2, .4, .6), the final LayerNorm, the head.
  for (int i = 0; i <= 7; ++i) entry.stages.push_back(stage("features." + std::to_string(i)));
  entry.stages.push_back(stage("norm"));
  entry.stages.push_back(stage("head"));
  entry.weights_file = "swin_t-704ceda3.pth";
  entry.note = "Swin Transformer (2021): attention within shifted 7x7 windows and a CNN-like pyramid of stages; "
               "a transformer backbone for any input size";
  return {entry};
}

}  // namespace ftbench::models
