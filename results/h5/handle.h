// h5::Handle: sole owner of one HDF5 identifier (hid_t). The other wrappers in results/h5/ build on it, and
// no hid_t leaves results/h5/.
//
// Contract: the destructor closes the identifier with the H5?close that matches its kind and never throws
// (a failed close is dropped: nothing useful can be done with it while unwinding). Move-only.
#pragma once

#include <hdf5.h>

namespace ftbench::results::h5 {

enum class Kind { kFile, kGroup, kDataset, kDataspace, kDatatype, kAttribute, kPropList };

class Handle {
 public:
  Handle() = default;
  Handle(hid_t id, Kind kind) noexcept : id_(id), kind_(kind) {}
  Handle(Handle&& other) noexcept : id_(other.id_), kind_(other.kind_) { other.id_ = H5I_INVALID_HID; }
  Handle& operator=(Handle&& other) noexcept;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() { reset(); }

  hid_t id() const noexcept { return id_; }
  explicit operator bool() const noexcept { return id_ >= 0; }
  void reset() noexcept;

 private:
  hid_t id_ = H5I_INVALID_HID;
  Kind kind_ = Kind::kPropList;
};

}  // namespace ftbench::results::h5
