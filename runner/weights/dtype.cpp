#include "runner/weights/dtype.h"

#include <array>

namespace ftbench::weights {
namespace {

struct DTypeInfo {
  DType dtype;
  std::size_t size;
  const char* torch_name;
  const char* safetensors;
  const char* storage_class;  // "" when torch has no legacy typed storage for it
};

// One row per dtype, in enum order.
constexpr std::array<DTypeInfo, 15> kTable = {{
    {DType::kBool, 1, "bool", "BOOL", "BoolStorage"},
    {DType::kUInt8, 1, "uint8", "U8", "ByteStorage"},
    {DType::kInt8, 1, "int8", "I8", "CharStorage"},
    {DType::kInt16, 2, "int16", "I16", "ShortStorage"},
    {DType::kUInt16, 2, "uint16", "U16", ""},
    {DType::kInt32, 4, "int32", "I32", "IntStorage"},
    {DType::kUInt32, 4, "uint32", "U32", ""},
    {DType::kInt64, 8, "int64", "I64", "LongStorage"},
    {DType::kUInt64, 8, "uint64", "U64", ""},
    {DType::kFloat16, 2, "float16", "F16", "HalfStorage"},
    {DType::kBFloat16, 2, "bfloat16", "BF16", "BFloat16Storage"},
    {DType::kFloat32, 4, "float32", "F32", "FloatStorage"},
    {DType::kFloat64, 8, "float64", "F64", "DoubleStorage"},
    {DType::kFloat8E4M3, 1, "float8_e4m3fn", "F8_E4M3", ""},
    {DType::kFloat8E5M2, 1, "float8_e5m2", "F8_E5M2", ""},
}};

const DTypeInfo& info(DType dtype) { return kTable[static_cast<std::size_t>(dtype)]; }

}  // namespace

std::size_t dtype_size(DType dtype) { return info(dtype).size; }
const char* dtype_name(DType dtype) { return info(dtype).torch_name; }
const char* safetensors_code(DType dtype) { return info(dtype).safetensors; }

std::optional<DType> dtype_from_safetensors_code(const std::string& code) {
  for (const auto& row : kTable) {
    if (code == row.safetensors) return row.dtype;
  }
  return std::nullopt;
}

std::optional<DType> dtype_from_storage_class(const std::string& class_name) {
  for (const auto& row : kTable) {
    if (row.storage_class[0] != '\0' && class_name == row.storage_class) return row.dtype;
  }
  return std::nullopt;
}

std::optional<DType> dtype_from_torch_attribute(const std::string& name) {
  for (const auto& row : kTable) {
    if (name == row.torch_name) return row.dtype;
  }
  // torch's aliases, which pickle under their own attribute names.
  if (name == "float" ) return DType::kFloat32;
  if (name == "double") return DType::kFloat64;
  if (name == "half") return DType::kFloat16;
  if (name == "long") return DType::kInt64;
  if (name == "int") return DType::kInt32;
  if (name == "short") return DType::kInt16;
  return std::nullopt;
}

std::string known_safetensors_codes() {
  std::string out;
  for (const auto& row : kTable) {
    if (!out.empty()) out += ", ";
    out += row.safetensors;
  }
  return out;
}

}  // namespace ftbench::weights
