// ftbench forward --model NAME [--num-classes K] [--weights FILE] --input IN.safetensors
//                 --output OUT.safetensors [--train-mode] [--seed S]
//
// The parity tool: one forward pass of a zoo model on a given batch, so that torchvision's numbers can be
// compared with ours (tests/models/parity.py). It builds the model with K classes (no head replacement at
// 1000), loads a state dict with torchvision's key names (strictly: every key, every shape), reads the
// float32 NCHW tensor `input`, and writes `logits`, plus the auxiliary heads' logits in training mode
// (`aux_logits` for inception_v3; `aux_logits.1` and `aux_logits.2` for googlenet's aux1 and aux2).
//
// `--seed` seeds LibTorch's CPU generator right before the forward pass. Dropout and stochastic depth draw
// from it in the order the model runs them, so a train-mode pass given the same seed in Python draws the same
// masks: train mode is compared exactly, dropout included.
#include <ATen/Context.h>
#include <ATen/core/Tensor.h>
#include <c10/core/GradMode.h>

#include <cstdio>
#include <filesystem>
#include <memory>

#include "runner/base/error.h"
#include "runner/cli/commands.h"
#include "runner/models/registry.h"
#include "runner/weights/load.h"
#include "runner/weights/safetensors_writer.h"
#include "runner/weights/state_dict.h"

namespace ftbench::cli {
namespace {

struct ForwardOptions {
  std::string model;
  int64_t num_classes = 1000;
  std::string weights;
  std::string input;
  std::string output;
  bool train_mode = false;
  uint64_t seed = 0;
};

// The batch: the file's float32 tensor `input`, [N, 3, H, W], H == W, within the model's input limits.
at::Tensor read_input(const ForwardOptions& o, const models::ModelEntry& entry) {
  const weights::StateDict file = weights::read_state_dict(o.input);
  const at::Tensor* input = file.find("input");
  if (input == nullptr) {
    throw InputError(o.input + ": no tensor named 'input'; save the batch as {\"input\": tensor} (float32, NCHW)");
  }
  if (input->scalar_type() != at::kFloat || input->dim() != 4 || input->size(1) != 3 ||
      input->size(2) != input->size(3)) {
    throw InputError(o.input + ": 'input' must be float32 [N, 3, S, S], got " +
                     std::string(c10::toString(input->scalar_type())) + " " + c10::str(input->sizes()));
  }
  try {
    models::check_input_size(entry, input->size(2));
  } catch (const InputError& e) {
    throw InputError(o.input + ": " + e.what());
  }
  return input->contiguous();
}

int forward(const ForwardOptions& o) {
  const models::ModelEntry& entry = models::find_model(o.model);
  const at::Tensor input = read_input(o, entry);
  const models::ClassifierPtr model = models::build_model(o.model, o.num_classes);
  if (!o.weights.empty()) {
    // Strict, and the head is no exception: the file must be a state dict of exactly this model.
    weights::load_state_dict(*model, weights::read_state_dict(o.weights), /*head_prefixes=*/{}, /*strict=*/true);
  }
  model->train(o.train_mode);

  at::NoGradGuard no_grad;
  at::manual_seed(o.seed);
  const models::ClassifierOutput out = model->forward_with_aux(input);

  std::vector<std::pair<std::string, at::Tensor>> tensors{{"logits", out.logits.contiguous()}};
  for (size_t i = 0; i < out.aux_logits.size(); ++i) {
    const std::string name = out.aux_logits.size() == 1 ? "aux_logits" : "aux_logits." + std::to_string(i + 1);
    tensors.emplace_back(name, out.aux_logits[i].contiguous());
  }
  weights::write_safetensors(o.output, tensors, {{"format", "pt"}, {"ftbench.model", o.model}});
  std::printf("wrote %s: logits %s%s (%s mode)\n", o.output.c_str(), c10::str(out.logits.sizes()).c_str(),
              out.aux_logits.empty() ? "" : (" + " + std::to_string(out.aux_logits.size()) + " aux").c_str(),
              o.train_mode ? "train" : "eval");
  return 0;
}

}  // namespace

Command add_forward_command(CLI::App& app) {
  auto options = std::make_shared<ForwardOptions>();
  CLI::App* cmd = app.add_subcommand(
      "forward", "Run one forward pass of a model on a batch from a .safetensors file and write the logits "
                 "(the torchvision parity tool)");
  cmd->add_option("--model", options->model, "Model name, e.g. resnet18 (see `ftbench inspect --list`)")->required();
  cmd->add_option("--num-classes", options->num_classes, "Classes of the head (default 1000: torchvision's own head)")
      ->check(CLI::Range(int64_t{1}, int64_t{1000000}));
  cmd->add_option("--weights", options->weights,
                  "State dict with torchvision's key names (.safetensors, .pth or .pt); loaded strictly. "
                  "Without it the model keeps torchvision's random initialisation");
  cmd->add_option("--input", options->input, "A .safetensors file holding 'input': float32 [N, 3, S, S]")->required();
  cmd->add_option("--output", options->output, "The .safetensors file to write ('logits', and 'aux_logits*')")
      ->required();
  cmd->add_flag("--train-mode", options->train_mode,
                "Run in training mode (BatchNorm on batch statistics, dropout on, auxiliary heads returned)");
  cmd->add_option("--seed", options->seed, "Seed of the CPU generator for dropout and stochastic depth (default 0)");
  return {cmd, [options](int, char**) { return forward(*options); }};
}

}  // namespace ftbench::cli
