// Datatypes and dataspaces the wrappers create; private to results/h5/.
#pragma once

#include <string>
#include <vector>

#include "results/h5/handle.h"

namespace ftbench::results::h5 {

// Variable-length UTF-8 string: h5py 3 returns such attributes as Python str.
Handle utf8_string_type(const std::string& context);

Handle scalar_space(const std::string& context);

// A simple dataspace; maxdims empty means fixed (maxdims = dims).
Handle simple_space(const std::vector<hsize_t>& dims, const std::vector<hsize_t>& maxdims,
                    const std::string& context);

// The current extent of a dataspace.
std::vector<hsize_t> extent(const Handle& space, const std::string& context);

}  // namespace ftbench::results::h5
