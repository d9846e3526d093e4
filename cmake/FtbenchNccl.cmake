# FTBENCH_WITH_CUDA = AUTO | ON | OFF decides whether the NCCL backend (ftbench_nccl) is built.
#   AUTO: ON when LibTorch is a CUDA build and the CUDA toolkit was found, and NCCL is found.
#   ON:   the same, but a missing piece is a configuration error that says how to fix it.
#   OFF:  MPI backend only.
#
# NCCL must be the very libnccl.so.2 that LibTorch loads: the nvidia-nccl-cu13 wheel beside torch in the
# venv. That wheel ships libnccl.so.2 without a libnccl.so symlink, so we link it by full path. The CUDA
# toolkit's NCCL is the fallback.
string(TOUPPER "${FTBENCH_WITH_CUDA}" _ftbench_cuda_mode)
if(NOT _ftbench_cuda_mode MATCHES "^(AUTO|ON|OFF)$")
  message(FATAL_ERROR "FTBENCH_WITH_CUDA=${FTBENCH_WITH_CUDA}: expected AUTO, ON or OFF")
endif()

set(FTBENCH_CUDA OFF)
if(NOT _ftbench_cuda_mode STREQUAL "OFF")
  find_package(CUDAToolkit QUIET)
  get_filename_component(_ftbench_site "${TORCH_INSTALL_PREFIX}/.." ABSOLUTE)
  find_path(NCCL_INCLUDE_DIR nccl.h
            HINTS "${_ftbench_site}/nvidia/nccl/include" ${CUDAToolkit_INCLUDE_DIRS}
            NO_DEFAULT_PATH)
  find_path(NCCL_INCLUDE_DIR nccl.h)
  find_library(NCCL_LIBRARY NAMES libnccl.so.2 nccl
               HINTS "${_ftbench_site}/nvidia/nccl/lib" ${CUDAToolkit_LIBRARY_DIR} NO_DEFAULT_PATH)
  find_library(NCCL_LIBRARY NAMES libnccl.so.2 nccl)

  set(_ftbench_missing "")
  if(NOT CUDAToolkit_FOUND)
    list(APPEND _ftbench_missing "the CUDA toolkit (nvcc and cudart)")
  endif()
  if(NOT TORCH_CUDA_LIBRARIES AND NOT TARGET torch_cuda)
    list(APPEND _ftbench_missing "a CUDA build of LibTorch")
  endif()
  if(NOT EXISTS "${NCCL_INCLUDE_DIR}/nccl.h" OR NOT EXISTS "${NCCL_LIBRARY}")
    list(APPEND _ftbench_missing "NCCL (nccl.h and libnccl.so.2)")
  endif()

  if(_ftbench_missing)
    list(JOIN _ftbench_missing ", " _ftbench_missing_text)
    if(_ftbench_cuda_mode STREQUAL "ON")
      message(FATAL_ERROR
        "FTBENCH_WITH_CUDA=ON but ${_ftbench_missing_text} not found. Fix: run scripts/setup.sh so .venv holds "
        "torch==2.11.0 with nvidia-nccl-cu13, or pass -DNCCL_INCLUDE_DIR=... -DNCCL_LIBRARY=/path/libnccl.so.2; "
        "or configure with -DFTBENCH_WITH_CUDA=OFF for the MPI backend only.")
    endif()
    message(STATUS "NCCL backend: off (missing ${_ftbench_missing_text})")
  else()
    set(FTBENCH_CUDA ON)
    add_library(ftbench::nccl SHARED IMPORTED)
    set_target_properties(ftbench::nccl PROPERTIES IMPORTED_LOCATION "${NCCL_LIBRARY}"
                          IMPORTED_NO_SONAME OFF)
    target_include_directories(ftbench::nccl SYSTEM INTERFACE "${NCCL_INCLUDE_DIR}")
    target_link_libraries(ftbench::nccl INTERFACE CUDA::cudart)
    message(STATUS "NCCL backend: on (${NCCL_LIBRARY})")
  endif()
endif()
