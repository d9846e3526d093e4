// h5::Dataset: an extendible, chunked dataset of shape [rows, row_shape...] that grows one row at a time.
//
// Rows are the first dimension (epochs in the results schema). Errors: HDF5 failures throw h5::Error; a
// dataset of the wrong element class or row size throws h5::FormatError.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "results/h5/object.h"

namespace ftbench::results::h5 {

enum class Element { kInt64, kFloat64 };  // stored little-endian: H5T_STD_I64LE, H5T_IEEE_F64LE

class Dataset : public Object {
 public:
  std::vector<uint64_t> shape() const;
  uint64_t rows() const { return shape().at(0); }
  void resize_rows(uint64_t rows);

  // Writes row `row` (< rows()); count must equal the product of the row shape.
  void write_row(uint64_t row, const double* values, std::size_t count);
  void write_row(uint64_t row, const int64_t* values, std::size_t count);

  // Every element, row-major. read_float64 converts integers; read_int64 refuses floating-point data.
  std::vector<double> read_float64() const;
  std::vector<int64_t> read_int64() const;

 private:
  friend class Group;
  using Object::Object;
  void write_row(uint64_t row, hid_t memory_type, const void* values, std::size_t count);
};

}  // namespace ftbench::results::h5
