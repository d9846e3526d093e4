#include "runner/models/summary.h"

#include <ATen/record_function.h>
#include <ATen/ops/zeros.h>
#include <c10/core/GradMode.h>

#include <cstring>
#include <map>
#include <unordered_map>

namespace ftbench::models {
namespace {

// The state the RecordFunction callbacks (plain function pointers) work on, for the thread that runs the pass.
struct Observation {
  // Parameter storage -> module name. Keyed by data pointer, not tensor: LibTorch's Linear passes `weight.t()`
  // (a view with the same data) to aten::addmm.
  std::unordered_map<const void*, std::string> weight_owner;
  std::map<std::string, std::vector<int64_t>> output;                    // module -> last output shape
  std::map<std::string, int64_t> macs;                                   // module ("" = no module) -> MACs
  int depth = 0;                                                         // nesting of observed ops
};
thread_local Observation* g_observation = nullptr;

// The ops that are observed. The outermost one of a nest counts (aten::linear may run aten::addmm inside).
constexpr const char* kObserved[] = {
    "aten::conv2d",     "aten::linear", "aten::addmm",   "aten::matmul",
    "aten::bmm",        "aten::baddbmm", "aten::batch_norm", "aten::layer_norm",
    "aten::group_norm", "aten::scaled_dot_product_attention",
};

const char* observed(const at::RecordFunction& fn) {
  for (const char* op : kObserved) {
    if (std::strcmp(fn.name(), op) == 0) return op;
  }
  return nullptr;
}

const at::Tensor* tensor_at(const at::RecordFunction& fn, size_t i) {
  const auto inputs = fn.inputs();
  if (i >= inputs.size() || !inputs[i].isTensor()) return nullptr;
  return &inputs[i].toTensor();
}


// What the start callback saw: ATen hands inputs to start callbacks only, outputs to end callbacks only.
struct OpContext : at::ObserverContext {
  std::string name;
  bool outermost = false;          // only the outermost observed op counts: linear may run matmul inside
  std::string owner;               // the module whose weight the op used; "" for none
  std::vector<std::vector<int64_t>> in;  // input shapes by position (empty for non-tensors)
};

// Multiply-adds of one op, from its input shapes and output.
int64_t op_macs(const OpContext& op, const at::Tensor& out) {
  static const std::vector<int64_t> none;
  const auto& a = op.in.size() > 0 ? op.in[0] : none;
  const auto& b = op.in.size() > 1 ? op.in[1] : none;
  if (op.name == "aten::conv2d") {  // b: weight [out, in / groups, kh, kw]
    return b.size() == 4 ? out.numel() * b[1] * b[2] * b[3] : 0;
  }
  if (op.name == "aten::linear") {  // b: weight [out_features, in_features]
    return b.size() == 2 ? out.numel() * b[1] : 0;
  }
  if (op.name == "aten::matmul" || op.name == "aten::bmm") return a.empty() ? 0 : out.numel() * a.back();
  if (op.name == "aten::addmm" || op.name == "aten::baddbmm") {  // (self, mat1, mat2): mat1 [..., n, k]
    return b.empty() ? 0 : out.numel() * b.back();
  }
  if (op.name == "aten::scaled_dot_product_attention") {  // q [..., L, E], k [..., S, E]: q·kᵀ, then ·v
    if (a.size() < 2 || b.size() < 2) return 0;
    int64_t rows = 1;
    for (size_t i = 0; i + 1 < a.size(); ++i) rows *= a[i];
    return 2 * rows * b[b.size() - 2] * a.back();
  }
  return 0;  // normalisation: not counted as multiply-adds
}

std::unique_ptr<at::ObserverContext> on_start(const at::RecordFunction& fn) {
  Observation* obs = g_observation;
  const char* op = obs == nullptr ? nullptr : observed(fn);
  if (op == nullptr) return nullptr;
  auto ctx = std::make_unique<OpContext>();
  ctx->name = op;
  ctx->outermost = obs->depth++ == 0;
  if (!ctx->outermost) return ctx;
  // The op belongs to the module whose parameter it reads (the weight; for addmm the bias comes first).
  for (size_t i = 0; i < fn.inputs().size(); ++i) {
    const at::Tensor* t = tensor_at(fn, i);
    ctx->in.push_back(t != nullptr && t->defined() ? t->sizes().vec() : std::vector<int64_t>{});
    if (t == nullptr || !t->defined() || !ctx->owner.empty() || (i == 0 && ctx->name != "aten::addmm")) continue;
    const auto it = obs->weight_owner.find(t->data_ptr());
    if (it != obs->weight_owner.end()) ctx->owner = it->second;
  }
  return ctx;
}

void on_end(const at::RecordFunction& fn, at::ObserverContext* context) {
  Observation* obs = g_observation;
  auto* op = static_cast<OpContext*>(context);
  if (obs == nullptr || op == nullptr) return;
  --obs->depth;
  if (!op->outermost) return;
  const auto& outputs = fn.outputs();
  if (outputs.empty() || !outputs[0].isTensor()) return;
  const at::Tensor& out = outputs[0].toTensor();

  obs->macs[op->owner] += op_macs(*op, out);
  if (op->owner.empty()) return;
  // The module and every container above it take this op's output as their latest.
  for (std::string name = op->owner;; name = name.substr(0, name.rfind('.'))) {
    obs->output[name] = out.sizes().vec();
    if (name.find('.') == std::string::npos) break;
  }
}

std::string short_type(const std::string& type) {
  const size_t colon = type.rfind("::");
  std::string out = colon == std::string::npos ? type : type.substr(colon + 2);
  if (out.size() > 4 && out.compare(out.size() - 4, 4, "Impl") == 0) out.resize(out.size() - 4);
  return out;
}

bool is_under(const std::string& name, const std::string& module) {
  return module.empty() || under_prefix(name, module);
}

}  // namespace

ModelSummary summarize(Classifier& model, const ModelEntry& entry, int64_t input_size) {
  Observation obs;
  for (const auto& item : model.named_modules(/*name_prefix=*/"", /*include_self=*/false)) {
    for (const auto& p : item.value()->named_parameters(/*recurse=*/false)) {
      obs.weight_owner[p.value().data_ptr()] = item.key();
    }
  }

  model.eval();
  {
    at::NoGradGuard no_grad;
    g_observation = &obs;
    const auto handle = at::addThreadLocalCallback(
        at::RecordFunctionCallback(on_start, on_end).needsInputs(true).needsOutputs(true));
    at::Tensor logits;
    try {
      logits = model.forward(at::zeros({1, 3, input_size, input_size}));
    } catch (...) {
      at::removeCallback(handle);
      g_observation = nullptr;
      throw;
    }
    at::removeCallback(handle);
    g_observation = nullptr;
    obs.output[""] = logits.sizes().vec();
  }

  ModelSummary summary;
  const auto params = model.named_parameters(/*recurse=*/true);
  auto add_module = [&](const std::string& name, const torch::nn::Module& module) {
    ModuleSummary m;
    m.name = name;
    m.type = short_type(module.name());
    m.depth = name.empty() ? 0 : 1 + static_cast<int>(std::count(name.begin(), name.end(), '.'));
    if (const auto it = obs.output.find(name); it != obs.output.end()) m.output = it->second;
    for (const auto& p : params) {
      if (is_under(p.key(), name)) m.params += p.value().numel();
    }
    for (const auto& [owner, macs] : obs.macs) {
      if (!owner.empty() && is_under(owner, name)) m.macs += macs;
    }
    summary.modules.push_back(std::move(m));
  };
  add_module("", model);
  for (const auto& item : model.named_modules(/*name_prefix=*/"", /*include_self=*/false)) {
    add_module(item.key(), *item.value());
  }

  for (const auto& stage : entry.stages) {
    StageSummary s{stage.name, 0, 0};
    for (const auto& p : params) {
      for (const auto& prefix : stage.prefixes) {
        if (under_prefix(p.key(), prefix)) {
          s.params += p.value().numel();
          if (p.value().requires_grad()) s.trainable += p.value().numel();
          break;
        }
      }
    }
    summary.stages.push_back(s);
  }
  for (const auto& p : params) {
    summary.params_total += p.value().numel();
    if (p.value().requires_grad()) summary.params_trainable += p.value().numel();
  }
  for (const auto& [owner, macs] : obs.macs) summary.macs += macs;
  summary.logits = obs.output[""];
  return summary;
}

}  // namespace ftbench::models
