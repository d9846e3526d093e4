# ftbench_warnings: every ftbench target links this INTERFACE target, so warning policy lives in one place.
# Third-party headers (LibTorch, MPI, HDF5) come in through imported targets and are treated as system
# headers, so these flags apply to our code only.
add_library(ftbench_warnings INTERFACE)
target_compile_options(ftbench_warnings INTERFACE
  $<$<COMPILE_LANG_AND_ID:CXX,GNU,Clang>:-Wall -Wextra -Wshadow -Wnon-virtual-dtor -Wformat=2
                                        -Wno-unused-parameter>)

# FTBENCH_SANITIZE (the asan preset): AddressSanitizer and UBSan, plus libstdc++'s cheap precondition checks
# (_GLIBCXX_ASSERTIONS: an empty std::optional dereferenced, operator[] out of range), which ASan cannot see
# inside a container's own storage. The checks do not change the library ABI, so LibTorch still links.
if(FTBENCH_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
                      -D_GLIBCXX_ASSERTIONS)
  add_link_options(-fsanitize=address,undefined)
endif()
