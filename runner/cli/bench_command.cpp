// ftbench bench --model NAME [--input-size N] [--batch B] [--steps S] [--warmup W] [--threads T]
//               [--precision fp32|bf16] [--memory-format auto|channels_last|contiguous] [--json]
//
// Training-step throughput of one model, on this machine, with the trainer's own pieces: the data pipeline
// (runner/train/augment.h), the Stepper (forward, loss, backward), the GradientReducer at world size > 1 (or on
// NCCL) and the run's default optimizer (SGD, lr 0.01, momentum 0.9, weight decay 5e-4 except on 1-D
// parameters; runner/train/optimizer.h). Launch it like `ftbench run`: alone, or under mpirun/srun (one rank
// per GPU); `--batch` is per rank, so the global batch is B x ranks, as DistributedDataParallel counts it.
//
// Data: a device-resident synthetic uint8 split of CIFAR-10's shape (min(50000, max(2048, 8 B)) images), from
// which every step gathers, crops, flips, normalises and resizes its batch, as training does: the data
// pipeline is part of the step, the dataset is never float.
//
// Timing: W untimed warm-up steps (allocator, first touch, cuDNN plans), a barrier, then S timed steps. Each
// rank's img/s is its B x S images over its own time; the aggregate is the images of all ranks over the
// slowest rank's time. The step is split into data, forward (with the loss), backward, exposed communication
// (the reducer's wait after backward) and optimizer (with zeroing the gradients); the parts add up to the step.
// On the CPU they come from the timed steps themselves. On a GPU, timing a phase needs a device sync at each
// boundary, which would slow the steps being counted, so the timed steps run unsynchronised and the parts
// come from min(S, 10) more steps with syncs (reported as breakdown_steps). Peak memory: peak RSS on the CPU
// (the process's, over the timed steps), the caching allocator's peak allocated bytes on a GPU.
//
// Output (rank 0): a fixed-width table, per rank and aggregate, or with --json one JSON object; the aggregate
// throughput is "images_per_second" (tests/bench/side_by_side.py reads it).
#include <ATen/Functions.h>
#include <ATen/Parallel.h>
#include <torch/version.h>

#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "dist/gradient_reducer.h"          // GradientReducer: the bucketed all-reduce
#include "dist/mpi_communicator.h"          // MpiCommunicator::shared_memory
#include "dist/runtime.h"                   // Runtime (MPI), agree_on_exit, mpi_library_version
#include "runner/base/error.h"              // InputError, ExitCode
#include "runner/cli/commands.h"            // Command
#include "runner/cli/omp_policy.h"          // default_threads_here, oversubscription_warning, omp_wait_setting
#include "runner/cli/phase.h"               // phase, fail_collective
#include "runner/config/config.h"           // TrainConfig: the optimizer's defaults
#include "runner/models/registry.h"         // find_model, build_model, check_input_size
#include "runner/train/augment.h"           // prepare_batch: the data pipeline
#include "runner/train/device_setup.h"      // memory format
#include "runner/train/measure.h"           // sync_compute_stream, peak memory, describe_device
#include "runner/train/optimizer.h"         // make_param_groups, make_optimizer
#include "runner/train/placement.h"         // place_rank, planned_device
#include "runner/train/step.h"              // Stepper
#include "runner/train/strategy.h"          // Strategy ("full")

#ifndef FTBENCH_VERSION
#define FTBENCH_VERSION "unknown"
#endif

