// The zip container of torch.save files, read by LibTorch's PyTorchStreamReader straight from memory (a
// mapped file). The RecordSource it returns (torch_zip.h) bounds every record by the file size before
// reading it, and turns LibTorch's errors into one-line InputErrors naming the file.
#pragma once

#include <memory>
#include <string>

#include "runner/weights/bytes.h"
#include "runner/weights/torch_zip.h"

namespace ftbench::weights {

// `bytes` must outlive the returned source. Throws InputError when they are not a readable zip archive.
std::unique_ptr<RecordSource> open_zip_archive(ByteSpan bytes, const std::string& where);

}  // namespace ftbench::weights
