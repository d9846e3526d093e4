#include "results/h5/group.h"

#include "results/h5/error.h"
#include "results/h5/types.h"

namespace ftbench::results::h5 {

bool Group::has(const std::string& child) const {
  return check(H5Lexists(handle_.id(), child.c_str(), H5P_DEFAULT), context("cannot look for '" + child + "' in")) >
         0;
}

std::vector<std::string> Group::children() const {
  const std::string what = context("cannot list");
  Handle gcpl(check(H5Gget_create_plist(handle_.id()), what), Kind::kPropList);
  unsigned order_flags = 0;
  check(H5Pget_link_creation_order(gcpl.id(), &order_flags), what);
  const H5_index_t index = (order_flags & H5P_CRT_ORDER_INDEXED) ? H5_INDEX_CRT_ORDER : H5_INDEX_NAME;

  H5G_info_t info;
  check(H5Gget_info(handle_.id(), &info), what);
  std::vector<std::string> names;
  for (hsize_t i = 0; i < info.nlinks; ++i) {
    const ssize_t size = check(H5Lget_name_by_idx(handle_.id(), ".", index, H5_ITER_INC, i, nullptr, 0, H5P_DEFAULT),
                               what);
    std::string name(static_cast<std::size_t>(size) + 1, '\0');
    check(H5Lget_name_by_idx(handle_.id(), ".", index, H5_ITER_INC, i, name.data(), name.size(), H5P_DEFAULT), what);
    name.resize(static_cast<std::size_t>(size));
    names.push_back(name);
  }
  return names;
}

Handle Group::open_child(const std::string& child, H5I_type_t expected, const char* kind) const {
  if (!has(child)) throw FormatError(file_ + ": " + name_ + " has no " + kind + " '" + child + "'");
  const hid_t id = check(H5Oopen(handle_.id(), child.c_str(), H5P_DEFAULT), context("cannot open '" + child + "' in"));
  const H5I_type_t type = H5Iget_type(id);
  // The handle must close the object with the call matching what it is, not what was expected.
  Handle object(id, type == H5I_GROUP ? Kind::kGroup : type == H5I_DATASET ? Kind::kDataset : Kind::kDatatype);
  if (type != expected) throw FormatError(file_ + ": " + child_name(child) + " is not a " + kind);
  return object;
}

Group Group::open_group(const std::string& child) const {
  return Group(open_child(child, H5I_GROUP, "group"), file_, child_name(child));
}

Dataset Group::open_dataset(const std::string& child) const {
  return Dataset(open_child(child, H5I_DATASET, "dataset"), file_, child_name(child));
}

Group Group::create_group(const std::string& child, bool track_creation_order) {
  const std::string what = file_ + ": cannot create group " + child_name(child);
  Handle gcpl(check(H5Pcreate(H5P_GROUP_CREATE), what), Kind::kPropList);
  if (track_creation_order)
    check(H5Pset_link_creation_order(gcpl.id(), H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED), what);
  Handle group(check(H5Gcreate2(handle_.id(), child.c_str(), H5P_DEFAULT, gcpl.id(), H5P_DEFAULT), what),
               Kind::kGroup);
  return Group(std::move(group), file_, child_name(child));
}

Dataset Group::create_dataset(const std::string& child, Element element, const std::vector<uint64_t>& row_shape,
                              uint64_t chunk_rows) {
  const std::string what = file_ + ": cannot create dataset " + child_name(child);
  std::vector<hsize_t> dims{0}, max_dims{H5S_UNLIMITED}, chunk{chunk_rows};
  for (uint64_t n : row_shape) {
    dims.push_back(n);
    max_dims.push_back(n);
    chunk.push_back(n);
  }
  Handle space = simple_space(dims, max_dims, what);
  Handle dcpl(check(H5Pcreate(H5P_DATASET_CREATE), what), Kind::kPropList);
  check(H5Pset_chunk(dcpl.id(), static_cast<int>(chunk.size()), chunk.data()), what);
  const hid_t type = element == Element::kInt64 ? H5T_STD_I64LE : H5T_IEEE_F64LE;
  Handle dataset(check(H5Dcreate2(handle_.id(), child.c_str(), type, space.id(), H5P_DEFAULT, dcpl.id(), H5P_DEFAULT),
                       what),
                 Kind::kDataset);
  return Dataset(std::move(dataset), file_, child_name(child));
}

void Group::remove(const std::string& child) {
  check(H5Ldelete(handle_.id(), child.c_str(), H5P_DEFAULT), context("cannot delete '" + child + "' from"));
}

}  // namespace ftbench::results::h5
