#include "runner/weights/dtype_bridge.h"

#include <array>
#include <utility>

namespace ftbench::weights {
namespace {

constexpr std::array<std::pair<DType, c10::ScalarType>, 15> kPairs = {{
    {DType::kBool, c10::ScalarType::Bool},
    {DType::kUInt8, c10::ScalarType::Byte},
    {DType::kInt8, c10::ScalarType::Char},
    {DType::kInt16, c10::ScalarType::Short},
    {DType::kUInt16, c10::ScalarType::UInt16},
    {DType::kInt32, c10::ScalarType::Int},
    {DType::kUInt32, c10::ScalarType::UInt32},
    {DType::kInt64, c10::ScalarType::Long},
    {DType::kUInt64, c10::ScalarType::UInt64},
    {DType::kFloat16, c10::ScalarType::Half},
    {DType::kBFloat16, c10::ScalarType::BFloat16},
    {DType::kFloat32, c10::ScalarType::Float},
    {DType::kFloat64, c10::ScalarType::Double},
    {DType::kFloat8E4M3, c10::ScalarType::Float8_e4m3fn},
    {DType::kFloat8E5M2, c10::ScalarType::Float8_e5m2},
}};

}  // namespace

c10::ScalarType to_scalar_type(DType dtype) { return kPairs[static_cast<std::size_t>(dtype)].second; }

std::optional<DType> from_scalar_type(c10::ScalarType type) {
  for (const auto& [dtype, scalar] : kPairs) {
    if (scalar == type) return dtype;
  }
  return std::nullopt;
}

}  // namespace ftbench::weights
