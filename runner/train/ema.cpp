#include "runner/train/ema.h"

#include <ATen/Functions.h>
#include <torch/types.h>

namespace ftbench::train {

WeightEma::WeightEma(torch::nn::Module& model, double decay) : decay_(decay) {
  torch::NoGradGuard no_grad;
  for (const auto& p : model.parameters()) live_.push_back(p);
  for (const auto& b : model.buffers()) live_.push_back(b);
  for (const auto& t : live_) {
    shadow_.push_back(t.detach().clone());
    if (at::isFloatingType(t.scalar_type())) {
      live_float_.push_back(t.detach());
      shadow_float_.push_back(shadow_.back());
    }
  }
}

void WeightEma::update() {
  torch::NoGradGuard no_grad;
  // lerp: shadow + (1 - decay) (live - shadow) = decay shadow + (1 - decay) live, one fused kernel per list.
  if (!shadow_float_.empty()) at::_foreach_lerp_(shadow_float_, live_float_, 1.0 - decay_);
  for (std::size_t i = 0; i < live_.size(); ++i) {
    if (!at::isFloatingType(live_[i].scalar_type())) shadow_[i].copy_(live_[i]);
  }
}

WeightEma::Swap::Swap(WeightEma& ema) : ema_(ema) {
  torch::NoGradGuard no_grad;
  for (std::size_t i = 0; i < ema_.live_.size(); ++i) {
    saved_.push_back(ema_.live_[i].detach().clone());
    ema_.live_[i].detach().copy_(ema_.shadow_[i]);
  }
}

WeightEma::Swap::~Swap() {
  torch::NoGradGuard no_grad;
  for (std::size_t i = 0; i < ema_.live_.size(); ++i) ema_.live_[i].detach().copy_(saved_[i]);
}

}  // namespace ftbench::train
