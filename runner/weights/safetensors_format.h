// The safetensors layout: an 8-byte little-endian header length N, N bytes of UTF-8 JSON mapping each
// tensor name to {dtype, shape, data_offsets: [begin, end]} (plus an optional "__metadata__" map of strings),
// then the data buffer the offsets point into.
//
// parse_safetensors enforces the reference rules (shared/NOTES.md): N <= 100,000,000 and N + 8 <= the file
// size; the header is a JSON object in valid UTF-8, with no duplicate names; every dtype is known; every
// end - begin equals prod(shape) * dtype size, computed without overflow; sorted by offset the tensors
// cover the buffer from 0 to its end with no gap and no overlap. Torch-free.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "runner/weights/bytes.h"
#include "runner/weights/dtype.h"
#include "runner/weights/raw_state_dict.h"

namespace ftbench::weights {

inline constexpr uint64_t kSafetensorsMaxHeader = 100'000'000;

// True when `file` looks like a safetensors file (a plausible header length followed by '{').
bool looks_like_safetensors(ByteSpan file);

// Parses and validates; tensors come back in buffer order, each over its own storage (a span of `file`).
// Throws InputError("<where>: <problem>").
RawStateDict parse_safetensors(ByteSpan file, const std::string& where);

struct SafetensorsEntry {
  std::string name;
  DType dtype{};
  std::vector<int64_t> shape;
};

// The bytes that precede the data buffer when `entries` are written back to back in this order: the length
// and the JSON header, padded with spaces so that the buffer starts 8-byte aligned. Throws InputError for
// names that cannot be written (not UTF-8, duplicated, or "__metadata__").
std::string safetensors_header(const std::vector<SafetensorsEntry>& entries,
                               const std::map<std::string, std::string>& metadata);

}  // namespace ftbench::weights
