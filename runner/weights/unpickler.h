// weights::pickle::unpickle: a restricted unpickler for torch.save state dicts.
//
// Like torch.load(weights_only=True), it rebuilds plain data, OrderedDicts and tensors, and nothing else:
// every GLOBAL / STACK_GLOBAL is checked against a short allowlist (pickle_value.h, Global) and refused by
// name otherwise; REDUCE, BUILD and NEWOBJ only apply the allowlisted callables, which are interpreted here,
// never looked up or run. No code from the file is ever executed.
//
// Every length in the pickle is checked against the bytes that remain before anything is allocated, and
// the number of values is capped, so a hostile pickle costs at most a small multiple of its own size.
// Errors are InputError("<where>: <problem>"), one line. Torch-free, so it can be fuzzed on its own.
#pragma once

#include <string>

#include "runner/weights/bytes.h"
#include "runner/weights/pickle_value.h"

namespace ftbench::weights::pickle {

struct UnpickleOptions {
  // Only the main pickle of a torch.save file may name storages; the legacy format's header pickles may not.
  bool allow_persistent_ids = false;
  // The most bytes one storage may claim: the size of the file holding them.
  uint64_t max_storage_bytes = 0;
};

// Unpickles the pickle at the start of `bytes` (it may be followed by other data: `consumed` says where it
// ended). `where` names the file, and the part of it, in error messages.
PickleResult unpickle(ByteSpan bytes, const std::string& where, const UnpickleOptions& options);

}  // namespace ftbench::weights::pickle
