// Turning HDF5's error stack into ftbench exceptions.
//
// HDF5 reports a failure by a negative return value and a stack of descriptions (outermost: the API call,
// innermost: where it was detected). By default it also prints that stack to stderr; ftbench turns the
// printing off and throws instead, with the innermost description in a one-line message.
#pragma once

#include <hdf5.h>

#include <string>

#include "runner/base/error.h"

namespace ftbench::results::h5 {

// An HDF5 call failed. what(): "<context>: <innermost HDF5 description>". stack() holds every description,
// innermost first, for callers that classify failures (a file left open by a killed writer).
class Error : public RuntimeError {
 public:
  Error(const std::string& context, const std::string& detail, std::string stack, bool lock_failed)
      : RuntimeError(context + ": " + detail), detail_(detail), stack_(std::move(stack)), lock_failed_(lock_failed) {}
  const std::string& detail() const noexcept { return detail_; }
  const std::string& stack() const noexcept { return stack_; }
  // The file could not be locked (held by another process, or a file system without locks).
  bool lock_failed() const noexcept { return lock_failed_; }

 private:
  std::string detail_;
  std::string stack_;
  bool lock_failed_;
};

// The file opened fine but does not hold what was asked for: a missing attribute or dataset, a wrong type
// or shape. Readers turn it into an InputError ("damaged or not an ftbench file").
class FormatError : public RuntimeError {
 public:
  using RuntimeError::RuntimeError;
};

// Turns off HDF5's automatic printing of error stacks (per thread in thread-safe HDF5 builds). Cheap and
// idempotent: File's entry points call it.
void silence_error_printing() noexcept;

// Throws Error for the failure now on this thread's HDF5 error stack.
[[noreturn]] void fail(const std::string& context);

// check(call, context): returns the call's value, or throws Error when it is negative (hid_t, herr_t and
// htri_t all signal failure that way).
template <class T>
T check(T result, const std::string& context) {
  if (result < 0) fail(context);
  return result;
}

}  // namespace ftbench::results::h5
