# Shared by slurm/finetune.sbatch and slurm/sweep-array.sbatch (sourced, not run): launching ftbench inside
# the allocation, forwarding the preemption signal, and requeueing on exit code 75.
#
# Variables (all optional; set them in the environment of `sbatch`, which passes it on):
#   FTBENCH_ROOT          the ftbench checkout (default: the directory you ran sbatch from)
#   FTBENCH               the binary (default: $FTBENCH_ROOT/build/ftbench)
#   FTBENCH_LAUNCH        srun (default) or mpirun: how ranks start inside the allocation
#   FTBENCH_SRUN_MPI      srun's --mpi plugin (default pmix: Debian's Open MPI 4.1 speaks PMIx, not PMI2)
#   FTBENCH_GPUS          GPUs per node (default: $SLURM_GPUS_PER_NODE, else 0). 0 means CPU ranks: submit
#                         with `sbatch --gpus-per-node=0 ...` on a cluster without GPUs (the tests do).
#   FTBENCH_MAX_RESTARTS  requeues after a preemption or time limit (exit 75) before giving up (default 3)

FTBENCH_ROOT="${FTBENCH_ROOT:-${SLURM_SUBMIT_DIR:-$PWD}}"
FTBENCH="${FTBENCH:-$FTBENCH_ROOT/build/ftbench}"
FTBENCH_LAUNCH="${FTBENCH_LAUNCH:-srun}"
FTBENCH_SRUN_MPI="${FTBENCH_SRUN_MPI:-pmix}"
FTBENCH_GPUS="${FTBENCH_GPUS:-${SLURM_GPUS_PER_NODE:-0}}"
FTBENCH_MAX_RESTARTS="${FTBENCH_MAX_RESTARTS:-3}"

ftbench_log() { echo "[$(date -u +%FT%TZ) slurm job ${SLURM_JOB_ID:-?}] $*"; }

# Each rank's intra-op threads: the CPUs Slurm gave its task.
export OMP_NUM_THREADS="${SLURM_CPUS_PER_TASK:-1}"

# The launcher, as an array: srun (one task per rank, as the allocation says) or mpirun inside it.
ftbench_launcher() {
  if [ "$FTBENCH_LAUNCH" = mpirun ]; then
    LAUNCH=(mpirun -np "$SLURM_NTASKS" --bind-to none -x FTBENCH_EXIT_FILE)
    [ "$(id -u)" = 0 ] && LAUNCH+=(--allow-run-as-root)
  else
    # --kill-on-bad-exit: one rank failing ends the step at once (ftbench also aborts the job itself).
    LAUNCH=(srun --mpi="$FTBENCH_SRUN_MPI" --kill-on-bad-exit=1)
  fi
}

# Runs "$@" (the ftbench command line) under the launcher in the background, forwards SIGUSR1 and SIGTERM to
# it (the batch shell gets `--signal=B:USR1@120`; bash runs a trap only while it waits on a background job,
# hence the `&` and `wait`), and requeues the job when ftbench exits 75 ("interrupted, resumable"), at most
# FTBENCH_MAX_RESTARTS times. Exits with ftbench's code, or 0 once the job is requeued: 75 when the requeue
# is refused and 1 when the launcher reported success without ftbench having finished, so that a stopped
# experiment never ends as a COMPLETED job.
ftbench_run_with_requeue() {
  ftbench_launcher
  [ -x "$FTBENCH" ] || { ftbench_log "error: $FTBENCH is not built; run scripts/setup.sh first"; exit 2; }
  ftbench_log "start: ${SLURM_NNODES:-1} node(s), ${SLURM_NTASKS:-1} task(s), $OMP_NUM_THREADS thread(s)/task, " \
              "GPUs/node $FTBENCH_GPUS, restart ${SLURM_RESTART_COUNT:-0}/$FTBENCH_MAX_RESTARTS: ${LAUNCH[*]} $*"
  # srun can report success for a step whose tasks never started ("task launch failed"), so rank 0 writes
  # its exit code here as it ends (FTBENCH_EXIT_FILE, read below). Node-local: rank 0 runs on the batch host,
  # the allocation's first node, where srun and mpirun put it.
  export FTBENCH_EXIT_FILE="${TMPDIR:-/tmp}/ftbench-${SLURM_JOB_ID:-$$}-${SLURM_RESTART_COUNT:-0}.exit"
  rm -f "$FTBENCH_EXIT_FILE"
  "${LAUNCH[@]}" "$@" &
  local pid=$!
  trap 'ftbench_log "signal received: asking ftbench to checkpoint and stop"; kill -USR1 '"$pid"' 2>/dev/null || true' USR1 TERM
  local rc=0
  while true; do
    wait "$pid"
    rc=$?
    kill -0 "$pid" 2>/dev/null || break  # a trap interrupted `wait`; the step is still running
  done
  trap - USR1 TERM
  if [ "$rc" = 0 ] && [ ! -s "$FTBENCH_EXIT_FILE" ]; then
    ftbench_log "error: ${LAUNCH[0]} reported success, but ftbench never finished (no exit code in" \
                "$FTBENCH_EXIT_FILE): the step did not start or was lost; the results and checkpoints are" \
                "kept: submit the same command again to resume"
    rc=1
  fi
  rm -f "$FTBENCH_EXIT_FILE"
  if [ "$rc" = 75 ]; then
    if [ "${SLURM_RESTART_COUNT:-0}" -lt "$FTBENCH_MAX_RESTARTS" ]; then
      ftbench_log "ftbench stopped at a checkpoint (exit 75): requeueing job $SLURM_JOB_ID"
      if scontrol requeue "$SLURM_JOB_ID"; then
        exit 0
      fi
      # Not requeued (submitted with --no-requeue, or the site does not let users requeue): the job must not
      # end COMPLETED with the experiment half done. Exit 75, and say how to go on.
      ftbench_log "error: scontrol requeue $SLURM_JOB_ID failed, so the job stops here; the checkpoint is" \
                  "kept: submit the same command again to resume (and submit with --requeue to requeue by itself)"
      exit 75
    fi
    ftbench_log "ftbench stopped at a checkpoint (exit 75), but the job was already requeued" \
                "${SLURM_RESTART_COUNT:-0} times (FTBENCH_MAX_RESTARTS=$FTBENCH_MAX_RESTARTS); resubmit it to go on"
  fi
  ftbench_log "ftbench exited $rc"
  exit "$rc"
}
