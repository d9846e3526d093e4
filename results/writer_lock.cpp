#include "results/writer_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <utility>

#include "runner/base/error.h"

namespace ftbench::results {

std::string WriterLock::sibling(const std::string& results_path, const std::string& suffix) {
  const std::filesystem::path path(results_path);
  return (path.parent_path() / ("." + path.filename().string() + suffix)).string();
}

WriterLock::WriterLock(const std::string& results_path) : lock_path_(sibling(results_path, ".lock")) {
  fd_ = ::open(lock_path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0)
    throw InputError("cannot create " + lock_path_ + " beside the results file (" + std::strerror(errno) +
                     "); the results file is replaced on every write, so its directory must be writable: choose "
                     "another --output or [experiment] output");
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    if (error == EWOULDBLOCK) {
      char holder[128] = {};
      const ssize_t n = ::pread(fd_, holder, sizeof holder - 1, 0);
      ::close(fd_);
      fd_ = -1;
      const std::string who = n > 0 ? " (" + std::string(holder, static_cast<std::size_t>(n)) + ")" : "";
      throw InputError(results_path + " is being written by another ftbench process" + who + ", which holds " +
                       lock_path_ + "; wait for it to finish, or choose another --output or [experiment] output");
    }
    // No working flock here (ENOLCK, ENOTSUP, ...): go on without the lock, as documented.
    return;
  }
  held_ = true;
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  const std::string me = std::to_string(::getpid()) + "@" + host;
  if (::ftruncate(fd_, 0) == 0 && ::pwrite(fd_, me.data(), me.size(), 0) < 0) {
    // The holder's name is only for messages; a lock file we cannot write still locks.
  }
}

WriterLock::WriterLock(WriterLock&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), held_(std::exchange(other.held_, false)),
      lock_path_(std::move(other.lock_path_)) {}

WriterLock& WriterLock::operator=(WriterLock&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    held_ = std::exchange(other.held_, false);
    lock_path_ = std::move(other.lock_path_);
  }
  return *this;
}

WriterLock::~WriterLock() {
  if (fd_ >= 0) ::close(fd_);  // closing the last descriptor releases the flock
}

}  // namespace ftbench::results
