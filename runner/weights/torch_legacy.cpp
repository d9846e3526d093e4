#include "runner/weights/torch_legacy.h"

#include <unordered_map>

#include "runner/base/error.h"
#include "runner/weights/pickled_state_dict.h"
#include "runner/weights/unpickler.h"
#include "runner/weights/utf8.h"

namespace ftbench::weights {
namespace {

// torch.save's legacy magic number 0x1950a86a20f9469cfc6c, as pickle's LONG1 writes it (little-endian).
const std::string kMagic("\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19", 10);
constexpr int64_t kProtocolVersion = 1001;

struct Cursor {
  ByteSpan file;
  std::size_t pos = 0;
  ByteSpan rest() const { return file.subspan(pos, file.size - pos); }
};

pickle::PickleResult next_pickle(Cursor& c, const std::string& where, const char* part, bool persistent_ids) {
  pickle::UnpickleOptions options;
  options.allow_persistent_ids = persistent_ids;
  options.max_storage_bytes = c.file.size;
  pickle::PickleResult r = pickle::unpickle(c.rest(), where + " (legacy torch.save, " + part + ")", options);
  c.pos += r.consumed;
  return r;
}

void check_header(Cursor& c, const std::string& where) {
  const pickle::PickleResult magic = next_pickle(c, where, "magic number", false);
  if (magic.root->kind != pickle::Kind::kBigInt || magic.root->text != kMagic) {
    throw InputError(where + ": wrong magic number: not a torch.save file (or a corrupt one)");
  }
  const pickle::PickleResult protocol = next_pickle(c, where, "protocol", false);
  if (protocol.root->kind != pickle::Kind::kInt || protocol.root->integer != kProtocolVersion) {
    throw InputError(where + ": unsupported legacy torch.save protocol (expected 1001)");
  }
  const pickle::PickleResult sys_info = next_pickle(c, where, "sys_info", false);
  const pickle::Value* info = sys_info.root;
  if (info->kind != pickle::Kind::kDict) throw InputError(where + ": malformed legacy torch.save sys_info");
  for (std::size_t i = 0; i < info->items.size(); i += 2) {
    const pickle::Value* key = info->items[i];
    const pickle::Value* value = info->items[i + 1];
    if (key->kind == pickle::Kind::kString && key->text == "little_endian" &&
        !(value->kind == pickle::Kind::kBool && value->boolean)) {
      throw InputError(where + ": saved on a big-endian machine; re-save it on a little-endian one");
    }
  }
}

}  // namespace

bool looks_like_torch_legacy(ByteSpan file) { return file.size >= 2 && file.data[0] == 0x80; }

RawStateDict parse_torch_legacy(ByteSpan file, const std::string& where) {
  Cursor c{file, 0};
  check_header(c, where);
  const pickle::PickleResult main = next_pickle(c, where, "object", true);
  RawStateDict out = state_dict_from_pickle(main, where, "torch.save legacy");

  const pickle::PickleResult keys = next_pickle(c, where, "storage keys", false);
  if (keys.root->kind != pickle::Kind::kList) throw InputError(where + ": malformed legacy storage key list");

  std::unordered_map<std::string, std::size_t> by_key;  // root storages only; views were folded into them
  for (std::size_t i = 0; i < out.storages.size(); ++i) by_key.emplace(out.storages[i].key, i);
  // The element size each storage's count is written in: that of the storage's first-named dtype.
  std::unordered_map<std::string, uint64_t> element_size;
  for (const auto& ref : main.storages) {
    if (!ref.view_of) element_size.emplace(ref.key, ref.dtype ? dtype_size(*ref.dtype) : 1);
  }

  for (const pickle::Value* k : keys.root->items) {
    if (k->kind != pickle::Kind::kString && k->kind != pickle::Kind::kBytes) {
      throw InputError(where + ": a legacy storage key is " + pickle::describe(k->kind));
    }
    auto it = by_key.find(k->text);
    if (it == by_key.end()) {
      throw InputError(where + ": storage '" + printable(k->text) + "' is listed but never used, or listed twice");
    }
    RawStorage& s = out.storages[it->second];
    by_key.erase(it);
    if (!file.contains(c.pos, 8)) {
      throw InputError(where + ": truncated: storage '" + printable(s.key) + "' is missing (file ends at byte " +
                       std::to_string(file.size) + ")");
    }
    const uint64_t numel = load_le64(file.data + c.pos);
    c.pos += 8;
    const auto nbytes = checked_mul(numel, element_size[s.key]);
    if (!nbytes || *nbytes != s.nbytes) {
      throw InputError(where + ": storage '" + printable(s.key) + "' holds " + std::to_string(numel) +
                       " elements, but the pickle says " + std::to_string(s.nbytes / element_size[s.key]) +
                       "; the file is corrupt");
    }
    if (!file.contains(c.pos, s.nbytes)) {
      throw InputError(where + ": truncated: storage '" + printable(s.key) + "' needs " + std::to_string(s.nbytes) +
                       " bytes at offset " + std::to_string(c.pos) + ", the file has " + std::to_string(file.size) +
                       "; re-download or re-save it");
    }
    s.bytes = file.subspan(c.pos, s.nbytes);
    c.pos += s.nbytes;
  }
  for (const auto& [key, index] : by_key) {
    if (out.storages[index].used) throw InputError(where + ": storage '" + printable(key) + "' has no data in the file");
  }
  return out;
}

}  // namespace ftbench::weights
