#!/usr/bin/env bash
# Sets everything up (scripts/setup.sh), builds, and runs the whole test suite with CTest.
# Extra arguments go to ctest, e.g.  scripts/test.sh -L mpi   or   scripts/test.sh -R config
set -euo pipefail
source "$(dirname "$0")/lib.sh"
start=$SECONDS
"$FTBENCH_ROOT/scripts/setup.sh"
cd "$FTBENCH_BUILD"
log "running tests"
ctest --output-on-failure --timeout 600 -j"$(nproc)" "$@"
log "done in $((SECONDS - start)) s"
