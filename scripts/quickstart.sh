#!/usr/bin/env bash
# The quick start: set up, then fine-tune the runs of experiments/quickstart.toml on 2 MPI ranks (CPU),
# and print the comparison table. Synthetic data is generated on first use; nothing is downloaded.
#   scripts/quickstart.sh [extra ftbench run options, e.g. --set train.epochs=1]
set -euo pipefail
source "$(dirname "$0")/lib.sh"
"$FTBENCH_ROOT/scripts/setup.sh"
cd "$FTBENCH_ROOT"
ranks="${FTBENCH_RANKS:-2}"
log "mpirun -np $ranks build/ftbench run experiments/quickstart.toml"
start=$SECONDS
# --oversubscribe: allow more ranks than cores on small machines; --bind-to none: each rank uses
# `threads` cores of its own choosing instead of being pinned to one.
mpirun -np "$ranks" --oversubscribe --bind-to none "$FTBENCH_BUILD/ftbench" run experiments/quickstart.toml "$@"
log "finished in $((SECONDS - start)) s; compare again any time with: build/ftbench report results/quickstart.h5"