namespace ftbench::cli {
namespace {

using Clock = std::chrono::steady_clock;

struct BenchOptions {
  std::string model;
  int64_t input_size = 0;  // 0: the model's native size
  int64_t batch = 64;      // per rank
  int64_t steps = 20;
  int64_t warmup = 3;
  int64_t threads = 0;     // 0: cores / ranks on the node, at most a bound rank's CPUs
  std::string precision = "fp32";
  std::string memory_format = "auto";
  bool json = false;
};

// The parts of a step, in seconds. They tile the step: step = the sum of the others.
struct StepParts {
  double data = 0, forward = 0, backward = 0, comm = 0, optimizer = 0, step = 0;
  StepParts& operator+=(const StepParts& o) {
    data += o.data, forward += o.forward, backward += o.backward, comm += o.comm, optimizer += o.optimizer;
    step += o.step;
    return *this;
  }
};

// One rank's measurements; gathered to rank 0 as a row of doubles.
struct RankResult {
  double images_per_second = 0;
  double seconds = 0;         // the timed steps, wall clock
  StepParts mean;             // per step, over the breakdown steps
  double peak_memory = 0;     // bytes
  static constexpr int64_t kFields = 9;
  std::vector<double> row() const {
    return {images_per_second, seconds, mean.data, mean.forward, mean.backward, mean.comm, mean.optimizer,
            mean.step, peak_memory};
  }
  static RankResult from_row(const double* r) {
    RankResult out;
    out.images_per_second = r[0];
    out.seconds = r[1];
    out.mean = {r[2], r[3], r[4], r[5], r[6], r[7]};
    out.peak_memory = r[8];
    return out;
  }
};

void check_options(const BenchOptions& o, at::Device planned) {
  const models::ModelEntry& entry = models::find_model(o.model);
  try {
    models::check_input_size(entry, o.input_size > 0 ? o.input_size : entry.native_input_size);
  } catch (const InputError& e) {
    throw InputError(std::string("--input-size: ") + e.what());
  }
  if (o.precision == "bf16" && !planned.is_cuda()) {
    throw InputError("--precision bf16 needs a CUDA GPU, but this job runs on " + planned.str() +
                     " (ftbench trains bf16 with CUDA autocast only); use --precision fp32, or run on a GPU node");
  }
}

// A CIFAR-shaped uint8 split on `device` and its labels. Seeded by rank, so ranks see different images.
std::pair<at::Tensor, at::Tensor> synthetic_split(int64_t images, at::Device device, int rank) {
  at::manual_seed(static_cast<uint64_t>(1000 + rank));
  const auto u8 = at::TensorOptions().dtype(at::kByte);
  at::Tensor x = at::randint(0, 256, {images, 3, 32, 32}, u8).to(device);
  at::Tensor y = at::randint(0, 10, {images}, at::TensorOptions().dtype(at::kLong)).to(device);
  return {x, y};
}

double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

class Bench {
 public:
  Bench(const BenchOptions& o, const train::Placement& placement, int threads)
      : o_(o), device_(placement.device), comm_(*placement.comm), threads_(threads),
        entry_(models::find_model(o.model)),
        input_size_(o.input_size > 0 ? o.input_size : entry_.native_input_size) {}

