# Shared by the scripts in this folder: paths, logging, and MPI settings. Source it; do not run it.
FTBENCH_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
FTBENCH_VENV="${FTBENCH_VENV:-$FTBENCH_ROOT/.venv}"
FTBENCH_BUILD="${FTBENCH_BUILD:-$FTBENCH_ROOT/build}"

log() { printf '[%s] %s\n' "$(basename "$0" .sh)" "$*"; }
die() { printf '[%s] error: %s\n' "$(basename "$0" .sh)" "$*" >&2; exit 1; }

# Open MPI refuses to run as root unless told; CI and containers run as root.
if [ "$(id -u)" = 0 ]; then
  export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
fi
