// h5::File: an open HDF5 file.
//
// Files are created with library-version bounds [1.8, 1.10]: superblock version 2, which has no "open for
// write" flag, so a writer killed between calls leaves a file that every reader can open without h5clear;
// h5py 3 reads the format. Creation never truncates: an existing path is an error.
// Errors: RuntimeError (h5::Error) naming the path; a lock held by another process past lock_wait gets a
// message that tells the fix. InputError (exit 2) for a file whose bytes are not a whole HDF5 file
// (truncated, overwritten) and for a file HDF5 still marks as open by a SWMR writer (which is not cleared:
// see file.cpp).
#pragma once

#include <chrono>
#include <string>

#include "results/h5/group.h"
#include "results/h5/handle.h"

namespace ftbench::results::h5 {

enum class Access { kReadOnly, kReadWrite };

class File {
 public:
  // True when the file has an HDF5 signature. The file must exist and be readable.
  static bool is_hdf5(const std::string& path);
  static File create(const std::string& path);
  // HDF5 locks a file while it is open (unless HDF5_USE_FILE_LOCKING=FALSE); a file locked by another
  // process is retried until lock_wait has passed.
  static File open(const std::string& path, Access access, std::chrono::milliseconds lock_wait);

  Group root() const;
  // Writes every buffered change to disk, so that a reader, or the file after a crash, sees it.
  void flush();
  const std::string& path() const noexcept { return path_; }

 private:
  File(Handle handle, std::string path) : handle_(std::move(handle)), path_(std::move(path)) {}
  Handle handle_;
  std::string path_;
};

}  // namespace ftbench::results::h5