  // Collective. Returns this rank's result.
  RankResult run() {
    at::set_num_threads(threads_);
    train::apply_determinism(/*deterministic=*/false);  // cuDNN benchmark mode, as the trainer's default
    torch::manual_seed(0);  // the same initial model on every rank
    model_ = models::build_model(o_.model, /*num_classes=*/10);
    model_->to(device_);
    memory_format_ = train::resolve_memory_format(o_.memory_format, o_.model);
    train::convert_memory_format(*model_, memory_format_);
    train::Strategy strategy("full", entry_, *model_);
    strategy.apply(/*epoch=*/1);
    const config::TrainConfig defaults;  // sgd, lr 0.01, momentum 0.9, wd 5e-4, no decay on 1-D params
    const auto groups = train::make_param_groups(strategy, defaults);
    optimizer_ = train::make_optimizer(groups, defaults);
    model_->train();

    train::StepOptions step_options;
    step_options.aux_loss_weights = entry_.aux_loss_weights;
    step_options.autocast_bf16 = o_.precision == "bf16" && device_.is_cuda();
    stepper_ = std::make_unique<train::Stepper>(*model_, *optimizer_, step_options);
    // As in the trainer: no reducer at world size 1 on MPI (nothing to sum); on NCCL always.
    if (comm_.size() > 1 || comm_.backend() == "nccl") {
      std::vector<at::Tensor> params;
      for (auto& p : model_->parameters()) {
        if (p.requires_grad()) params.push_back(p);
      }
      reducer_ = std::make_unique<dist::GradientReducer>(params, comm_, dist::ReducerOptions{});
      stepper_->set_reducer(reducer_.get());
    }

    dataset_size_ = std::min<int64_t>(50000, std::max<int64_t>(2048, 8 * o_.batch));
    std::tie(images_, labels_) = synthetic_split(dataset_size_, device_, comm_.rank());
    totals_ = {at::zeros({1}, at::TensorOptions().dtype(at::kDouble).device(device_)),
               at::zeros({1}, at::TensorOptions().dtype(at::kLong).device(device_))};

    for (int64_t i = 0; i < o_.warmup; ++i) step(/*timed_parts=*/false);
    train::sync_compute_stream(device_);
    comm_.barrier();
    train::reset_peak_memory(device_);

    RankResult result;
    const bool parts_in_timed_steps = !device_.is_cuda();  // syncs are free on the CPU
    const auto start = Clock::now();
    for (int64_t i = 0; i < o_.steps; ++i) result.mean += step(parts_in_timed_steps);
    train::sync_compute_stream(device_);
    result.seconds = since(start);
    result.peak_memory = static_cast<double>(train::peak_memory_bytes(device_));
    result.images_per_second = static_cast<double>(o_.batch * o_.steps) / result.seconds;
    breakdown_steps_ = o_.steps;
    if (!parts_in_timed_steps) {
      result.mean = {};
      breakdown_steps_ = std::min<int64_t>(o_.steps, 10);
      for (int64_t i = 0; i < breakdown_steps_; ++i) result.mean += step(/*timed_parts=*/true);
    }
    const double n = static_cast<double>(breakdown_steps_);
    result.mean = {result.mean.data / n,      result.mean.forward / n,   result.mean.backward / n,
                   result.mean.comm / n,      result.mean.optimizer / n, result.mean.step / n};
    if (reducer_) comm_bytes_per_step_ = reducer_->take_stats().bytes / std::max<int64_t>(1, step_count_);
    return result;
  }

  at::MemoryFormat memory_format() const { return memory_format_; }
  int64_t input_size() const { return input_size_; }
  int64_t breakdown_steps() const { return breakdown_steps_; }
  int64_t dataset_size() const { return dataset_size_; }
  int64_t comm_bytes_per_step() const { return comm_bytes_per_step_; }
  int64_t parameters() const { return models::count_parameters(*model_); }

 private:
  // One training step. With `timed_parts`, the device is synchronised at each phase boundary and the parts
  // are measured; otherwise only the step's total is.
  StepParts step(bool timed_parts) {
    const auto sync = [&] {
      if (timed_parts) train::sync_compute_stream(device_);
      return Clock::now();
    };
    Clock::time_point data_start, data_end, forward_end, backward_end, comm_end;
    const int64_t first = (step_count_ * o_.batch) % (dataset_size_ - o_.batch + 1);
    ++step_count_;
    const auto micro = [&](int64_t) {
      data_start = sync();
      const at::Tensor index = at::arange(first, first + o_.batch, at::TensorOptions().dtype(at::kLong));
      train::MicroBatch batch{
          train::prepare_batch(images_, index, {input_size_, /*augment=*/true, /*seed=*/0, /*epoch=*/1,
                                                memory_format_ == at::MemoryFormat::ChannelsLast}),
          labels_.index_select(0, index.to(device_))};
      data_end = sync();
      return batch;
    };
    stepper_->after_forward = [&](int64_t) { forward_end = sync(); };
    stepper_->before_finalize = [&] { backward_end = sync(); };
    stepper_->before_optimizer = [&] {
      comm_end = sync();
      if (!reducer_) backward_end = comm_end;  // nothing to wait for: no communication part
    };
    const auto start = Clock::now();
    stepper_->step(/*k=*/1, micro, /*global_images=*/o_.batch * comm_.size(), totals_);
    const auto end = sync();
    const auto seconds = [](Clock::time_point a, Clock::time_point b) {
      return std::chrono::duration<double>(b - a).count();
    };
    StepParts parts;
    parts.step = seconds(start, end);
    if (timed_parts) {
      parts.data = seconds(data_start, data_end);
      parts.forward = seconds(data_end, forward_end);
      parts.backward = seconds(forward_end, backward_end);
      parts.comm = seconds(backward_end, comm_end);
      parts.optimizer = seconds(start, data_start) + seconds(comm_end, end);  // zero_grad + step
    }
    return parts;
  }

