// The allowlist of the restricted unpickler and what each allowed global means. Nothing here imports or
// calls anything: a global is only a tag, and REDUCE of a tag is interpreted by the switch below.
#include <algorithm>

#include "runner/base/error.h"
#include "runner/weights/pickle_machine.h"
#include "runner/weights/utf8.h"

namespace ftbench::weights::pickle {
namespace {

// Far more values than any real state dict pickle makes (a resnet152 state dict makes ~20,000), and small
// enough that a hostile pickle cannot exhaust memory with them.
constexpr std::size_t kMaxValues = std::size_t{1} << 22;
constexpr std::size_t kMaxRank = 64;

}  // namespace

const char* describe(Kind kind) {
  switch (kind) {
    case Kind::kNone: return "None";
    case Kind::kBool: return "a bool";
    case Kind::kInt: return "an int";
    case Kind::kBigInt: return "a big int";
    case Kind::kFloat: return "a float";
    case Kind::kString: return "a string";
    case Kind::kBytes: return "bytes";
    case Kind::kTuple: return "a tuple";
    case Kind::kList: return "a list";
    case Kind::kDict: return "a dict";
    case Kind::kSet: return "a set";
    case Kind::kGlobal: return "a global";
    case Kind::kStorage: return "a storage";
    case Kind::kTensor: return "a tensor";
  }
  return "a value";
}

Value* Machine::make(Kind kind) {
  if (result.arena.size() >= kMaxValues) {
    fail("the pickle builds more than " + std::to_string(kMaxValues) + " values; no state dict needs that many");
  }
  Value& v = result.arena.emplace_back();
  v.kind = kind;
  return &v;
}

void Machine::fail(const std::string& message) const { throw InputError(where_ + ": " + message); }

Value* Machine::global(const std::string& module, const std::string& name) {
  auto tag = [&](Global g) {
    Value* v = make(Kind::kGlobal);
    v->global = g;
    v->text = module + "." + name;
    return v;
  };
  if (module == "collections" && name == "OrderedDict") return tag(Global::kOrderedDict);
  if (module == "torch._utils") {
    if (name == "_rebuild_tensor") return tag(Global::kRebuildTensor);
    if (name == "_rebuild_tensor_v2") return tag(Global::kRebuildTensorV2);
    if (name == "_rebuild_tensor_v3") return tag(Global::kRebuildTensorV3);
    if (name == "_rebuild_parameter") return tag(Global::kRebuildParameter);
    if (name == "_rebuild_parameter_with_state") return tag(Global::kRebuildParameterWithState);
  }
  if ((module == "torch" || module == "torch.cuda") && dtype_from_storage_class(name)) {
    Value* v = tag(Global::kStorageClass);
    v->dtype = *dtype_from_storage_class(name);
    return v;
  }
  if ((module == "torch.storage" || module == "torch") && name == "UntypedStorage") return tag(Global::kUntypedStorage);
  if (module == "torch" && name == "Size") return tag(Global::kTorchSize);
  if (module == "torch" && dtype_from_torch_attribute(name)) {
    Value* v = tag(Global::kTorchDtype);
    v->dtype = *dtype_from_torch_attribute(name);
    return v;
  }
  if (module == "_codecs" && name == "encode") return tag(Global::kCodecsEncode);
  fail("refusing to load: the pickle imports '" + printable(module) + "." + printable(name) +
       "', which is not allowed in a weights file (only tensors, storages, OrderedDict and plain data are); "
       "nothing from the file was executed. If you trust it, re-save just its state dict, or convert it to "
       "safetensors, in Python");
}

int64_t Machine::int_arg(const Value* v, const char* what) const {
  if (v->kind != Kind::kInt) fail(std::string(what) + " is " + describe(v->kind) + ", expected an int");
  if (v->integer < 0) fail(std::string(what) + " is negative (" + std::to_string(v->integer) + ")");
  return v->integer;
}

std::vector<int64_t> Machine::int_tuple(const Value* v, const char* what) const {
  if (v->kind != Kind::kTuple && v->kind != Kind::kList) {
    fail(std::string(what) + " is " + describe(v->kind) + ", expected a tuple of ints");
  }
  if (v->items.size() > kMaxRank) fail(std::string(what) + " has more than " + std::to_string(kMaxRank) + " dimensions");
  std::vector<int64_t> out;
  for (const Value* item : v->items) out.push_back(int_arg(item, what));
  return out;
}

const std::string& Machine::key_string(const Value* v, const char* what) const {
  if (v->kind != Kind::kString && v->kind != Kind::kBytes) {
    fail(std::string(what) + " is " + describe(v->kind) + ", expected a string");
  }
  return v->text;
}

Value* Machine::reduce(const Value* callable, const Value* args) {
  if (callable->kind != Kind::kGlobal) {
    fail(std::string("REDUCE calls ") + describe(callable->kind) + ", which is not an allowed function");
  }
  if (args->kind != Kind::kTuple) fail("REDUCE of '" + callable->text + "' with " + describe(args->kind) + " as arguments");
  const std::vector<Value*>& a = args->items;
  auto arity = [&](std::size_t lo, std::size_t hi) {
    if (a.size() < lo || a.size() > hi) {
      fail("'" + callable->text + "' called with " + std::to_string(a.size()) + " arguments");
    }
  };
  switch (callable->global) {
    case Global::kOrderedDict: {
      arity(0, 1);
      Value* dict = make(Kind::kDict);
      if (a.size() == 1) {
        if (a[0]->kind != Kind::kList) fail("OrderedDict built from " + std::string(describe(a[0]->kind)));
        for (const Value* pair : a[0]->items) {
          if ((pair->kind != Kind::kTuple && pair->kind != Kind::kList) || pair->items.size() != 2) {
            fail("OrderedDict built from a list that holds " + std::string(describe(pair->kind)) + ", not pairs");
          }
          dict->items.push_back(pair->items[0]);
          dict->items.push_back(pair->items[1]);
        }
      }
      return dict;
    }
    case Global::kRebuildTensor: arity(4, 4); return rebuild_tensor(args, std::nullopt);
    case Global::kRebuildTensorV2: arity(6, 7); return rebuild_tensor(args, std::nullopt);
    case Global::kRebuildTensorV3: {
      arity(7, 8);
      if (a[6]->kind != Kind::kGlobal || a[6]->global != Global::kTorchDtype) {
        fail("_rebuild_tensor_v3 without a torch dtype");
      }
      return rebuild_tensor(args, a[6]->dtype);
    }
    case Global::kRebuildParameter:
    case Global::kRebuildParameterWithState: {
      if (callable->global == Global::kRebuildParameter) arity(3, 3); else arity(4, 4);
      if (a[0]->kind != Kind::kTensor) fail("a Parameter wraps " + std::string(describe(a[0]->kind)) + ", not a tensor");
      return a[0];
    }
    case Global::kTorchSize: {
      arity(1, 1);
      Value* t = make(Kind::kTuple);
      for (int64_t d : int_tuple(a[0], "torch.Size")) {
        Value* item = make(Kind::kInt);
        item->integer = d;
        t->items.push_back(item);
      }
      return t;
    }
    case Global::kCodecsEncode: {
      // Protocol 2 pickles bytes b as _codecs.encode(b.decode('latin1'), 'latin1').
      arity(2, 2);
      if (a[0]->kind != Kind::kString || a[1]->kind != Kind::kString ||
          (a[1]->text != "latin1" && a[1]->text != "latin-1")) {
        fail("_codecs.encode is allowed only as protocol 2's spelling of bytes (a string and 'latin1')");
      }
      Value* out = make(Kind::kBytes);
      const std::string& s = a[0]->text;  // valid UTF-8, checked when it was read
      for (std::size_t i = 0; i < s.size();) {
        const auto c = static_cast<uint8_t>(s[i]);
        if (c < 0x80) {
          out->text += static_cast<char>(c);
          i += 1;
        } else if ((c & 0xE0) == 0xC0 && i + 1 < s.size()) {
          out->text += static_cast<char>(((c & 0x1F) << 6) | (static_cast<uint8_t>(s[i + 1]) & 0x3F));
          i += 2;
        } else {
          fail("_codecs.encode of a character outside latin1");
        }
      }
      return out;
    }
    case Global::kStorageClass:
    case Global::kUntypedStorage:
    case Global::kTorchDtype:
      break;
  }
  fail("REDUCE calls '" + callable->text + "', which is a type tag and is never called in a weights file; "
       "nothing from the file was executed");
}

Value* Machine::rebuild_tensor(const Value* args, std::optional<DType> dtype) {
  const std::vector<Value*>& a = args->items;
  if (a[0]->kind != Kind::kStorage) fail("a tensor is rebuilt from " + std::string(describe(a[0]->kind)) + ", not a storage");
  const StorageRef& storage = result.storages[static_cast<std::size_t>(a[0]->integer)];
  const bool typed = a[0]->boolean;  // this reference's own storage class, as torch reads it
  TensorRef t;
  t.storage = static_cast<std::size_t>(a[0]->integer);
  t.storage_offset = int_arg(a[1], "a tensor's storage offset");
  t.shape = int_tuple(a[2], "a tensor's shape");
  t.strides = int_tuple(a[3], "a tensor's strides");
  if (t.shape.size() != t.strides.size()) fail("a tensor has " + std::to_string(t.shape.size()) + " sizes but " +
                                               std::to_string(t.strides.size()) + " strides");
  if (a.size() > 4 && a[4]->kind != Kind::kBool) fail("a tensor's requires_grad is " + std::string(describe(a[4]->kind)));
  if (!dtype && !typed) fail("a tensor of an untyped storage names no dtype");
  t.dtype = dtype ? *dtype : a[0]->dtype;

  // Every element the tensor can reach must lie inside its storage: offset + sum((size-1)*stride) + 1
  // elements, all overflow-checked. An empty tensor reaches nothing but its offset.
  // The product of the non-zero sizes must fit int64 too, or LibTorch's own size arithmetic would overflow.
  uint64_t numel = 1;
  uint64_t extent = 1;
  uint64_t last = static_cast<uint64_t>(t.storage_offset);
  bool ok = true;
  for (std::size_t i = 0; i < t.shape.size() && ok; ++i) {
    const auto size = static_cast<uint64_t>(t.shape[i]);
    auto n = checked_mul(numel, size);
    auto e = checked_mul(extent, std::max<uint64_t>(size, 1));
    ok = n.has_value() && e.has_value() && *e <= static_cast<uint64_t>(INT64_MAX);
    if (ok) numel = *n, extent = *e;
    if (ok && size > 0) {
      auto reach = checked_mul(size - 1, static_cast<uint64_t>(t.strides[i]));
      auto sum = reach ? checked_add(last, *reach) : std::nullopt;
      ok = sum.has_value();
      if (ok) last = *sum;
    }
  }
  std::optional<uint64_t> end_bytes;
  if (ok) {
    const uint64_t elements = numel == 0 ? static_cast<uint64_t>(t.storage_offset) : last + 1;
    end_bytes = checked_mul(elements, dtype_size(t.dtype));
  }
  if (!ok || !end_bytes || *end_bytes > storage.nbytes || numel > static_cast<uint64_t>(INT64_MAX)) {
    std::string shape;
    for (int64_t d : t.shape) shape += (shape.empty() ? "" : ", ") + std::to_string(d);
    fail("a tensor of shape [" + shape + "] reaches past its storage '" +
         printable(storage.key) + "' (" + std::to_string(storage.nbytes) + " bytes); the file is corrupt");
  }
  result.tensors.push_back(std::move(t));
  Value* v = make(Kind::kTensor);
  v->integer = static_cast<int64_t>(result.tensors.size() - 1);
  return v;
}

void Machine::build(const Value* target, const Value* state) {
  // torch.save pickles a state dict's `_metadata` (per-module versions) as the OrderedDict's attributes.
  if (target->kind == Kind::kDict && (state->kind == Kind::kDict || state->kind == Kind::kNone)) return;
  fail(std::string("BUILD sets the state of ") + describe(target->kind) + ", which is not allowed in a weights file");
}

std::size_t Machine::add_storage(StorageRef ref) {
  auto it = storage_index_.find(ref.key);
  if (it != storage_index_.end()) {
    const StorageRef& old = result.storages[it->second];
    if (old.nbytes != ref.nbytes || old.view_of != ref.view_of || old.view_offset_bytes != ref.view_offset_bytes) {
      fail("storage '" + printable(ref.key) + "' is described twice, differently");
    }
    return it->second;
  }
  result.storages.push_back(std::move(ref));
  storage_index_.emplace(result.storages.back().key, result.storages.size() - 1);
  return result.storages.size() - 1;
}

Value* Machine::persistent_load(const Value* pid) {
  if (pid->kind != Kind::kTuple || pid->items.empty()) fail("a persistent id is " + std::string(describe(pid->kind)));
  const std::vector<Value*>& a = pid->items;
  const std::string& type = key_string(a[0], "a persistent id's type");
  if (type != "storage") fail("persistent id of type '" + printable(type) + "'; only storages are allowed");
  if (a.size() != 5 && a.size() != 6) fail("a storage persistent id has " + std::to_string(a.size()) + " fields");
  if (a[1]->kind != Kind::kGlobal ||
      (a[1]->global != Global::kStorageClass && a[1]->global != Global::kUntypedStorage)) {
    fail("a storage persistent id names " + std::string(describe(a[1]->kind)) + " as its type");
  }
  StorageRef ref;
  if (a[1]->global == Global::kStorageClass) ref.dtype = a[1]->dtype;
  ref.key = key_string(a[2], "a storage key");
  key_string(a[3], "a storage location");  // "cpu", "cuda:0": ignored, everything loads to the CPU
  const auto numel = static_cast<uint64_t>(int_arg(a[4], "a storage's size"));
  const uint64_t element = ref.dtype ? dtype_size(*ref.dtype) : 1;
  const auto nbytes = checked_mul(numel, element);
  if (!nbytes || *nbytes > options_.max_storage_bytes) {
    fail("storage '" + printable(ref.key) + "' claims " + std::to_string(numel) + " elements of " +
         std::to_string(element) + " bytes, more than the whole file (" + std::to_string(options_.max_storage_bytes) +
         " bytes); the file is corrupt");
  }
  ref.nbytes = *nbytes;
  std::size_t index = add_storage(ref);

  if (a.size() == 6 && a[5]->kind != Kind::kNone) {
    // Legacy view metadata: (view_key, offset, size), counted in elements of the root storage.
    const Value* view = a[5];
    if (view->kind != Kind::kTuple || view->items.size() != 3) fail("malformed storage view metadata");
    StorageRef v;
    v.key = key_string(view->items[0], "a storage view key");
    v.dtype = ref.dtype;
    const auto offset = checked_mul(static_cast<uint64_t>(int_arg(view->items[1], "a storage view offset")), element);
    const auto size = checked_mul(static_cast<uint64_t>(int_arg(view->items[2], "a storage view size")), element);
    const auto end = (offset && size) ? checked_add(*offset, *size) : std::nullopt;
    if (!end || *end > ref.nbytes) fail("storage view '" + printable(v.key) + "' reaches past its storage");
    v.nbytes = *size;
    v.view_of = index;
    v.view_offset_bytes = *offset;
    index = add_storage(std::move(v));
  }
  Value* out = make(Kind::kStorage);
  out->integer = static_cast<int64_t>(index);
  out->boolean = ref.dtype.has_value();
  if (ref.dtype) out->dtype = *ref.dtype;
  return out;
}

}  // namespace ftbench::weights::pickle
