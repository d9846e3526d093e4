// The dist::Runtime of an MPI test binary (owned by tests/mpi_gtest_main.cpp).
#pragma once

#include "dist/runtime.h"

namespace ftbench::testing {
const dist::Runtime& runtime();
}  // namespace ftbench::testing
