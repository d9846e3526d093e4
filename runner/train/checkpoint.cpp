#include "runner/train/checkpoint.h"

#include <ATen/Context.h>
#include <ATen/Functions.h>
#include <ATen/core/Generator.h>
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <torch/serialize/input-archive.h>
#include <torch/serialize/output-archive.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <sstream>
#include <system_error>

#include "runner/base/error.h"
#include "runner/base/fault_point.h"

namespace ftbench::train {
namespace {

constexpr int64_t kFormat = 1;  // bump when the archive's keys change meaning
const char* kMarkerName = "latest";

std::string system_error_text() { return std::strerror(errno); }

// --- Generator states ------------------------------------------------------------------------------------

at::Tensor generator_state(at::Generator generator) {
  const std::lock_guard<std::mutex> lock(generator.mutex());
  return generator.get_state();
}

void set_generator_state(at::Generator generator, const at::Tensor& state) {
  const std::lock_guard<std::mutex> lock(generator.mutex());
  generator.set_state(state);
}

void append_bytes(std::string& out, const at::Tensor& state) {
  const at::Tensor bytes = state.to(at::kCPU).contiguous();
  const auto size = static_cast<uint64_t>(bytes.numel());
  out.append(reinterpret_cast<const char*>(&size), sizeof size);
  out.append(static_cast<const char*>(bytes.data_ptr()), size);
}

at::Tensor take_bytes(const std::string& in, std::size_t& offset) {
  uint64_t size = 0;
  if (offset + sizeof size > in.size()) throw RuntimeError("checkpoint: truncated generator state");
  std::memcpy(&size, in.data() + offset, sizeof size);
  offset += sizeof size;
  if (offset + size > in.size()) throw RuntimeError("checkpoint: truncated generator state");
  at::Tensor out = at::empty({static_cast<int64_t>(size)}, at::TensorOptions().dtype(at::kByte));
  std::memcpy(out.data_ptr(), in.data() + offset, size);
  offset += size;
  return out;
}

// --- Archive helpers --------------------------------------------------------------------------------------

c10::IValue read_value(torch::serialize::InputArchive& archive, const std::string& key, const std::string& file) {
  c10::IValue value;
  if (!archive.try_read(key, value))
    throw InputError(file + ": not an ftbench checkpoint (no '" + key + "'); delete it or re-run with --restart");
  return value;
}

std::vector<at::Tensor> read_tensors(torch::serialize::InputArchive& archive, const std::string& key,
                                     const std::string& file) {
  return read_value(archive, key, file).toTensorVector();
}

c10::List<at::Tensor> tensor_list(const std::vector<at::Tensor>& tensors) {
  c10::List<at::Tensor> list;
  list.reserve(tensors.size());
  for (const auto& t : tensors) list.push_back(t.detach());
  return list;
}

// Copies `stored` into `live` tensor by tensor, checking the count and every shape first.
void copy_into(const std::vector<at::Tensor>& live, const std::vector<at::Tensor>& stored,
               const std::vector<std::string>& names, const std::string& what, const std::string& file) {
  if (live.size() != stored.size())
    throw InputError(file + ": the checkpoint's " + what + " has " + std::to_string(stored.size()) +
                     " tensors, the run's model " + std::to_string(live.size()) +
                     "; it belongs to another model: delete it or re-run with --restart");
  for (std::size_t i = 0; i < live.size(); ++i) {
    if (live[i].sizes() != stored[i].sizes())
      throw InputError(file + ": " + what + " tensor '" + names[i] + "' has shape " +
                       c10::str(stored[i].sizes()) + " in the checkpoint, " + c10::str(live[i].sizes()) +
                       " in the model; delete the checkpoint or re-run with --restart");
  }
  torch::NoGradGuard no_grad;
  for (std::size_t i = 0; i < live.size(); ++i) live[i].detach().copy_(stored[i]);
}

struct Named {
  std::vector<std::string> names;
  std::vector<at::Tensor> tensors;
};

Named model_state(const torch::nn::Module& model) {
  Named out;
  for (const auto& item : model.named_parameters()) {
    out.names.push_back(item.key());
    out.tensors.push_back(item.value());
  }
  for (const auto& item : model.named_buffers()) {
    out.names.push_back(item.key());
    out.tensors.push_back(item.value());
  }
  return out;
}

void load_archive(torch::serialize::InputArchive& archive, const std::string& bytes, const std::string& file,
                  std::optional<at::Device> device) {
  try {
    archive.load_from(bytes.data(), bytes.size(), device);
  } catch (const c10::Error& e) {
    throw InputError(file + ": not a readable checkpoint (" + std::string(e.what_without_backtrace()) +
                     "); delete it or re-run with --restart");
  }
}

CheckpointMeta read_meta(torch::serialize::InputArchive& archive, const std::string& file) {
  if (read_value(archive, "format", file).toInt() != kFormat)
    throw InputError(file + ": written by another version of ftbench (checkpoint format " +
                     std::to_string(read_value(archive, "format", file).toInt()) + ", this one reads " +
                     std::to_string(kFormat) + "); re-run with --restart");
  CheckpointMeta meta;
  meta.run_id = read_value(archive, "run_id", file).toStringRef();
  meta.config_toml = read_value(archive, "config_toml", file).toStringRef();
  meta.world_size = read_value(archive, "world_size", file).toInt();
  meta.final = read_value(archive, "final", file).toBool();
  Position& p = meta.position;
  p.epoch = read_value(archive, "epoch", file).toInt();
  p.step_in_epoch = read_value(archive, "step_in_epoch", file).toInt();
  p.global_step = read_value(archive, "global_step", file).toInt();
  p.epochs_done = read_value(archive, "epochs_done", file).toInt();
  PartialEpoch& e = meta.partial;
  e.images = read_value(archive, "partial_images", file).toInt();
  e.loss_sum = read_value(archive, "partial_loss_sum", file).toDouble();
  e.correct = read_value(archive, "partial_correct", file).toInt();
  e.data_seconds = read_value(archive, "partial_data_seconds", file).toDouble();
  e.step_seconds = read_value(archive, "partial_step_seconds", file).toDouble();
  e.train_seconds = read_value(archive, "partial_train_seconds", file).toDouble();
  e.comm_seconds = read_value(archive, "partial_comm_seconds", file).toDouble();
  e.comm_bytes = read_value(archive, "partial_comm_bytes", file).toInt();
  e.peak_memory_bytes = read_value(archive, "partial_peak_memory_bytes", file).toInt();
  return meta;
}

// --- Files ------------------------------------------------------------------------------------------------

void fsync_path(const std::string& path, int flags) {
  const int fd = ::open(path.c_str(), flags | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);  // best effort for directories: some file systems refuse it
  ::close(fd);
}

// Writes `bytes` to dir/name through a temporary file, fsync, rename and a directory fsync. With
// `crash_point`, passes fault_point("checkpoint") halfway through the temporary file.
void write_atomically(const std::string& dir, const std::string& name, const std::string& bytes, bool crash_point) {
  const std::string target = dir + "/" + name;
  const std::string tmp = dir + "/." + name + ".tmp";
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw RuntimeError("cannot create " + tmp + " (" + system_error_text() + "); [experiment] checkpoint_dir "
                                 "must be a writable directory with room for the run's checkpoints");
  std::size_t done = 0;
  bool crashed_half = !crash_point;
  while (done < bytes.size()) {
    const std::size_t chunk = std::min<std::size_t>(bytes.size() - done, 8U << 20U);
    const ssize_t n = ::write(fd, bytes.data() + done, chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const std::string reason = system_error_text();
      ::close(fd);
      ::unlink(tmp.c_str());
      throw RuntimeError("cannot write " + tmp + " (" + reason + ")");
    }
    done += static_cast<std::size_t>(n);
    if (!crashed_half && done >= bytes.size() / 2) {
      crashed_half = true;
      fault_point("checkpoint");
    }
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const std::string reason = system_error_text();
    ::unlink(tmp.c_str());
    throw RuntimeError("cannot flush " + tmp + " to disk (" + reason + ")");
  }
  if (::rename(tmp.c_str(), target.c_str()) != 0) {
    const std::string reason = system_error_text();
    ::unlink(tmp.c_str());
    throw RuntimeError("cannot rename " + tmp + " to " + target + " (" + reason + ")");
  }
  fsync_path(dir, O_RDONLY | O_DIRECTORY);
}

std::vector<std::string> list_dir(const std::string& dir) {
  std::vector<std::string> names;
  DIR* handle = ::opendir(dir.c_str());
  if (handle == nullptr) return names;
  while (const dirent* entry = ::readdir(handle)) {
    const std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(name);
  }
  ::closedir(handle);
  std::sort(names.begin(), names.end());
  return names;
}

bool is_checkpoint_name(const std::string& name) {
  return name.rfind("epoch-", 0) == 0 && name.size() > 3 && name.compare(name.size() - 3, 3, ".pt") == 0;
}

bool is_temporary_name(const std::string& name) {
  return name.size() > 4 && name[0] == '.' && name.compare(name.size() - 4, 4, ".tmp") == 0;
}

std::string file_name(const Position& p) {
  char name[64];
  if (p.step_in_epoch == 0) {
    std::snprintf(name, sizeof name, "epoch-%04" PRId64 ".pt", p.epochs_done);
  } else {
    std::snprintf(name, sizeof name, "epoch-%04" PRId64 "-step-%06" PRId64 ".pt", p.epoch, p.step_in_epoch);
  }
  return name;
}

std::string marker_text(const std::string& file, const Position& p, bool final) {
  std::ostringstream out;
  out << "# ftbench: the newest complete checkpoint of this run\n"
      << "file = \"" << file << "\"\n"
      << "epoch = " << p.epoch << "\n"
      << "step_in_epoch = " << p.step_in_epoch << "\n"
      << "global_step = " << p.global_step << "\n"
      << "epochs_done = " << p.epochs_done << "\n"
      << "final = " << (final ? "true" : "false") << "\n";
  return out.str();
}

}  // namespace

std::string capture_rng_state(at::Device device) {
  std::string out;
  append_bytes(out, generator_state(at::detail::getDefaultCPUGenerator()));
  if (device.is_cuda()) append_bytes(out, generator_state(at::globalContext().defaultGenerator(device)));
  return out;
}

void restore_rng_state(const std::string& state, at::Device device) {
  std::size_t offset = 0;
  set_generator_state(at::detail::getDefaultCPUGenerator(), take_bytes(state, offset));
  if (device.is_cuda() && offset < state.size())
    set_generator_state(at::globalContext().defaultGenerator(device), take_bytes(state, offset));
}

std::string encode_checkpoint(const CheckpointMeta& meta, const std::vector<std::string>& rng_states,
                              const torch::nn::Module& model, const torch::optim::Optimizer& optimizer,
                              const WeightEma* ema) {
  torch::serialize::OutputArchive archive;
  archive.write("format", c10::IValue(kFormat));
  archive.write("run_id", c10::IValue(meta.run_id));
  archive.write("config_toml", c10::IValue(meta.config_toml));
  archive.write("world_size", c10::IValue(meta.world_size));
  archive.write("final", c10::IValue(meta.final));
  const Position& p = meta.position;
  archive.write("epoch", c10::IValue(p.epoch));
  archive.write("step_in_epoch", c10::IValue(p.step_in_epoch));
  archive.write("global_step", c10::IValue(p.global_step));
  archive.write("epochs_done", c10::IValue(p.epochs_done));
  const PartialEpoch& e = meta.partial;
  archive.write("partial_images", c10::IValue(e.images));
  archive.write("partial_loss_sum", c10::IValue(e.loss_sum));
  archive.write("partial_correct", c10::IValue(e.correct));
  archive.write("partial_data_seconds", c10::IValue(e.data_seconds));
  archive.write("partial_step_seconds", c10::IValue(e.step_seconds));
  archive.write("partial_train_seconds", c10::IValue(e.train_seconds));
  archive.write("partial_comm_seconds", c10::IValue(e.comm_seconds));
  archive.write("partial_comm_bytes", c10::IValue(e.comm_bytes));
  archive.write("partial_peak_memory_bytes", c10::IValue(e.peak_memory_bytes));

  const Named state = model_state(model);
  c10::List<std::string> names;
  for (const auto& name : state.names) names.push_back(name);
  archive.write("model_names", c10::IValue(names));
  archive.write("model_tensors", c10::IValue(tensor_list(state.tensors)));
  archive.write("has_ema", c10::IValue(ema != nullptr));
  if (ema != nullptr) archive.write("ema_tensors", c10::IValue(tensor_list(ema->averages())));
  std::vector<at::Tensor> rng;
  for (const auto& s : rng_states) {
    at::Tensor bytes = at::empty({static_cast<int64_t>(s.size())}, at::TensorOptions().dtype(at::kByte));
    std::memcpy(bytes.data_ptr(), s.data(), s.size());
    rng.push_back(bytes);
  }
  archive.write("rng_states", c10::IValue(tensor_list(rng)));
  torch::serialize::OutputArchive optimizer_archive;
  optimizer.save(optimizer_archive);
  archive.write("optimizer", optimizer_archive);

  std::string bytes;
  archive.save_to([&](const void* data, size_t size) -> size_t {
    bytes.append(static_cast<const char*>(data), size);
    return size;
  });
  return bytes;
}

CheckpointMeta read_checkpoint_meta(const std::string& bytes, const std::string& file) {
  torch::serialize::InputArchive archive;
  load_archive(archive, bytes, file, at::Device(at::kCPU));
  return read_meta(archive, file);
}

CheckpointMeta decode_checkpoint(const std::string& bytes, const std::string& file, int rank, at::Device device,
                                 torch::nn::Module& model, torch::optim::Optimizer& optimizer, WeightEma* ema) {
  torch::serialize::InputArchive archive;
  load_archive(archive, bytes, file, device);
  const CheckpointMeta meta = read_meta(archive, file);

  const Named live = model_state(model);
  std::vector<std::string> names;
  for (const auto& name : read_value(archive, "model_names", file).toListRef()) names.push_back(name.toStringRef());
  if (names != live.names)
    throw InputError(file + ": the checkpoint's parameter names differ from the model's (first: '" +
                     (names.empty() ? std::string("none") : names[0]) + "'); it belongs to another model: "
                     "delete it or re-run with --restart");
  copy_into(live.tensors, read_tensors(archive, "model_tensors", file), live.names, "model", file);

  const bool has_ema = read_value(archive, "has_ema", file).toBool();
  if (has_ema != (ema != nullptr))
    throw InputError(file + ": the checkpoint " + (has_ema ? "has" : "has no") + " EMA weights, the run " +
                     (ema != nullptr ? "has" : "has no") + " train.ema_decay; re-run with --restart");
  if (ema != nullptr) {
    std::vector<std::string> ema_names = live.names;
    copy_into(ema->averages(), read_tensors(archive, "ema_tensors", file), ema_names, "EMA", file);
  }

  torch::serialize::InputArchive optimizer_archive;
  archive.read("optimizer", optimizer_archive);
  try {
    optimizer.load(optimizer_archive);
  } catch (const c10::Error& e) {
    throw InputError(file + ": the optimizer state does not fit this run (" +
                     std::string(e.what_without_backtrace()) + "); re-run with --restart");
  }

  const std::vector<at::Tensor> rng = read_tensors(archive, "rng_states", file);
  if (!rng.empty()) {
    // A job resumed with another world size: rank r continues rank (r mod n)'s streams.
    const at::Tensor mine = rng[static_cast<std::size_t>(rank) % rng.size()].to(at::kCPU).contiguous();
    restore_rng_state(std::string(static_cast<const char*>(mine.data_ptr()), static_cast<std::size_t>(mine.numel())),
                      device);
  }
  return meta;
}

CheckpointDir::CheckpointDir(std::string dir, int64_t keep) : dir_(std::move(dir)), keep_(std::max<int64_t>(1, keep)) {}

std::optional<Marker> CheckpointDir::latest() const {
  const std::string path = dir_ + "/" + kMarkerName;
  std::ifstream in(path);
  if (!in) return std::nullopt;
  Marker marker;
  bool have_file = false;
  const auto bad = [&](const std::string& why) {
    return InputError(path + ": " + why + "; the checkpoint marker is damaged: delete " + dir_ +
                      " (the run then starts again) or re-run with --restart");
  };
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == '#') continue;
    const auto eq = line.find(" = ");
    if (eq == std::string::npos) throw bad("expected 'key = value', got '" + line + "'");
    const std::string key = line.substr(0, eq), value = line.substr(eq + 3);
    try {
      if (key == "file") {
        if (value.size() < 2 || value.front() != '"' || value.back() != '"') throw bad("file must be a quoted name");
        marker.file = value.substr(1, value.size() - 2);
        have_file = is_checkpoint_name(marker.file);
      } else if (key == "epoch") {
        marker.position.epoch = std::stoll(value);
      } else if (key == "step_in_epoch") {
        marker.position.step_in_epoch = std::stoll(value);
      } else if (key == "global_step") {
        marker.position.global_step = std::stoll(value);
      } else if (key == "epochs_done") {
        marker.position.epochs_done = std::stoll(value);
      } else if (key == "final") {
        marker.final = value == "true";
      } else {
        throw bad("unknown key '" + key + "'");
      }
    } catch (const std::logic_error&) {
      throw bad("'" + key + "' is not a number");
    }
  }
  if (!have_file) throw bad("no checkpoint file named (file = \"epoch-....pt\")");
  struct stat info {};
  if (::stat((dir_ + "/" + marker.file).c_str(), &info) != 0)
    throw bad("it names " + marker.file + ", which is missing");
  return marker;
}

