#include "runner/weights/torch_zip.h"

#include <cstring>

#include "runner/base/error.h"
#include "runner/weights/pickled_state_dict.h"
#include "runner/weights/unpickler.h"
#include "runner/weights/utf8.h"

namespace ftbench::weights {

bool looks_like_zip(const uint8_t* data, std::size_t size) { return size >= 4 && std::memcmp(data, "PK\x03\x04", 4) == 0; }

RawStateDict parse_torch_zip(RecordSource& source, const std::string& where) {
  if (!source.has_record("data.pkl")) {
    throw InputError(where + ": a zip archive without data.pkl: not a torch.save file (a TorchScript or other "
                             "archive?); save model.state_dict() with torch.save");
  }
  if (source.has_record("byteorder")) {
    const std::string order = source.read_record("byteorder", 16);
    if (order != "little") {
      throw InputError(where + ": saved with byte order '" + printable(order) + "'; only little-endian is supported");
    }
  }
  const std::string pkl = source.read_record("data.pkl", source.file_size());
  pickle::UnpickleOptions options;
  options.allow_persistent_ids = true;
  options.max_storage_bytes = source.file_size();
  const pickle::PickleResult result = pickle::unpickle(
      {reinterpret_cast<const uint8_t*>(pkl.data()), pkl.size()}, where + " (data.pkl)", options);
  for (const auto& ref : result.storages) {
    if (ref.view_of) throw InputError(where + ": a storage view in a zip file; the file is corrupt");
  }
  RawStateDict out = state_dict_from_pickle(result, where, "torch.save zip");
  for (RawStorage& s : out.storages) {
    if (!s.used) continue;
    s.record = "data/" + s.key;
    if (!source.has_record(s.record)) {
      throw InputError(where + ": storage record " + printable(s.record) + " is missing; the file is truncated or corrupt");
    }
    const uint64_t size = source.record_size(s.record);
    if (size != s.nbytes) {
      throw InputError(where + ": storage record " + printable(s.record) + " holds " + std::to_string(size) +
                       " bytes, the pickle says " + std::to_string(s.nbytes) + "; the file is corrupt");
    }
  }
  return out;
}

}  // namespace ftbench::weights
