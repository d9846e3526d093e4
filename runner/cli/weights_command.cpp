// ftbench weights check FILE [--model NAME] [--num-classes K] [--tensors]
// ftbench weights convert IN OUT.safetensors
#include <cinttypes>
#include <cstdio>
#include <map>
#include <memory>

#include "runner/base/error.h"
#include "runner/cli/commands.h"
#include "runner/models/registry.h"
#include "runner/weights/dtype_bridge.h"
#include "runner/weights/load.h"
#include "runner/weights/lookup.h"
#include "runner/weights/pretrained.h"
#include "runner/weights/safetensors_writer.h"
#include "runner/weights/sha256.h"
#include "runner/weights/state_dict.h"

namespace ftbench::cli {
namespace {

struct WeightsOptions {
  std::string file;
  std::string model;
  int64_t num_classes = 10;
  bool list_tensors = false;
  std::string convert_in;
  std::string convert_out;
};

std::string mebibytes(uint64_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f MiB", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return buf;
}

// torch's spelling ("float32"), as users know it from Python.
std::string dtype_label(const at::Tensor& t) {
  const auto dtype = weights::from_scalar_type(t.scalar_type());
  return dtype ? weights::dtype_name(*dtype) : c10::toString(t.scalar_type());
}

// The file's sha256, checked against the hash prefix when it carries one of torchvision's names.
std::string checked_sha256(const std::string& path) {
  const std::string sha = weights::sha256_file(path);
  if (weights::is_torchvision_file_name(path)) {
    weights::check_hash_prefix(path, sha, "Delete it and fetch it again with scripts/fetch_weights.sh");
  }
  return sha;
}

int check(const WeightsOptions& o) {
  const std::string sha = checked_sha256(o.file);
  const weights::StateDict state = weights::read_state_dict(o.file);
  uint64_t elements = 0;
  uint64_t bytes = 0;
  std::map<std::string, int> dtypes;
  for (const auto& [name, t] : state.tensors) {
    elements += static_cast<uint64_t>(t.numel());
    bytes += t.nbytes();
    ++dtypes[dtype_label(t)];
  }
  std::string dtype_text;
  for (const auto& [name, count] : dtypes) dtype_text += (dtype_text.empty() ? "" : ", ") + name + " x" + std::to_string(count);

  std::printf("file      %s\n", o.file.c_str());
  std::printf("format    %s\n", state.format.c_str());
  std::printf("sha256    %s%s\n", sha.c_str(), weights::hash_prefix_in_name(o.file) && weights::is_torchvision_file_name(o.file)
                                                   ? " (matches the name)" : "");
  std::printf("tensors   %zu (%" PRIu64 " elements, %s)\n", state.tensors.size(), elements, mebibytes(bytes).c_str());
  std::printf("dtypes    %s\n", dtype_text.empty() ? "-" : dtype_text.c_str());
  if (o.list_tensors) {
    for (const auto& [name, t] : state.tensors) {
      std::printf("  %-48s %-9s %s\n", name.c_str(), dtype_label(t).c_str(), c10::str(t.sizes()).c_str());
    }
  }
  if (o.model.empty()) return 0;

  const models::ModelEntry& entry = models::find_model(o.model);
  const models::ClassifierPtr model = models::build_model(o.model, o.num_classes);
  const weights::LoadReport report = weights::match_state_dict(*model, state, entry.head);
  std::printf("model     %s (%" PRId64 " classes): %s: %s\n", o.model.c_str(), o.num_classes,
              report.fits() ? "fits" : "DOES NOT FIT", report.summary().c_str());
  if (!report.fits()) {
    throw InputError(o.file + ": does not fit " + o.model + ": " + report.summary());
  }
  return 0;
}

int convert(const WeightsOptions& o) {
  if (std::filesystem::path(o.convert_out).extension() != ".safetensors") {
    throw InputError(o.convert_out + ": the output must be a .safetensors file");
  }
  const std::string sha = checked_sha256(o.convert_in);
  const weights::StateDict state = weights::read_state_dict(o.convert_in);
  weights::write_safetensors(o.convert_out, state.tensors,
                             {{"format", "pt"},
                              {"ftbench.source", std::filesystem::path(o.convert_in).filename().string()},
                              {"ftbench.source_format", state.format},
                              {"ftbench.source_sha256", sha}});
  uint64_t bytes = 0;
  for (const auto& [name, t] : state.tensors) bytes += t.nbytes();
  std::printf("wrote %s: %zu tensors, %s, from %s (%s)\n", o.convert_out.c_str(), state.tensors.size(),
              mebibytes(bytes).c_str(), o.convert_in.c_str(), state.format.c_str());
  return 0;
}

}  // namespace

Command add_weights_command(CLI::App& app) {
  auto options = std::make_shared<WeightsOptions>();
  CLI::App* cmd = app.add_subcommand("weights", "Inspect and convert pretrained weight files (.pth, .pt, .safetensors)");
  cmd->require_subcommand(1);

  CLI::App* check_cmd = cmd->add_subcommand(
      "check", "Read a weights file (torch.save zip or legacy, or safetensors; nothing in it is executed) and print "
               "its format, sha256, tensor count, size and dtypes; with --model, whether it fits that model. "
               "Exit 0 when it reads (and fits), 2 when it is broken or does not fit");
  check_cmd->add_option("file", options->file, "The weights file")->required();
  check_cmd->add_option("--model", options->model, "A model name (e.g. resnet18): check that the file fits it");
  check_cmd->add_option("--num-classes", options->num_classes, "Classes of the model's head (default 10)")
      ->check(CLI::Range(int64_t{1}, int64_t{1000000}));
  check_cmd->add_flag("--tensors", options->list_tensors, "Also list every tensor: name, dtype, shape");

  CLI::App* convert_cmd = cmd->add_subcommand(
      "convert", "Convert a weights file (e.g. torchvision's .pth) to safetensors; the source's name and sha256 "
                 "are kept in the metadata");
  convert_cmd->add_option("in", options->convert_in, "The weights file to read")->required();
  convert_cmd->add_option("out", options->convert_out, "The .safetensors file to write")->required();

  return {cmd, [options, check_cmd](int, char**) { return check_cmd->parsed() ? check(*options) : convert(*options); }};
}

}  // namespace ftbench::cli
