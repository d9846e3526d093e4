// ftbench inspect MODEL [--input-size N] [--num-classes K]
// ftbench inspect --list
//
// What a model is, measured on one forward pass of one image: its module tree with each module's output
// shape, parameters (total and trainable) per stage and overall, multiply-adds, and for ResNets the residual
// connections: which blocks add the identity and which a 1x1 downsample projection, with the line of code
// that does the addition. The registry's note on the model's place in history comes first.
#include <cinttypes>
#include <cstdio>
#include <memory>
#include <string>

#include "runner/base/error.h"
#include "runner/cli/commands.h"
#include "runner/models/registry.h"
#include "runner/models/resnet.h"
#include "runner/models/summary.h"

namespace ftbench::cli {
namespace {

struct InspectOptions {
  std::string model;
  int64_t input_size = 0;  // 0: the model's native size
  int64_t num_classes = 10;
  bool list = false;
};

// 11181642 -> "11,181,642".
std::string grouped(int64_t n) {
  std::string digits = std::to_string(n);
  for (int i = static_cast<int>(digits.size()) - 3; i > 0; i -= 3) digits.insert(static_cast<size_t>(i), ",");
  return digits;
}

std::string shape_text(const std::vector<int64_t>& shape) {
  if (shape.empty()) return "-";
  std::string out = "[";
  for (size_t i = 0; i < shape.size(); ++i) out += (i ? ", " : "") + std::to_string(shape[i]);
  return out + "]";
}

std::string giga(int64_t n) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f G", static_cast<double>(n) / 1e9);
  return buf;
}

int list_models() {
  std::printf("%-20s %6s %6s  %s\n", "model", "native", "min", "note");
  for (const auto& entry : models::all_models()) {
    const std::string min = entry.exact_input_size ? "=" + std::to_string(entry.native_input_size)
                                                   : std::to_string(entry.min_input_size);
    std::printf("%-20s %6" PRId64 " %6s  %s\n", entry.name.c_str(), entry.native_input_size, min.c_str(),
                entry.note.c_str());
  }
  return 0;
}

// The stride of a downsample projection's 1x1 conv, e.g. "[2, 2]".
std::string projection_stride(const torch::nn::Sequential& downsample) {
  const auto* conv = downsample->children().at(0)->as<torch::nn::Conv2dImpl>();
  return conv == nullptr ? "?" : c10::str(conv->options.stride());
}

// ResNet blocks: the shortcut each one adds, and where in the source.
void print_residuals(const models::Classifier& model) {
  bool any = false;
  for (const auto& item : model.named_modules(/*name_prefix=*/"", /*include_self=*/false)) {
    const char* kind = nullptr;
    int line = 0;
    bool projected = false;
    std::string projection;
    if (const auto* basic = item.value()->as<models::BasicBlockImpl>()) {
      kind = "BasicBlock";
      line = models::BasicBlockImpl::kResidualLine;
      projected = static_cast<bool>(basic->downsample);
      if (projected) projection = projection_stride(basic->downsample);
    } else if (const auto* bottleneck = item.value()->as<models::BottleneckImpl>()) {
      kind = "Bottleneck";
      line = models::BottleneckImpl::kResidualLine;
      projected = static_cast<bool>(bottleneck->downsample);
      if (projected) projection = projection_stride(bottleneck->downsample);
    }
    if (kind == nullptr) continue;
    if (!any) std::printf("\nresidual connections (out += identity: runner/models/resnet.cpp)\n");
    any = true;
    const std::string shortcut = projected ? "1x1 downsample projection (conv stride " + projection + " + BN)"
                                           : "identity";
    std::printf("  %-12s %-10s %-62s resnet.cpp:%d\n", item.key().c_str(), kind, shortcut.c_str(), line);
  }
}

int inspect(const InspectOptions& o) {
  if (o.list) return list_models();
  if (o.model.empty()) throw InputError("inspect: give a model name, or --list to see them all");
  const models::ModelEntry& entry = models::find_model(o.model);
  const int64_t size = o.input_size > 0 ? o.input_size : entry.native_input_size;
  models::check_input_size(entry, size);
  const models::ClassifierPtr model = models::build_model(o.model, o.num_classes);
  const models::ModelSummary summary = models::summarize(*model, entry, size);

  std::printf("%s: %s\n", entry.name.c_str(), entry.note.c_str());
  std::printf("input      [1, 3, %" PRId64 ", %" PRId64 "] (native %" PRId64 ", %s %" PRId64 ")\n", size, size,
              entry.native_input_size, entry.exact_input_size ? "only" : "minimum",
              entry.exact_input_size ? entry.native_input_size : entry.min_input_size);
  std::string heads;
  for (const auto& h : entry.head) heads += (heads.empty() ? "" : ", ") + h;
  std::printf("head       %s, %" PRId64 " classes%s\n", heads.c_str(), o.num_classes,
              o.num_classes == 1000 ? " (ImageNet's)" : " (replaced, freshly initialised)");
  std::printf("weights    %s\n", entry.weights_file.empty() ? "-" : entry.weights_file.c_str());

  std::printf("\nmodule tree (output shape of the module's last layer with weights; - where none ran)\n");
  std::printf("  %-52s %-22s %-20s %14s %12s\n", "module", "type", "output", "params", "MACs");
  for (const auto& m : summary.modules) {
    const std::string label = std::string(static_cast<size_t>(2 * m.depth), ' ') + (m.name.empty() ? "(model)" : m.name);
    std::printf("  %-52s %-22s %-20s %14s %12s\n", label.c_str(), m.type.c_str(), shape_text(m.output).c_str(),
                grouped(m.params).c_str(), m.macs ? giga(m.macs).c_str() : "-");
  }

  std::printf("\nstages (what freeze:<stage> and gradual count)\n");
  for (const auto& s : summary.stages) {
    std::printf("  %-24s %14s params, %14s trainable\n", s.name.c_str(), grouped(s.params).c_str(),
                grouped(s.trainable).c_str());
  }
  std::printf("\nparameters %" PRId64 " total, %" PRId64 " trainable (%s)\n", summary.params_total,
              summary.params_trainable, grouped(summary.params_total).c_str());
  std::printf("multiply-adds %s per image at %" PRId64 "x%" PRId64 " (%s)\n", giga(summary.macs).c_str(), size, size,
              grouped(summary.macs).c_str());
  std::printf("logits     %s\n", shape_text(summary.logits).c_str());
  print_residuals(*model);
  return 0;
}

}  // namespace

Command add_inspect_command(CLI::App& app) {
  auto options = std::make_shared<InspectOptions>();
  CLI::App* cmd = app.add_subcommand(
      "inspect", "Show a model: its place in history, module tree with output shapes, parameters per stage, "
                 "multiply-adds, and (ResNets) which blocks add the identity and which a projection");
  cmd->add_option("model", options->model, "Model name, e.g. resnet18");
  cmd->add_option("--input-size", options->input_size, "Image side in pixels (default: the model's native size)")
      ->check(CLI::Range(int64_t{1}, int64_t{4096}));
  cmd->add_option("--num-classes", options->num_classes, "Classes of the head (default 10; 1000 keeps ImageNet's)")
      ->check(CLI::Range(int64_t{1}, int64_t{1000000}));
  cmd->add_flag("--list", options->list, "List every model with its native and minimum input size and its note");
  return {cmd, [options](int, char**) { return inspect(*options); }};
}

}  // namespace ftbench::cli
