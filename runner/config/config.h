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
#include <optional>
#include <string>
#include <vector>

namespace ftbench::config {

// [train]: defaults for every run; a run's [runs.train] table overrides single keys.
struct TrainConfig {
  int64_t epochs = 2;
  int64_t batch_size = 128;       // GLOBAL batch, split across ranks
  std::string optimizer = "sgd";  // "sgd"
  double lr = 0.01;
  double momentum = 0.9;
  double weight_decay = 5e-4;
  std::string schedule = "cosine";  // "constant" | "cosine"
  int64_t threads = 0;              // intra-op threads per rank; 0 = cores / local ranks
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
  std::string strategy;  // "full"
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