  const BenchOptions& o_;
  at::Device device_;
  dist::Communicator& comm_;
  int threads_;
  const models::ModelEntry& entry_;
  int64_t input_size_;
  at::MemoryFormat memory_format_ = at::MemoryFormat::Contiguous;
  models::ClassifierPtr model_;
  std::unique_ptr<torch::optim::Optimizer> optimizer_;
  std::unique_ptr<dist::GradientReducer> reducer_;
  std::unique_ptr<train::Stepper> stepper_;
  at::Tensor images_, labels_;
  train::StepTotals totals_;
  int64_t dataset_size_ = 0;
  int64_t step_count_ = 0;
  int64_t breakdown_steps_ = 0;
  int64_t comm_bytes_per_step_ = 0;
};

// Every rank's result, in rank order. Collective.
std::vector<RankResult> gather(const RankResult& mine, dist::Communicator& comm, at::Device device) {
  at::Tensor rows = at::zeros({comm.size(), RankResult::kFields}, at::TensorOptions().dtype(at::kDouble));
  const std::vector<double> row = mine.row();
  for (int64_t j = 0; j < RankResult::kFields; ++j) rows[comm.rank()][j] = row[static_cast<std::size_t>(j)];
  at::Tensor shared = rows.to(device);
  comm.all_reduce(shared, dist::ReduceOp::kSum);
  rows = shared.cpu().contiguous();
  std::vector<RankResult> out;
  for (int r = 0; r < comm.size(); ++r) out.push_back(RankResult::from_row(rows[r].data_ptr<double>()));
  return out;
}

std::string json_string(const std::string& s) {
  std::string out = "\"";
  for (const char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (static_cast<unsigned char>(c) < 0x20) continue;
    out += c;
  }
  return out + "\"";
}

struct Summary {
  const BenchOptions& o;
  const Bench& bench;
  const train::Placement& placement;
  int threads;
  std::string device;  // described
  std::vector<RankResult> ranks;

