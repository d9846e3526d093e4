#include "results/h5/dataset.h"

#include <algorithm>
#include <functional>
#include <numeric>

#include "results/h5/error.h"
#include "results/h5/types.h"

namespace ftbench::results::h5 {

std::vector<uint64_t> Dataset::shape() const {
  const std::string what = context("cannot read the shape of");
  Handle space(check(H5Dget_space(handle_.id()), what), Kind::kDataspace);
  const auto dims = extent(space, what);
  if (dims.empty()) throw FormatError(file_ + ": " + name_ + " is a scalar, expected rows");
  return {dims.begin(), dims.end()};
}

void Dataset::resize_rows(uint64_t rows) {
  auto dims = shape();
  dims[0] = rows;
  const std::vector<hsize_t> extent_dims(dims.begin(), dims.end());
  check(H5Dset_extent(handle_.id(), extent_dims.data()), context("cannot resize"));
}

void Dataset::write_row(uint64_t row, const double* values, std::size_t count) {
  write_row(row, H5T_NATIVE_DOUBLE, values, count);
}

void Dataset::write_row(uint64_t row, const int64_t* values, std::size_t count) {
  write_row(row, H5T_NATIVE_INT64, values, count);
}

void Dataset::write_row(uint64_t row, hid_t memory_type, const void* values, std::size_t count) {
  const std::string what = context("cannot write row " + std::to_string(row) + " of");
  Handle file_space(check(H5Dget_space(handle_.id()), what), Kind::kDataspace);
  std::vector<hsize_t> start = extent(file_space, what);
  std::vector<hsize_t> block = start;
  if (start.empty() || row >= start[0]) throw RuntimeError(what + ": the dataset has no such row");
  block[0] = 1;
  const auto row_size = std::accumulate(block.begin(), block.end(), hsize_t{1}, std::multiplies<>());
  if (row_size != count)
    throw FormatError(what + ": a row holds " + std::to_string(row_size) + " values, got " + std::to_string(count));
  std::fill(start.begin(), start.end(), 0);
  start[0] = row;
  check(H5Sselect_hyperslab(file_space.id(), H5S_SELECT_SET, start.data(), nullptr, block.data(), nullptr), what);
  Handle memory_space = simple_space(block, {}, what);
  check(H5Dwrite(handle_.id(), memory_type, memory_space.id(), file_space.id(), H5P_DEFAULT, values), what);
}

namespace {

template <class T>
std::vector<T> read_all(hid_t dataset, hid_t memory_type, const std::string& what) {
  Handle space(check(H5Dget_space(dataset), what), Kind::kDataspace);
  const auto count = static_cast<std::size_t>(check(H5Sget_simple_extent_npoints(space.id()), what));
  std::vector<T> values(count);
  if (count > 0) check(H5Dread(dataset, memory_type, H5S_ALL, H5S_ALL, H5P_DEFAULT, values.data()), what);
  return values;
}

H5T_class_t element_class(hid_t dataset, const std::string& what) {
  Handle type(check(H5Dget_type(dataset), what), Kind::kDatatype);
  return check(H5Tget_class(type.id()), what);
}

}  // namespace

std::vector<double> Dataset::read_float64() const {
  const std::string what = context("cannot read");
  const H5T_class_t cls = element_class(handle_.id(), what);
  if (cls != H5T_FLOAT && cls != H5T_INTEGER) throw FormatError(file_ + ": " + name_ + " is not numeric");
  return read_all<double>(handle_.id(), H5T_NATIVE_DOUBLE, what);
}

std::vector<int64_t> Dataset::read_int64() const {
  const std::string what = context("cannot read");
  if (element_class(handle_.id(), what) != H5T_INTEGER)
    throw FormatError(file_ + ": " + name_ + " does not hold integers");
  return read_all<int64_t>(handle_.id(), H5T_NATIVE_INT64, what);
}

}  // namespace ftbench::results::h5
