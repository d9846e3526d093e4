// weights::DType: the element types a weight file may hold, independent of LibTorch.
//
// The parse layer (pickle, legacy container, safetensors) is torch-free so that it can be fuzzed without
// building LibTorch-linked code under sanitizers; it describes tensors with this enum, and the thin tensor
// layer (tensor_bridge.h) maps it to at::ScalarType.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

namespace ftbench::weights {

enum class DType : uint8_t {
  kBool,
  kUInt8,
  kInt8,
  kInt16,
  kUInt16,
  kInt32,
  kUInt32,
  kInt64,
  kUInt64,
  kFloat16,
  kBFloat16,
  kFloat32,
  kFloat64,
  kFloat8E4M3,
  kFloat8E5M2,
};

// Bytes per element.
std::size_t dtype_size(DType dtype);

// torch's name: "float32", "bfloat16", "int64", "bool", ...
const char* dtype_name(DType dtype);

// safetensors' code: "F32", "BF16", "I64", "BOOL", ...
const char* safetensors_code(DType dtype);
std::optional<DType> dtype_from_safetensors_code(const std::string& code);

// torch's legacy typed storage classes, e.g. "FloatStorage" -> kFloat32 (the class name without "torch.").
std::optional<DType> dtype_from_storage_class(const std::string& class_name);

// The attribute name of a torch dtype object, e.g. "float32", "half", "bfloat16" (as pickled by
// _rebuild_tensor_v3, which names the dtype as the global `torch.<name>`).
std::optional<DType> dtype_from_torch_attribute(const std::string& name);

// The safetensors codes this reader knows, for error messages.
std::string known_safetensors_codes();

}  // namespace ftbench::weights
