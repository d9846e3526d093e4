# ftbench_warnings: every ftbench target links this INTERFACE target, so warning policy lives in one place.
# Third-party headers (LibTorch, MPI, HDF5) come in through imported targets and are treated as system
# headers, so these flags apply to our code only.
add_library(ftbench_warnings INTERFACE)
target_compile_options(ftbench_warnings INTERFACE
  $<$<COMPILE_LANG_AND_ID:CXX,GNU,Clang>:-Wall -Wextra -Wshadow -Wnon-virtual-dtor -Wformat=2
                                        -Wno-unused-parameter>)

if(FTBENCH_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  add_link_options(-fsanitize=address,undefined)
endif()
