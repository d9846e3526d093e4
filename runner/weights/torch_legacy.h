// The legacy (pre-1.6) torch.save format, still used by several torchvision weight files (the VGGs,
// alexnet): five things back to back in one file,
//   pickle(magic number) pickle(protocol 1001) pickle(sys_info) pickle(object, with storage persistent ids)
//   pickle(list of storage keys), then for each key: int64 little-endian element count + the raw bytes.
// Torch-free; the storages' bytes are spans of `file`.
#pragma once

#include <string>

#include "runner/weights/bytes.h"
#include "runner/weights/raw_state_dict.h"

namespace ftbench::weights {

// True when `file` starts like a legacy torch.save file (a pickle protocol marker).
bool looks_like_torch_legacy(ByteSpan file);

// Parses the whole file. Throws InputError("<where>: ...") when anything is malformed, truncated or not
// allowed (see unpickler.h).
RawStateDict parse_torch_legacy(ByteSpan file, const std::string& where);

}  // namespace ftbench::weights
