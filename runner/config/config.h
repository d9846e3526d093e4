// Experiment configuration: a TOML file parsed once into typed, validated structs.
//
// Contract: parse_experiment() either returns a fully validated Experiment, or throws ftbench::InputError
// whose one-line message starts with "FILE:LINE:COL: " (or "--set KEY=VALUE: " for an override) and says
// what was expected and how to fix it. Unknown keys are errors with a "did you mean" suggestion. Nothing
// downstream of this header ever touches TOML.
//
// Thread-safety: pure functions; no shared state.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace ftbench::config {

// [train]: defaults for every run; a run's [runs.train] table overrides single keys.
struct TrainConfig {
  int64_t epochs = 2;
  int64_t batch_size = 128;       // GLOBAL batch, split across ranks
  std::string optimizer = "sgd";  // "sgd" | "adamw"
  double lr = 0.01;               // the head's LR (and the backbone's, except under "discriminative")
  double momentum = 0.9;          // sgd momentum; adamw's beta1 is fixed at 0.9, beta2 at 0.999
  bool nesterov = false;          // sgd only
  double weight_decay = 5e-4;
  bool no_decay_norm_bias = true;   // biases and normalisation parameters get no weight decay
  std::string schedule = "cosine";  // "constant" | "cosine" | "step"
  std::vector<int64_t> milestones;  // "step": epochs (1-based) after which the LR is multiplied by gamma
  double gamma = 0.1;               // "step": the factor
  double warmup_epochs = 0;         // linear warmup from 0 over this many epochs (fractions allowed)
  double label_smoothing = 0;       // in [0, 1)
  double clip_grad_norm = 0;        // max global L2 norm of the gradients; 0 = no clipping
  int64_t accumulate_steps = 1;     // micro-batches per optimizer step (one all-reduce per step)
  double ema_decay = 0;             // EMA of the weights, evaluated instead of the weights; 0 = off
  double backbone_lr_mult = 0.1;    // "discriminative": backbone LR = lr x this
  int64_t unfreeze_every = 1;       // "gradual": epochs between unfreezing one more stage from the top
  std::string precision = "fp32";   // "fp32" | "bf16" (CUDA autocast; refused on CPU)
  std::string memory_format = "auto";  // "auto" (channels_last for conv nets) | "channels_last" | "contiguous"
  int64_t threads = 0;              // intra-op threads per rank; 0 = cli::default_threads
  std::string batchnorm = "train";  // "train": batch statistics | "frozen": running statistics, affine trains

  // Where batch_size was set ("exp.toml:12:14" or "--set train.batch_size=1"; for the default, the [train]
  // header) and under which key ("train.batch_size", "runs[0].train.batch_size"; empty for the default),
  // so that validate_for_world() can point at it. Diagnostics only: not part of the resolved TOML.
  std::string batch_size_origin;
  std::string batch_size_key;
};

// [data]
struct DataConfig {
  std::string dataset = "cifar10";                // "cifar10" | "synthetic"
  std::string path = "data/cifar-10-batches-bin";  // dir or .tar.gz; for synthetic: where it is generated
  int64_t train_size = 0;                          // 0 = all
  int64_t test_size = 0;                           // 0 = all
  int64_t input_size = 0;                          // pixels; 0 = the model's native size ("model")
  bool augment = true;
  // Where a number of pixels was given for input_size ("FILE:LINE:COL", or "--set data.input_size=N"), so
  // that a size below a model's minimum, found once the model is known, can point at it. Empty for "model".
  // Diagnostics only: not part of the resolved TOML.
  std::string input_size_origin;
};

// [dist]: how ranks communicate.
struct DistConfig {
  std::string backend = "auto";  // "auto" (NCCL on GPUs, MPI on CPUs) | "nccl" | "mpi"
  double bucket_cap_mb = 25;     // gradient bucket size after the first (1 MB) bucket
  std::string grad_dtype = "fp32";  // "fp32" | "bf16": dtype of the gradient all-reduce
  double timeout_s = 600;        // bound on every collective; a rank that does not arrive ends the job
};

// One run of the experiment: model x strategy x seed (from [matrix] or one [[runs]] table).
struct RunSpec {
  std::string id;        // "<model>-<strategy>-s<seed>" (unsafe characters replaced by '_'), or
                         // "<name>-s<seed>" for a [[runs]] table that sets `name`
  std::string name;      // [[runs]] name, "" when not given
  std::string model;     // e.g. "resnet18"
  std::string strategy;  // "full" | "linear_probe" | "freeze:<stage>" | "discriminative" | "gradual"
  std::string weights;   // "none" (random init) | "torchvision" (the model's torchvision file) | a file path
  bool strict_weights = true;  // false: load the tensors that match, record the rest
  int64_t seed = 0;
  TrainConfig train;     // [train] with this run's [runs.train] overrides applied
  std::string resolved_toml;  // the complete, resolved configuration of this run, as TOML text
};

struct Experiment {
  std::string source_path;  // the file it came from
  std::string source_text;  // the file's text, verbatim
  std::string name;         // [experiment] name (required)
  std::string output;       // results file; default "results/<name>.h5"
  std::vector<int64_t> seeds{0};
  bool deterministic = false;
  // Checkpoints: <checkpoint_dir>/<run_id>/. Empty: beside the results file, "<output without .h5>.checkpoints".
  std::string checkpoint_dir;
  int64_t checkpoint_keep = 1;  // checkpoints kept per run (the newest); a completed run keeps its final one
  // An end-of-epoch checkpoint after every N-th epoch and after the last; a stop signal always saves one.
  int64_t checkpoint_every = 1;
  DataConfig data;
  TrainConfig train;
  DistConfig dist;
  std::string weights_dir;    // [weights] dir: one more place to look for torchvision-named files
  std::vector<RunSpec> runs;  // the matrix expanded (models x strategies x seeds), or the explicit [[runs]]
  std::string resolved_toml;  // the whole resolved experiment (all keys, defaults filled in), as TOML text
};

// A --set KEY=VALUE override, e.g. "train.epochs=1". VALUE is parsed as a TOML value; a bare word that is
// not valid TOML (data.dataset=synthetic) is taken as a string.
struct Override {
  std::string text;  // as given on the command line, for error messages
};

// What the caller knows that the config layer does not (it has no LibTorch): the model registry's names.
struct ParseOptions {
  std::vector<std::string> known_models{"resnet18"};
  // Each model's stage names, input to output, for checking `freeze:<stage>`; a model without an entry is
  // not checked here (the trainer checks it again).
  std::map<std::string, std::vector<std::string>> model_stages;
  std::vector<Override> overrides;  // applied in order, after the file is read
};

// Parses and validates the experiment at `path`. Throws InputError on any problem (see the contract above),
// including a file that cannot be read.
Experiment parse_experiment(const std::string& path, const ParseOptions& options = {});

// Same, from text already in memory; `path` is used in messages only.
Experiment parse_experiment_text(const std::string& text, const std::string& path,
                                 const ParseOptions& options = {});

// Checks that depend on the launch, not the file: e.g. a global batch smaller than the world size.
// Throws InputError naming the file and the key.
void validate_for_world(const Experiment& experiment, int world_size);

// The run id for a model, strategy and seed: "resnet18-full-s0"; characters outside [A-Za-z0-9_.] in the
// strategy become '_' ("freeze:layer2" -> "freeze_layer2").
std::string make_run_id(const std::string& model, const std::string& strategy, int64_t seed);

}  // namespace ftbench::config
