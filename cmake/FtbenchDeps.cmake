# Debian-packaged dependencies. scripts/setup.sh installs them; the hints below say which package to add
# when one is missing.
find_package(MPI REQUIRED COMPONENTS C)
find_package(HDF5 REQUIRED COMPONENTS C)
find_package(PkgConfig REQUIRED)
find_package(nlohmann_json 3 REQUIRED)
find_package(CLI11 CONFIG QUIET)
find_package(LibArchive REQUIRED)
find_package(ZLIB REQUIRED)

pkg_check_modules(TOMLPLUSPLUS REQUIRED IMPORTED_TARGET tomlplusplus)
if(NOT TARGET tomlplusplus::tomlplusplus)
  add_library(tomlplusplus::tomlplusplus ALIAS PkgConfig::TOMLPLUSPLUS)
endif()

if(NOT TARGET CLI11::CLI11)
  find_path(CLI11_INCLUDE_DIR CLI/CLI.hpp)
  if(NOT CLI11_INCLUDE_DIR)
    message(FATAL_ERROR "CLI11 not found: install it with 'apt-get install libcli11-dev' (or run scripts/setup.sh)")
  endif()
  add_library(CLI11::CLI11 INTERFACE IMPORTED)
  target_include_directories(CLI11::CLI11 SYSTEM INTERFACE "${CLI11_INCLUDE_DIR}")
endif()

# One imported target for HDF5's C API, whatever FindHDF5 produced on this CMake version.
if(NOT TARGET ftbench::hdf5)
  add_library(ftbench::hdf5 INTERFACE IMPORTED)
  target_include_directories(ftbench::hdf5 SYSTEM INTERFACE ${HDF5_C_INCLUDE_DIRS} ${HDF5_INCLUDE_DIRS})
  target_link_libraries(ftbench::hdf5 INTERFACE ${HDF5_C_LIBRARIES})
  target_compile_definitions(ftbench::hdf5 INTERFACE ${HDF5_C_DEFINITIONS} ${HDF5_DEFINITIONS})
endif()
