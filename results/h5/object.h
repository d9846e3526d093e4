// h5::Object: what groups and datasets share: a handle, where it lives (for messages), and attributes.
//
// Attributes are written as scalars (int64, variable-length UTF-8 string) or 1-D string arrays; writing an
// existing attribute replaces it. Readers accept fixed-length strings too (files edited by other tools).
// Errors: HDF5 failures throw h5::Error; a missing attribute or one of the wrong type throws h5::FormatError.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "results/h5/handle.h"

namespace ftbench::results::h5 {

class Object {
 public:
  const std::string& file() const noexcept { return file_; }
  const std::string& name() const noexcept { return name_; }  // path inside the file, e.g. "/runs/x"

  bool has_attribute(const std::string& key) const;
  void set_attribute(const std::string& key, const std::string& value);
  void set_attribute(const std::string& key, int64_t value);
  void set_attribute(const std::string& key, const std::vector<std::string>& values);

  std::string string_attribute(const std::string& key) const;
  int64_t int_attribute(const std::string& key) const;
  std::vector<std::string> strings_attribute(const std::string& key) const;  // a scalar string gives one

 protected:
  Object(Handle handle, std::string file, std::string name)
      : handle_(std::move(handle)), file_(std::move(file)), name_(std::move(name)) {}

  // "<file>: <action> <name>": the start of every error message about this object.
  std::string context(const std::string& action) const;
  std::string child_name(const std::string& child) const;

  Handle handle_;
  std::string file_;
  std::string name_;

 private:
  Handle open_attribute(const std::string& key) const;
  void replace_attribute(const std::string& key, const Handle& file_type, hid_t memory_type, const Handle& space,
                         const void* data);
};

}  // namespace ftbench::results::h5
