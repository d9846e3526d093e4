// Shared by the fuzz targets: checks the invariants the parsers promise about what they accept, so that
// a violation is a crash libFuzzer records, not a silent pass.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "runner/weights/raw_state_dict.h"

namespace ftbench::weights::fuzz {

[[noreturn]] inline void violated(const char* what) {
  std::fprintf(stderr, "fuzz invariant violated: %s\n", what);
  std::abort();
}

// Every tensor lies inside its storage (recomputed here independently of the parsers), and every located
// storage span is readable end to end (AddressSanitizer reports a span that leaves the input).
inline void check(const RawStateDict& raw) {
  volatile uint8_t sink = 0;
  for (const RawStorage& s : raw.storages) {
    if (s.bytes.data == nullptr) continue;
    if (s.bytes.size != s.nbytes) violated("storage span size differs from nbytes");
    for (std::size_t i = 0; i < s.bytes.size; ++i) sink = sink ^ s.bytes.data[i];
  }
  for (const RawTensor& t : raw.tensors) {
    if (t.storage >= raw.storages.size()) violated("tensor names a storage that does not exist");
    if (t.shape.size() != t.strides.size()) violated("shape and strides differ in length");
    if (t.storage_offset < 0) violated("negative storage offset");
    unsigned __int128 numel = 1, last = static_cast<uint64_t>(t.storage_offset);
    for (std::size_t i = 0; i < t.shape.size(); ++i) {
      if (t.shape[i] < 0 || t.strides[i] < 0) violated("negative size or stride");
      numel *= static_cast<uint64_t>(t.shape[i]);
      if (t.shape[i] > 0) last += static_cast<unsigned __int128>(t.shape[i] - 1) * static_cast<uint64_t>(t.strides[i]);
      if (numel > (static_cast<unsigned __int128>(1) << 64)) numel = static_cast<unsigned __int128>(1) << 64;
    }
    if (numel > 0 && (last + 1) * dtype_size(t.dtype) > raw.storages[t.storage].nbytes) violated("tensor reaches past its storage");
  }
}

}  // namespace ftbench::weights::fuzz
