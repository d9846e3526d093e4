// results::WriterLock: at most one ftbench process writes a given results file at a time.
//
// An exclusive flock(2) on a hidden lock file beside the results file (".<name>.lock"), held for the lock's
// lifetime. The lock file is never deleted: deleting it while another process waits on it would let two
// writers each lock a different file. The file holds "<pid>@<host>" of the last holder, for the message.
//
// Where the file system has no working flock (some NFS mounts without a lock daemon: ENOLCK, ENOTSUP), the
// lock is not held (held() is false) and the writer goes on: the copy-and-rename writes stay safe for
// readers, but two writers of one file would then lose each other's updates.
// Errors: a lock held by another process, or a directory where the lock file cannot be created, throws
// InputError naming the file and the fix.
#pragma once

#include <string>

namespace ftbench::results {

class WriterLock {
 public:
  // Takes the lock for `results_path` without waiting.
  explicit WriterLock(const std::string& results_path);
  WriterLock(WriterLock&& other) noexcept;
  WriterLock& operator=(WriterLock&& other) noexcept;
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;
  ~WriterLock();

  bool held() const noexcept { return held_; }
  const std::string& path() const noexcept { return lock_path_; }

  // The hidden sibling of a results file: ".<name><suffix>" in the same directory.
  static std::string sibling(const std::string& results_path, const std::string& suffix);

 private:
  int fd_ = -1;
  bool held_ = false;
  std::string lock_path_;
};

}  // namespace ftbench::results
