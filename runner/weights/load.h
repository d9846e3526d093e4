// Loading a state dict into a model: match names and shapes, then copy.
//
// Rules (issue 5):
//   - strict by default: every parameter and buffer of the model must be in the file with the same shape,
//     and the file must hold nothing the model lacks;
//   - the classification head (the registry's `head` prefixes, e.g. "fc") is the exception: its keys are
//     loaded when the file has them with the same shape (an ImageNet head into a 1000-class model), and
//     otherwise left as initialised (a fresh 10-class head for CIFAR-10). Head keys are never an error;
//   - BatchNorm's `num_batches_tracked` may be absent (files saved before PyTorch 0.4.1 lack it); it is
//     then left as it is, as PyTorch itself does;
//   - when something does not fit, strict mode throws ONE InputError that lists every missing, unexpected
//     and mismatched key; non-strict mode copies what fits and reports the rest.
// Values are converted to each parameter's dtype and device (an fp16 file loads into an fp32 model).
#pragma once

#include <torch/nn/module.h>

#include <string>
#include <vector>

#include "runner/weights/state_dict.h"

namespace ftbench::weights {

struct LoadReport {
  std::vector<std::string> loaded;              // copied from the file, head keys included
  std::vector<std::string> head_reinitialised;  // head keys left as initialised
  std::vector<std::string> defaulted;           // num_batches_tracked buffers the file lacks
  std::vector<std::string> missing;             // model keys the file lacks
  std::vector<std::string> unexpected;          // file keys the model lacks (outside the head)
  std::vector<std::string> mismatched;          // "name: file [a, b] vs model [c, d]"

  bool fits() const { return missing.empty() && unexpected.empty() && mismatched.empty(); }
  // One line: "102 loaded, 2 head re-initialised (fc.weight, fc.bias)" or what does not fit.
  std::string summary() const;
};

// Compares without copying anything (what `ftbench weights check --model` reports).
LoadReport match_state_dict(const torch::nn::Module& model, const StateDict& state,
                            const std::vector<std::string>& head_prefixes);

// Matches, then copies what fits into the model's parameters and buffers (under NoGradGuard). With
// `strict` and anything that does not fit, throws InputError naming the file and listing the keys, and
// copies nothing.
LoadReport load_state_dict(torch::nn::Module& model, const StateDict& state,
                           const std::vector<std::string>& head_prefixes, bool strict = true);

}  // namespace ftbench::weights
