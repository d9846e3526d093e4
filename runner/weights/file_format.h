// Which of the three weight formats a file is, from its first bytes.
#pragma once

#include <string>

#include "runner/weights/bytes.h"

namespace ftbench::weights {

enum class FileFormat { kTorchZip, kTorchLegacy, kSafetensors };

const char* format_name(FileFormat format);  // "torch.save zip", "torch.save legacy", "safetensors"

// Decides from the content; a ".safetensors" name sends anything that is not a zip or pickle to the
// safetensors parser, so that a damaged file gets its precise error. Throws InputError("<where>: ...") for
// an empty file, a text file, the pre-2017 tar format and anything else unrecognised.
FileFormat detect_format(ByteSpan file, const std::string& where, bool safetensors_extension);

}  // namespace ftbench::weights
