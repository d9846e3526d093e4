#include "runner/train/trainer.h"

#include <ATen/Context.h>
#include <ATen/Functions.h>
#include <torch/nn/functional/loss.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/optim/sgd.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <chrono>
#include <cmath>
#include <cstring>
#include <functional>
#include <optional>
#include <cstdio>

#include "dist/gradient_reducer.h"
#include "runner/base/error.h"
#include "runner/models/registry.h"
#include "runner/weights/pretrained.h"
#include "runner/train/augment.h"
#include "runner/train/evaluate.h"
#include "runner/train/fault.h"
#include "runner/train/progress.h"
#include "runner/train/schedule.h"
#include "runner/train/sharding.h"

#ifndef FTBENCH_VERSION
#define FTBENCH_VERSION "unknown"
#endif
#ifndef FTBENCH_GIT_COMMIT
#define FTBENCH_GIT_COMMIT "unknown"
#endif

namespace ftbench::train {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

// Every rank starts a run from rank 0's weights, so ranks agree even if initialisation ever differed.
void broadcast_model(models::Classifier& model, dist::Communicator& comm) {
  torch::NoGradGuard no_grad;
  for (auto& p : model.parameters()) {
    at::Tensor data = p.data();
    comm.broadcast(data, /*root=*/0);
  }
  for (auto& b : model.buffers()) comm.broadcast(b, /*root=*/0);
}

// The dataset on the run's device, as uint8 images and int64 labels. The images wrap the reader's memory
// on the CPU (no copy); on a GPU they are copied once, still as uint8.
struct DeviceData {
  at::Tensor train_images, train_labels, test_images, test_labels;
};

DeviceData to_device(const data::Dataset& dataset, at::Device device) {
  auto wrap = [&](const data::Split& split) {
    auto u8 = at::TensorOptions().dtype(at::kByte);
    // from_blob does not take ownership; `dataset` outlives every run.
    at::Tensor images = at::from_blob(const_cast<uint8_t*>(split.images.data()),
                                      {split.size, data::kChannels, data::kImageSide, data::kImageSide}, u8);
    at::Tensor labels = at::from_blob(const_cast<uint8_t*>(split.labels.data()), {split.size}, u8).to(at::kLong);
    return std::make_pair(images.to(device), labels.to(device));
  };
  DeviceData out;
  std::tie(out.train_images, out.train_labels) = wrap(dataset.train);
  std::tie(out.test_images, out.test_labels) = wrap(dataset.test);
  return out;
}

std::string format_epoch_line(const std::string& run_id, int64_t epoch, int64_t epochs,
                              const results::EpochRow& row) {
  char line[256];
  std::snprintf(line, sizeof line,
                "%s  epoch %lld/%lld  loss %.4f  acc %6.2f%%  test_loss %.4f  test_acc %6.2f%%  lr %.5f  "
                "%8.1f img/s  %6.1f s",
                run_id.c_str(), static_cast<long long>(epoch), static_cast<long long>(epochs), row.train_loss,
                100.0 * row.train_acc, row.test_loss, 100.0 * row.test_acc, row.lr, row.images_per_second,
                row.epoch_seconds);
  return line;
}

class RunTrainer {
 public:
  RunTrainer(const config::Experiment& experiment, const config::RunSpec& run, const DeviceData& data,
             const TrainContext& ctx, results::Store* store)
      : experiment_(experiment), run_(run), data_(data), ctx_(ctx), comm_(*ctx.comm), store_(store),
        progress_(comm_.rank() == 0), fault_(fault_from_env()) {}

