// parse_experiment(): read the file, apply --set overrides, then validate every table into the structs.
// The TOML tree never leaves this folder.
#include "runner/config/config.h"

#include <toml++/toml.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <stdexcept>

#include "runner/base/error.h"           // InputError
#include "runner/config/diagnostics.h"   // where, fail
#include "runner/config/emit.h"          // emit_experiment, emit_run
#include "runner/config/overrides.h"     // apply_overrides
#include "runner/config/runs.h"          // read_runs
#include "runner/config/schema.h"        // kTopLevelKeys, kTrainKeys
#include "runner/config/sections.h"      // read_experiment, read_data, read_train
#include "runner/config/table_reader.h"  // TableReader

namespace ftbench::config {
namespace {

std::string read_file(const std::string& path) {
  std::FILE* file = std::fopen(path.c_str(), "rb");
  if (file == nullptr) throw InputError(path + ": cannot read (" + std::strerror(errno) + "); check the path");
  std::string text;
  char buffer[1 << 16];
  std::size_t n = 0;
  while ((n = std::fread(buffer, 1, sizeof buffer, file)) > 0) text.append(buffer, n);
  // A directory opens fine and fails on the first read (EISDIR).
  const int read_errno = std::ferror(file) ? errno : 0;
  std::fclose(file);
  if (read_errno != 0) {
    throw InputError(path + ": cannot read (" + std::strerror(read_errno) + "); check the path");
  }
  return text;
}

// An editor that saved the file as UTF-16 (or UTF-32) leaves a byte-order mark that names the encoding;
// toml++ would only say "invalid utf-8 sequence". (A UTF-8 byte-order mark is fine: toml++ skips it.)
void check_encoding(const std::string& text, const std::string& path) {
  const auto starts = [&](const char* mark, std::size_t n) { return text.compare(0, n, mark, n) == 0; };
  const char* encoding = starts("\xFF\xFE\x00\x00", 4) || starts("\x00\x00\xFE\xFF", 4) ? "UTF-32"
                         : starts("\xFF\xFE", 2) || starts("\xFE\xFF", 2)                 ? "UTF-16"
                                                                                          : nullptr;
  if (encoding == nullptr) return;
  detail::fail(path + ":1:1", std::string("the file is ") + encoding + " (it starts with a " + encoding +
                                  " byte-order mark), but TOML files are UTF-8; save it as UTF-8");
}

toml::table parse_toml(const std::string& text, const std::string& path) {
  check_encoding(text, path);
  try {
    return toml::parse(std::string_view(text), std::string(path));
  } catch (const toml::parse_error& error) {
    detail::fail(detail::where(error.source(), path),
                 std::string(error.description()) + "; fix the TOML syntax there (see https://toml.io)");
  }
}

void read_top_level_train(const detail::TableReader& root, TrainConfig& out) {
  out.batch_size_origin = root.file() + ":1:1";
  const toml::table* table = root.table("train");
  if (table == nullptr) return;
  const detail::TableReader train(*table, "train", "[train]", root.file());
  train.reject_unknown_keys(detail::kTrainKeys, detail::homes_except("train"));
  out.batch_size_origin = train.where_header();
  detail::read_train(train, out);
}

}  // namespace

Experiment parse_experiment(const std::string& path, const ParseOptions& options) {
  return parse_experiment_text(read_file(path), path, options);
}

Experiment parse_experiment_text(const std::string& text, const std::string& path, const ParseOptions& options) {
  toml::table root = parse_toml(text, path);
  const bool file_was_empty = root.empty();
  detail::apply_overrides(root, options.overrides);

  Experiment experiment;
  experiment.source_path = path;
  experiment.source_text = text;
  const detail::TableReader top(root, "", "", path);
  top.reject_unknown_keys(detail::kTopLevelKeys, detail::homes_except(""));
  detail::read_experiment(top, file_was_empty, experiment);
  detail::read_data(top, experiment.data);
  read_top_level_train(top, experiment.train);
  detail::read_dist(top, experiment.dist);
  detail::read_weights_table(top, experiment.weights_dir);
  const std::optional<detail::Matrix> matrix = detail::read_runs(top, options, experiment);

  experiment.resolved_toml = detail::emit_experiment(experiment, matrix);
  for (RunSpec& run : experiment.runs) run.resolved_toml = detail::emit_run(experiment, run);
  return experiment;
}

void validate_for_world(const Experiment& experiment, int world_size) {
  if (world_size < 1) throw std::invalid_argument("validate_for_world: world_size must be >= 1");
  for (const RunSpec& run : experiment.runs) {
    const TrainConfig& train = run.train;
    if (train.batch_size >= world_size) continue;
    const std::string at = train.batch_size_origin.empty() ? experiment.source_path : train.batch_size_origin;
    const std::string ranks = std::to_string(world_size);
    const bool is_default = train.batch_size_key.empty();
    const std::string what = is_default ? "train.batch_size (" + std::to_string(train.batch_size) + ", the default)"
                                        : train.batch_size_key + " (" + std::to_string(train.batch_size) + ")";
    detail::fail(at, what + " is smaller than the world size (" + ranks + "); use a global batch of at least " + ranks +
                         (is_default ? " (add batch_size = " + ranks + " under [train])" : ""));
  }
}

std::string make_run_id(const std::string& model, const std::string& strategy, int64_t seed) {
  std::string safe = strategy;
  for (char& c : safe) {
    const bool keep =
        (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '.';
    if (!keep) c = '_';
  }
  return model + "-" + safe + "-s" + std::to_string(seed);
}

}  // namespace ftbench::config
