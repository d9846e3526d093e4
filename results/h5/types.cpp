#include "results/h5/types.h"

#include "results/h5/error.h"

namespace ftbench::results::h5 {

Handle utf8_string_type(const std::string& context) {
  Handle type(check(H5Tcopy(H5T_C_S1), context), Kind::kDatatype);
  check(H5Tset_size(type.id(), H5T_VARIABLE), context);
  check(H5Tset_cset(type.id(), H5T_CSET_UTF8), context);
  return type;
}

Handle scalar_space(const std::string& context) {
  return Handle(check(H5Screate(H5S_SCALAR), context), Kind::kDataspace);
}

Handle simple_space(const std::vector<hsize_t>& dims, const std::vector<hsize_t>& maxdims,
                    const std::string& context) {
  const hsize_t* max = maxdims.empty() ? nullptr : maxdims.data();
  return Handle(check(H5Screate_simple(static_cast<int>(dims.size()), dims.data(), max), context),
                Kind::kDataspace);
}

std::vector<hsize_t> extent(const Handle& space, const std::string& context) {
  const int rank = check(H5Sget_simple_extent_ndims(space.id()), context);
  std::vector<hsize_t> dims(static_cast<std::size_t>(rank));
  check(H5Sget_simple_extent_dims(space.id(), dims.data(), nullptr), context);
  return dims;
}

}  // namespace ftbench::results::h5
