#!/usr/bin/env bash
# Builds the libFuzzer targets of the weight-file parsers (clang-14, ASan + UBSan) in build-fuzz/ and runs
# each for a bounded time on a seed corpus of real files written by the venv's torch.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET] [TARGET...]     default: 45 s, all four targets
#
# The corpus grows in build-fuzz/corpus/<target> across runs; a crash leaves its input in
# build-fuzz/artifacts/ and fails the script. scripts/test.sh runs this after the test suite
# (FTBENCH_FUZZ_SECONDS=0 skips it).
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$FTBENCH_ROOT"

seconds="${1:-45}"
# libFuzzer reads anything else (a target name, 0) as "no time limit" and would run for ever.
[[ "$seconds" =~ ^[1-9][0-9]*$ ]] ||
  die "the first argument is the seconds per target (a whole number >= 1), not '$seconds'; usage: scripts/fuzz.sh [SECONDS] [TARGET...]"
shift || true
targets=("$@")
[[ ${#targets[@]} -gt 0 ]] || targets=(fuzz_unpickler fuzz_legacy fuzz_safetensors fuzz_zip)
build="${FTBENCH_FUZZ_BUILD:-$FTBENCH_ROOT/build-fuzz}"

command -v clang++-14 >/dev/null || die "clang++-14 not found: apt-get install clang-14 libclang-rt-14-dev"
mkdir -p "$build"
if [ ! -f "$build/CMakeCache.txt" ]; then
  log "configuring $build (clang-14, FTBENCH_FUZZ=ON)"
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang-14 \
        -DCMAKE_CXX_COMPILER=clang++-14 -DFTBENCH_FUZZ=ON -DFTBENCH_WITH_CUDA=OFF \
        -DFTBENCH_PYTHON="$FTBENCH_VENV/bin/python" >"$build/configure.log" 2>&1 ||
    { tail -30 "$build/configure.log"; die "configure failed (log: $build/configure.log)"; }
fi
log "building ${targets[*]}"
cmake --build "$build" --target "${targets[@]}" -- -j"$(nproc)" >"$build/build.log" 2>&1 ||
  { grep -E 'error|FAILED' -A3 "$build/build.log" | head -40; die "fuzz build failed (log: $build/build.log)"; }

# Seeds: small real files of each kind, written by the same script as the test fixtures.
seeds="$build/seeds"
if [ ! -d "$seeds/seeds" ]; then
  "$FTBENCH_VENV/bin/python" tests/weights/make_fixtures.py "$seeds" --small >/dev/null
fi

declare -A seed_dir=([fuzz_unpickler]=pickle [fuzz_legacy]=legacy [fuzz_safetensors]=safetensors [fuzz_zip]=zip)
declare -A dict=([fuzz_unpickler]=pickle.dict [fuzz_legacy]=pickle.dict [fuzz_safetensors]=safetensors.dict [fuzz_zip]=pickle.dict)
mkdir -p "$build/artifacts"
failed=0
for target in "${targets[@]}"; do
  corpus="$build/corpus/$target"
  mkdir -p "$corpus"
  log_file="$build/$target.log"
  # Leak detection is off for fuzz_zip only: LibTorch's static initialisers keep allocations alive on purpose.
  leaks=1
  [ "$target" = fuzz_zip ] && leaks=0
  ASAN_OPTIONS="detect_leaks=$leaks:allocator_may_return_null=1" UBSAN_OPTIONS="print_stacktrace=1" \
    "$build/tests/fuzz/$target" "$corpus" "$seeds/seeds/${seed_dir[$target]}" \
      -dict="tests/fuzz/${dict[$target]}" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
      -max_len=65536 -print_final_stats=1 -artifact_prefix="$build/artifacts/$target-" >"$log_file" 2>&1 &&
    status=ok || { status=FAILED; failed=1; }
  execs=$(grep -m1 'stat::number_of_executed_units' "$log_file" | awk '{print $2}')
  cov=$(grep -oE 'cov: [0-9]+' "$log_file" | tail -1)
  log "$target: $status, ${execs:-?} executions in ${seconds} s, ${cov:-cov: ?}, corpus $(ls "$corpus" | wc -l) files"
  [ "$status" = ok ] || { grep -E 'ERROR|SUMMARY|violated|Test unit written' "$log_file" | head -10; }
done
[ "$failed" = 0 ] || die "a fuzz target found a crash; inputs are in $build/artifacts/"
