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

function(ftbench_add_test)
  cmake_parse_arguments(T "" "NAME" "SOURCES;LIBS;LABELS" ${ARGN})
  add_executable(${T_NAME} ${T_SOURCES})
  target_link_libraries(${T_NAME} PRIVATE ${T_LIBS} GTest::gtest GTest::gtest_main ftbench_warnings)
  add_test(NAME ${T_NAME} COMMAND ${T_NAME})
  set_tests_properties(${T_NAME} PROPERTIES LABELS "unit;${T_LABELS}" TIMEOUT 300)
endfunction()

function(ftbench_add_mpi_test)
  cmake_parse_arguments(T "" "NAME;TARGET;RANKS" "LABELS;ARGS" ${ARGN})
  add_test(NAME ${T_NAME}
           COMMAND ${FTBENCH_MPIEXEC} -n ${T_RANKS} ${FTBENCH_MPIEXEC_FLAGS} $<TARGET_FILE:${T_TARGET}> ${T_ARGS})
  set_tests_properties(${T_NAME} PROPERTIES LABELS "mpi;${T_LABELS}" TIMEOUT 300 PROCESSORS ${T_RANKS})
endfunction()
