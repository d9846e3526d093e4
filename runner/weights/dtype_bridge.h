// DType <-> at::ScalarType, the one place the torch-free parsers meet LibTorch's types.
#pragma once

#include <c10/core/ScalarType.h>

#include <optional>

#include "runner/weights/dtype.h"

namespace ftbench::weights {

c10::ScalarType to_scalar_type(DType dtype);

// nullopt for LibTorch types no weight format stores (complex, quantized, ...).
std::optional<DType> from_scalar_type(c10::ScalarType type);

}  // namespace ftbench::weights
