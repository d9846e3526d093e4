#include "runner/train/trainer.h"

#include <malloc.h>

#include <ATen/Context.h>
#include <ATen/Functions.h>
#include <torch/nn/functional/loss.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/types.h>
#include <torch/utils.h>
#include <torch/version.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <optional>

#include "dist/gradient_reducer.h"
#include "dist/runtime.h"
#include "runner/base/error.h"
#include "runner/config/diff.h"
#include "runner/models/registry.h"
#include "runner/train/augment.h"
#include "runner/train/checkpoint.h"
#include "runner/train/device_setup.h"
#include "runner/train/ema.h"
#include "runner/train/evaluate.h"
#include "runner/train/fault.h"
#include "runner/train/measure.h"
#include "runner/train/optimizer.h"
#include "runner/train/placement.h"
#include "runner/train/progress.h"
#include "runner/train/schedule.h"
#include "runner/train/sharding.h"
#include "runner/train/step.h"
#include "runner/train/stop_signal.h"
#include "runner/train/strategy.h"
#include "runner/train/watchdog.h"
#include "runner/weights/pretrained.h"

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

// BatchNorm's running statistics are updated from each rank's own images, so after an epoch the ranks hold
// different ones. Like DDP (broadcast_buffers), the model is rank 0's: its buffers (and their EMA averages)
// go to every rank before evaluation, so every rank evaluates the same model, and the checkpoint, which
// rank 0 writes, holds the whole state of every rank. Buffers are small (resnet50: 0.2 MB).
void share_rank0_buffers(models::Classifier& model, WeightEma* ema, dist::Communicator& comm) {
  if (comm.size() == 1) return;
  torch::NoGradGuard no_grad;
  std::vector<at::Tensor> buffers = model.buffers();
  if (ema != nullptr) {
    // The averages of the buffers follow those of the parameters (WeightEma::averages).
    const auto& averages = ema->averages();
    buffers.insert(buffers.end(), averages.end() - static_cast<std::ptrdiff_t>(model.buffers().size()),
                   averages.end());
  }
  for (auto& b : buffers) comm.broadcast(b, /*root=*/0);
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

// Every rank ends with `root`'s `bytes`. Collective.
void broadcast_bytes(dist::Communicator& comm, std::string& bytes, int root, at::Device device) {
  const int64_t length = comm.all_gather(static_cast<int64_t>(bytes.size()))[static_cast<std::size_t>(root)];
  at::Tensor buffer = at::zeros({length}, at::TensorOptions().dtype(at::kByte));
  if (comm.rank() == root) std::memcpy(buffer.data_ptr(), bytes.data(), bytes.size());
  at::Tensor shared = buffer.to(device);
  comm.broadcast(shared, root);
  buffer = shared.cpu();
  bytes.assign(static_cast<const char*>(buffer.data_ptr()), static_cast<std::size_t>(buffer.numel()));
}

// Every rank's `text`, in rank order. Collective.
std::vector<std::string> all_gather_text(dist::Communicator& comm, const std::string& text, at::Device device) {
  std::vector<std::string> out;
  for (int r = 0; r < comm.size(); ++r) {
    std::string item = r == comm.rank() ? text : std::string();
    broadcast_bytes(comm, item, r, device);
    out.push_back(std::move(item));
  }
  return out;
}

// "2x NVIDIA H200" or "2x cpu (AMD EPYC 7B13), 1x cpu (Intel Xeon ...)": distinct devices with counts, in
// order of first appearance.
std::string count_devices(const std::vector<std::string>& names) {
  std::vector<std::pair<std::string, int>> counted;
  for (const auto& name : names) {
    auto it = std::find_if(counted.begin(), counted.end(), [&](const auto& c) { return c.first == name; });
    if (it == counted.end()) counted.emplace_back(name, 1);
    else ++it->second;
  }
  std::string out;
  for (const auto& [name, n] : counted) out += (out.empty() ? "" : ", ") + std::to_string(n) + "x " + name;
  return out;
}

// "0.999", "1e-05": a config number as a person would write it.
std::string format_number(double value) {
  char text[32];
  std::snprintf(text, sizeof text, "%g", value);
  return text;
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
  RunTrainer(const config::Experiment& experiment, const config::RunSpec& run, RunStart start,
             const DeviceData& data, const TrainContext& ctx, results::Store* store)
      : experiment_(experiment), run_(run), start_(start), data_(data), ctx_(ctx), comm_(*ctx.comm),
        store_(store), progress_(comm_.rank() == 0), fault_(fault_from_env()),
        checkpoints_(checkpoint_root(experiment) + "/" + run.id, experiment.checkpoint_keep) {}

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
    broadcast_model(*model_, comm_);  // before the memory format: the communicators need contiguous tensors
    check_consistency();
    const auto& t = run_.train;
    const at::MemoryFormat memory_format = resolve_memory_format(t.memory_format, run_.model);
    convert_memory_format(*model_, memory_format);

    // The strategy decides what trains; the optimizer holds every parameter in its group and skips the
    // frozen ones (no gradient), so "gradual" only has to flip requires_grad and rebuild the reducer.
    strategy_ = std::make_unique<Strategy>(run_.strategy, models::find_model(run_.model), *model_,
                                           t.unfreeze_every);
    strategy_->apply(/*epoch=*/1);
    const std::vector<ParamGroup> groups = make_param_groups(*strategy_, t);
    const std::unique_ptr<torch::optim::Optimizer> optimizer = make_optimizer(groups, t);
    std::optional<WeightEma> ema;
    if (t.ema_decay > 0) ema.emplace(*model_, t.ema_decay);  // after the memory format: it keeps handles

    StepOptions step_options;
    step_options.label_smoothing = t.label_smoothing;
    step_options.clip_grad_norm = t.clip_grad_norm;
    step_options.aux_loss_weights = models::find_model(run_.model).aux_loss_weights;
    step_options.autocast_bf16 = t.precision == "bf16" && ctx_.device.is_cuda();
    Stepper stepper(*model_, *optimizer, step_options);
    stepper.after_forward = [&](int64_t) { maybe_inject(fault_, comm_.rank(), ++process_steps_); };
    // Backward's kernels first, so that the reducer's wait (comm_seconds) is communication only.
    stepper.before_finalize = [&] { sync_compute_stream(ctx_.device); };
    // At world size 1 on the MPI backend there is nothing to sum, so no reducer: its copies would be pure
    // overhead. On NCCL it always runs, so a one-GPU run still exercises the whole path. The reducer covers
    // exactly the trainable parameters, so it is rebuilt whenever "gradual" unfreezes a stage.
    // (Rebuilds happen at an epoch's start, after the last epoch's stats were taken.)
    std::unique_ptr<dist::GradientReducer> reducer;
    const auto rebuild_reducer = [&] {
      if (comm_.size() == 1 && comm_.backend() != "nccl") return;
      reducer.reset();  // first: its destructor removes the hooks the new one installs
      std::vector<at::Tensor> params;
      for (auto& p : model_->parameters()) {
        if (p.requires_grad()) params.push_back(p);
      }
      dist::ReducerOptions options;
      options.bucket_cap_mb = experiment_.dist.bucket_cap_mb;
      options.grad_dtype = experiment_.dist.grad_dtype == "bf16" ? at::kBFloat16 : at::kFloat;
      reducer = std::make_unique<dist::GradientReducer>(params, comm_, options);
      stepper.set_reducer(reducer.get());
    };
    rebuild_reducer();

    // accumulate_steps micro-batches of batch_size images make one optimiser step; the last step of an
    // epoch may have fewer. The schedule counts optimiser steps.
    const int64_t n_train = data_.train_images.size(0);
    const int64_t micro_per_epoch = usable_batches(n_train);
    const int64_t k = t.accumulate_steps;
    const int64_t steps_per_epoch = (micro_per_epoch + k - 1) / k;
    const LrSchedule schedule = make_schedule(t, steps_per_epoch);
    param_groups_ = describe_groups(groups, t.lr);
    eval_weights_ = ema ? "ema (decay " + format_number(t.ema_decay) + ")" : "model";
    progress_.message("# " + run_.id + ": strategy " + run_.strategy + ", " + t.optimizer + ", " + t.precision +
                      ", " + (memory_format == at::MemoryFormat::ChannelsLast ? "channels_last" : "contiguous") +
                      (k > 1 ? ", " + std::to_string(k) + " micro-batches per step" : "") +
                      (ema ? ", evaluated with the EMA of the weights (decay " + format_number(t.ema_decay) + ")"
                           : "") +
                      "; param groups: " + param_groups_);

    // Collective: every rank names its device.
    const std::string devices =
        count_devices(all_gather_text(comm_, describe_device(ctx_.device_name), ctx_.device));
    const Resumed resumed = start_ == RunStart::kResume ? resume(*optimizer, ema ? &*ema : nullptr)
                                                        : begin(run_info(input_size, devices));
    const Position& from = resumed.position;
    if (from.epoch > 1 && strategy_->apply(from.epoch)) rebuild_reducer();  // "gradual" at the resumed epoch

    Watchdog watchdog(experiment_.dist.timeout_s, run_.id);  // beaten at every micro-batch, paused between epochs
    for (int64_t epoch = from.epoch; epoch <= t.epochs; ++epoch) {
      const auto epoch_start = Clock::now();
      const bool continued = epoch == from.epoch && from.step_in_epoch > 0;
      PartialEpoch carried = continued ? resumed.partial : PartialEpoch{};
      if (comm_.rank() != 0) {  // the totals are rank 0's to carry
        carried.loss_sum = 0;
        carried.correct = 0;
      }
      if (epoch > from.epoch && strategy_->apply(epoch)) {
        rebuild_reducer();
        progress_.message("# " + run_.id + ": epoch " + std::to_string(epoch) + " unfreezes a stage; param groups: " +
                          describe_groups(groups, schedule.at((epoch - 1) * steps_per_epoch)));
      }
      set_training_mode();
      // The epoch's order lives on the run's device: each step's indices are a view of it, so a GPU run does
      // no host work per batch beyond launching kernels.
      const at::Tensor order = epoch_permutation(n_train, run_.seed, epoch).to(ctx_.device);
      const bool channels_last = memory_format == at::MemoryFormat::ChannelsLast;
      const BatchSpec spec{input_size, experiment_.data.augment, run_.seed, epoch, channels_last};
      StepTotals totals{at::full({1}, carried.loss_sum, at::TensorOptions().dtype(at::kDouble).device(ctx_.device)),
                        at::full({1}, carried.correct, at::TensorOptions().dtype(at::kLong).device(ctx_.device))};
      at::Tensor& loss_sum = totals.loss_sum;
      at::Tensor& correct = totals.correct;
      const int64_t first_step = (epoch - 1) * steps_per_epoch;  // the schedule's clock at the epoch's start
      const double epoch_lr = schedule.at(first_step);
      int64_t images = carried.images;
      double data_seconds = carried.data_seconds, step_seconds = carried.step_seconds;
      const int64_t trainable_params = models::count_parameters(*model_, /*trainable_only=*/true);
      reset_peak_memory(ctx_.device);

      progress_.begin_epoch(run_.id, epoch, t.epochs, steps_per_epoch);
      for (int64_t b = continued ? from.step_in_epoch : 0; b < steps_per_epoch; ++b) {
        // Every rank asks at the same step whether any rank got a stop signal, so all stop together,
        // between steps, and the checkpoint holds exactly the steps done.
        std::string who;
        if (StopSignal::any_rank(comm_, &who)) {
          watchdog.pause();
          // The loss and correct sums are per rank until the epoch's end: the checkpoint holds their totals,
          // which rank 0 carries on from (the other ranks from 0).
          comm_.all_reduce(loss_sum, dist::ReduceOp::kSum);
          comm_.all_reduce(correct, dist::ReduceOp::kSum);
          PartialEpoch partial;
          partial.images = images;
          partial.loss_sum = loss_sum.cpu().item<double>();
          partial.correct = correct.cpu().item<int64_t>();
          partial.data_seconds = data_seconds;
          partial.step_seconds = step_seconds;
          partial.train_seconds = carried.train_seconds + seconds_since(epoch_start);
          const dist::ReducerStats so_far = reducer ? reducer->take_stats() : dist::ReducerStats{};
          partial.comm_seconds = carried.comm_seconds + so_far.exposed_comm_seconds;
          partial.comm_bytes = carried.comm_bytes + so_far.bytes;
          partial.peak_memory_bytes = std::max(carried.peak_memory_bytes, peak_memory_bytes(ctx_.device));
          const Position at{epoch, b, first_step + b, epoch - 1};
          save_checkpoint(at, partial, *optimizer, ema ? &*ema : nullptr, /*final=*/false);
          throw Interrupted("run " + run_.id + " stopped by " + who + " at epoch " + std::to_string(epoch) +
                            ", step " + std::to_string(b) + " of " + std::to_string(steps_per_epoch) +
                            "; checkpoint saved in " + checkpoints_.path() +
                            ": re-run the same command to resume from there");
        }
        const auto step_start = Clock::now();
        const int64_t first = b * k;
        const int64_t micro_count = std::min(k, micro_per_epoch - first);
        // Local SUM divided by the step's GLOBAL image count: summed over ranks and micro-batches, the
        // gradients are exactly those of the mean loss over the step's images, however they split.
        const int64_t step_images = std::min(micro_count * t.batch_size, n_train - first * t.batch_size);
        set_learning_rates(*optimizer, groups, schedule.at(first_step + b));
        const auto micro = [&](int64_t j) {
          watchdog.beat(epoch, b + 1, k > 1 ? j + 1 : 0);
          const auto data_start = Clock::now();
          const int64_t global_begin = (first + j) * t.batch_size;
          const int64_t global_count = std::min(t.batch_size, n_train - global_begin);
          const Range mine = split_evenly(global_count, comm_.rank(), comm_.size());
          const at::Tensor indices = order.slice(0, global_begin + mine.begin, global_begin + mine.end);
          MicroBatch batch{prepare_batch(data_.train_images, indices, spec),
                           data_.train_labels.index_select(0, indices)};
          sync_compute_stream(ctx_.device);
          data_seconds += seconds_since(data_start);
          return batch;
        };
        stepper.step(micro_count, micro, step_images, totals);
        if (ema) ema->update();
        sync_compute_stream(ctx_.device);
        step_seconds += seconds_since(step_start);
        images += step_images;
        progress_.step(b + 1, images);
      }
      watchdog.pause();  // evaluation and checkpoints are bounded by the collectives' own timeouts
      // The memory peak of the epoch is the largest of any rank's.
      at::Tensor peak =
          at::full({1}, std::max(carried.peak_memory_bytes, peak_memory_bytes(ctx_.device)),
                   at::TensorOptions().dtype(at::kLong))
              .to(ctx_.device);
      comm_.all_reduce(loss_sum, dist::ReduceOp::kSum);
      comm_.all_reduce(correct, dist::ReduceOp::kSum);
      comm_.all_reduce(peak, dist::ReduceOp::kMax);
      const double train_seconds = carried.train_seconds + seconds_since(epoch_start);
      dist::ReducerStats comm_stats = reducer ? reducer->take_stats() : dist::ReducerStats{};
      comm_stats.exposed_comm_seconds += carried.comm_seconds;
      comm_stats.bytes += carried.comm_bytes;

      share_rank0_buffers(*model_, ema ? &*ema : nullptr, comm_);
      const BatchSpec eval_spec{input_size, /*augment=*/false, run_.seed, epoch, channels_last};
      const int64_t eval_batch = std::max<int64_t>(64, 2 * t.batch_size / comm_.size());
      EvalResult eval;
      {
        // With ema_decay > 0 the averaged weights are evaluated; the trained ones come back afterwards.
        std::optional<WeightEma::Swap> averaged;
        if (ema) averaged.emplace(*ema);
        const AutocastBf16 autocast(step_options.autocast_bf16);
        eval = evaluate(*model_, data_.test_images, data_.test_labels, eval_spec, eval_batch, comm_);
      }

      results::EpochRow row;
      row.epoch = epoch;
      row.train_loss = loss_sum.cpu().item<double>() / static_cast<double>(images);
      row.train_acc = static_cast<double>(correct.cpu().item<int64_t>()) / static_cast<double>(images);
      row.test_loss = eval.loss;
      row.test_acc = eval.accuracy;
      row.test_acc5 = eval.accuracy5;
      row.lr = epoch_lr;
      row.epoch_seconds = carried.train_seconds + seconds_since(epoch_start);
      row.data_seconds = data_seconds;
      row.comm_seconds = comm_stats.exposed_comm_seconds;
      row.compute_seconds = std::max(0.0, step_seconds - data_seconds - comm_stats.exposed_comm_seconds);
      row.images_per_second = static_cast<double>(images) / train_seconds;
      row.peak_memory_bytes = peak.cpu().item<int64_t>();
      row.comm_bytes = comm_stats.bytes;
      row.trainable_params = trainable_params;
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
        char extra[96];
        std::snprintf(extra, sizeof extra, "  comm %.2f s exposed, %.1f MB", comm_stats.exposed_comm_seconds,
                      static_cast<double>(comm_stats.bytes) / 1e6);
        line += extra;
      }
      progress_.end_epoch(line);
      // After the row: a job killed between the two resumes from the previous checkpoint, and the resume
      // cuts this row off again, so each epoch is written exactly once. With checkpoint_every = N only
      // every N-th epoch and the last are saved; a resume then trains again the epochs since the newest.
      if (epoch % experiment_.checkpoint_every == 0 || epoch == t.epochs) {
        save_checkpoint(Position{epoch + 1, 0, epoch * steps_per_epoch, epoch}, PartialEpoch{}, *optimizer,
                        ema ? &*ema : nullptr, /*final=*/epoch == t.epochs);
      }
    }
    if (store_ != nullptr) store_->finish_run(run_.id, results::RunStatus::kCompleted, results::utc_now());
  }

  // Where a run starts, and the sums of an epoch it continues part-way.
  struct Resumed {
    Position position;
    PartialEpoch partial;
  };

  // A run from epoch 1: rank 0 discards what an earlier attempt left (its group in the results file, its
  // checkpoints) and records the run as running.
  Resumed begin(const results::RunInfo& info) {
    if (store_ != nullptr) {
      checkpoints_.clear();
      // A completed run starts again only under --restart with changed settings; begin_run replaces others.
      if (store_->status(run_.id) == results::RunStatus::kCompleted) store_->discard_run(run_.id);
      store_->begin_run(info);
    }
    return {};
  }

  // Continues from the run's newest checkpoint. Collective: rank 0 reads the file and broadcasts its bytes
  // (no shared file system needed); every rank restores the model, optimizer, EMA and its generator states.
  // Rank 0 cuts the results file back to the checkpoint's epochs.
  Resumed resume(torch::optim::Optimizer& optimizer, WeightEma* ema) {
    std::string bytes, file;
    if (comm_.rank() == 0) {
      const std::optional<Marker> marker = checkpoints_.latest();
      if (!marker) throw RuntimeError(checkpoints_.path() + ": the checkpoint to resume from has disappeared");
      file = checkpoints_.path() + "/" + marker->file;
      bytes = checkpoints_.read(*marker);
    }
    broadcast_bytes(comm_, bytes, /*root=*/0, ctx_.device);
    broadcast_bytes(comm_, file, /*root=*/0, ctx_.device);
    const CheckpointMeta meta =
        decode_checkpoint(bytes, file, comm_.rank(), ctx_.device, *model_, optimizer, ema);
    const std::vector<std::string> changes = config::changed_run_keys(meta.config_toml, run_.resolved_toml);
    if (meta.run_id != run_.id || !changes.empty()) {
      throw InputError(file + ": checkpoint of run '" + meta.run_id + "' with other settings (" +
                       (changes.empty() ? std::string("another run") : changes.front()) +
                       "); re-run with --restart to train run " + run_.id + " from the start");
    }
    if (store_ != nullptr) store_->resume_run(run_.id, meta.position.epochs_done);
    const Position& p = meta.position;
    progress_.message("# " + run_.id + ": resuming from " + file + " (epoch " + std::to_string(p.epoch) + ", step " +
                      std::to_string(p.step_in_epoch) + "; " + std::to_string(p.epochs_done) + " epoch(s) done)" +
                      (meta.world_size != comm_.size()
                           ? "; it was written by " + std::to_string(meta.world_size) + " rank(s), this job has " +
                                 std::to_string(comm_.size()) + ": training continues from the same position, "
                                 "but not bitwise as it would have with " + std::to_string(meta.world_size)
                           : ""));
    return {meta.position, meta.partial};
  }

  // Collective: every rank's generator states go to rank 0, which writes the checkpoint at `position`.
  void save_checkpoint(const Position& position, const PartialEpoch& partial, const torch::optim::Optimizer& optimizer,
                       const WeightEma* ema, bool final) {
    const std::vector<std::string> rng = all_gather_text(comm_, capture_rng_state(ctx_.device), ctx_.device);
    if (comm_.rank() != 0) return;
    CheckpointMeta meta;
    meta.run_id = run_.id;
    meta.config_toml = run_.resolved_toml;
    meta.world_size = comm_.size();
    meta.position = position;
    meta.partial = partial;
    meta.final = final;
    checkpoints_.write(encode_checkpoint(meta, rng, *model_, optimizer, ema), position, final);
  }

  // Rank 0 records a failure in the results file before the job ends: status interrupted for a stop by a
  // signal (exit code 75), failed with the message otherwise.
  void record_failure(const std::string& message, ExitCode code) {
    if (store_ == nullptr) return;
    try {
      if (store_->status(run_.id) == results::RunStatus::kRunning) {
        const auto status =
            code == ExitCode::kInterrupted ? results::RunStatus::kInterrupted : results::RunStatus::kFailed;
        store_->finish_run(run_.id, status, results::utc_now(), message);
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
    strategy_->freeze_batchnorm_statistics();  // BN of frozen stages keeps its running statistics
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

  results::RunInfo run_info(int64_t input_size, const std::string& devices) const {
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
    info.devices = devices;
    info.params_total = models::count_parameters(*model_);
    info.params_trainable = models::count_parameters(*model_, /*trainable_only=*/true);
    info.input_size = input_size;
    info.global_batch = run_.train.batch_size * run_.train.accumulate_steps;
    info.param_groups = param_groups_;
    info.eval_weights = eval_weights_;
    info.config_toml = run_.resolved_toml;
    info.ftbench_version = FTBENCH_VERSION;
    info.torch_version = TORCH_VERSION;
    info.nccl_version = nccl_version();
    info.mpi_version = dist::mpi_library_version();
    info.hdf5_version = results::hdf5_library_version();
    info.git_commit = FTBENCH_GIT_COMMIT;
    info.hostnames = ctx_.hostnames;
    info.start_time = results::utc_now();
    info.status = results::RunStatus::kRunning;
    return info;
  }

  const config::Experiment& experiment_;
  const config::RunSpec& run_;
  RunStart start_;
  const DeviceData& data_;
  const TrainContext& ctx_;
  dist::Communicator& comm_;
  results::Store* store_;
  Progress progress_;
  std::optional<Fault> fault_;
  CheckpointDir checkpoints_;
  std::string weights_file_, weights_sha256_, weights_load_;
  std::string param_groups_, eval_weights_;  // for the run's attributes
  int64_t process_steps_ = 0;
  models::ClassifierPtr model_;
  std::unique_ptr<Strategy> strategy_;
};

// Every rank learns rank 0's plan (rank 0 made it from the results file and the checkpoints).
std::vector<RunStart> share_plan(const std::vector<RunStart>& plan, std::size_t runs, const TrainContext& ctx) {
  at::Tensor starts = at::zeros({static_cast<int64_t>(runs)}, at::TensorOptions().dtype(at::kLong));
  if (ctx.comm->rank() == 0) {
    if (plan.size() != runs) throw RuntimeError("run_experiment: the plan has " + std::to_string(plan.size()) +
                                                " entries for " + std::to_string(runs) + " runs");
    for (std::size_t i = 0; i < runs; ++i) starts[static_cast<int64_t>(i)] = static_cast<int64_t>(plan[i]);
  }
  at::Tensor shared = starts.to(ctx.device);
  ctx.comm->broadcast(shared, /*root=*/0);
  starts = shared.cpu();
  std::vector<RunStart> out;
  for (std::size_t i = 0; i < runs; ++i) out.push_back(static_cast<RunStart>(starts[static_cast<int64_t>(i)].item<int64_t>()));
  return out;
}

}  // namespace

int64_t resolve_input_size(const config::Experiment& experiment, const std::string& model) {
  const models::ModelEntry& entry = models::find_model(model);
  const int64_t size = experiment.data.input_size > 0 ? experiment.data.input_size : entry.native_input_size;
  try {
    models::check_input_size(entry, size);
  } catch (const InputError& e) {
    // Where the size was set (FILE:LINE:COL, or the --set text); the file itself for the default, "model".
    const std::string& at =
        experiment.data.input_size_origin.empty() ? experiment.source_path : experiment.data.input_size_origin;
    throw InputError(at + ": data." + e.what());
  }
  return size;
}

void run_experiment(const config::Experiment& experiment, const data::Dataset& dataset, const TrainContext& ctx,
                    results::Store* store, const std::vector<RunStart>& plan) {
  check_recipes_for_device(experiment, ctx.device);  // `ftbench run` checked already; for other callers
  apply_determinism(experiment.deterministic);
  const DeviceData data = to_device(dataset, ctx.device);
  Progress log(ctx.comm->rank() == 0);

  const std::vector<RunStart> starts = share_plan(plan, experiment.runs.size(), ctx);
  const auto count = [&](RunStart what) { return std::count(starts.begin(), starts.end(), what); };
  if (count(RunStart::kSkip) > 0) {
    log.message("# " + std::to_string(count(RunStart::kSkip)) +
                " run(s) already completed in the results file; skipping them");
  }
  for (std::size_t index = 0; index < experiment.runs.size(); ++index) {
    if (starts[index] == RunStart::kSkip) continue;
    const config::RunSpec& run = experiment.runs[index];
    log.message("# run " + std::to_string(index + 1) + "/" + std::to_string(experiment.runs.size()) + ": " + run.id +
                (starts[index] == RunStart::kResume ? " (resuming)" : ""));
    {
      RunTrainer trainer(experiment, run, starts[index], data, ctx, store);
      try {
        trainer.run();
      } catch (const std::exception& e) {
        const auto* error = dynamic_cast<const Error*>(&e);
        trainer.record_failure(e.what(), error != nullptr ? error->code() : ExitCode::kRuntime);
        throw;
      }
    }
    // `run` and `bench` keep freed blocks in the heap during training (runner/cli/malloc_tuning.h); between
    // runs, hand what the finished model's tensors left back to the kernel, so that an experiment's peak is
    // that of its largest run, not the sum of what every run left behind.
    malloc_trim(0);
  }
}

}  // namespace ftbench::train
