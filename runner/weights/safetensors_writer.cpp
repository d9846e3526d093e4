#include "runner/weights/safetensors_writer.h"

#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "runner/base/error.h"
#include "runner/weights/dtype_bridge.h"
#include "runner/weights/safetensors_format.h"

namespace ftbench::weights {
namespace {

// Closes and removes a temporary file unless committed.
class TempFile {
 public:
  explicit TempFile(std::filesystem::path path) : path_(std::move(path)), f_(std::fopen(path_.c_str(), "wb")) {}
  ~TempFile() {
    if (f_ != nullptr) std::fclose(f_);
    if (!committed_) std::remove(path_.c_str());
  }
  TempFile(const TempFile&) = delete;
  TempFile& operator=(const TempFile&) = delete;

  std::FILE* get() const { return f_; }
  const std::filesystem::path& path() const { return path_; }
  bool close() {
    const bool ok = std::fflush(f_) == 0 && ::fsync(fileno(f_)) == 0;
    const bool closed = std::fclose(f_) == 0;
    f_ = nullptr;
    return ok && closed;
  }
  void commit() { committed_ = true; }

 private:
  std::filesystem::path path_;
  std::FILE* f_;
  bool committed_ = false;
};

}  // namespace

void write_safetensors(const std::filesystem::path& path, const std::vector<std::pair<std::string, at::Tensor>>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  std::vector<SafetensorsEntry> entries;
  std::vector<at::Tensor> data;
  for (const auto& [name, tensor] : tensors) {
    const auto dtype = from_scalar_type(tensor.scalar_type());
    if (!dtype) {
      throw InputError(path.string() + ": tensor '" + name + "' has dtype " + std::string(c10::toString(tensor.scalar_type())) +
                       ", which safetensors cannot hold");
    }
    entries.push_back({name, *dtype, tensor.sizes().vec()});
    data.push_back(tensor.to(at::kCPU).contiguous());
  }
  const std::string header = safetensors_header(entries, metadata);

  const std::filesystem::path dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  if (!std::filesystem::is_directory(dir)) {
    throw InputError(path.string() + ": directory " + dir.string() + " does not exist; create it first");
  }
  TempFile tmp(path.string() + ".tmp." + std::to_string(::getpid()));
  if (tmp.get() == nullptr) {
    throw InputError(path.string() + ": cannot create " + tmp.path().string() + " (" + std::strerror(errno) + ")");
  }
  bool ok = std::fwrite(header.data(), 1, header.size(), tmp.get()) == header.size();
  for (const at::Tensor& t : data) {
    const std::size_t n = t.nbytes();
    ok = ok && (n == 0 || std::fwrite(t.data_ptr(), 1, n, tmp.get()) == n);
  }
  ok = tmp.close() && ok;
  if (!ok || std::rename(tmp.path().c_str(), path.c_str()) != 0) {
    throw RuntimeError(path.string() + ": writing failed (" + std::strerror(errno) + "); check free space and permissions");
  }
  tmp.commit();
}

}  // namespace ftbench::weights
