// Vision Transformer (Dosovitskiy et al., 2020, "An Image is Worth 16x16 Words") exactly as torchvision builds
// vit_b_16.
//
// The image is cut into 16x16 patches, each patch is projected linearly to a 768-dimensional token (one
// strided convolution, conv_proj), a learnt class token is put in front, a learnt position embedding is
// added, and twelve pre-norm transformer encoder layers mix the 197 tokens with self-attention. The class
// token's final state is classified. There is no convolutional prior beyond the patch cut: the position
// embedding has exactly 197 entries, which is why ViT takes 224x224 inputs only.
//
// Module names follow torchvision (conv_proj, class_token, encoder.pos_embedding,
// encoder.layers.encoder_layer_0.self_attention.in_proj_weight, ..., heads.head), so torchvision's state dicts
// load key for key.
#include <ATen/ops/cat.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/linear.h>
#include <ATen/ops/scaled_dot_product_attention.h>
#include <ATen/ops/zeros.h>
#include <c10/util/Exception.h>
#include <torch/nn/init.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>

#include <cmath>
#include <string>

#include "runner/models/families.h"
#include "runner/models/modern_blocks.h"  // trunc_normal_, mlp

namespace ftbench::models {
namespace nn = torch::nn;

namespace {

// torch.nn.MultiheadAttention(dim, heads, batch_first=True) used as self-attention (query = key = value):
// the same parameters (in_proj_weight holds the q, k and v projections stacked, then out_proj) and the same
// math as its need_weights=False path: project, split into heads, softmax(q kᵀ / sqrt(d)) v per head, merge,
// project out.
class SelfAttentionImpl : public nn::Module {
 public:
  SelfAttentionImpl(int64_t dim, int64_t num_heads, double attention_dropout)
      : num_heads_(num_heads), attention_dropout_(attention_dropout) {
    TORCH_CHECK(dim % num_heads == 0, "SelfAttention: dim ", dim, " is not divisible by num_heads ", num_heads);
    in_proj_weight = register_parameter("in_proj_weight", at::empty({3 * dim, dim}));
    in_proj_bias = register_parameter("in_proj_bias", at::empty({3 * dim}));
    out_proj = register_module("out_proj", nn::Linear(dim, dim));
    // MultiheadAttention's _reset_parameters: Xavier for the stacked projections, zero biases; out_proj's
    // weight keeps the default Linear initialisation.
    nn::init::xavier_uniform_(in_proj_weight);
    nn::init::zeros_(in_proj_bias);
    nn::init::zeros_(out_proj->bias);
  }

  // x: [N, L, dim] -> [N, L, dim].
  at::Tensor forward(const at::Tensor& x) {
    const int64_t n = x.size(0), length = x.size(1), dim = x.size(2);
    const int64_t head_dim = dim / num_heads_;
    // [N, L, 3 * dim] -> three [N, heads, L, head_dim].
    const at::Tensor qkv = at::linear(x, in_proj_weight, in_proj_bias)
                               .view({n, length, 3, num_heads_, head_dim})
                               .permute({2, 0, 3, 1, 4});
    at::Tensor out = at::scaled_dot_product_attention(qkv[0], qkv[1], qkv[2], /*attn_mask=*/{},
                                                      /*dropout_p=*/is_training() ? attention_dropout_ : 0.0);
    out = out.transpose(1, 2).reshape({n, length, dim});
    return out_proj->forward(out);
  }

  at::Tensor in_proj_weight, in_proj_bias;
  nn::Linear out_proj{nullptr};

 private:
  int64_t num_heads_;
  double attention_dropout_;
};
TORCH_MODULE(SelfAttention);

// One pre-norm encoder layer: x + attention(LN(x)), then x + MLP(LN(x)).
class EncoderBlockImpl : public nn::Module {
 public:
  EncoderBlockImpl(int64_t num_heads, int64_t dim, int64_t mlp_dim, double dropout_p, double attention_dropout)
      : ln_1(register_module("ln_1", nn::LayerNorm(nn::LayerNormOptions({dim}).eps(1e-6)))),
        self_attention(register_module("self_attention", SelfAttention(dim, num_heads, attention_dropout))),
        dropout(register_module("dropout", nn::Dropout(dropout_p))),
        ln_2(register_module("ln_2", nn::LayerNorm(nn::LayerNormOptions({dim}).eps(1e-6)))),
        mlp(register_module("mlp", modern::mlp(dim, mlp_dim, dropout_p))) {
    // torchvision's MLPBlock: Xavier-uniform weights, biases N(0, 1e-6).
    for (auto& module : mlp->modules(/*include_self=*/false)) {
      if (auto* linear = module->as<nn::Linear>()) {
        nn::init::xavier_uniform_(linear->weight);
        nn::init::normal_(linear->bias, 0.0, 1e-6);
      }
    }
  }

  at::Tensor forward(const at::Tensor& input) {
    at::Tensor x = dropout->forward(self_attention->forward(ln_1->forward(input)));
    x = x + input;
    return x + mlp->forward(ln_2->forward(x));
  }

  nn::LayerNorm ln_1{nullptr};
  SelfAttention self_attention{nullptr};
  nn::Dropout dropout{nullptr};
  nn::LayerNorm ln_2{nullptr};
  nn::Sequential mlp{nullptr};
};
TORCH_MODULE(EncoderBlock);

// The position embedding and the stack of encoder layers, then a final LayerNorm.
class EncoderImpl : public nn::Module {
 public:
  EncoderImpl(int64_t seq_length, int64_t num_layers, int64_t num_heads, int64_t dim, int64_t mlp_dim,
              double dropout_p, double attention_dropout) {
    pos_embedding = register_parameter("pos_embedding", at::empty({1, seq_length, dim}));
    nn::init::normal_(pos_embedding, 0.0, 0.02);  // from BERT
    dropout = register_module("dropout", nn::Dropout(dropout_p));
    layers = nn::Sequential();
    for (int64_t i = 0; i < num_layers; ++i) {
      layers->push_back("encoder_layer_" + std::to_string(i),
                        EncoderBlock(num_heads, dim, mlp_dim, dropout_p, attention_dropout));
    }
    register_module("layers", layers);
    ln = register_module("ln", nn::LayerNorm(nn::LayerNormOptions({dim}).eps(1e-6)));
  }