  double aggregate() const {
    double slowest = 0;
    for (const auto& r : ranks) slowest = std::max(slowest, r.seconds);
    return static_cast<double>(o.batch * o.steps) * static_cast<double>(ranks.size()) / slowest;
  }
  // Rank means of the per-step parts.
  StepParts mean_parts() const {
    StepParts m;
    for (const auto& r : ranks) m += r.mean;
    const double n = static_cast<double>(ranks.size());
    return {m.data / n, m.forward / n, m.backward / n, m.comm / n, m.optimizer / n, m.step / n};
  }
  // Whether the gradient buckets are all-reduced in shared memory (dist/shm_allreduce.h).
  bool shared_memory() const {
    const auto* mpi = dynamic_cast<const dist::MpiCommunicator*>(placement.comm.get());
    return mpi != nullptr && mpi->shared_memory();
  }
  double peak_memory() const {
    double peak = 0;
    for (const auto& r : ranks) peak = std::max(peak, r.peak_memory);
    return peak;
  }
  const char* format() const {
    return bench.memory_format() == at::MemoryFormat::ChannelsLast ? "channels_last" : "contiguous";
  }
};

void print_parts_json(std::string& out, const StepParts& p) {
  char text[320];
  std::snprintf(text, sizeof text,
                "\"step_seconds\": %.6g, \"data_seconds\": %.6g, \"forward_seconds\": %.6g, "
                "\"backward_seconds\": %.6g, \"comm_seconds\": %.6g, \"optimizer_seconds\": %.6g",
                p.step, p.data, p.forward, p.backward, p.comm, p.optimizer);
  out += text;
}

void print_json(const Summary& s) {
  const auto& o = s.o;
  std::string out = "{\"side\": \"ftbench\", \"model\": " + json_string(o.model);
  char text[512];
  std::snprintf(text, sizeof text,
                ", \"input_size\": %" PRId64 ", \"batch\": %" PRId64 ", \"global_batch\": %" PRId64
                ", \"steps\": %" PRId64 ", \"warmup\": %" PRId64 ", \"breakdown_steps\": %" PRId64
                ", \"threads\": %d, \"world_size\": %zu, \"dataset_images\": %" PRId64 ", \"parameters\": %" PRId64
                ", \"comm_bytes_per_step\": %" PRId64,
                s.bench.input_size(), o.batch, o.batch * static_cast<int64_t>(s.ranks.size()), o.steps, o.warmup,
                s.bench.breakdown_steps(), s.threads, s.ranks.size(), s.bench.dataset_size(), s.bench.parameters(),
                s.bench.comm_bytes_per_step());
  out += text;
  out += ", \"precision\": " + json_string(o.precision) + ", \"memory_format\": " + json_string(s.format()) +
         ", \"backend\": " + json_string(s.placement.comm->backend()) +
         ", \"device\": " + json_string(s.placement.device.str()) + ", \"device_name\": " + json_string(s.device) +
         ", \"ftbench\": " + json_string(FTBENCH_VERSION) + ", \"torch\": " + json_string(TORCH_VERSION) +
         ", \"mpi\": " + json_string(dist::mpi_library_version()) +
         ", \"omp_wait\": " + json_string(omp_wait_setting()) +
         ", \"mpi_iallreduce\": " + json_string(dist::iallreduce_request()) +
         ", \"mpi_shared_memory\": " + (s.shared_memory() ? "true" : "false");
  std::snprintf(text, sizeof text, ", \"images_per_second\": %.6g, \"peak_memory_bytes\": %.0f, ", s.aggregate(),
                s.peak_memory());
  out += text;
  print_parts_json(out, s.mean_parts());
  out += ", \"ranks\": [";
  for (std::size_t r = 0; r < s.ranks.size(); ++r) {
    std::snprintf(text, sizeof text, "%s{\"rank\": %zu, \"images_per_second\": %.6g, \"seconds\": %.6g, "
                  "\"peak_memory_bytes\": %.0f, ", r ? ", " : "", r, s.ranks[r].images_per_second,
                  s.ranks[r].seconds, s.ranks[r].peak_memory);
    out += text;
    print_parts_json(out, s.ranks[r].mean);
    out += "}";
  }
  out += "]}\n";
  std::fputs(out.c_str(), stdout);
}

void print_table(const Summary& s) {
  const auto& o = s.o;
  // How the gradient buckets are all-reduced on the CPU: in shared memory within a node, else MPI_Iallreduce.
  const std::string algorithm = dist::iallreduce_request();
  std::string iallreduce;
  if (s.shared_memory()) {
    iallreduce = " | all-reduce in shared memory";
  } else if (s.ranks.size() > 1 && s.placement.comm->backend() == "mpi" && !algorithm.empty()) {
    iallreduce = " | iallreduce " + algorithm;
  }
  std::printf("# ftbench %s bench | %s@%" PRId64 " | batch %" PRId64 "/rank (global %" PRId64 ") | %zu rank(s) x %d "
              "thread(s), %s on %s | %s %s | omp wait %s%s | %" PRId64 " warm-up + %" PRId64 " timed steps\n",
              FTBENCH_VERSION, o.model.c_str(), s.bench.input_size(), o.batch,
              o.batch * static_cast<int64_t>(s.ranks.size()), s.ranks.size(), s.threads,
              s.placement.comm->backend().c_str(), s.device.c_str(), o.precision.c_str(), s.format(),
              omp_wait_setting().c_str(), iallreduce.c_str(), o.warmup, o.steps);
  std::printf("# per step, ms (mean over %" PRId64 " steps); peak memory: %s\n", s.bench.breakdown_steps(),
              s.placement.device.is_cuda() ? "allocated on the GPU" : "resident set size");
  std::printf("%-9s %10s %9s %9s %9s %9s %9s %9s %12s\n", "rank", "img/s", "step", "data", "forward", "backward",
              "comm", "optimizer", "peak_MiB");
  const auto line = [](const std::string& label, double ips, const StepParts& p, double peak) {
    std::printf("%-9s %10.1f %9.2f %9.2f %9.2f %9.2f %9.2f %9.2f %12.1f\n", label.c_str(), ips, 1e3 * p.step,
                1e3 * p.data, 1e3 * p.forward, 1e3 * p.backward, 1e3 * p.comm, 1e3 * p.optimizer, peak / 1048576.0);
  };
  for (std::size_t r = 0; r < s.ranks.size(); ++r) {
    line(std::to_string(r), s.ranks[r].images_per_second, s.ranks[r].mean, s.ranks[r].peak_memory);
  }
  line("aggregate", s.aggregate(), s.mean_parts(), s.peak_memory());
  std::printf("# aggregate: images of all ranks over the slowest rank's time; parts: rank means; peak: the "
              "largest rank's\n");
}

int bench(const BenchOptions& o, int argc, char** argv) {
  dist::Runtime runtime(&argc, &argv);
  at::set_num_interop_threads(1);
  int code = phase(runtime, [&] { check_options(o, train::planned_device("auto")); });
  if (code != 0) return code;

  train::Placement placement;
  int threads = 1;
  code = phase(runtime, [&] {
    placement = train::place_rank(runtime, "auto", /*timeout_s=*/600);
    threads = o.threads > 0 ? static_cast<int>(o.threads) : default_threads_here(runtime.local_size());
  });
  if (code != 0) return code;
  if (runtime.rank() == 0) {
    const std::string warning = oversubscription_warning(threads, runtime.local_size());
    if (!warning.empty()) std::fprintf(stderr, "ftbench: warning: %s\n", warning.c_str());
  }

  try {
    Bench bench(o, placement, threads);
    const RankResult mine = bench.run();
    const std::vector<RankResult> ranks = gather(mine, *placement.comm, placement.device);
    if (runtime.rank() == 0) {
      const Summary summary{o, bench, placement, threads, train::describe_device(placement.device_name), ranks};
      if (o.json) print_json(summary);
      else print_table(summary);
      std::fflush(stdout);
    }
  } catch (const std::exception& e) {
    return fail_collective(runtime, e);
  }
  return 0;
}

}  // namespace

Command add_bench_command(CLI::App& app) {
  auto options = std::make_shared<BenchOptions>();
  CLI::App* cmd = app.add_subcommand(
      "bench", "Time full training steps of one model (data, forward, backward, all-reduce, optimizer) on "
               "device-resident synthetic data; alone or under mpirun/srun (--batch is per rank)");
  cmd->add_option("--model", options->model, "Model name, e.g. resnet18 (ftbench inspect --list)")->required();
  cmd->add_option("--input-size", options->input_size, "Image side in pixels (default: the model's native size)")
      ->check(CLI::Range(int64_t{1}, int64_t{4096}));
  cmd->add_option("--batch", options->batch, "Images per rank per step (default 64; BatchNorm needs 2 or more)")
      ->check(CLI::Range(int64_t{2}, int64_t{65536}));
  cmd->add_option("--steps", options->steps, "Timed steps (default 20)")->check(CLI::Range(int64_t{1}, int64_t{1000000}));
  cmd->add_option("--warmup", options->warmup, "Untimed steps first (default 3)")
      ->check(CLI::Range(int64_t{0}, int64_t{1000000}));
  cmd->add_option("--threads", options->threads, "Intra-op threads per rank (default 0: cores / ranks on the node)")
      ->check(CLI::Range(int64_t{0}, int64_t{1024}));
  cmd->add_option("--precision", options->precision, "fp32 (default) or bf16 (CUDA autocast; GPUs only)")
      ->check(CLI::IsMember({"fp32", "bf16"}));
  cmd->add_option("--memory-format", options->memory_format,
                  "auto (default: channels_last for conv nets, contiguous for vit_*/swin_*), channels_last or "
                  "contiguous")
      ->check(CLI::IsMember({"auto", "channels_last", "contiguous"}));
  cmd->add_flag("--json", options->json, "Print one JSON object (aggregate img/s under \"images_per_second\")");
  return {cmd, [options](int argc, char** argv) { return bench(*options, argc, argv); }};
}

}  // namespace ftbench::cli
