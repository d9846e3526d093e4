#!/usr/bin/env bash
# The one-shot GPU check: builds ftbench on a rented GPU machine and proves the NCCL path there.
#
#   scripts/gpu-check.sh --fetch   HERE, on Debian 12 with apt: download the packages of scripts/gpu-debs.txt
#                                  (Open MPI 4.1, HDF5 1.10, toml++, CLI11, nlohmann-json, GoogleTest,
#                                  libarchive, pkg-config and their runtime libraries) into .gpu-debs/.
#   scripts/gpu-check.sh           THERE, on the GPU machine (CUDA, torch in /opt/torch/.venv, cmake, ninja and
#                                  a C++ compiler, but no MPI/HDF5/...; no network): unpack .gpu-debs/ with
#                                  `dpkg -x` into a private prefix (never into /), configure and build against
#                                  it, then run the GPU tests, a one-epoch NCCL quickstart and the report.
#
# Steps (each bounded by `timeout` and by the whole budget): host, nvidia-smi, unpack, configure, build-core
# (ftbench, test_nccl, test_communicator), version, gpu-tests (`ctest -L gpu`: nccl_gpu must RUN and pass
# where a GPU is visible; without a GPU its skip is reported as SKIP, not as a failure), mpi-tests
# (`ctest -L mpi`: the relocated mpiexec at 1-3 ranks), quickstart (experiments/quickstart.toml, 1 epoch,
# dist.backend=nccl on a GPU, mpi without), report (+ the run attributes read back with h5py), bench (issue
# 10: `ftbench bench` and the PyTorch reference side by side, tests/bench/side_by_side.py: resnet18@224,
# resnet50@224, vgg16@224, inception_v3@299, bf16, channels_last, world size 1; numbers in
# $OUT/gpu-bench.{md,json}), epoch (one CIFAR-10-sized epoch of resnet18@224: 50,000 synthetic training +
# 10,000 test images, bf16; $OUT/gpu-epoch.h5 and gpu-epoch.md), then, while time is left, build-all and
# unit-tests (`ctest -L unit`). Without a GPU, bench and epoch are skipped (77).
# Everything goes to $OUT/gpu-check.log; the console gets the step headers, results, failing steps' tails and
# a summary (also $OUT/gpu-check-summary.txt). Exit status: 0 when every step that ran passed or was a
# legitimate skip, 1 otherwise.
#
# Environment (all optional):
#   OUT / FTBENCH_GPU_OUT    where the log, summary, CMake cache copy and gpu-quickstart.h5 go
#                            (default: $OUT, else <build>/gpu-check-out)
#   FTBENCH_GPU_PYTHON       Python whose torch provides LibTorch (default /opt/torch/.venv/bin/python, else
#                            python3 on PATH)
#   FTBENCH_GPU_DEBS         the .deb folder (default <repo>/.gpu-debs)
#   FTBENCH_GPU_PREFIX       where the .debs are unpacked (default /tmp/ftbench-prefix)
#   FTBENCH_GPU_BUILD        build directory (default <repo>/build-gpucheck)
#   FTBENCH_GPU_BUDGET_S     wall-clock budget of the whole check in seconds (default 450)
#   FTBENCH_GPU_JOBS         build and test parallelism (default: nproc)
#   FTBENCH_GPU_WITH_CUDA    FTBENCH_WITH_CUDA for the build (default ON)
#   FTBENCH_GPU_BACKEND      dist.backend of the quickstart (default nccl with a GPU, mpi without)
#   FTBENCH_GPU_DEDUPE       1 (default): a carried runtime library whose soname the machine already has is
#                            left off LD_LIBRARY_PATH; 0: every carried library goes on it
#   FTBENCH_GPU_OPTIONAL     1 (default): run build-all and unit-tests when time is left; 0: never
#   FTBENCH_GPU_CAP_SCALE    multiplies every step's own time limit (default 1; e.g. 20 on a 2-core machine)
#   FTBENCH_GPU_BENCH        1 (default): run the bench and epoch steps; 0: skip them
#   FTBENCH_GPU_BENCH_CONFIGS  MODEL@SIZE list of the bench step (default
#                            resnet18@224,resnet50@224,vgg16@224,inception_v3@299)
#   FTBENCH_GPU_BENCH_ARGS   more arguments for side_by_side.py (default: --batch 256 --steps 30 --warmup 8
#                            --rounds 1 --precision bf16)
#   FTBENCH_GPU_EPOCH_BATCH  global batch of the epoch step (default 256)
set -euo pipefail

SELF="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/$(basename "${BASH_SOURCE[0]}")"
ROOT="$(cd "$(dirname "$SELF")/.." && pwd)"
LIST="$ROOT/scripts/gpu-debs.txt"
DEBS_DIR="${FTBENCH_GPU_DEBS:-$ROOT/.gpu-debs}"
MULTIARCH=x86_64-linux-gnu

