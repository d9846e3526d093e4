#include "runner/weights/pickled_state_dict.h"

#include <array>
#include <unordered_set>

#include "runner/base/error.h"
#include "runner/weights/utf8.h"

namespace ftbench::weights {
namespace {

using pickle::Kind;
using pickle::Value;

// Where training scripts nest the model's state dict in a checkpoint, most specific first.
constexpr std::array<const char*, 5> kNestingKeys = {"state_dict", "model_state_dict", "model", "module", "net"};
constexpr int kMaxNesting = 4;
const std::string kDataParallelPrefix = "module.";

bool is_state_dict(const Value* v) {
  if (v->kind != Kind::kDict || v->items.empty()) return false;
  for (std::size_t i = 0; i < v->items.size(); i += 2) {
    if (v->items[i]->kind != Kind::kString || v->items[i + 1]->kind != Kind::kTensor) return false;
  }
  return true;
}

const Value* lookup(const Value* dict, const std::string& key) {
  for (std::size_t i = 0; i < dict->items.size(); i += 2) {
    if (dict->items[i]->kind == Kind::kString && dict->items[i]->text == key) return dict->items[i + 1];
  }
  return nullptr;
}

// The state dict in `v`, looking through at most kMaxNesting checkpoint levels; `path` names where it was.
const Value* find(const Value* v, int depth, std::string& path) {
  if (is_state_dict(v)) return v;
  if (v->kind != Kind::kDict || depth >= kMaxNesting) return nullptr;
  for (const char* key : kNestingKeys) {
    const Value* inner = lookup(v, key);
    if (inner == nullptr) continue;
    const std::size_t before = path.size();
    path += std::string("[\"") + key + "\"]";
    if (const Value* found = find(inner, depth + 1, path)) return found;
    path.resize(before);
  }
  return nullptr;
}

// What the file holds instead of a state dict, for the error message.
std::string describe_root(const Value* root) {
  if (root->kind != Kind::kDict) return std::string("it holds ") + pickle::describe(root->kind);
  if (root->items.empty()) return "it holds an empty dict";
  std::string keys;
  for (std::size_t i = 0; i < root->items.size() && i < 16; i += 2) {
    const Value* k = root->items[i];
    if (!keys.empty()) keys += ", ";
    keys += k->kind == Kind::kString ? "'" + printable(k->text, 40) + "' (" + pickle::describe(root->items[i + 1]->kind) + ")"
                                     : pickle::describe(k->kind);
  }
  return "it holds a dict with " + keys + (root->items.size() > 16 ? ", ..." : "");
}

}  // namespace

RawStateDict state_dict_from_pickle(const pickle::PickleResult& pickle, const std::string& where,
                                    const std::string& format) {
  std::string path;
  const Value* dict = find(pickle.root, 0, path);
  if (dict == nullptr) {
    throw InputError(where + ": no state dict (a dict of name -> tensor) found; " + describe_root(pickle.root) +
                     ". Save model.state_dict(), or a checkpoint with it under \"state_dict\" or \"model\"");
  }

  RawStateDict out;
  out.format = format;
  // Roots only: a legacy view becomes its root storage plus an offset.
  std::vector<std::size_t> root_index(pickle.storages.size(), SIZE_MAX);
  for (std::size_t i = 0; i < pickle.storages.size(); ++i) {
    if (pickle.storages[i].view_of) continue;
    root_index[i] = out.storages.size();
    RawStorage s;
    s.key = pickle.storages[i].key;
    s.nbytes = pickle.storages[i].nbytes;
    out.storages.push_back(std::move(s));
  }

  bool all_prefixed = true;
  for (std::size_t i = 0; i < dict->items.size(); i += 2) {
    all_prefixed = all_prefixed && dict->items[i]->text.rfind(kDataParallelPrefix, 0) == 0;
  }
  std::unordered_set<std::string> seen;
  for (std::size_t i = 0; i < dict->items.size(); i += 2) {
    std::string name = dict->items[i]->text;
    if (all_prefixed) name.erase(0, kDataParallelPrefix.size());
    if (!seen.insert(name).second) {
      throw InputError(where + ": the state dict" + path + " holds '" + printable(name) + "' twice");
    }
    const pickle::TensorRef& ref = pickle.tensors[static_cast<std::size_t>(dict->items[i + 1]->integer)];
    RawTensor t;
    t.name = std::move(name);
    t.dtype = ref.dtype;
    t.shape = ref.shape;
    t.strides = ref.strides;
    t.storage_offset = ref.storage_offset;
    const pickle::StorageRef& storage = pickle.storages[ref.storage];
    if (storage.view_of) {
      const uint64_t element = dtype_size(t.dtype);
      if (storage.view_offset_bytes % element != 0) {
        throw InputError(where + ": tensor '" + printable(t.name) + "' views its storage at a misaligned offset");
      }
      t.storage_offset += static_cast<int64_t>(storage.view_offset_bytes / element);  // bounded by the root's size
      t.storage = root_index[*storage.view_of];
    } else {
      t.storage = root_index[ref.storage];
    }
    out.storages[t.storage].used = true;
    out.tensors.push_back(std::move(t));
  }
  return out;
}

}  // namespace ftbench::weights
