// SHA-256 (FIPS 180-4), for the provenance of weight files: the digest is recorded with every run, and
// torchvision's file names carry its first hex digits (resnet18-f37072fd.pth), which we check.
// A small self-contained implementation: no new dependency, and it is tested against FIPS vectors and
// Python's hashlib.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <string>

namespace ftbench::weights {

class Sha256 {
 public:
  Sha256();
  void update(const void* data, std::size_t size);
  std::array<uint8_t, 32> digest();  // finishes; call once
  std::string hex_digest();          // finishes; lowercase hex

 private:
  void block(const uint8_t* p);

  std::array<uint32_t, 8> h_;
  std::array<uint8_t, 64> buffer_{};
  std::size_t buffered_ = 0;
  uint64_t length_ = 0;  // bytes hashed so far
};

// Lowercase hex SHA-256 of a whole file (read through a memory mapping). Throws InputError when it cannot
// be read.
std::string sha256_file(const std::filesystem::path& path);

}  // namespace ftbench::weights
