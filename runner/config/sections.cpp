#include "runner/config/sections.h"

#include <algorithm>
#include <cctype>
#include <set>

#include "runner/config/diagnostics.h"  // fail, describe
#include "runner/config/literals.h"     // toml_string
#include "runner/config/schema.h"       // key lists, enumerations, input size bounds

namespace ftbench::config::detail {
namespace {

bool is_filename_safe(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
}

// The name becomes part of a file name (results/<name>.h5), so it may not hold '/', spaces and the like.
void check_name(const TableReader& table, const std::string& name) {
  if (std::all_of(name.begin(), name.end(), is_filename_safe)) return;
  std::string safe = name;
  std::replace_if(
      safe.begin(), safe.end(), [](char c) { return !is_filename_safe(c); }, '_');
  table.fail_type("name", *table.get("name"), "a name of letters, digits, '_', '.' and '-'",
                  "name = " + toml_string(safe));
}

void read_seeds(const TableReader& table, std::vector<int64_t>& out) {
  const toml::node* node = table.get("seeds");
  if (node == nullptr) return;
  if (!node->is_array()) table.fail_type("seeds", *node, "an array of integers", "seeds = [0, 1, 2]");
  const toml::array& seeds = *node->as_array();
  if (seeds.empty()) fail(table.where(*node), "experiment.seeds must not be empty; e.g. seeds = [0]");
  std::vector<int64_t> values;
  for (std::size_t i = 0; i < seeds.size(); ++i) {
    const toml::node& seed = seeds[i];
    const std::string name = "experiment.seeds[" + std::to_string(i) + "]";
    if (!seed.is_integer()) {
      fail(table.where(seed), name + " must be an integer, got " + describe(seed) + "; e.g. seeds = [0, 1, 2]");
    }
    const int64_t value = *seed.value<int64_t>();
    if (value < 0) {
      fail(table.where(seed), name + " must be an integer >= 0, got " + std::to_string(value) +
                                  "; seeds are non-negative, e.g. seeds = [0, 1, 2]");
    }
    if (std::find(values.begin(), values.end(), value) != values.end()) {
      fail(table.where(seed),
           "experiment.seeds lists " + std::to_string(value) + " twice; remove the duplicate, each seed is run once");
    }
    values.push_back(value);
  }
  out = std::move(values);
}

void read_input_size(const TableReader& table, int64_t& out, std::string& origin) {
  const toml::node* node = table.get("input_size");
  if (node == nullptr) return;
  if (node->is_string() && *node->value<std::string>() == "model") {
    out = 0;
    origin.clear();
    return;
  }
  if (node->is_integer()) {
    const int64_t value = *node->value<int64_t>();
    if (value < kMinInputSize || value > kMaxInputSize) {
      fail(table.where(*node), "data.input_size must be from " + std::to_string(kMinInputSize) + " to " +
                                   std::to_string(kMaxInputSize) + " pixels, got " + std::to_string(value) +
                                   "; e.g. input_size = 32, or \"model\" for the model's native size");
    }
    out = value;
    origin = table.where(*node);
    return;
  }
  fail(table.where(*node), "data.input_size must be \"model\" or an integer number of pixels, got " + describe(*node) +
                               "; use input_size = \"model\" or e.g. input_size = 32");
}

}  // namespace

std::vector<KeyHome> homes_except(const std::string& table) {
  const std::vector<KeyHome> all{{"experiment", "[experiment]", &kExperimentKeys},
                                 {"data", "[data]", &kDataKeys},
                                 {"train", "[train]", &kTrainKeys},
                                 {"dist", "[dist]", &kDistKeys},
                                 {"weights", "[weights]", &kWeightsKeys},
                                 {"matrix", "[matrix]", &kMatrixKeys}};
  std::vector<KeyHome> others;
  for (const auto& home : all) {
    if (home.prefix != table) others.push_back(home);
  }
  return others;
}

void read_experiment(const TableReader& root, bool file_was_empty, Experiment& out) {
  const toml::table* table = root.table("experiment");
  if (table == nullptr) {
    if (file_was_empty) {
      fail(root.file() + ":1:1",
           "the file is empty; an experiment needs at least [experiment] with "
           "name = \"...\" and [matrix] with models = [\"resnet18\"]");
    }
    fail(root.file() + ":1:1", "missing [experiment] table; add [experiment] with name = \"my-experiment\"");
  }
  const TableReader experiment(*table, "experiment", "[experiment]", root.file());
  experiment.reject_unknown_keys(kExperimentKeys, homes_except("experiment"));
  if (!experiment.read("name", out.name)) experiment.fail_missing("name", "\"my-experiment\"");
  check_name(experiment, out.name);
  out.output = "results/" + out.name + ".h5";
  experiment.read("output", out.output);
  read_seeds(experiment, out.seeds);
  experiment.read("deterministic", out.deterministic);
  experiment.read("checkpoint_dir", out.checkpoint_dir);
  experiment.read("checkpoint_keep", out.checkpoint_keep, IntRange{1, 1000});
  experiment.read("checkpoint_every", out.checkpoint_every, IntRange{1, 1000000});
}

void read_data(const TableReader& root, DataConfig& out) {
  const toml::table* table = root.table("data");
  if (table == nullptr) return;
  const TableReader data(*table, "data", "[data]", root.file());
  data.reject_unknown_keys(kDataKeys, homes_except("data"));
  data.read_choice("dataset", out.dataset, kDatasets);
  data.read("path", out.path);
  data.read("train_size", out.train_size, IntRange{0});
  data.read("test_size", out.test_size, IntRange{0});
  read_input_size(data, out.input_size, out.input_size_origin);
  data.read("augment", out.augment);
}

// train.milestones: strictly increasing epochs >= 1.
void read_milestones(const TableReader& table, std::vector<int64_t>& out) {
  const toml::node* node = table.get("milestones");
  if (node == nullptr) return;
  const std::string example = "milestones = [30, 60]";
  if (!node->is_array()) table.fail_type("milestones", *node, "an array of epochs", example);
  std::vector<int64_t> values;
  const toml::array& items = *node->as_array();
  for (std::size_t i = 0; i < items.size(); ++i) {
    const std::string name = table.dotted("milestones") + "[" + std::to_string(i) + "]";
    if (!items[i].is_integer() || *items[i].value<int64_t>() < 1) {
      fail(table.where(items[i]), name + " must be an epoch number >= 1, got " + describe(items[i]) + "; e.g. " + example);
    }
    const int64_t value = *items[i].value<int64_t>();
    if (!values.empty() && value <= values.back()) {
      fail(table.where(items[i]), table.dotted("milestones") + " must increase strictly, got " +
                                      std::to_string(value) + " after " + std::to_string(values.back()) +
                                      "; e.g. " + example);
    }
    values.push_back(value);
  }
  out = values;
}

// Checks between keys, on the merged values ([train], then a run's [runs.train] over it).
void check_train(const TableReader& table, const TrainConfig& t) {
  const auto at = [&](const char* key) {
    const toml::node* node = table.get(key);
    return node != nullptr ? table.where(*node) : table.where_header();
  };
  if (t.schedule == "step" && t.milestones.empty()) {
    fail(at("schedule"), table.dotted("schedule") + " = \"step\" needs milestones: the epochs after which the LR "
                         "is multiplied by gamma; e.g. milestones = [30, 60]");
  }
  if (!t.milestones.empty() && t.milestones.back() > t.epochs) {
    fail(at("milestones"), table.dotted("milestones") + " has epoch " + std::to_string(t.milestones.back()) +
                               ", past the last epoch (" + std::to_string(t.epochs) +
                               "); use milestones within 1.." + std::to_string(t.epochs));
  }
  if (t.warmup_epochs >= static_cast<double>(t.epochs)) {
    fail(at("warmup_epochs"), table.dotted("warmup_epochs") + " must be less than epochs (" +
                                  std::to_string(t.epochs) + "); e.g. warmup_epochs = 1");
  }
  if (t.nesterov && (t.optimizer != "sgd" || t.momentum == 0.0)) {
    fail(at("nesterov"), table.dotted("nesterov") + " = true needs optimizer = \"sgd\" with momentum > 0");
  }
}

void read_train(const TableReader& table, TrainConfig& out) {
  table.read("epochs", out.epochs, IntRange{1, 100000});
  if (table.read("batch_size", out.batch_size, IntRange{1, kMaxBatchSize})) {
    out.batch_size_origin = table.where(*table.get("batch_size"));
    out.batch_size_key = table.dotted("batch_size");
  }
  table.read_choice("optimizer", out.optimizer, kOptimizers);
  table.read("lr", out.lr, RealRange{0.0, /*min_inclusive=*/false});
  table.read("momentum", out.momentum, RealRange{0.0, /*min_inclusive=*/true, 1.0, /*max_inclusive=*/false});
  table.read("weight_decay", out.weight_decay, RealRange{0.0, /*min_inclusive=*/true});
  table.read("nesterov", out.nesterov);
  table.read("no_decay_norm_bias", out.no_decay_norm_bias);
  table.read_choice("schedule", out.schedule, kSchedules);
  read_milestones(table, out.milestones);
  table.read("gamma", out.gamma, RealRange{0.0, /*min_inclusive=*/false, 1.0, /*max_inclusive=*/true});
  table.read("warmup_epochs", out.warmup_epochs, RealRange{0.0, /*min_inclusive=*/true});
  table.read("label_smoothing", out.label_smoothing,
             RealRange{0.0, /*min_inclusive=*/true, 1.0, /*max_inclusive=*/false});
  table.read("clip_grad_norm", out.clip_grad_norm, RealRange{0.0, /*min_inclusive=*/true});
  table.read("accumulate_steps", out.accumulate_steps, IntRange{1, 1024});
  table.read("ema_decay", out.ema_decay, RealRange{0.0, /*min_inclusive=*/true, 1.0, /*max_inclusive=*/false});
  table.read("backbone_lr_mult", out.backbone_lr_mult,
             RealRange{0.0, /*min_inclusive=*/false, 1000.0, /*max_inclusive=*/true});
  table.read("unfreeze_every", out.unfreeze_every, IntRange{1, 100000});
  table.read_choice("precision", out.precision, kPrecisions);
  table.read_choice("memory_format", out.memory_format, kMemoryFormats);
  table.read("threads", out.threads, IntRange{0, 1024});
  table.read_choice("batchnorm", out.batchnorm, kBatchNorm);
  check_train(table, out);
}

void read_weights_table(const TableReader& root, std::string& dir) {
  const toml::table* table = root.table("weights");
  if (table == nullptr) return;
  const TableReader weights(*table, "weights", "[weights]", root.file());
  weights.reject_unknown_keys(kWeightsKeys, homes_except("weights"));
  weights.read("dir", dir);
}

void read_dist(const TableReader& root, DistConfig& out) {
  const toml::table* table = root.table("dist");
  if (table == nullptr) return;
  const TableReader dist(*table, "dist", "[dist]", root.file());
  dist.reject_unknown_keys(kDistKeys, homes_except("dist"));
  dist.read_choice("backend", out.backend, kBackends);
  dist.read("bucket_cap_mb", out.bucket_cap_mb, RealRange{0.0, /*min_inclusive=*/false, 4096.0, true});
  dist.read_choice("grad_dtype", out.grad_dtype, kGradDtypes);
  dist.read("timeout_s", out.timeout_s, RealRange{0.0, /*min_inclusive=*/false, 86400.0, true});
}

}  // namespace ftbench::config::detail
