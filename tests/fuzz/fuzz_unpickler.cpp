// libFuzzer target: the restricted unpickler and the state-dict extraction on arbitrary bytes.
#include "fuzz_check.h"
#include "runner/base/error.h"
#include "runner/weights/pickled_state_dict.h"
#include "runner/weights/unpickler.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ftbench::weights;
  try {
    pickle::UnpickleOptions options;
    options.allow_persistent_ids = true;
    options.max_storage_bytes = 1 << 20;
    const pickle::PickleResult result = pickle::unpickle({data, size}, "fuzz", options);
    if (result.consumed > size) fuzz::violated("consumed more than the input");
    fuzz::check(state_dict_from_pickle(result, "fuzz", "fuzz"));
  } catch (const ftbench::InputError&) {
    // Refusing is the expected outcome for almost every input; any other exception escapes and is a finding.
  }
  return 0;
}
