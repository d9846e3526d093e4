// The keys each table accepts and the values each enumerated key may take. Adding a key means adding it
// here, reading it in sections.cpp or runs.cpp, and writing it in emit.cpp.
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace ftbench::config::detail {

inline const std::vector<std::string> kTopLevelKeys{"experiment", "data", "train", "dist", "weights", "matrix", "runs"};
inline const std::vector<std::string> kExperimentKeys{"name",           "output",          "seeds",
                                                      "deterministic",  "checkpoint_dir",  "checkpoint_keep",
                                                      "checkpoint_every"};
inline const std::vector<std::string> kDataKeys{"dataset", "path", "train_size", "test_size", "input_size", "augment"};
inline const std::vector<std::string> kTrainKeys{
    "epochs",          "batch_size",     "optimizer",        "lr",           "momentum",
    "nesterov",        "weight_decay",   "no_decay_norm_bias", "schedule",   "milestones",
    "gamma",           "warmup_epochs",  "label_smoothing",  "clip_grad_norm", "accumulate_steps",
    "ema_decay",       "backbone_lr_mult", "unfreeze_every", "precision",    "memory_format",
    "threads",         "batchnorm"};
inline const std::vector<std::string> kDistKeys{"backend", "bucket_cap_mb", "grad_dtype", "timeout_s"};
inline const std::vector<std::string> kMatrixKeys{"models", "strategies", "weights", "strict_weights"};
inline const std::vector<std::string> kRunKeys{"name",           "model", "strategy", "weights",
                                               "strict_weights", "seed",  "train"};
inline const std::vector<std::string> kWeightsKeys{"dir"};

// Spellings from other tools that are too far from ours for an edit-distance suggestion, each with the
// key it most likely means. Used only when that key is valid in the table at hand.
inline const std::vector<std::pair<std::string, std::string>> kKeyAliases{
    {"learning_rate", "lr"},     {"learningrate", "lr"},         {"wd", "weight_decay"},
    {"num_epochs", "epochs"},    {"max_epochs", "epochs"},       {"bs", "batch_size"},
    {"batch", "batch_size"},     {"global_batch", "batch_size"}, {"optim", "optimizer"},
    {"lr_schedule", "schedule"}, {"lr_scheduler", "schedule"},   {"num_threads", "threads"},
    {"strategy", "strategies"},  {"image_size", "input_size"},   {"resolution", "input_size"},
    {"augmentation", "augment"}, {"pretrained", "weights"},      {"data_dir", "path"},
    {"out", "output"},           {"output_path", "output"},      {"seed", "seeds"},
    {"model", "models"},         {"warmup", "warmup_epochs"},    {"smoothing", "label_smoothing"},
    {"grad_clip", "clip_grad_norm"}, {"max_grad_norm", "clip_grad_norm"}, {"grad_accum", "accumulate_steps"},
    {"gradient_accumulation_steps", "accumulate_steps"}, {"ema", "ema_decay"}, {"dtype", "precision"},
    {"amp", "precision"},        {"lr_milestones", "milestones"}, {"ckpt_dir", "checkpoint_dir"},
    {"save_dir", "checkpoint_dir"}, {"keep_checkpoints", "checkpoint_keep"}};

inline const std::vector<std::string> kDatasets{"cifar10", "synthetic"};
inline const std::vector<std::string> kOptimizers{"sgd", "adamw"};
inline const std::vector<std::string> kSchedules{"constant", "cosine", "step"};
// Strategies; "freeze:<stage>" is the one more form, with a stage of the run's model.
inline const std::vector<std::string> kStrategies{"full", "linear_probe", "discriminative", "gradual"};
inline const std::string kFreezePrefix = "freeze:";
inline const std::vector<std::string> kPrecisions{"fp32", "bf16"};
inline const std::vector<std::string> kMemoryFormats{"auto", "channels_last", "contiguous"};
// `weights` keywords; any other non-empty string is a path to a weights file.
inline const std::vector<std::string> kWeightKeywords{"none", "torchvision"};
inline const std::vector<std::string> kBatchNorm{"train", "frozen"};
inline const std::vector<std::string> kBackends{"auto", "nccl", "mpi"};
inline const std::vector<std::string> kGradDtypes{"fp32", "bf16"};

// data.input_size in pixels. Whether a size is large enough for a given model (resnet18 needs 32) is the
// model registry's check, made once the model is known; here only the absurd is rejected.
// The largest global batch: 20 times CIFAR-10's training set, and small enough that batch x accumulate_steps
// x world size (and byte counts derived from them) stay far from int64 overflow.
inline constexpr int64_t kMaxBatchSize = int64_t{1} << 20;
inline constexpr int64_t kMinInputSize = 1;
inline constexpr int64_t kMaxInputSize = 1024;

}  // namespace ftbench::config::detail
