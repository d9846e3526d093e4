// The zip torch.save format (torch >= 1.6, torchvision's ResNets): a zip archive whose records are
// <archive>/data.pkl (the object, with storage persistent ids), <archive>/data/<key> (each storage's raw
// bytes), <archive>/byteorder and version records.
//
// The archive itself is read by LibTorch's PyTorchStreamReader (zip_archive.h); this part, which interprets
// the records, only sees the RecordSource interface and is torch-free.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "runner/weights/raw_state_dict.h"

namespace ftbench::weights {

// The records of an archive, by name without the archive's top folder. Implementations bound every record
// against the size of the file before reading it.
class RecordSource {
 public:
  virtual ~RecordSource() = default;
  virtual bool has_record(const std::string& name) = 0;
  virtual uint64_t record_size(const std::string& name) = 0;
  // Reads a whole record of at most `max_bytes` (throws InputError when it is larger).
  virtual std::string read_record(const std::string& name, uint64_t max_bytes) = 0;
  // Reads exactly `n` bytes of a record into `dst`.
  virtual void read_record_into(const std::string& name, void* dst, uint64_t n) = 0;
  // The size of the whole file: no storage can claim more.
  virtual uint64_t file_size() const = 0;
};

// True when `file` starts with a zip local-file header.
bool looks_like_zip(const uint8_t* data, std::size_t size);

// Parses data.pkl and checks that every storage the state dict uses has a record of exactly its size.
// Storages come back with `record` set; their bytes are read when tensors are made.
RawStateDict parse_torch_zip(RecordSource& source, const std::string& where);

}  // namespace ftbench::weights