std::string CheckpointDir::read(const Marker& marker) const {
  const std::string path = dir_ + "/" + marker.file;
  std::ifstream in(path, std::ios::binary);
  if (!in) throw RuntimeError("cannot open checkpoint " + path + " (" + system_error_text() + ")");
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (!in.good() && !in.eof()) throw RuntimeError("cannot read checkpoint " + path);
  return bytes.str();
}

void CheckpointDir::write(const std::string& bytes, const Position& position, bool final) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
  if (ec)
    throw RuntimeError("cannot create checkpoint directory " + dir_ + " (" + ec.message() +
                       "); set [experiment] checkpoint_dir to a writable directory");
  for (const auto& name : list_dir(dir_)) {
    if (is_temporary_name(name)) ::unlink((dir_ + "/" + name).c_str());  // left by a killed writer
  }
  const std::string name = file_name(position);
  write_atomically(dir_, name, bytes, /*crash_point=*/true);
  write_atomically(dir_, kMarkerName, marker_text(name, position, final), /*crash_point=*/false);
  // Keep the newest `keep` (names sort in training order) and always the one the marker names.
  std::vector<std::string> checkpoints;
  for (const auto& n : list_dir(dir_)) {
    if (is_checkpoint_name(n) && n != name) checkpoints.push_back(n);
  }
  const auto surplus = static_cast<int64_t>(checkpoints.size()) - (keep_ - 1);
  for (int64_t i = 0; i < surplus; ++i) ::unlink((dir_ + "/" + checkpoints[static_cast<std::size_t>(i)]).c_str());
}

void CheckpointDir::clear() {
  for (const auto& name : list_dir(dir_)) {
    if (is_checkpoint_name(name) || is_temporary_name(name) || name == kMarkerName) ::unlink((dir_ + "/" + name).c_str());
  }
  ::rmdir(dir_.c_str());  // only when empty: anything the user put there stays
}

std::string checkpoint_root(const config::Experiment& experiment) {
  if (!experiment.checkpoint_dir.empty()) return experiment.checkpoint_dir;
  std::filesystem::path output(experiment.output);
  output.replace_extension(".checkpoints");
  return output.string();
}

}  // namespace ftbench::train
