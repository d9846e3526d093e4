#include "fixtures.h"

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <stdexcept>

#include "runner/weights/dtype_bridge.h"

namespace ftbench::weights::testing {

std::filesystem::path fixtures_dir() {
  const char* dir = std::getenv("FTBENCH_WEIGHTS_FIXTURES");
  if (dir == nullptr) throw std::runtime_error("FTBENCH_WEIGHTS_FIXTURES is not set (CTest sets it)");
  return dir;
}

nlohmann::json read_json(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  // ordered_json keeps the file order; tensors are compared in the order Python wrote them.
  return nlohmann::json::parse(in);
}

std::vector<Expected> reference(const std::string& ref) {
  std::ifstream json_in(fixtures_dir() / "good" / (ref + ".json"));
  const auto manifest = nlohmann::ordered_json::parse(json_in);
  std::ifstream bin_in(fixtures_dir() / "good" / (ref + ".bin"), std::ios::binary);
  const std::string bin((std::istreambuf_iterator<char>(bin_in)), std::istreambuf_iterator<char>());
  std::vector<Expected> out;
  for (const auto& [name, info] : manifest.items()) {
    out.push_back({name, info.at("dtype").get<std::string>(), info.at("shape").get<std::vector<int64_t>>(),
                   bin.substr(info.at("offset").get<std::size_t>(), info.at("nbytes").get<std::size_t>())});
  }
  return out;
}

std::string bytes_of(const at::Tensor& t) {
  const at::Tensor c = t.contiguous();
  return std::string(static_cast<const char*>(c.data_ptr()), c.nbytes());
}

void remove_tree(const std::filesystem::path& dir) {
  std::error_code ec;
  if (!std::filesystem::is_directory(dir, ec)) {
    std::filesystem::remove(dir, ec);
    return;
  }
  std::vector<std::filesystem::path> children;
  for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) children.push_back(entry.path());
  for (const auto& child : children) remove_tree(child);
  std::filesystem::remove(dir, ec);
}

std::string dtype_of(const at::Tensor& t) {
  const auto d = from_scalar_type(t.scalar_type());
  return d ? dtype_name(*d) : "?";
}

}  // namespace ftbench::weights::testing
