// Internal to the unpickler: the state shared by the opcode loop (unpickler.cpp) and the interpretation of
// the allowlisted globals (pickle_globals.cpp). Not part of the weights API.
#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "runner/weights/pickle_value.h"
#include "runner/weights/unpickler.h"

namespace ftbench::weights::pickle {

class Machine {
 public:
  Machine(std::string where, UnpickleOptions options) : where_(std::move(where)), options_(options) {}

  // A new value in the arena. Fails once the pickle has made more values than any real state dict needs.
  Value* make(Kind kind);

  // Throws InputError("<where>: <message>").
  [[noreturn]] void fail(const std::string& message) const;

  // GLOBAL / STACK_GLOBAL / INST: the allowlisted global, or an error naming module.name.
  Value* global(const std::string& module, const std::string& name);
  // REDUCE: applies an allowlisted callable to its argument tuple.
  Value* reduce(const Value* callable, const Value* args);
  // BUILD: the only state accepted is an OrderedDict's attributes (torch's `_metadata`), which is ignored.
  void build(const Value* target, const Value* state);
  // BINPERSID: a ('storage', type, key, location, numel[, view]) tuple becomes a storage reference.
  Value* persistent_load(const Value* pid);

  PickleResult result;

 private:
  // _rebuild_tensor*: (storage, offset, size, stride, ...); `dtype` overrides the storage's (v3).
  Value* rebuild_tensor(const Value* args, std::optional<DType> dtype);
  int64_t int_arg(const Value* v, const char* what) const;
  std::vector<int64_t> int_tuple(const Value* v, const char* what) const;
  const std::string& key_string(const Value* v, const char* what) const;

  std::size_t add_storage(StorageRef ref);

  std::string where_;
  UnpickleOptions options_;
  std::unordered_map<std::string, std::size_t> storage_index_;  // storage key -> index in result.storages
};

}  // namespace ftbench::weights::pickle