  void run() {
    const int64_t input_size = resolve_input_size(experiment_, run_.model);
    torch::manual_seed(static_cast<uint64_t>(run_.seed));
    at::set_num_threads(run_.train.threads > 0 ? static_cast<int>(run_.train.threads) : ctx_.threads);
    model_ = models::build_model(run_.model, data::kNumClasses);
    // Rank 0 reads the pretrained weights (the head stays freshly initialised for 10 classes); the
    // broadcast below gives every rank the same model.
    if (run_.weights != "none" && comm_.rank() == 0) {
      const weights::PretrainedWeights loaded =
          weights::load_pretrained(*model_, models::find_model(run_.model), run_.weights, experiment_.weights_dir,
                                   run_.strict_weights);
      weights_file_ = loaded.path.string();
      weights_sha256_ = loaded.sha256;
      weights_load_ = loaded.report.summary();
      progress_.message("# " + run_.id + ": weights " + weights_file_ + " (" + loaded.format + ", sha256 " +
                        weights_sha256_.substr(0, 12) + "...): " + weights_load_);
    }
    model_->to(ctx_.device);
    broadcast_model(*model_, comm_);
    check_consistency();

    std::vector<at::Tensor> params;
    for (auto& p : model_->parameters()) {
      if (p.requires_grad()) params.push_back(p);
    }
    const auto& t = run_.train;
    // At world size 1 on the MPI backend there is nothing to sum, so no reducer: its copies would be pure
    // overhead. On NCCL it always runs, so a one-GPU run still exercises the whole path.
    std::unique_ptr<dist::GradientReducer> reducer;
    if (comm_.size() > 1 || comm_.backend() == "nccl") {
      dist::ReducerOptions options;
      options.bucket_cap_mb = experiment_.dist.bucket_cap_mb;
      options.grad_dtype = experiment_.dist.grad_dtype == "bf16" ? at::kBFloat16 : at::kFloat;
      reducer = std::make_unique<dist::GradientReducer>(params, comm_, options);
    }
    torch::optim::SGD optimizer(params,
                                torch::optim::SGDOptions(t.lr).momentum(t.momentum).weight_decay(t.weight_decay));
    const Schedule schedule = parse_schedule(t.schedule);

    const int64_t n_train = data_.train_images.size(0);
    const int64_t steps_per_epoch = usable_batches(n_train);
    const int64_t total_steps = steps_per_epoch * t.epochs;

    if (store_ != nullptr) store_->begin_run(run_info(input_size));

    int64_t step = 0;
    for (int64_t epoch = 1; epoch <= t.epochs; ++epoch) {
      const auto epoch_start = Clock::now();
      set_training_mode();
      const at::Tensor order = epoch_permutation(n_train, run_.seed, epoch);
      const BatchSpec spec{input_size, experiment_.data.augment, run_.seed, epoch};
      at::Tensor loss_sum = at::zeros({1}, at::TensorOptions().dtype(at::kDouble).device(ctx_.device));
      at::Tensor correct = at::zeros({1}, at::TensorOptions().dtype(at::kLong).device(ctx_.device));
      const double epoch_lr = lr_at(schedule, t.lr, step, total_steps);
      int64_t images = 0;

      progress_.begin_epoch(run_.id, epoch, t.epochs, steps_per_epoch);
      for (int64_t b = 0; b < steps_per_epoch; ++b, ++step) {
        const int64_t global_begin = b * t.batch_size;
        const int64_t global_count = std::min(t.batch_size, n_train - global_begin);
        const Range mine = split_evenly(global_count, comm_.rank(), comm_.size());
        const at::Tensor indices = order.slice(0, global_begin + mine.begin, global_begin + mine.end);

        for (auto& group : optimizer.param_groups()) {
          static_cast<torch::optim::SGDOptions&>(group.options()).lr(lr_at(schedule, t.lr, step, total_steps));
        }
        if (!reducer) optimizer.zero_grad();  // the reducer zeroes its bucket views in prepare_step()
        const at::Tensor x = prepare_batch(data_.train_images, indices, spec);
        const at::Tensor y = data_.train_labels.index_select(0, indices.to(ctx_.device));
        const at::Tensor logits = model_->forward(x);
        // Local SUM divided by the GLOBAL batch size: summed over ranks, the gradients are exactly those of
        // the mean loss over the global batch, however it splits across ranks.
        const at::Tensor local_sum = torch::nn::functional::cross_entropy(
            logits, y, torch::nn::functional::CrossEntropyFuncOptions().reduction(torch::kSum));
        maybe_inject(fault_, comm_.rank(), ++process_steps_);
        if (reducer) reducer->prepare_step();
        (local_sum / static_cast<double>(global_count)).backward();
        if (reducer) reducer->finalize();
        optimizer.step();

        {
          torch::NoGradGuard no_grad;
          loss_sum += local_sum.detach().to(at::kDouble);
          correct += logits.argmax(1).eq(y).sum();
        }
        images += global_count;
        progress_.step(b + 1, images);
      }
      comm_.all_reduce(loss_sum, dist::ReduceOp::kSum);
      comm_.all_reduce(correct, dist::ReduceOp::kSum);
      const double train_seconds = seconds_since(epoch_start);

      const BatchSpec eval_spec{input_size, /*augment=*/false, run_.seed, epoch};
      const int64_t eval_batch = std::max<int64_t>(64, 2 * t.batch_size / comm_.size());
      const EvalResult eval =
          evaluate(*model_, data_.test_images, data_.test_labels, eval_spec, eval_batch, comm_);

      results::EpochRow row;
      row.epoch = epoch;
      row.train_loss = loss_sum.cpu().item<double>() / static_cast<double>(images);
      row.train_acc = static_cast<double>(correct.cpu().item<int64_t>()) / static_cast<double>(images);
      row.test_loss = eval.loss;
      row.test_acc = eval.accuracy;
      row.lr = epoch_lr;
      row.epoch_seconds = seconds_since(epoch_start);
      row.images_per_second = static_cast<double>(images) / train_seconds;
      row.confusion = eval.confusion;
      if (store_ != nullptr) store_->append_epoch(run_.id, row);
      // Every rank holds the same reduced loss, so every rank stops here together.
      if (!std::isfinite(row.train_loss)) {
        throw RuntimeError("run " + run_.id + " diverged: the training loss is " + std::to_string(row.train_loss) +
                           " in epoch " + std::to_string(epoch) + "; lower train.lr (now " +
                           std::to_string(t.lr) + ")");
      }
      std::string line = format_epoch_line(run_.id, epoch, t.epochs, row);
      if (reducer) {
        const dist::ReducerStats comm = reducer->take_stats();
        char extra[96];
        std::snprintf(extra, sizeof extra, "  comm %.2f s exposed, %.1f MB", comm.exposed_comm_seconds,
                      static_cast<double>(comm.bytes) / 1e6);
        line += extra;
      }
      progress_.end_epoch(line);
    }
    if (store_ != nullptr) store_->finish_run(run_.id, results::RunStatus::kCompleted, results::utc_now());
  }

