#include "results/h5/handle.h"

#include <utility>

namespace ftbench::results::h5 {

Handle& Handle::operator=(Handle&& other) noexcept {
  if (this != &other) {
    reset();
    id_ = std::exchange(other.id_, H5I_INVALID_HID);
    kind_ = other.kind_;
  }
  return *this;
}

void Handle::reset() noexcept {
  if (id_ < 0) return;
  switch (kind_) {
    case Kind::kFile: H5Fclose(id_); break;
    case Kind::kGroup: H5Gclose(id_); break;
    case Kind::kDataset: H5Dclose(id_); break;
    case Kind::kDataspace: H5Sclose(id_); break;
    case Kind::kDatatype: H5Tclose(id_); break;
    case Kind::kAttribute: H5Aclose(id_); break;
    case Kind::kPropList: H5Pclose(id_); break;
  }
  id_ = H5I_INVALID_HID;
}

}  // namespace ftbench::results::h5
