#include "results/h5/object.h"

#include "results/h5/error.h"
#include "results/h5/types.h"

namespace ftbench::results::h5 {

std::string Object::context(const std::string& action) const { return file_ + ": " + action + " " + name_; }

std::string Object::child_name(const std::string& child) const {
  return name_ == "/" ? "/" + child : name_ + "/" + child;
}

bool Object::has_attribute(const std::string& key) const {
  return check(H5Aexists(handle_.id(), key.c_str()), context("cannot look for attribute '" + key + "' of")) > 0;
}

Handle Object::open_attribute(const std::string& key) const {
  if (!has_attribute(key))
    throw FormatError(file_ + ": " + name_ + " has no attribute '" + key + "'");
  return Handle(check(H5Aopen(handle_.id(), key.c_str(), H5P_DEFAULT),
                      context("cannot open attribute '" + key + "' of")),
                Kind::kAttribute);
}

void Object::replace_attribute(const std::string& key, const Handle& file_type, hid_t memory_type,
                               const Handle& space, const void* data) {
  const std::string what = context("cannot write attribute '" + key + "' of");
  // Deleting first lets a rewrite change the type or length (e.g. a longer error message).
  if (has_attribute(key)) check(H5Adelete(handle_.id(), key.c_str()), what);
  Handle attr(check(H5Acreate2(handle_.id(), key.c_str(), file_type.id(), space.id(), H5P_DEFAULT, H5P_DEFAULT),
                    what),
              Kind::kAttribute);
  check(H5Awrite(attr.id(), memory_type, data), what);
}

void Object::set_attribute(const std::string& key, const std::string& value) {
  const std::string what = context("cannot write attribute '" + key + "' of");
  const char* text = value.c_str();
  Handle type = utf8_string_type(what);
  replace_attribute(key, type, type.id(), scalar_space(what), &text);
}

void Object::set_attribute(const std::string& key, int64_t value) {
  const std::string what = context("cannot write attribute '" + key + "' of");
  // Little-endian int64 in the file whatever the host; HDF5 converts from the native value.
  Handle type(check(H5Tcopy(H5T_STD_I64LE), what), Kind::kDatatype);
  replace_attribute(key, type, H5T_NATIVE_INT64, scalar_space(what), &value);
}

void Object::set_attribute(const std::string& key, const std::vector<std::string>& values) {
  const std::string what = context("cannot write attribute '" + key + "' of");
  std::vector<const char*> texts;
  for (const auto& v : values) texts.push_back(v.c_str());
  if (texts.empty()) texts.push_back(nullptr);  // H5Awrite refuses a null buffer even for zero elements
  Handle type = utf8_string_type(what);
  replace_attribute(key, type, type.id(), simple_space({values.size()}, {}, what), texts.data());
}

std::vector<std::string> Object::strings_attribute(const std::string& key) const {
  const std::string what = context("cannot read attribute '" + key + "' of");
  Handle attr = open_attribute(key);
  Handle type(check(H5Aget_type(attr.id()), what), Kind::kDatatype);
  if (check(H5Tget_class(type.id()), what) != H5T_STRING)
    throw FormatError(file_ + ": attribute '" + key + "' of " + name_ + " is not a string");
  Handle space(check(H5Aget_space(attr.id()), what), Kind::kDataspace);
  const auto count = static_cast<std::size_t>(check(H5Sget_simple_extent_npoints(space.id()), what));

  std::vector<std::string> out;
  if (count == 0) return out;
  if (check(H5Tis_variable_str(type.id()), what) > 0) {
    std::vector<char*> texts(count, nullptr);
    check(H5Aread(attr.id(), type.id(), texts.data()), what);
    for (char* t : texts) out.emplace_back(t ? t : "");
    H5Dvlen_reclaim(type.id(), space.id(), H5P_DEFAULT, texts.data());
    return out;
  }
  const std::size_t size = H5Tget_size(type.id());
  std::string buffer(count * size, '\0');
  check(H5Aread(attr.id(), type.id(), buffer.data()), what);
  const bool space_padded = H5Tget_strpad(type.id()) == H5T_STR_SPACEPAD;
  for (std::size_t i = 0; i < count; ++i) {
    std::string s = buffer.substr(i * size, size);
    s = s.substr(0, s.find('\0'));
    if (space_padded) s.erase(s.find_last_not_of(' ') + 1);
    out.push_back(s);
  }
  return out;
}

std::string Object::string_attribute(const std::string& key) const {
  auto values = strings_attribute(key);
  if (values.size() != 1)
    throw FormatError(file_ + ": attribute '" + key + "' of " + name_ + " holds " + std::to_string(values.size()) +
                      " strings, expected one");
  return values.front();
}

int64_t Object::int_attribute(const std::string& key) const {
  const std::string what = context("cannot read attribute '" + key + "' of");
  Handle attr = open_attribute(key);
  Handle type(check(H5Aget_type(attr.id()), what), Kind::kDatatype);
  Handle space(check(H5Aget_space(attr.id()), what), Kind::kDataspace);
  if (check(H5Tget_class(type.id()), what) != H5T_INTEGER || H5Sget_simple_extent_npoints(space.id()) != 1)
    throw FormatError(file_ + ": attribute '" + key + "' of " + name_ + " is not one integer");
  int64_t value = 0;
  check(H5Aread(attr.id(), H5T_NATIVE_INT64, &value), what);
  return value;
}

}  // namespace ftbench::results::h5
