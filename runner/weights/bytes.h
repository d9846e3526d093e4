// Byte spans and overflow-checked arithmetic for the parsers.
//
// Every size read from a file is untrusted: it is combined only through these helpers, which report
// overflow instead of wrapping, and is compared with the bytes actually present before anything is
// allocated or read.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <optional>

namespace ftbench::weights {

// A read-only view of bytes owned elsewhere (a memory-mapped file, a zip record).
struct ByteSpan {
  const uint8_t* data = nullptr;
  std::size_t size = 0;

  ByteSpan subspan(std::size_t offset, std::size_t length) const { return {data + offset, length}; }
  // True when [offset, offset + length) lies inside the span, without overflowing.
  bool contains(uint64_t offset, uint64_t length) const { return offset <= size && length <= size - offset; }
};

inline std::optional<uint64_t> checked_mul(uint64_t a, uint64_t b) {
  uint64_t out = 0;
  if (__builtin_mul_overflow(a, b, &out)) return std::nullopt;
  return out;
}

inline std::optional<uint64_t> checked_add(uint64_t a, uint64_t b) {
  uint64_t out = 0;
  if (__builtin_add_overflow(a, b, &out)) return std::nullopt;
  return out;
}

// Little-endian loads that do not depend on alignment.
inline uint64_t load_le64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

inline uint16_t load_le16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | p[1] << 8); }

inline uint32_t load_le32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) | static_cast<uint32_t>(p[1]) << 8 | static_cast<uint32_t>(p[2]) << 16 |
         static_cast<uint32_t>(p[3]) << 24;
}

}  // namespace ftbench::weights
