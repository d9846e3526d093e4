// The OpenMP wait policy of the commands that train (run, bench).
//
// Why: LibTorch's CPU kernels run on libgomp's thread team, and libgomp's default lets a thread that reaches
// a barrier first SPIN for a while instead of sleeping. On a machine with as many busy processes as cores
// (2 ranks x 1 thread on 2 cores, or anything else running), the spinning thread holds a core that the thread
// it waits for needs: measured on a shared 2-core machine, a resnet18 training step took 3.4x longer
// (tests/bench/RESULTS.md). OMP_WAIT_POLICY=PASSIVE makes waiting threads sleep at once.
//
// libgomp reads OMP_WAIT_POLICY only when it is loaded, before main(), so setting it later has no effect: the
// process sets it and re-executes itself (same pid, before MPI is initialised, so mpirun and srun see nothing
// change). A value the user set, ACTIVE included, is kept, and no re-execution happens.
#pragma once

namespace ftbench::cli {

// Call before MPI_Init and before any thread starts. Returns only when the policy is in effect or cannot be
// changed (exec failed: the process continues with libgomp's default).
void ensure_passive_omp_wait(char** argv);

}  // namespace ftbench::cli
