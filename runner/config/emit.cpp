#include "runner/config/emit.h"

#include "runner/config/literals.h"  // toml_string, toml_float, toml_bool, toml_array

namespace ftbench::config::detail {
namespace {

std::string line(const std::string& key, const std::string& value) { return key + " = " + value + "\n"; }

std::string strings(const std::vector<std::string>& items) {
  std::vector<std::string> spelled;
  for (const auto& item : items) spelled.push_back(toml_string(item));
  return toml_array(spelled);
}

std::string experiment_and_data(const Experiment& e) {
  std::vector<std::string> seeds;
  for (const int64_t seed : e.seeds) seeds.push_back(std::to_string(seed));
  const DataConfig& d = e.data;
  return "[experiment]\n" + line("name", toml_string(e.name)) + line("output", toml_string(e.output)) +
         line("seeds", toml_array(seeds)) + line("deterministic", toml_bool(e.deterministic)) +
         (e.checkpoint_dir.empty() ? std::string() : line("checkpoint_dir", toml_string(e.checkpoint_dir))) +
         line("checkpoint_keep", std::to_string(e.checkpoint_keep)) +
         line("checkpoint_every", std::to_string(e.checkpoint_every)) + "\n[data]\n" +
         line("dataset", toml_string(d.dataset)) + line("path", toml_string(d.path)) +
         line("train_size", std::to_string(d.train_size)) + line("test_size", std::to_string(d.test_size)) +
         line("input_size", d.input_size == 0 ? toml_string("model") : std::to_string(d.input_size)) +
         line("augment", toml_bool(d.augment));
}

// The train keys of `t`; with a `base`, only those that differ from it (a run's [runs.train]).
std::string train_keys(const TrainConfig& t, const TrainConfig* base = nullptr) {
  std::string out;
  const auto add = [&](const std::string& key, bool differs, const std::string& value) {
    if (base == nullptr || differs) out += line(key, value);
  };
  add("epochs", base && t.epochs != base->epochs, std::to_string(t.epochs));
  add("batch_size", base && t.batch_size != base->batch_size, std::to_string(t.batch_size));
  add("optimizer", base && t.optimizer != base->optimizer, toml_string(t.optimizer));
  add("lr", base && t.lr != base->lr, toml_float(t.lr));
  add("momentum", base && t.momentum != base->momentum, toml_float(t.momentum));
  add("nesterov", base && t.nesterov != base->nesterov, toml_bool(t.nesterov));
  add("weight_decay", base && t.weight_decay != base->weight_decay, toml_float(t.weight_decay));
  add("no_decay_norm_bias", base && t.no_decay_norm_bias != base->no_decay_norm_bias, toml_bool(t.no_decay_norm_bias));
  add("schedule", base && t.schedule != base->schedule, toml_string(t.schedule));
  std::vector<std::string> milestones;
  for (const int64_t m : t.milestones) milestones.push_back(std::to_string(m));
  add("milestones", base && t.milestones != base->milestones, toml_array(milestones));
  add("gamma", base && t.gamma != base->gamma, toml_float(t.gamma));
  add("warmup_epochs", base && t.warmup_epochs != base->warmup_epochs, toml_float(t.warmup_epochs));
  add("label_smoothing", base && t.label_smoothing != base->label_smoothing, toml_float(t.label_smoothing));
  add("clip_grad_norm", base && t.clip_grad_norm != base->clip_grad_norm, toml_float(t.clip_grad_norm));
  add("accumulate_steps", base && t.accumulate_steps != base->accumulate_steps, std::to_string(t.accumulate_steps));
  add("ema_decay", base && t.ema_decay != base->ema_decay, toml_float(t.ema_decay));
  add("backbone_lr_mult", base && t.backbone_lr_mult != base->backbone_lr_mult, toml_float(t.backbone_lr_mult));
  add("unfreeze_every", base && t.unfreeze_every != base->unfreeze_every, std::to_string(t.unfreeze_every));
  add("precision", base && t.precision != base->precision, toml_string(t.precision));
  add("memory_format", base && t.memory_format != base->memory_format, toml_string(t.memory_format));
  add("threads", base && t.threads != base->threads, std::to_string(t.threads));
  add("batchnorm", base && t.batchnorm != base->batchnorm, toml_string(t.batchnorm));
  return out;
}

std::string weights_and_dist_tables(const Experiment& e) {
  const DistConfig& d = e.dist;
  // [weights] dir has no "empty" spelling (the key holds a non-empty path), so it is written only when set.
  const std::string weights = e.weights_dir.empty() ? "" : "\n[weights]\n" + line("dir", toml_string(e.weights_dir));
  return weights + "\n[dist]\n" + line("backend", toml_string(d.backend)) + line("bucket_cap_mb", toml_float(d.bucket_cap_mb)) +
         line("grad_dtype", toml_string(d.grad_dtype)) + line("timeout_s", toml_float(d.timeout_s));
}

std::string run_table(const RunSpec& run) {
  return "\n[[runs]]\n" + (run.name.empty() ? std::string() : line("name", toml_string(run.name))) +
         line("model", toml_string(run.model)) + line("strategy", toml_string(run.strategy)) +
         line("weights", toml_string(run.weights)) + line("strict_weights", toml_bool(run.strict_weights)) +
         line("seed", std::to_string(run.seed));
}

}  // namespace

std::string emit_experiment(const Experiment& experiment, const std::optional<Matrix>& matrix) {
  std::string out =
      experiment_and_data(experiment) + "\n[train]\n" + train_keys(experiment.train) + weights_and_dist_tables(experiment);
  if (matrix) {
    return out + "\n[matrix]\n" + line("models", strings(matrix->models)) +
           line("strategies", strings(matrix->strategies)) + line("weights", toml_string(matrix->weights)) +
           line("strict_weights", toml_bool(matrix->strict_weights));
  }
  for (const RunSpec& run : experiment.runs) {
    out += run_table(run);
    const std::string overrides = train_keys(run.train, &experiment.train);
    if (!overrides.empty()) out += "[runs.train]\n" + overrides;
  }
  return out;
}

std::string emit_run(const Experiment& experiment, const RunSpec& run) {
  return experiment_and_data(experiment) + "\n[train]\n" + train_keys(run.train) + weights_and_dist_tables(experiment) +
         run_table(run);
}

}  // namespace ftbench::config::detail
