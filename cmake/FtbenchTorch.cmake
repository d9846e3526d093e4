# LibTorch from the PyPI wheel in the project's .venv (scripts/setup.sh creates it).
#
# find_package(Torch) needs the wheel's cmake directory on CMAKE_PREFIX_PATH. Unless the caller already set
# it, ask the venv's Python: torch.utils.cmake_prefix_path. The wheel is a CUDA 13.0 build, so its config
# also calls find_package(CUDAToolkit): nvcc must exist at configure time even though ftbench runs fine on
# machines with no GPU.
set(FTBENCH_PYTHON "${PROJECT_SOURCE_DIR}/.venv/bin/python" CACHE FILEPATH
    "Python interpreter whose torch provides LibTorch (and torchvision for the parity tests)")

if(NOT Torch_DIR AND NOT "$ENV{Torch_DIR}")
  if(NOT EXISTS "${FTBENCH_PYTHON}")
    message(FATAL_ERROR "No Python at ${FTBENCH_PYTHON}: run scripts/setup.sh to create .venv with torch==2.11.0, "
                        "or pass -DFTBENCH_PYTHON=/path/to/python whose torch to use")
  endif()
  execute_process(COMMAND "${FTBENCH_PYTHON}" -c "import torch; print(torch.utils.cmake_prefix_path)"
                  OUTPUT_VARIABLE _ftbench_torch_prefix OUTPUT_STRIP_TRAILING_WHITESPACE
                  RESULT_VARIABLE _ftbench_rc ERROR_VARIABLE _ftbench_err)
  if(NOT _ftbench_rc EQUAL 0)
    message(FATAL_ERROR "${FTBENCH_PYTHON} cannot import torch (${_ftbench_err}): run scripts/setup.sh")
  endif()
  list(APPEND CMAKE_PREFIX_PATH "${_ftbench_torch_prefix}")
endif()

# The wheel's CUDA config chooses target architectures; keep its choice quiet and deterministic.
if(NOT DEFINED TORCH_CUDA_ARCH_LIST)
  set(TORCH_CUDA_ARCH_LIST "9.0" CACHE STRING "CUDA architectures for LibTorch's CMake config")
endif()
find_package(Torch REQUIRED)
message(STATUS "LibTorch ${Torch_VERSION} from ${TORCH_INSTALL_PREFIX}")
get_filename_component(FTBENCH_TORCH_LIB_DIR "${TORCH_LIBRARY}" DIRECTORY)

# One precompiled header, built once and reused by every LibTorch-facing target. It holds the narrow
# headers we use, never <torch/torch.h>: that umbrella pulls in the whole frontend and doubles build times.
add_library(ftbench_torch_pch STATIC "${PROJECT_SOURCE_DIR}/cmake/torch_pch.cpp")
target_link_libraries(ftbench_torch_pch PUBLIC ${TORCH_LIBRARIES} ftbench_warnings)
target_precompile_headers(ftbench_torch_pch PRIVATE
  <ATen/core/Tensor.h>
  <ATen/Functions.h>
  <torch/nn/module.h>
  <torch/nn/modules/conv.h>
  <torch/nn/modules/batchnorm.h>
  <torch/nn/modules/linear.h>
  <torch/nn/modules/pooling.h>
  <torch/nn/modules/container/sequential.h>
  <torch/nn/functional/activation.h>
  <torch/optim/sgd.h>
  <string>
  <vector>)

# ftbench_use_torch(target): link LibTorch and reuse the shared precompiled header.
function(ftbench_use_torch target)
  target_link_libraries(${target} PUBLIC ${TORCH_LIBRARIES})
  target_precompile_headers(${target} REUSE_FROM ftbench_torch_pch)
endfunction()
