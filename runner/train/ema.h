// train::WeightEma: an exponential moving average of a model's weights, evaluated instead of the weights.
//
// After every optimiser step: shadow = decay x shadow + (1 - decay) x current, for every parameter and every
// floating-point buffer (BatchNorm running statistics), as torchvision's reference recipe does
// (ExponentialMovingAverage with use_buffers=True). Integer buffers (num_batches_tracked) are copied.
// Every rank holds identical weights after each step, so every rank's average is identical too.
//
// Thread-safety: none; the training thread owns it.
#pragma once

#include <ATen/core/Tensor.h>
#include <torch/nn/module.h>

#include <vector>

namespace ftbench::train {

class WeightEma {
 public:
  // Starts the average at the model's current weights.
  WeightEma(torch::nn::Module& model, double decay);

  void update();

  // The averages: the model's parameters, then its buffers, in module order (checkpoints save and restore
  // them in place).
  const std::vector<at::Tensor>& averages() const { return shadow_; }

  // RAII: while alive, the model holds the averaged weights; the trained weights come back on destruction.
  class Swap {
   public:
    explicit Swap(WeightEma& ema);
    ~Swap();
    Swap(const Swap&) = delete;
    Swap& operator=(const Swap&) = delete;

   private:
    WeightEma& ema_;
    std::vector<at::Tensor> saved_;
  };

 private:
  std::vector<at::Tensor> live_;    // the model's parameters and buffers (handles)
  std::vector<at::Tensor> shadow_;  // their averages
  std::vector<at::Tensor> live_float_, shadow_float_;  // the floating-point subset, for the fused update
  double decay_;
};

}  // namespace ftbench::train
