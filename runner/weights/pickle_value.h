// The values a restricted unpickle produces: plain data (None, bools, ints, floats, strings, bytes,
// tuples, lists, dicts), the few allowed globals, and references to storages and tensors.
//
// Values live in an arena owned by the PickleResult and point at each other with raw pointers. A pickle can
// build cycles (a list appended into itself through the memo); with an arena they neither leak nor make
// destruction recurse, and nothing here ever walks the graph recursively.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "runner/weights/dtype.h"

namespace ftbench::weights::pickle {

enum class Kind : uint8_t {
  kNone, kBool, kInt, kBigInt, kFloat, kString, kBytes, kTuple, kList, kDict, kSet, kGlobal, kStorage, kTensor
};

// The globals a state dict may import. Anything else is refused when the pickle names it.
enum class Global : uint8_t {
  kOrderedDict,                // collections.OrderedDict
  kRebuildTensor,              // torch._utils._rebuild_tensor (old files)
  kRebuildTensorV2,            // torch._utils._rebuild_tensor_v2
  kRebuildTensorV3,            // torch._utils._rebuild_tensor_v3 (dtypes without a typed storage class)
  kRebuildParameter,           // torch._utils._rebuild_parameter
  kRebuildParameterWithState,  // torch._utils._rebuild_parameter_with_state
  kStorageClass,               // torch.FloatStorage, torch.HalfStorage, ... (a dtype tag, never called)
  kUntypedStorage,             // torch.storage.UntypedStorage (a tag, never called)
  kTorchDtype,                 // torch.float32, torch.uint16, ... (a tag, never called)
  kTorchSize,                  // torch.Size: a tuple of ints
  kCodecsEncode,               // _codecs.encode: how protocol 2 spells a bytes object
};

struct Value {
  Kind kind = Kind::kNone;
  bool boolean = false;        // kBool; kStorage: typed (dtype holds the storage class's dtype)
  int64_t integer = 0;         // kInt; kStorage / kTensor: index into PickleResult's tables
  double real = 0;             // kFloat
  Global global{};             // kGlobal
  DType dtype{};               // kGlobal kStorageClass / kTorchDtype; kStorage when typed
  std::string text;            // kString (UTF-8), kBytes; kBigInt: little-endian bytes; kGlobal: "module.name"
  std::vector<Value*> items;   // kTuple, kList, kSet; kDict: key0, value0, key1, value1, ...
};

// A storage named by a persistent id: ('storage', type, key, location, numel[, view_metadata]).
struct StorageRef {
  std::string key;
  std::optional<DType> dtype;  // as first named; none for an UntypedStorage (numel then counts bytes)
  uint64_t nbytes = 0;
  // Legacy files may name a view of another storage: (view_key, offset, size) in elements of the root.
  std::optional<std::size_t> view_of;  // index of the root storage
  uint64_t view_offset_bytes = 0;
};

// A tensor rebuilt by _rebuild_tensor*: a strided window on a storage.
struct TensorRef {
  DType dtype{};
  std::vector<int64_t> shape;
  std::vector<int64_t> strides;
  int64_t storage_offset = 0;  // in elements
  std::size_t storage = 0;     // index into PickleResult::storages
};

struct PickleResult {
  std::deque<Value> arena;  // owns every value; deque keeps their addresses stable
  const Value* root = nullptr;
  std::vector<StorageRef> storages;
  std::vector<TensorRef> tensors;
  std::size_t consumed = 0;  // bytes read, up to and including STOP

  PickleResult() = default;
  PickleResult(const PickleResult&) = delete;
  PickleResult& operator=(const PickleResult&) = delete;
  PickleResult(PickleResult&&) = default;
  PickleResult& operator=(PickleResult&&) = default;
};

// "a dict", "an int", ... for error messages.
const char* describe(Kind kind);

}  // namespace ftbench::weights::pickle