  at::Tensor forward(const at::Tensor& tokens) {
    return ln->forward(layers->forward(dropout->forward(tokens + pos_embedding)));
  }

  at::Tensor pos_embedding;
  nn::Dropout dropout{nullptr};
  nn::Sequential layers{nullptr};
  nn::LayerNorm ln{nullptr};
};
TORCH_MODULE(Encoder);

struct ViTConfig {
  int64_t image_size;
  int64_t patch_size;
  int64_t num_layers;
  int64_t num_heads;
  int64_t hidden_dim;
  int64_t mlp_dim;
};

class VisionTransformer : public Classifier {
 public:
  VisionTransformer(const ViTConfig& c, int64_t num_classes) : config_(c) {
    TORCH_CHECK(c.image_size % c.patch_size == 0, "VisionTransformer: image size ", c.image_size,
                " is not a multiple of the patch size ", c.patch_size);
    // Patchify: a patch_size x patch_size convolution with the same stride is a linear map of each patch.
    conv_proj = register_module(
        "conv_proj",
        nn::Conv2d(nn::Conv2dOptions(3, c.hidden_dim, c.patch_size).stride(c.patch_size)));
    class_token = register_parameter("class_token", at::zeros({1, 1, c.hidden_dim}));
    const int64_t patches = (c.image_size / c.patch_size) * (c.image_size / c.patch_size);
    encoder = register_module(
        "encoder", Encoder(patches + 1, c.num_layers, c.num_heads, c.hidden_dim, c.mlp_dim, /*dropout=*/0.0,
                           /*attention_dropout=*/0.0));
    heads = register_module("heads", make_heads(num_classes));

    // The patch projection: truncated normal with std sqrt(1 / fan_in), zero bias.
    const auto fan_in = static_cast<double>(3 * c.patch_size * c.patch_size);
    modern::trunc_normal_(conv_proj->weight, std::sqrt(1.0 / fan_in));
    nn::init::zeros_(conv_proj->bias);
  }

  at::Tensor forward(const at::Tensor& x) override {
    const int64_t n = x.size(0);
    TORCH_CHECK(x.size(2) == config_.image_size && x.size(3) == config_.image_size,
                "vit: expected a ", config_.image_size, "x", config_.image_size, " image, got ", x.size(2), "x",
                x.size(3), " (the position embedding has one entry per patch of that size)");
    const int64_t grid = config_.image_size / config_.patch_size;
    // [N, 3, H, W] -> [N, hidden, grid, grid] -> [N, grid * grid, hidden]: one token per patch.
    at::Tensor tokens = conv_proj->forward(x).reshape({n, config_.hidden_dim, grid * grid}).permute({0, 2, 1});
    // The class token goes first; its final state is what gets classified.
    tokens = at::cat({class_token.expand({n, -1, -1}), tokens}, /*dim=*/1);
    tokens = encoder->forward(tokens);
    return heads->forward(tokens.select(/*dim=*/1, /*index=*/0));
  }

  void replace_head(int64_t num_classes) override { heads = replace_module("heads", make_heads(num_classes)); }

  nn::Conv2d conv_proj{nullptr};
  at::Tensor class_token;
  Encoder encoder{nullptr};
  nn::Sequential heads{nullptr};

 private:
  // heads = Sequential(head=Linear), initialised to zero as torchvision does: a fresh ViT predicts uniform
  // probabilities.
  nn::Sequential make_heads(int64_t num_classes) const {
    nn::Linear head(config_.hidden_dim, num_classes);
    nn::init::zeros_(head->weight);
    nn::init::zeros_(head->bias);
    nn::Sequential seq;
    seq->push_back("head", head);
    return seq;
  }

  ViTConfig config_;
};

}  // namespace

std::vector<ModelEntry> vit_family() {
  const ViTConfig b16{/*image_size=*/224, /*patch_size=*/16, /*num_layers=*/12, /*num_heads=*/12,
                      /*hidden_dim=*/768, /*mlp_dim=*/3072};
  ModelEntry entry;
  entry.name = "vit_b_16";
  entry.build = [b16](int64_t num_classes) -> ClassifierPtr {
    return std::make_shared<VisionTransformer>(b16, num_classes);
  };
  entry.native_input_size = 224;
  entry.min_input_size = 224;
  entry.exact_input_size = true;  // the position embedding fixes the number of patches
  entry.head = {"heads.head"};
  // The embedding (patch projection, class token, position embedding), each encoder layer, the final
  // LayerNorm, the head.
  entry.stages = {Stage{"stem", {"conv_proj", "class_token", "encoder.pos_embedding"}}};
  for (int64_t i = 0; i < b16.num_layers; ++i) {
    const std::string layer = "encoder_layer_" + std::to_string(i);
    entry.stages.push_back(Stage{layer, {"encoder.layers." + layer}});
  }
  entry.stages.push_back(stage("encoder.ln"));
  entry.stages.push_back(stage("heads"));
  entry.weights_file = "vit_b_16-c867db91.pth";
  entry.note = "ViT (2020): the transformer of NLP on 16x16 patches as tokens, no convolutions beyond the patch "
               "cut; needs large-scale pretraining to beat CNNs";
  return {entry};
}

}  // namespace ftbench::models
