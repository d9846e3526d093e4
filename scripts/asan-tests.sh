#!/usr/bin/env bash
# Builds test binaries with AddressSanitizer + UndefinedBehaviorSanitizer (CMake preset "asan", build-asan/,
# CUDA off) and runs them with CTest. The sanitizer options and suppressions (cmake/sanitizers/) come with
# the tests (tests/CMakeLists.txt), so `ctest --preset asan` runs them the same way.
#
#   scripts/asan-tests.sh [TARGET...]     default: the parser and loader tests that CI runs (below)
#   FTBENCH_ASAN_TESTS='^communicator_np' scripts/asan-tests.sh test_communicator
#
# Only the named targets and what they link are built: an instrumented build of everything takes long on
# small machines. scripts/test.sh calls this for the full suite (FTBENCH_ASAN=0 skips it).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$FTBENCH_ROOT"

# The parsers and loaders that need no LibTorch: the experiment TOML, CIFAR-10 (directory and tar.gz), the
# weight-file formats (pickle, zip, legacy, safetensors), the HDF5 results store and reader: minutes to build.
# The LibTorch-linked tests pass too (test_weights, test_communicator under mpiexec; README, "Sanitizers"),
# but an instrumented LibTorch-side build (models, weights) takes far longer, so CI leaves them out.
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(test_config test_data test_weights_parse test_results)
build="$FTBENCH_ROOT/build-asan"
command -v ccache >/dev/null && export FTBENCH_CCACHE=ccache

start=$SECONDS
if [ ! -f "$build/CMakeCache.txt" ]; then
  log "configuring $build (preset asan)"
  cmake --preset asan -DFTBENCH_PYTHON="$FTBENCH_VENV/bin/python" >"$build.configure.log" 2>&1 ||
    { tail -30 "$build.configure.log"; die "configure failed (log: $build.configure.log)"; }
fi
log "building ${targets[*]}"
cmake --build "$build" --target "${targets[@]}" -- -j"$(nproc)" >"$build/build.log" 2>&1 ||
  { grep -E 'error|FAILED' -A3 "$build/build.log" | head -40; die "asan build failed (log: $build/build.log)"; }
log "built in $((SECONDS - start)) s"

# The tests named like the targets; MPI tests are named otherwise (test_communicator runs as communicator_np1..3),
# so FTBENCH_ASAN_TESTS (a CTest regex) picks other tests, e.g. FTBENCH_ASAN_TESTS='^communicator_np'.
regex="${FTBENCH_ASAN_TESTS:-^($(IFS='|'; echo "${targets[*]}"))\$}"
ctest --test-dir "$build" --output-on-failure --timeout 900 -j"$(nproc)" -R "$regex"
log "asan tests done in $((SECONDS - start)) s"
