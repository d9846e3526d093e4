#include "runner/weights/state_dict.h"

#include <ATen/Functions.h>
#include <c10/util/Exception.h>

#include <cstring>

#include "runner/base/error.h"
#include "runner/weights/dtype_bridge.h"
#include "runner/weights/file_format.h"
#include "runner/weights/mapped_file.h"
#include "runner/weights/safetensors_format.h"
#include "runner/weights/torch_legacy.h"
#include "runner/weights/zip_archive.h"

namespace ftbench::weights {

const at::Tensor* StateDict::find(const std::string& name) const {
  for (const auto& [key, tensor] : tensors) {
    if (key == name) return &tensor;
  }
  return nullptr;
}

StateDict make_state_dict(const RawStateDict& raw, RecordSource* records, const std::string& where) {
  StateDict out;
  out.source = where;
  out.format = raw.format;
  out.metadata = raw.metadata;
  // One owned, aligned storage per file storage. Copying out of the mapping (rather than pointing into it)
  // keeps tensors writable and independent of the file once this returns.
  std::vector<c10::Storage> storages(raw.storages.size());
  for (std::size_t i = 0; i < raw.storages.size(); ++i) {
    const RawStorage& s = raw.storages[i];
    if (!s.used) continue;
    at::Tensor bytes = at::empty({static_cast<int64_t>(s.nbytes)}, at::TensorOptions().dtype(at::kByte));
    if (s.bytes.data != nullptr) {
      if (s.nbytes > 0) std::memcpy(bytes.data_ptr(), s.bytes.data, s.nbytes);
    } else if (records != nullptr && !s.record.empty()) {
      records->read_record_into(s.record, bytes.data_ptr(), s.nbytes);
    } else if (s.nbytes > 0) {
      throw InputError(where + ": storage '" + s.key + "' has no data");
    }
    storages[i] = bytes.storage();
  }
  try {
    for (const RawTensor& t : raw.tensors) {
      at::Tensor tensor = at::empty({0}, at::TensorOptions().dtype(to_scalar_type(t.dtype)));
      tensor.set_(storages[t.storage], t.storage_offset, t.shape, t.strides);
      out.tensors.emplace_back(t.name, std::move(tensor));
    }
  } catch (const c10::Error& e) {
    // The parsers already bound every tensor by its storage; this is a second line of defence.
    const std::string msg = e.what_without_backtrace();
    throw InputError(where + ": cannot make tensors (" + msg.substr(0, msg.find('\n')) + ")");
  }
  return out;
}

StateDict read_state_dict(const std::filesystem::path& path) {
  const MappedFile file(path);
  const std::string where = path.string();
  switch (detect_format(file.bytes(), where, path.extension() == ".safetensors")) {
    case FileFormat::kTorchZip: {
      std::unique_ptr<RecordSource> archive = open_zip_archive(file.bytes(), where);
      return make_state_dict(parse_torch_zip(*archive, where), archive.get(), where);
    }
    case FileFormat::kTorchLegacy:
      return make_state_dict(parse_torch_legacy(file.bytes(), where), nullptr, where);
    case FileFormat::kSafetensors:
      return make_state_dict(parse_safetensors(file.bytes(), where), nullptr, where);
  }
  throw InputError(where + ": unrecognised weights format");
}

}  // namespace ftbench::weights
