#!/usr/bin/env bash
# Installs everything ftbench needs and builds it. Idempotent, and fast when nothing changed:
#   1. Debian packages (apt-get update runs only when a package is missing);
#   2. .venv with the pinned torch/torchvision (reinstalled only when scripts/requirements.txt changes);
#   3. configure (CMake preset "release") and build build/ftbench with its tests (ccache when present).
# Environment: FTBENCH_SKIP_APT=1 skips step 1 (no root); FTBENCH_PRESET picks another preset.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
cd "$FTBENCH_ROOT"

APT_PACKAGES=(
  build-essential cmake ninja-build pkg-config git ccache   # toolchain
  libopenmpi-dev openmpi-bin                                 # MPI ranks and mpirun
  libhdf5-dev hdf5-tools                                     # results files (h5dump, h5clear for users)
  libtomlplusplus-dev libcli11-dev nlohmann-json3-dev        # config, CLI, JSON report
  libgtest-dev libarchive-dev zlib1g-dev                     # tests; reading cifar-10-binary.tar.gz
  clang-14 libclang-rt-14-dev                                # libFuzzer targets of the weight parsers (scripts/fuzz.sh)
  munge slurmctld slurmd slurm-client                        # a one-node Slurm for the job-script tests (tests/slurm)
  python3-venv
)

if [ "${FTBENCH_SKIP_APT:-0}" != 1 ]; then
  missing=()
  for p in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    [ "$(id -u)" = 0 ] || die "missing Debian packages: ${missing[*]}; run as root or install them (FTBENCH_SKIP_APT=1 skips this)"
    log "installing ${#missing[@]} Debian package(s): ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    log "Debian packages: present"
  fi
fi

stamp="$FTBENCH_VENV/.ftbench-requirements"
if [ ! -x "$FTBENCH_VENV/bin/python" ] || ! cmp -s scripts/requirements.txt "$stamp"; then
  log "creating $FTBENCH_VENV with $(grep -E '^torch==' scripts/requirements.txt) (a few GB; cached by pip)"
  python3 -m venv "$FTBENCH_VENV"
  "$FTBENCH_VENV/bin/pip" install -q --disable-pip-version-check -r scripts/requirements.txt
  cp scripts/requirements.txt "$stamp"
else
  log "venv: $("$FTBENCH_VENV/bin/python" -c 'import torch; print("torch", torch.__version__)')"
fi

preset="${FTBENCH_PRESET:-release}"
command -v ccache >/dev/null && export FTBENCH_CCACHE=ccache
if [ ! -f "$FTBENCH_BUILD/CMakeCache.txt" ] || [ "$preset" != release ]; then
  log "configuring (preset $preset)"
  cmake --preset "$preset" >"${TMPDIR:-/tmp}/ftbench-configure.log" 2>&1 \
    || { tail -40 "${TMPDIR:-/tmp}/ftbench-configure.log"; die "configure failed (full log: ${TMPDIR:-/tmp}/ftbench-configure.log)"; }
fi
log "building"
start=$SECONDS
cmake --build --preset "$preset" -- -j"$(nproc)" 2>&1 | grep -E 'error:|warning:|FAILED:' || true
[ "${PIPESTATUS[0]}" = 0 ] || die "build failed: rerun 'cmake --build --preset $preset' to see the errors"
log "built $FTBENCH_BUILD/ftbench in $((SECONDS - start)) s"