say() { printf '[gpu-check] %s\n' "$*"; }
die() { printf '[gpu-check] error: %s\n' "$*" >&2; exit 1; }

# Package names from scripts/gpu-debs.txt (comments and blank lines dropped).
list_packages() { sed 's/#.*//' "$LIST" | tr -s ' \t' '\n' | sed '/^$/d'; }

# ---------------------------------------------------------------------------------------------- --fetch (here)
fetch() {
  if ! command -v apt-get >/dev/null || ! command -v dpkg-deb >/dev/null; then die "--fetch needs apt-get (Debian 12)"; fi
  [ "$(dpkg --print-architecture)" = amd64 ] || die "--fetch must run on an amd64 Debian 12 machine"
  # shellcheck disable=SC1091
  . /etc/os-release
  [ "${VERSION_CODENAME:-}" = bookworm ] \
    || say "warning: this is ${PRETTY_NAME:-not Debian 12}; the list is for Debian 12 (bookworm)"
  mapfile -t pkgs < <(list_packages)
  [ ${#pkgs[@]} -gt 0 ] || die "no packages in $LIST"

  local tmp sandbox=()
  tmp="$(mktemp -d "${DEBS_DIR%/}.tmp.XXXXXX")"
  [ "$(id -u)" = 0 ] && sandbox=(-o APT::Sandbox::User=root)   # else apt warns that _apt cannot write here
  say "downloading ${#pkgs[@]} packages into ${DEBS_DIR}"
  if ! (cd "$tmp" && apt-get -q "${sandbox[@]}" download "${pkgs[@]}" >"$tmp/.apt.log" 2>&1); then
    [ "$(id -u)" = 0 ] || { cat "$tmp/.apt.log" >&2; rm -rf "$tmp"; die "apt-get download failed (apt-get update needs root)"; }
    say "apt-get download failed; running apt-get update and retrying"
    apt-get update -qq
    (cd "$tmp" && apt-get -q "${sandbox[@]}" download "${pkgs[@]}" >"$tmp/.apt.log" 2>&1) \
      || { cat "$tmp/.apt.log" >&2; rm -rf "$tmp"; die "apt-get download failed"; }
  fi
  rm -f "$tmp/.apt.log"

  # Exactly one .deb per listed package, and nothing else.
  local p d n
  for p in "${pkgs[@]}"; do
    n=0
    for d in "$tmp/${p}"_*.deb; do
      [ -e "$d" ] && [ "$(dpkg-deb -f "$d" Package)" = "$p" ] && n=$((n + 1))
    done
    [ "$n" = 1 ] || { rm -rf "$tmp"; die "expected one .deb of $p, found $n"; }
  done
  {
    echo "# scripts/gpu-check.sh --fetch, $(date -u +%Y-%m-%dT%H:%M:%SZ), ${PRETTY_NAME:-?}"
    echo "# package version bytes"
    for d in "$tmp"/*.deb; do
      printf '%s %s %s\n' "$(dpkg-deb -f "$d" Package)" "$(dpkg-deb -f "$d" Version)" "$(stat -c %s "$d")"
    done
  } >"$tmp/MANIFEST"
  rm -rf "$DEBS_DIR"
  mv "$tmp" "$DEBS_DIR"
  local bytes
  bytes=$(awk '!/^#/ {s += $3} END {print s}' "$DEBS_DIR/MANIFEST")
  say "$(ls "$DEBS_DIR"/*.deb | wc -l) .deb files, $((bytes / 1024 / 1024)) MiB ($bytes bytes) in $DEBS_DIR (list: $DEBS_DIR/MANIFEST)"
}

# ------------------------------------------------------------------------------------- steps (the GPU machine)
# Each step runs as `gpu-check.sh --step NAME` in its own process group under `timeout`, with stdout and
# stderr in the log. Exit 0 = OK, 77 = SKIP (a legitimate skip), anything else = FAIL (124/137 = TIMEOUT).

runtime_env() { # the environment ftbench, its tests, mpiexec and orted need
  # shellcheck disable=SC1091
  . "$PREFIX/env.sh"
}

step_host() {
  echo "date:    $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "uname:   $(uname -a)"
  echo "os:      $(. /etc/os-release 2>/dev/null; echo "${PRETTY_NAME:-unknown}")"
  echo "glibc:   $(ldd --version 2>/dev/null | sed -n 1p)"
  echo "cpus:    $(nproc), memory: $(free -g 2>/dev/null | awk '/^Mem:/ {print $2 " GiB"}')"
  df -h /tmp "$ROOT" 2>/dev/null || true
  local t missing=()
  for t in c++ cc cmake ctest ninja nvcc dpkg ar git; do
    printf '  %-6s %s\n' "$t" "$(command -v "$t" || echo MISSING)"
  done
  for t in c++ cc cmake ctest ninja; do command -v "$t" >/dev/null || missing+=("$t"); done
  command -v c++ >/dev/null && c++ --version | sed -n 1p
  command -v cmake >/dev/null && cmake --version | sed -n 1p
  command -v ninja >/dev/null && echo "ninja $(ninja --version)"
  command -v nvcc >/dev/null && nvcc --version | tail -2
  echo "python:  $PY"
  "$PY" -c 'import sys, torch; print("  python", sys.version.split()[0], "torch", torch.__version__, "cuda", torch.version.cuda,
        "cuda available", torch.cuda.is_available(), "devices", torch.cuda.device_count())' \
    || missing+=("torch in $PY")
  [ ${#missing[@]} = 0 ] || { echo "MISSING: ${missing[*]}"; return 1; }
}

step_nvidia_smi() {
  command -v nvidia-smi >/dev/null || { echo "nvidia-smi not found"; return 77; }
  nvidia-smi || { [ "$HAVE_GPU" = 1 ] && return 1; return 77; }
  nvidia-smi -L
}

unpack_deb() { # dpkg -x, or ar + tar where dpkg is missing
  if command -v dpkg-deb >/dev/null; then
    dpkg-deb -x "$1" "$PREFIX"
  else
    local member
    member=$(ar t "$1" | grep '^data\.tar') || return 1
    case "$member" in
      *.xz) ar p "$1" "$member" | tar -xJ -C "$PREFIX" ;;
      *.zst) ar p "$1" "$member" | zstd -dc | tar -x -C "$PREFIX" ;;
      *.gz) ar p "$1" "$member" | tar -xz -C "$PREFIX" ;;
      *) ar p "$1" "$member" | tar -x -C "$PREFIX" ;;
    esac
  fi
}

step_unpack() {
  local lib="$PREFIX/usr/lib/$MULTIARCH" p d f n
  shopt -s nullglob
  local debs=("$DEBS_DIR"/*.deb)
  [ ${#debs[@]} -gt 0 ] || { echo "no .deb files in $DEBS_DIR: run 'scripts/gpu-check.sh --fetch' on Debian 12 and carry .gpu-debs"; return 1; }
  for p in $(list_packages); do
    f=("$DEBS_DIR/${p}"_*.deb)
    [ ${#f[@]} = 1 ] || { echo "expected one .deb of $p in $DEBS_DIR, found ${#f[@]}"; return 1; }
  done
  rm -rf "$PREFIX"
  mkdir -p "$PREFIX/tools" "$PREFIX/ld"
  for d in "${debs[@]}"; do unpack_deb "$d" || { echo "cannot unpack $d"; return 1; }; done
  echo "unpacked ${#debs[@]} packages ($(du -sm "$DEBS_DIR" | cut -f1) MiB of .deb) into $PREFIX ($(du -sm "$PREFIX" | cut -f1) MiB)"

  # pkg-config files name /usr: point them at the prefix.
  find "$PREFIX/usr" -name '*.pc' -exec sed -i -E "s#(^|[=[:space:]]|-I|-L)/usr(/|\$)#\1$PREFIX/usr\2#g" {} +

  # Some bookworm packages still ship /lib/... (libz.so.1, libnl-3, liblzma, ...): merge them into usr/ as
  # usrmerge does on a real system, then point absolute symlinks (libz.so -> /lib/...) into the prefix.
  for d in lib bin sbin; do
    [ -d "$PREFIX/$d" ] || continue
    mkdir -p "$PREFIX/usr/$d"
    cp -a "$PREFIX/$d/." "$PREFIX/usr/$d/"
    rm -rf "${PREFIX:?}/$d"
  done
  local target
  while IFS= read -r f; do
    target=$(readlink "$f")
    case "$target" in /lib/*|/bin/*|/sbin/*) target="/usr$target" ;; esac
    ln -sfn "$PREFIX$target" "$f"
  done < <(find "$PREFIX/usr" "$PREFIX/etc" -type l -lname '/*' 2>/dev/null)
  # Debian selects libpsm_infinipath.so.1 through update-alternatives (a maintainer script, not run by -x).
  for f in "$PREFIX"/usr/lib/libpsm1/libpsm_infinipath.so.1.*; do ln -sf "$f" "$lib/libpsm_infinipath.so.1"; done

  # $PREFIX/ld: the carried runtime libraries for LD_LIBRARY_PATH. With FTBENCH_GPU_DEDUPE=1 a library whose
  # soname the machine already provides (ldconfig's cache, file present) is left out: the machine's copy is
  # the same ABI and usually newer, and other programs there (ctest, python) keep using it.
  local system_sonames=""
  if [ "$DEDUPE" = 1 ] && command -v ldconfig >/dev/null; then
    system_sonames=$(ldconfig -p 2>/dev/null | awk '/x86-64/ && $NF ~ /^\// {print $1, $NF}' \
                     | while read -r so path; do [ -e "$path" ] && echo "$so"; done | sort -u)
  fi
  local kept=0 shared=()
  for f in "$lib"/lib*.so.*; do
    n=$(basename "$f")
    case "$n" in   # Open MPI, PMIx, HDF5, toml++, libarchive and their close partners: always the carried ones
      libmpi*|libopen-*|libmca_*|liboshmem*|libompitrace*|libpmix*|libhwloc*|libevent*|libhdf5*|libsz*|libaec*|\
      libtomlplusplus*|libarchive*|libpkgconf*|libuc[mpst]*|libfabric*) ;;
      *) if [ -n "$system_sonames" ] && grep -qxF "$n" <<<"$system_sonames"; then shared+=("$n"); continue; fi ;;
    esac
    ln -s "$f" "$PREFIX/ld/$n"; kept=$((kept + 1))
  done
  echo "LD_LIBRARY_PATH gets $kept carried library files; the machine's own copy is used for ${#shared[@]} sonames: ${shared[*]:-none}"

  # The runtime environment, sourced by every step that runs ftbench, its tests or Open MPI.
  cat >"$PREFIX/env.sh" <<EOF
# Written by scripts/gpu-check.sh: the runtime environment of the Debian packages unpacked into $PREFIX.
export OPAL_PREFIX="$PREFIX/usr"                                # relocated Open MPI: help files, plugins, orted
export PMIX_PREFIX="$lib/pmix2"                                  # relocated PMIx: its plugins and help files
export PMIX_PKGLIBDIR="$lib/pmix2/lib/pmix" PMIX_PKGDATADIR="$lib/pmix2/share/pmix"
export OPAL_SYSCONFDIR="$PREFIX/etc/openmpi"                      # Debian's openmpi-mca-params.conf (pml ^ucx, ...)
export FI_PROVIDER_PATH="$lib/libfabric"
export LD_LIBRARY_PATH="$PREFIX/ld\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
if [ "\$(id -u)" = 0 ]; then export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; fi
# Without ssh/rsh, Open MPI's default launcher (plm rsh) refuses to start even a local job or a singleton's
# orted ("plm_rsh_agent: ssh : rsh ... could not be found"); the isolated launcher starts local ranks only.
if ! command -v ssh >/dev/null 2>&1 && ! command -v rsh >/dev/null 2>&1; then export OMPI_MCA_plm=isolated; fi
EOF
  # Wrappers for CMake: pkg-config restricted to the prefix, and Open MPI's compiler wrapper and mpiexec.
  cat >"$PREFIX/tools/pkg-config" <<EOF
#!/bin/sh
export LD_LIBRARY_PATH="$lib\${LD_LIBRARY_PATH:+:\$LD_LIBRARY_PATH}"
export PKG_CONFIG_LIBDIR="$lib/pkgconfig:$PREFIX/usr/share/pkgconfig"
exec "$PREFIX/usr/bin/pkgconf" "\$@"
EOF
  cat >"$PREFIX/tools/mpicc" <<EOF
#!/bin/sh
. "$PREFIX/env.sh"
exec "$PREFIX/usr/bin/mpicc.openmpi" "\$@"
EOF
  cat >"$PREFIX/tools/mpiexec" <<EOF
#!/bin/sh
. "$PREFIX/env.sh"
exec "$PREFIX/usr/bin/mpiexec.openmpi" "\$@"
EOF
  chmod +x "$PREFIX/tools/pkg-config" "$PREFIX/tools/mpicc" "$PREFIX/tools/mpiexec"
  ln -sf mpiexec "$PREFIX/tools/mpirun"

  # Every carried ELF file must find its libraries (the core ones: a failure; plugins: a warning).
  runtime_env
  local core_missing=0 plugin_missing=0 out
  for f in "$lib"/lib*.so.* "$PREFIX"/usr/lib/libpsm1/*.so.* "$PREFIX"/usr/bin/* \
           "$lib"/openmpi/lib/openmpi3/*.so "$lib"/pmix2/lib/pmix/*.so "$lib"/libfabric/*.so "$lib"/ucx/*.so \
           "$lib"/libibverbs/*.so; do
    if [ ! -f "$f" ] || [ -L "$f" ] || [ "$(head -c 4 "$f" | tail -c 3)" != ELF ]; then continue; fi
    out=$(ldd "$f" 2>&1 | grep 'not found' || true)
    [ -z "$out" ] && continue
    case "$f" in
      */openmpi3/*|*/pmix/*|*/libfabric/*|*/ucx/*|*/libibverbs/*)
        echo "warning: plugin $f: $(echo "$out" | tr -s ' \t\n' ' ')"; plugin_missing=$((plugin_missing + 1)) ;;
      *) echo "MISSING for $f: $(echo "$out" | tr -s ' \t\n' ' ')"; core_missing=$((core_missing + 1)) ;;
    esac
  done
  echo "library closure: $core_missing core file(s) and $plugin_missing plugin(s) with unresolved libraries"
  "$PREFIX/tools/mpicc" -showme
  "$PREFIX/tools/pkg-config" --modversion tomlplusplus
  "$PREFIX/tools/pkg-config" --cflags --libs tomlplusplus
  "$PREFIX/usr/bin/ompi_info" --version | sed -n 1p
  "$PREFIX/usr/bin/ompi_info" --path sysconfdir --path pkglibdir
  "$PREFIX/usr/bin/ompi_info" --parsable -a 2>/dev/null | grep -E 'param:(pml|mtl|btl|osc):value' || true
  [ "$core_missing" = 0 ]
}

cache_get() { sed -n "s|^$1:[A-Z]*=||p" "$BUILD/CMakeCache.txt" | sed -n 1p; }

step_configure() {
  local lib="$PREFIX/usr/lib/$MULTIARCH"
  [ -f "$BUILD/CMakeCache.txt" ] && ! grep -q "$PREFIX/tools/mpicc" "$BUILD/CMakeCache.txt" && rm -rf "$BUILD"
  cmake -S "$ROOT" -B "$BUILD" -G Ninja \
    -DCMAKE_BUILD_TYPE=Release \
    -DFTBENCH_PYTHON="$PY" \
    -DFTBENCH_WITH_CUDA="$WITH_CUDA" \
    -DFTBENCH_BUILD_TESTS=ON \
    -DCMAKE_PREFIX_PATH="$PREFIX/usr" \
    -DPKG_CONFIG_EXECUTABLE="$PREFIX/tools/pkg-config" \
    -DMPI_C_COMPILER="$PREFIX/tools/mpicc" \
    -DMPIEXEC_EXECUTABLE="$PREFIX/tools/mpiexec" \
    -DHDF5_ROOT="$lib/hdf5/serial" \
    -DHDF5_NO_FIND_PACKAGE_CONFIG_FILE=ON \
    -DCMAKE_EXE_LINKER_FLAGS="-Wl,-rpath-link,$PREFIX/ld:$lib" \
    -DCMAKE_SHARED_LINKER_FLAGS="-Wl,-rpath-link,$PREFIX/ld:$lib"
  cp "$BUILD/CMakeCache.txt" "$OUT_DIR/gpu-check-CMakeCache.txt"

  # Proof that the carried packages, not the machine's /usr, were found.
  echo "--- dependency paths in $BUILD/CMakeCache.txt"
  local v val bad=0
  for v in MPI_mpi_LIBRARY MPI_C_HEADER_DIR MPIEXEC_EXECUTABLE FTBENCH_MPIEXEC HDF5_C_INCLUDE_DIR HDF5_hdf5_LIBRARY_RELEASE \
           pkgcfg_lib_TOMLPLUSPLUS_tomlplusplus TOMLPLUSPLUS_INCLUDEDIR CLI11_DIR CLI11_INCLUDE_DIR nlohmann_json_DIR \
           GTest_DIR LibArchive_INCLUDE_DIR LibArchive_LIBRARY; do
    val=$(cache_get "$v")
    [ -z "$val" ] && continue
    case "$val" in
      "$PREFIX"/*) printf '  ok   %-40s %s\n' "$v" "$val" ;;
      *) printf '  BAD  %-40s %s  (not under %s)\n' "$v" "$val" "$PREFIX"; bad=1 ;;
    esac
  done
  for v in MPI_mpi_LIBRARY HDF5_hdf5_LIBRARY_RELEASE pkgcfg_lib_TOMLPLUSPLUS_tomlplusplus LibArchive_LIBRARY; do
    [ -n "$(cache_get "$v")" ] || { echo "  BAD  $v is not set"; bad=1; }
  done
  for v in ZLIB_LIBRARY_RELEASE Torch_DIR NCCL_LIBRARY NCCL_INCLUDE_DIR CUDA_NVCC_EXECUTABLE CUDAToolkit_BIN_DIR CMAKE_CXX_COMPILER; do
    printf '  info %-40s %s\n' "$v" "$(cache_get "$v")"
  done
  return "$bad"
}

has_target() { ninja -C "$BUILD" -t targets all 2>/dev/null | grep "^$1:" >/dev/null; }

step_build_core() {
  local targets=(ftbench test_communicator)
  if has_target test_nccl; then targets+=(test_nccl)
  elif [ "$WITH_CUDA" = ON ]; then echo "no test_nccl target although FTBENCH_WITH_CUDA=ON"; return 1; fi
  cmake --build "$BUILD" --target "${targets[@]}" -- -j"$JOBS"
}

step_version() {
  runtime_env
  "$BUILD/ftbench" --version
  echo "--- ldd $BUILD/ftbench (MPI, HDF5, toml++, libarchive, NCCL, torch)"
  local l
  l=$(ldd "$BUILD/ftbench")
  grep -E 'libmpi|libopen-|hdf5|archive|toml|nccl|libtorch|libc10|not found' <<<"$l" || true
  ! grep -q 'not found' <<<"$l" || return 1
  for so in libmpi.so libhdf5_serial.so libtomlplusplus.so; do
    grep "$so" <<<"$l" | grep "=> $PREFIX/" >/dev/null || { echo "BAD: $so does not come from $PREFIX"; return 1; }
  done
}

step_gpu_tests() {
  runtime_env
  cd "$BUILD"
  local listed
  listed=$(ctest -N -L gpu)
  echo "$listed"
  if ! grep -q 'nccl_gpu' <<<"$listed"; then
    echo "nccl_gpu is not registered (NCCL backend not built)"
    [ "$WITH_CUDA" = ON ] && return 1
    return 77
  fi
  local log="$BUILD/gpu-check-ctest-gpu.txt" rc=0
  ctest -L gpu --output-on-failure --timeout 240 -j1 2>&1 | tee "$log" || rc=$?
  if grep -Eq 'nccl_gpu[ .]+\*+Skipped|nccl_gpu.*Not Run' "$log"; then
    if [ "$HAVE_GPU" = 1 ]; then echo "FAIL: nccl_gpu was SKIPPED although nvidia-smi sees a GPU"; return 1; fi
    echo "nccl_gpu skipped: no GPU on this machine"; return 77
  fi
  [ "$rc" = 0 ] || return "$rc"
  grep -Eq 'nccl_gpu[ .]+Passed' "$log" || { echo "FAIL: nccl_gpu did not pass"; return 1; }
}

step_quickstart() {
  runtime_env
  cd "$ROOT"
  rm -f "$OUT_DIR/gpu-quickstart.h5"
  export FTBENCH_PROGRESS=lines
  echo "backend: $BACKEND"
  "$BUILD/ftbench" run experiments/quickstart.toml --output "$OUT_DIR/gpu-quickstart.h5" \
    --set train.epochs=1 --set dist.backend="$BACKEND"
}

step_report() {
  runtime_env
  [ -f "$OUT_DIR/gpu-quickstart.h5" ] || { echo "no $OUT_DIR/gpu-quickstart.h5"; return 1; }
  "$BUILD/ftbench" report "$OUT_DIR/gpu-quickstart.h5"
  echo "--- run attributes (h5py)"
  # h5py wheels carry their own HDF5; keep the carried libraries away from it.
  env -u LD_LIBRARY_PATH "$PY" - "$OUT_DIR/gpu-quickstart.h5" "$BACKEND" <<'EOF'
import sys
import h5py
path, backend = sys.argv[1], sys.argv[2]
def s(v):
    return v.decode() if isinstance(v, bytes) else str(v)
bad = 0
with h5py.File(path, "r") as f:
    runs = f["runs"]
    if len(runs) == 0:
        print("no runs"); sys.exit(1)
    for rid, g in runs.items():
        a = g.attrs
        row = {k: s(a[k]) for k in ("status", "backend", "device", "world_size") if k in a}
        row["epochs"] = len(g["epoch"]) if "epoch" in g else 0
        row["test_acc"] = [round(float(x), 4) for x in g["test_acc"][:]] if "test_acc" in g else []
        print(rid, row)
        if row.get("status") != "completed" or row.get("backend") != backend or row["epochs"] != 1:
            bad = 1
        if backend == "nccl" and not row.get("device", "").startswith("cuda"):
            bad = 1
sys.exit(bad)
EOF
}

# Issue 10's GPU numbers: ftbench bench against PyTorch eager (the reference in tests/bench), same model,
# batch, bf16 autocast and channels_last, world size 1. The reference runs in $PY's torch without the carried
# libraries; where that Python has no torchvision it reports 'skipped: no torchvision' and only ftbench's
# numbers are kept.
step_bench() {
  [ "$HAVE_GPU" = 1 ] || { echo "no GPU: nothing to measure"; return 77; }
  runtime_env
  local py_clean="$OUT_DIR/.python-clean"
  printf '#!/bin/sh\nexec env -u LD_LIBRARY_PATH "%s" "$@"\n' "$PY" >"$py_clean"
  chmod +x "$py_clean"
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv 2>/dev/null || true
  # shellcheck disable=SC2086
  "$py_clean" "$ROOT/tests/bench/side_by_side.py" --ftbench "$BUILD/ftbench" --python "$py_clean" --device cuda \
    --configs "$BENCH_CONFIGS" --layouts 1x0 $BENCH_ARGS --json-out "$OUT_DIR/gpu-bench.json" \
    | tee "$OUT_DIR/gpu-bench.md"
  return "${PIPESTATUS[0]}"
}

# A CIFAR-10-sized epoch of resnet18 at 224 px (50,000 train + 10,000 test, synthetic, generated first and not
# timed), bf16, channels_last (auto), one GPU: epoch_seconds (training + evaluation) is what the target reads.
step_epoch() {
  [ "$HAVE_GPU" = 1 ] || { echo "no GPU: nothing to measure"; return 77; }
  runtime_env
  cd "$ROOT"
  rm -f "$OUT_DIR/gpu-epoch.h5"
  {
    echo '[experiment]'
    echo 'name = "gpu-epoch"'
    echo "output = \"$OUT_DIR/gpu-epoch.h5\""
    echo '[data]'
    echo 'dataset = "synthetic"'
    echo "path = \"$BUILD/gpu-epoch-data\""
    echo 'train_size = 50000'
    echo 'test_size = 10000'
    echo 'input_size = 224'
    echo 'augment = true'
    echo '[train]'
    echo 'epochs = 1'
    echo "batch_size = $EPOCH_BATCH"
    echo 'lr = 0.01'
    echo 'schedule = "constant"'
    echo 'precision = "bf16"'
    echo '[matrix]'
    echo 'models = ["resnet18"]'
    echo 'weights = "none"'
  } >"$OUT_DIR/gpu-epoch.toml"
  export FTBENCH_PROGRESS=lines
  "$BUILD/ftbench" run "$OUT_DIR/gpu-epoch.toml" || return 1
  "$BUILD/ftbench" report "$OUT_DIR/gpu-epoch.h5" --epochs resnet18-full-s0 | tee "$OUT_DIR/gpu-epoch.md"
  return "${PIPESTATUS[0]}"
}

step_build_all() { cmake --build "$BUILD" -- -j"$JOBS"; }

step_mpi_tests() { # the relocated mpiexec at 1, 2 and 3 ranks (communicator and gradient reducer on the CPU)
  runtime_env
  cd "$BUILD"
  ctest -L '^mpi$' --output-on-failure --timeout 120
}

step_unit_tests() {
  runtime_env
  cd "$BUILD"
  ctest -L '^unit$' --output-on-failure --timeout 240 -j"$JOBS"
}

# ------------------------------------------------------------------------------------------------ the driver
declare -a SUMMARY=()
FAILED=0
STOP=0

record() { # record NAME STATUS SECONDS
  SUMMARY+=("$(printf '%-12s %-8s %5s s' "$1" "$2" "$3")")
  say "$(printf '%-12s %-8s (%s s)' "$1" "$2" "$3")" | tee -a "$LOG"
}

print_summary() {
  {
    echo "== gpu-check summary ($(date -u +%H:%M:%SZ), $((SECONDS - T0)) s of ${BUDGET} s, GPU: $([ "$HAVE_GPU" = 1 ] && echo yes || echo no))"
    local l
    for l in "${SUMMARY[@]}"; do echo "  $l"; done
    echo "  result: $([ "$FAILED" = 0 ] && echo PASS || echo FAIL)   log: $LOG"
  } | tee -a "$LOG" | tee "$OUT_DIR/gpu-check-summary.txt"
}

# run_step NAME CAP_SECONDS KIND: KIND is required (a failure stops the later steps), check (a failure is
# recorded, the others still run) or optional (only when >= 60 s are left; its failure still counts).
run_step() {
  local name=$1 cap=$2 kind=$3 left t rc start off
  if [ "$STOP" = 1 ]; then record "$name" "NOT-RUN" 0; return; fi
  left=$((DEADLINE - SECONDS))
  if { [ "$kind" = optional ] && [ "$left" -lt 60 ]; } || [ "$left" -lt 10 ]; then
    record "$name" "SKIP" 0; say "  (${left} s of the budget left)" | tee -a "$LOG"; return
  fi
  cap=$((cap * CAP_SCALE))
  t=$((cap < left ? cap : left))
  printf '\n===== %s (limit %s s) =====\n' "$name" "$t" >>"$LOG"
  say "--- $name (limit ${t} s)"
  off=$(stat -c %s "$LOG")
  start=$SECONDS
  rc=0
  timeout -k 10 "$t" bash "$SELF" --step "$name" >>"$LOG" 2>&1 </dev/null || rc=$?
  case "$rc" in
    0) record "$name" OK $((SECONDS - start)) ;;
    77) record "$name" SKIP $((SECONDS - start)) ;;
    124|137) record "$name" TIMEOUT $((SECONDS - start)) ;;
    *) record "$name" "FAIL($rc)" $((SECONDS - start)) ;;
  esac
  if [ "$rc" != 0 ] && [ "$rc" != 77 ]; then
    FAILED=1
    say "    last lines of $name:"
    tail -c +"$((off + 1))" "$LOG" | tail -n 40 | sed 's/^/    | /'
    [ "$kind" = required ] && STOP=1
  fi
  return 0
}

main() {
  PY="${FTBENCH_GPU_PYTHON:-}"
  if [ -z "$PY" ]; then
    for PY in /opt/torch/.venv/bin/python /opt/torch/.venv/bin/python3 "$(command -v python3 || echo python3)"; do
      [ -x "$PY" ] && break
    done
  fi
  PREFIX="${FTBENCH_GPU_PREFIX:-/tmp/ftbench-prefix}"
  BUILD="${FTBENCH_GPU_BUILD:-$ROOT/build-gpucheck}"
  OUT_DIR="${FTBENCH_GPU_OUT:-${OUT:-$BUILD/gpu-check-out}}"
  BUDGET="${FTBENCH_GPU_BUDGET_S:-450}"
  JOBS="${FTBENCH_GPU_JOBS:-$(nproc)}"
  WITH_CUDA="${FTBENCH_GPU_WITH_CUDA:-ON}"
  DEDUPE="${FTBENCH_GPU_DEDUPE:-1}"
  OPTIONAL="${FTBENCH_GPU_OPTIONAL:-1}"
  CAP_SCALE="${FTBENCH_GPU_CAP_SCALE:-1}"
  BENCH="${FTBENCH_GPU_BENCH:-1}"
  BENCH_CONFIGS="${FTBENCH_GPU_BENCH_CONFIGS:-resnet18@224,resnet50@224,vgg16@224,inception_v3@299}"
  BENCH_ARGS="${FTBENCH_GPU_BENCH_ARGS:---batch 256 --steps 30 --warmup 8 --rounds 1 --precision bf16}"
  EPOCH_BATCH="${FTBENCH_GPU_EPOCH_BATCH:-256}"
  HAVE_GPU=0
  { nvidia-smi -L 2>/dev/null | grep '^GPU ' >/dev/null || [ -e /dev/nvidia0 ]; } && HAVE_GPU=1
  BACKEND="${FTBENCH_GPU_BACKEND:-$([ "$HAVE_GPU" = 1 ] && echo nccl || echo mpi)}"
  # nvcc for find_package(CUDAToolkit); the venv's bin for a pip-installed cmake or ninja.
  command -v nvcc >/dev/null || { [ -x /usr/local/cuda/bin/nvcc ] && PATH="$PATH:/usr/local/cuda/bin"; }
  PATH="$PATH:$(dirname "$PY")"
  mkdir -p "$OUT_DIR"
  OUT_DIR="$(cd "$OUT_DIR" && pwd)"
  LOG="$OUT_DIR/gpu-check.log"
  : >"$LOG"
  export PY PREFIX BUILD OUT_DIR JOBS WITH_CUDA DEDUPE HAVE_GPU BACKEND PATH DEBS_DIR BENCH_CONFIGS BENCH_ARGS EPOCH_BATCH
  T0=$SECONDS
  DEADLINE=$((SECONDS + BUDGET))
  say "repo $ROOT, build $BUILD, prefix $PREFIX, log $LOG, budget ${BUDGET} s, GPU: $HAVE_GPU, backend: $BACKEND" | tee -a "$LOG"
  trap print_summary EXIT

  run_step host         30 required
  run_step nvidia-smi   30 check
  run_step unpack       90 required
  run_step configure   150 required
  run_step build-core  360 required
  run_step version      30 check
  run_step gpu-tests   270 check
  run_step mpi-tests   120 check
  run_step quickstart  240 check
  run_step report       60 check
  if [ "$BENCH" = 1 ]; then
    run_step bench      200 check
    run_step epoch      100 check
  fi
  if [ "$OPTIONAL" = 1 ]; then
    run_step build-all   300 optional
    run_step unit-tests  300 optional
  fi
  trap - EXIT
  print_summary
  [ "$FAILED" = 0 ]
}

case "${1:-}" in
  --fetch) fetch ;;
  --step)
    case "${2:-}" in
      host) step_host ;; nvidia-smi) step_nvidia_smi ;; unpack) step_unpack ;; configure) step_configure ;;
      build-core) step_build_core ;; version) step_version ;; gpu-tests) step_gpu_tests ;; mpi-tests) step_mpi_tests ;;
      quickstart) step_quickstart ;; report) step_report ;; bench) step_bench ;; epoch) step_epoch ;;
      build-all) step_build_all ;;
      unit-tests) step_unit_tests ;; *) die "unknown step '${2:-}'" ;;
    esac ;;
  -h|--help) sed -n '2,/^set -euo/p' "$SELF" | sed '$d; s/^# \{0,1\}//' ;;
  "") main ;;
  *) die "unknown argument '$1' (see --help)" ;;
esac
