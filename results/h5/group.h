// h5::Group: a group of named links (groups and datasets) with attributes.
//
// Names passed here are single link names, never paths. Errors: HDF5 failures throw h5::Error; opening a
// missing child, or a child of the other kind, throws h5::FormatError.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "results/h5/dataset.h"
#include "results/h5/object.h"

namespace ftbench::results::h5 {

class Group : public Object {
 public:
  bool has(const std::string& child) const;
  // Children in creation order when the group tracks it (create_group(name, true)), else by name.
  std::vector<std::string> children() const;

  Group open_group(const std::string& child) const;
  Group create_group(const std::string& child, bool track_creation_order = false);
  Dataset open_dataset(const std::string& child) const;
  // An empty [0, row_shape...] dataset, extendible along rows, chunked by chunk_rows rows.
  Dataset create_dataset(const std::string& child, Element element, const std::vector<uint64_t>& row_shape,
                         uint64_t chunk_rows);
  // Unlinks a child. HDF5 does not reuse the space in place; h5repack reclaims it.
  void remove(const std::string& child);

 private:
  friend class File;
  using Object::Object;
  Handle open_child(const std::string& child, H5I_type_t expected, const char* kind) const;
};

}  // namespace ftbench::results::h5
