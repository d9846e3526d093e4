#include "runner/weights/load.h"

#include <torch/csrc/autograd/grad_mode.h>

#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "runner/base/error.h"

namespace ftbench::weights {
namespace {

constexpr std::size_t kListedPerKind = 8;  // keys named per category in a one-line message

bool under(const std::string& name, const std::vector<std::string>& prefixes) {
  for (const auto& p : prefixes) {
    if (name == p || name.rfind(p + ".", 0) == 0) return true;
  }
  return false;
}

bool is_batch_counter(const std::string& name) {
  const std::string suffix = "num_batches_tracked";
  return name == suffix || (name.size() > suffix.size() && name.compare(name.size() - suffix.size() - 1, std::string::npos,
                                                                        "." + suffix) == 0);
}

std::string shape(const at::Tensor& t) {
  std::ostringstream out;
  out << t.sizes();
  return out.str();
}

std::string listed(const std::vector<std::string>& names) {
  std::string out;
  for (std::size_t i = 0; i < names.size() && i < kListedPerKind; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > kListedPerKind) out += ", ... " + std::to_string(names.size() - kListedPerKind) + " more";
  return out;
}

// The model's parameters and buffers by name, in registration order.
std::vector<std::pair<std::string, at::Tensor>> model_entries(const torch::nn::Module& model) {
  std::vector<std::pair<std::string, at::Tensor>> out;
  for (const auto& item : model.named_parameters(/*recurse=*/true)) out.emplace_back(item.key(), item.value());
  for (const auto& item : model.named_buffers(/*recurse=*/true)) out.emplace_back(item.key(), item.value());
  return out;
}

}  // namespace

std::string LoadReport::summary() const {
  std::string out = std::to_string(loaded.size()) + " loaded";
  if (!head_reinitialised.empty()) out += ", head re-initialised (" + listed(head_reinitialised) + ")";
  if (!defaulted.empty()) out += ", " + std::to_string(defaulted.size()) + " num_batches_tracked absent (kept)";
  if (!missing.empty()) out += "; " + std::to_string(missing.size()) + " missing (" + listed(missing) + ")";
  if (!unexpected.empty()) out += "; " + std::to_string(unexpected.size()) + " unexpected (" + listed(unexpected) + ")";
  if (!mismatched.empty()) out += "; " + std::to_string(mismatched.size()) + " with another shape (" + listed(mismatched) + ")";
  return out;
}

LoadReport match_state_dict(const torch::nn::Module& model, const StateDict& state,
                            const std::vector<std::string>& head_prefixes) {
  std::unordered_map<std::string, const at::Tensor*> file;
  for (const auto& [name, tensor] : state.tensors) file.emplace(name, &tensor);

  LoadReport report;
  std::unordered_set<std::string> in_model;
  for (const auto& [name, param] : model_entries(model)) {
    in_model.insert(name);
    const bool head = under(name, head_prefixes);
    auto it = file.find(name);
    if (it == file.end()) {
      if (head) report.head_reinitialised.push_back(name);
      else if (is_batch_counter(name)) report.defaulted.push_back(name);
      else report.missing.push_back(name);
    } else if (it->second->sizes() != param.sizes()) {
      if (head) report.head_reinitialised.push_back(name);
      else report.mismatched.push_back(name + ": file " + shape(*it->second) + " vs model " + shape(param));
    } else {
      report.loaded.push_back(name);
    }
  }
  for (const auto& [name, tensor] : state.tensors) {
    if (!in_model.count(name) && !under(name, head_prefixes)) report.unexpected.push_back(name);
  }
  return report;
}

LoadReport load_state_dict(torch::nn::Module& model, const StateDict& state,
                           const std::vector<std::string>& head_prefixes, bool strict) {
  LoadReport report = match_state_dict(model, state, head_prefixes);
  if (strict && !report.fits()) {
    throw InputError(state.source + ": the weights do not fit the model: " + report.summary() +
                     ". Use weights made for this model, or set strict_weights = false to load what fits");
  }
  const std::unordered_set<std::string> to_load(report.loaded.begin(), report.loaded.end());
  std::unordered_map<std::string, const at::Tensor*> file;
  for (const auto& [name, tensor] : state.tensors) file.emplace(name, &tensor);
  torch::NoGradGuard no_grad;
  for (auto& [name, target] : model_entries(model)) {
    if (to_load.count(name)) target.copy_(*file.at(name));
  }
  return report;
}

}  // namespace ftbench::weights
