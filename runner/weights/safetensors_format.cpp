#include "runner/weights/safetensors_format.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>
#include <unordered_set>

#include "runner/base/error.h"
#include "runner/weights/utf8.h"

namespace ftbench::weights {
namespace {

using nlohmann::json;

constexpr std::size_t kMaxRank = 64;
constexpr int kMaxDepth = 4;  // {name: {field: [n, ...]}} is 3 levels; anything deeper is not safetensors
const std::string kMetadataKey = "__metadata__";

[[noreturn]] void fail(const std::string& where, const std::string& message) {
  throw InputError(where + ": " + message);
}

// Parses the header, refusing duplicate keys at any level (nlohmann::json would keep the last one) and
// nesting deeper than safetensors ever needs (which also bounds the memory a hostile header can take).
json parse_header(const char* begin, const char* end, const std::string& where) {
  std::vector<std::set<std::string>> keys;  // one set per open object
  auto callback = [&](int depth, json::parse_event_t event, json& parsed) {
    if (depth > kMaxDepth) fail(where, "safetensors header nests deeper than any tensor description");
    switch (event) {
      case json::parse_event_t::object_start: keys.emplace_back(); break;
      case json::parse_event_t::object_end: if (!keys.empty()) keys.pop_back(); break;
      case json::parse_event_t::key:
        if (!keys.empty() && !keys.back().insert(parsed.get<std::string>()).second) {
          fail(where, "safetensors header holds the name '" + printable(parsed.get<std::string>()) + "' twice");
        }
        break;
      default: break;
    }
    return true;
  };
  try {
    return json::parse(begin, end, callback);
  } catch (const json::exception& e) {
    // nlohmann also rejects ill-formed UTF-8 here, with a message saying so.
    fail(where, "safetensors header is not valid JSON (" + printable(e.what(), 200) + ")");
  }
}

uint64_t unsigned_value(const json& v, const std::string& where, const std::string& what) {
  if (!v.is_number_unsigned()) fail(where, what + " must be a non-negative integer");
  return v.get<uint64_t>();
}

struct Entry {
  RawTensor tensor;
  uint64_t begin = 0;
  uint64_t end = 0;
};

Entry parse_entry(const std::string& name, const json& info, const std::string& where) {
  const std::string what = "tensor '" + printable(name) + "'";
  if (!info.is_object()) fail(where, what + " is not described by an object");
  if (!info.contains("dtype") || !info.contains("shape") || !info.contains("data_offsets")) {
    fail(where, what + " lacks dtype, shape or data_offsets");
  }
  const json& dtype = info["dtype"];
  if (!dtype.is_string()) fail(where, what + ": dtype must be a string");
  const auto parsed = dtype_from_safetensors_code(dtype.get<std::string>());
  if (!parsed) {
    fail(where, what + " has unknown dtype '" + printable(dtype.get<std::string>()) + "' (known: " +
                    known_safetensors_codes() + ")");
  }
  Entry e;
  e.tensor.name = name;
  e.tensor.dtype = *parsed;
  const json& shape = info["shape"];
  if (!shape.is_array() || shape.size() > kMaxRank) fail(where, what + ": shape must be an array of at most 64 sizes");
  uint64_t nbytes = dtype_size(*parsed);
  uint64_t extent = 1;  // product of the non-zero sizes: what strides are computed from
  bool overflow = false;
  for (const json& d : shape) {
    const uint64_t size = unsigned_value(d, where, what + "'s shape");
    const auto product = checked_mul(nbytes, size);
    const auto span = checked_mul(extent, std::max<uint64_t>(size, 1));
    overflow = overflow || !product || !span || *span > static_cast<uint64_t>(INT64_MAX);
    if (product) nbytes = *product;
    if (span) extent = *span;
    e.tensor.shape.push_back(static_cast<int64_t>(std::min<uint64_t>(size, INT64_MAX)));
  }
  if (overflow) fail(where, what + " has a shape whose size overflows 64 bits");
  const json& offsets = info["data_offsets"];
  if (!offsets.is_array() || offsets.size() != 2) fail(where, what + ": data_offsets must be [begin, end]");
  e.begin = unsigned_value(offsets[0], where, what + "'s data_offsets");
  e.end = unsigned_value(offsets[1], where, what + "'s data_offsets");
  if (e.end < e.begin || e.end - e.begin != nbytes) {
    fail(where, what + " spans bytes [" + std::to_string(e.begin) + ", " + std::to_string(e.end) + ") but its shape and " +
                    dtype.get<std::string>() + " need " + std::to_string(nbytes) + " bytes");
  }
  // Contiguous, row-major strides.
  e.tensor.strides.assign(e.tensor.shape.size(), 1);
  for (std::size_t i = e.tensor.shape.size(); i > 1; --i) {
    e.tensor.strides[i - 2] = e.tensor.strides[i - 1] * std::max<int64_t>(e.tensor.shape[i - 1], 1);
  }
  return e;
}

}  // namespace

bool looks_like_safetensors(ByteSpan file) {
  return file.size >= 9 && load_le64(file.data) <= kSafetensorsMaxHeader && file.data[8] == '{';
}

RawStateDict parse_safetensors(ByteSpan file, const std::string& where) {
  if (file.size < 8) fail(where, "too short for a safetensors file (" + std::to_string(file.size) + " bytes)");
  const uint64_t n = load_le64(file.data);
  if (n > kSafetensorsMaxHeader) {
    fail(where, "safetensors header length " + std::to_string(n) + " exceeds the limit of 100,000,000 bytes");
  }
  if (n > file.size - 8) {
    fail(where, "safetensors header claims " + std::to_string(n) + " bytes, but only " + std::to_string(file.size - 8) +
                    " follow; the file is truncated or not safetensors");
  }
  const char* header = reinterpret_cast<const char*>(file.data + 8);
  if (n == 0 || header[0] != '{') fail(where, "safetensors header does not start with '{'");
  const json root = parse_header(header, header + n, where);
  if (!root.is_object()) fail(where, "safetensors header is not a JSON object");

  RawStateDict out;
  out.format = "safetensors";
  std::vector<Entry> entries;
  for (const auto& [name, info] : root.items()) {
    if (name == kMetadataKey) {
      if (!info.is_object()) fail(where, "__metadata__ must be an object of strings");
      for (const auto& [k, v] : info.items()) {
        if (!v.is_string()) fail(where, "__metadata__ value of '" + printable(k) + "' is not a string");
        out.metadata[k] = v.get<std::string>();
      }
      continue;
    }
    entries.push_back(parse_entry(name, info, where));
  }

  // Sorted by offset, the tensors must tile the buffer exactly.
  std::sort(entries.begin(), entries.end(),
            [](const Entry& a, const Entry& b) { return a.begin != b.begin ? a.begin < b.begin : a.end < b.end; });
  const uint64_t buffer_size = file.size - 8 - n;
  uint64_t expected = 0;
  for (const Entry& e : entries) {
    if (e.begin != expected) {
      fail(where, "tensor '" + printable(e.tensor.name) + "' starts at byte " + std::to_string(e.begin) + " of the data, expected " +
                      std::to_string(expected) + (e.begin < expected ? " (it overlaps the previous tensor)" : " (a gap)"));
    }
    expected = e.end;
  }
  if (expected != buffer_size) {
    fail(where, "the tensors cover " + std::to_string(expected) + " bytes of data, but the file holds " +
                    std::to_string(buffer_size) + (expected > buffer_size ? "; the file is truncated" : "; it has trailing bytes"));
  }

  const ByteSpan buffer = file.subspan(8 + n, buffer_size);
  for (Entry& e : entries) {
    RawStorage s;
    s.key = e.tensor.name;
    s.nbytes = e.end - e.begin;
    s.bytes = buffer.subspan(e.begin, s.nbytes);
    s.used = true;
    e.tensor.storage = out.storages.size();
    out.storages.push_back(std::move(s));
    out.tensors.push_back(std::move(e.tensor));
  }
  return out;
}

std::string safetensors_header(const std::vector<SafetensorsEntry>& entries,
                               const std::map<std::string, std::string>& metadata) {
  json header = json::object();
  uint64_t offset = 0;
  for (const auto& e : entries) {
    if (e.name == kMetadataKey || !is_valid_utf8(e.name) || header.contains(e.name)) {
      throw InputError("cannot write tensor name '" + printable(e.name) +
                       "' to safetensors (reserved, duplicated or not UTF-8)");
    }
    uint64_t nbytes = dtype_size(e.dtype);
    for (int64_t d : e.shape) {
      const auto product = d >= 0 ? checked_mul(nbytes, static_cast<uint64_t>(d)) : std::nullopt;
      if (!product) throw InputError("tensor '" + printable(e.name) + "' is too large for safetensors");
      nbytes = *product;
    }
    header[e.name] = {{"dtype", safetensors_code(e.dtype)}, {"shape", e.shape}, {"data_offsets", {offset, offset + nbytes}}};
    offset += nbytes;
  }
  if (!metadata.empty()) {
    json meta = json::object();
    for (const auto& [k, v] : metadata) {
      if (!is_valid_utf8(k) || !is_valid_utf8(v)) throw InputError("safetensors metadata must be UTF-8");
      meta[k] = v;
    }
    header[kMetadataKey] = meta;
  }
  std::string text = header.dump();
  text.append((8 - text.size() % 8) % 8, ' ');  // the data buffer starts 8-byte aligned
  std::string out(8, '\0');
  uint64_t n = text.size();
  for (int i = 0; i < 8; ++i, n >>= 8) out[static_cast<std::size_t>(i)] = static_cast<char>(n & 0xFF);
  return out + text;
}

}  // namespace ftbench::weights
