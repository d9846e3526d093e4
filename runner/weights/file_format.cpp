#include "runner/weights/file_format.h"

#include <cstring>

#include "runner/base/error.h"
#include "runner/weights/safetensors_format.h"
#include "runner/weights/torch_legacy.h"
#include "runner/weights/torch_zip.h"

namespace ftbench::weights {
namespace {

bool looks_like_text(ByteSpan file) {
  const std::size_t n = std::min<std::size_t>(file.size, 512);
  for (std::size_t i = 0; i < n; ++i) {
    const uint8_t c = file.data[i];
    if (c < 0x09 || (c > 0x0D && c < 0x20) || c == 0x7F) return false;
  }
  return true;
}

const char* kExpected = "expected a torch.save .pth/.pt file (zip or legacy) or a .safetensors file";

}  // namespace

const char* format_name(FileFormat format) {
  switch (format) {
    case FileFormat::kTorchZip: return "torch.save zip";
    case FileFormat::kTorchLegacy: return "torch.save legacy";
    case FileFormat::kSafetensors: return "safetensors";
  }
  return "unknown";
}

FileFormat detect_format(ByteSpan file, const std::string& where, bool safetensors_extension) {
  if (file.size == 0) throw InputError(where + ": the file is empty; " + kExpected);
  if (looks_like_zip(file.data, file.size)) return FileFormat::kTorchZip;
  // Safetensors before legacy: a safetensors file starts with its header length, whose low byte is 0x80 (the
  // legacy pickle's first byte) for one header size in 256. A legacy file never passes the safetensors test:
  // its first eight bytes read as a length far beyond the header limit.
  if (looks_like_safetensors(file)) return FileFormat::kSafetensors;
  if (looks_like_torch_legacy(file)) return FileFormat::kTorchLegacy;
  // A real safetensors file starts with a small length, whose high bytes are zeros: never text.
  if (looks_like_text(file)) throw InputError(where + ": a text file, not a weights file; " + kExpected);
  if (safetensors_extension) return FileFormat::kSafetensors;
  if (file.size >= 262 && std::memcmp(file.data + 257, "ustar", 5) == 0) {
    throw InputError(where + ": a tar archive, torch.save's format before PyTorch 0.4, which ftbench does not read; "
                             "load it in Python and re-save it with torch.save");
  }
  throw InputError(where + ": not a weights file (unrecognised first bytes); " + kExpected);
}

}  // namespace ftbench::weights
