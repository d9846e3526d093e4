// libFuzzer target: the safetensors parser, plus a round trip: whatever it accepts, written back with
// safetensors_header and the same data, must parse again to the same tensors.
#include <cstring>
#include <string>

#include "fuzz_check.h"
#include "runner/base/error.h"
#include "runner/weights/safetensors_format.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ftbench::weights;
  RawStateDict raw;
  try {
    raw = parse_safetensors({data, size}, "fuzz");
  } catch (const ftbench::InputError&) {
    return 0;
  }
  fuzz::check(raw);
  std::vector<SafetensorsEntry> entries;
  std::string buffer;
  for (const RawTensor& t : raw.tensors) {
    entries.push_back({t.name, t.dtype, t.shape});
    const RawStorage& s = raw.storages[t.storage];
    buffer.append(reinterpret_cast<const char*>(s.bytes.data), s.bytes.size);
  }
  std::string again;
  try {
    again = safetensors_header(entries, raw.metadata) + buffer;
  } catch (const ftbench::InputError&) {
    fuzz::violated("an accepted file cannot be written back");
  }
  RawStateDict back;
  try {
    back = parse_safetensors({reinterpret_cast<const uint8_t*>(again.data()), again.size()}, "fuzz-roundtrip");
  } catch (const ftbench::InputError&) {
    fuzz::violated("a file written back from an accepted one is refused");
  }
  if (back.tensors.size() != raw.tensors.size() || back.metadata != raw.metadata) fuzz::violated("round trip differs");
  for (std::size_t i = 0; i < raw.tensors.size(); ++i) {
    const RawStorage& a = raw.storages[raw.tensors[i].storage];
    const RawStorage& b = back.storages[back.tensors[i].storage];
    if (back.tensors[i].name != raw.tensors[i].name || back.tensors[i].shape != raw.tensors[i].shape ||
        a.nbytes != b.nbytes || (a.nbytes > 0 && std::memcmp(a.bytes.data, b.bytes.data, a.nbytes) != 0)) {
      fuzz::violated("round trip differs");
    }
  }
  return 0;
}
