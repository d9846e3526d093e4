// libFuzzer target: the zip torch.save container, through LibTorch's PyTorchStreamReader (not instrumented:
// it is prebuilt) and our record handling (instrumented), reading every storage record the state dict uses.
#include <vector>

#include "fuzz_check.h"
#include "runner/base/error.h"
#include "runner/weights/zip_archive.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ftbench::weights;
  try {
    std::unique_ptr<RecordSource> archive = open_zip_archive({data, size}, "fuzz");
    const RawStateDict raw = parse_torch_zip(*archive, "fuzz");
    fuzz::check(raw);
    for (const RawStorage& s : raw.storages) {
      if (!s.used) continue;
      std::vector<uint8_t> bytes(s.nbytes);  // bounded by the file size, checked by parse_torch_zip
      archive->read_record_into(s.record, bytes.data(), s.nbytes);
    }
  } catch (const ftbench::InputError&) {
  }
  return 0;
}
