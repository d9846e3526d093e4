# Test helpers. Every test is a CTest test; MPI tests run their binary under mpiexec with N ranks.
#
# ftbench_add_test(NAME name SOURCES a.cpp ... LIBS lib ... [LABELS l ...])
#   A GoogleTest binary registered as one CTest test.
# ftbench_add_mpi_test(NAME name TARGET target RANKS n [LABELS l ...] [ARGS ...])
#   Runs an existing test binary under mpiexec -n RANKS, oversubscribed and allowed as root, because CI
#   runs as root on two cores.
find_package(GTest REQUIRED)

set(FTBENCH_MPIEXEC "${MPIEXEC_EXECUTABLE}" CACHE FILEPATH "mpiexec used by the MPI tests")
set(FTBENCH_MPIEXEC_FLAGS --oversubscribe --allow-run-as-root --bind-to none CACHE STRING "Flags for MPI tests")

# Under FTBENCH_SANITIZE (the asan preset) every GoogleTest and MPI test runs with these sanitizer settings.
# ENVIRONMENT_MODIFICATION, not ENVIRONMENT, so that a suite's own set_tests_properties(... ENVIRONMENT ...)
# does not drop them. cmake/sanitizers/*.supp hold the suppressions, each with the reason it is there.
# MPI tests also unwind every allocation fully (Open MPI's libraries have no frame pointers, so the fast
# unwinder stops after one frame and no suppression can match) and keep Open MPI's and PMIx's plugins loaded
# (a plugin unloaded at MPI_Finalize leaves "<unknown module>" frames). Both only make leaks attributable.
set(FTBENCH_SANITIZER_ENV "")
set(FTBENCH_SANITIZER_MPI_ENV "")
if(FTBENCH_SANITIZE)
  set(_supp "${PROJECT_SOURCE_DIR}/cmake/sanitizers")
  set(_asan "detect_leaks=1:check_initialization_order=1:strict_init_order=1:detect_stack_use_after_return=1")
  set(_lsan "suppressions=${_supp}/lsan.supp:print_suppressions=0")
  set(_ubsan "UBSAN_OPTIONS=set:print_stacktrace=1:halt_on_error=1:suppressions=${_supp}/ubsan.supp")
  set(FTBENCH_SANITIZER_ENV "ASAN_OPTIONS=set:${_asan}" "LSAN_OPTIONS=set:${_lsan}" "${_ubsan}")
  set(FTBENCH_SANITIZER_MPI_ENV "ASAN_OPTIONS=set:${_asan}:fast_unwind_on_malloc=0"
      "LSAN_OPTIONS=set:${_lsan}:fast_unwind_on_malloc=0" "${_ubsan}"
      "OMPI_MCA_mca_base_component_disable_dlclose=set:1" "PMIX_MCA_mca_base_component_disable_dlclose=set:1")
endif()

function(ftbench_add_test)
  cmake_parse_arguments(T "" "NAME" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE ${T_LIBS} GTest::gtest GTest::gtest_main ftbench_warnings)
  add_test(NAME ${T_NAME} COMMAND ${T_NAME})
  set_tests_properties(${T_NAME} PROPERTIES LABELS "unit;${T_LABELS}" TIMEOUT 300
                       ENVIRONMENT_MODIFICATION "${FTBENCH_SANITIZER_ENV}")
endfunction()

function(ftbench_add_mpi_test)
  cmake_parse_arguments(T "" "NAME;TARGET;RANKS" "LABELS;ARGS" ${ARGN})
  add_test(NAME ${T_NAME}
           COMMAND ${FTBENCH_MPIEXEC} -n ${T_RANKS} ${FTBENCH_MPIEXEC_FLAGS} $<TARGET_FILE:${T_TARGET}> ${T_ARGS})
  set_tests_properties(${T_NAME} PROPERTIES LABELS "mpi;${T_LABELS}" TIMEOUT 300 PROCESSORS ${T_RANKS}
                       ENVIRONMENT_MODIFICATION "${FTBENCH_SANITIZER_MPI_ENV}")
endfunction()