  // Rank 0 records a failure in the results file before the job ends.
  void record_failure(const std::string& message) {
    if (store_ == nullptr) return;
    try {
      if (store_->status(run_.id) == results::RunStatus::kRunning) {
        store_->finish_run(run_.id, results::RunStatus::kFailed, results::utc_now(), message);
      }
    } catch (const std::exception&) {
      // The original error is what the user needs to see; a second one from the store would hide it.
    }
  }

 private:
  // Every rank must train the same model with the same configuration. Compares, against rank 0, the
  // parameter count, a checksum of all parameters and buffers, and a hash of the run's resolved config.
  void check_consistency() {
    torch::NoGradGuard no_grad;
    int64_t count = 0;
    double sum = 0;
    for (const auto& p : model_->parameters()) {
      count += p.numel();
      sum += p.to(at::kDouble).sum().item<double>();
    }
    for (const auto& b : model_->buffers()) sum += b.to(at::kDouble).sum().item<double>();
    int64_t checksum = 0;
    std::memcpy(&checksum, &sum, sizeof checksum);
    const uint64_t config_hash = std::hash<std::string>{}(run_.resolved_toml);
    const struct {
      const char* what;
      std::vector<int64_t> values;
    } checks[] = {{"parameter count", comm_.all_gather(count)},
                  {"model checksum", comm_.all_gather(checksum)},
                  {"resolved config", comm_.all_gather(static_cast<int64_t>(config_hash))}};
    for (const auto& check : checks) {
      for (std::size_t r = 1; r < check.values.size(); ++r) {
        if (check.values[r] != check.values[0]) {
          throw RuntimeError("rank " + std::to_string(r) + " disagrees with rank 0 on the " + check.what +
                             " of run " + run_.id + "; every rank must run the same ftbench build on the same "
                             "experiment file");
        }
      }
    }
  }

  bool frozen_batchnorm() const { return run_.train.batchnorm == "frozen"; }

  // Training mode, except that with batchnorm = "frozen" every BatchNorm layer normalises with its running
  // statistics (eval mode) while its affine weight and bias still train. Frozen statistics make a BN
  // model's math independent of how the global batch splits across ranks.
  void set_training_mode() {
    model_->train();
    if (!frozen_batchnorm()) return;
    for (const auto& module : model_->modules(/*include_self=*/false)) {
      if (module->as<torch::nn::BatchNorm2d>() != nullptr) module->eval();
    }
  }

