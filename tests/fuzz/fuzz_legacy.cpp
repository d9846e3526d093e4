// libFuzzer target: the legacy torch.save container (five pickles, then raw storages).
#include "fuzz_check.h"
#include "runner/base/error.h"
#include "runner/weights/torch_legacy.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ftbench::weights;
  try {
    fuzz::check(parse_torch_legacy({data, size}, "fuzz"));
  } catch (const ftbench::InputError&) {
  }
  return 0;
}