  // A final partial global batch is trained on, unless BatchNorm in training mode would see a single image
  // on some rank (batch statistics of one sample are undefined); then it is dropped from every epoch.
  int64_t usable_batches(int64_t n_train) const {
    const int64_t batches = batches_per_epoch(n_train, run_.train.batch_size);
    const int64_t last = n_train - (batches - 1) * run_.train.batch_size;
    if (!frozen_batchnorm() && batches > 1 && last / comm_.size() < 2) return batches - 1;
    return batches;
  }

  results::RunInfo run_info(int64_t input_size) const {
    results::RunInfo info;
    info.run_id = run_.id;
    info.model = run_.model;
    info.strategy = run_.strategy;
    info.weights = run_.weights;
    info.weights_file = weights_file_;
    info.weights_sha256 = weights_sha256_;
    info.weights_load = weights_load_;
    info.seed = run_.seed;
    info.world_size = comm_.size();
    info.backend = comm_.backend();
    info.device = ctx_.device_name;
    info.params_total = models::count_parameters(*model_);
    info.params_trainable = models::count_parameters(*model_, /*trainable_only=*/true);
    info.input_size = input_size;
    info.global_batch = run_.train.batch_size;
    info.config_toml = run_.resolved_toml;
    info.ftbench_version = FTBENCH_VERSION;
    info.git_commit = FTBENCH_GIT_COMMIT;
    info.hostnames = ctx_.hostnames;
    info.start_time = results::utc_now();
    info.status = results::RunStatus::kRunning;
    return info;
  }

  const config::Experiment& experiment_;
  const config::RunSpec& run_;
  const DeviceData& data_;
  const TrainContext& ctx_;
  dist::Communicator& comm_;
  results::Store* store_;
  Progress progress_;
  std::optional<Fault> fault_;
  std::string weights_file_, weights_sha256_, weights_load_;
  int64_t process_steps_ = 0;
  models::ClassifierPtr model_;
};

// Rank 0 decides which runs still need training (the store knows); every rank learns the same answer.
std::vector<int64_t> pending_runs(const config::Experiment& experiment, const TrainContext& ctx,
                                  results::Store* store) {
  const auto n = static_cast<int64_t>(experiment.runs.size());
  at::Tensor todo = at::ones({n}, at::TensorOptions().dtype(at::kLong));
  if (store != nullptr) {
    for (int64_t i = 0; i < n; ++i) {
      if (store->status(experiment.runs[static_cast<std::size_t>(i)].id) == results::RunStatus::kCompleted) {
        todo[i] = 0;
      }
    }
  }
  at::Tensor shared = todo.to(ctx.device);
  ctx.comm->broadcast(shared, /*root=*/0);
  todo = shared.cpu();
  std::vector<int64_t> pending;
  for (int64_t i = 0; i < n; ++i) {
    if (todo[i].item<int64_t>() != 0) pending.push_back(i);
  }
  return pending;
}

}  // namespace

int64_t resolve_input_size(const config::Experiment& experiment, const std::string& model) {
  const models::ModelEntry& entry = models::find_model(model);
  const int64_t size = experiment.data.input_size > 0 ? experiment.data.input_size : entry.native_input_size;
  try {
    models::check_input_size(entry, size);
  } catch (const InputError& e) {
    throw InputError(experiment.source_path + ": data." + e.what());
  }
  return size;
}

void run_experiment(const config::Experiment& experiment, const data::Dataset& dataset, const TrainContext& ctx,
                    results::Store* store) {
  if (experiment.deterministic) at::globalContext().setDeterministicAlgorithms(true, /*warn_only=*/false);
  const DeviceData data = to_device(dataset, ctx.device);
  Progress log(ctx.comm->rank() == 0);

  const std::vector<int64_t> pending = pending_runs(experiment, ctx, store);
  if (pending.size() < experiment.runs.size()) {
    log.message("# " + std::to_string(experiment.runs.size() - pending.size()) +
                " run(s) already completed in the results file; skipping them");
  }
  for (const int64_t index : pending) {
    const config::RunSpec& run = experiment.runs[static_cast<std::size_t>(index)];
    log.message("# run " + std::to_string(index + 1) + "/" + std::to_string(experiment.runs.size()) + ": " + run.id);
    RunTrainer trainer(experiment, run, data, ctx, store);
    try {
      trainer.run();
    } catch (const std::exception& e) {
      trainer.record_failure(e.what());
      throw;
    }
  }
}

}  // namespace ftbench::train
