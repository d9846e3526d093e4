// glibc malloc settings for the commands that train (run, bench).
//
// Why: a training step allocates and frees the same large activation and gradient tensors every step. glibc
// serves blocks above its mmap threshold (128 KiB at start, raised as blocks are freed, at most 32 MiB) with
// fresh mmap()s, unmaps them on free, and trims the heap top back to the kernel once more than twice the
// threshold is free. Each step then faults in and zeroes the same pages again: 4-5% of a mobilenet_v2@32
// CPU step went to the kernel's page-fault and clear_page paths. With the threshold fixed at 32 MiB and no
// trimming, freed blocks stay in the heap and are reused. Measured on 2 CPU threads, batch 64 (4 A/B pairs,
// README "Benchmarks"): mobilenet_v2@32 trained 25% faster, resnet18@32 10%, for 0-8 MiB more peak RSS.
// PyTorch users get the same effect by preloading jemalloc or tcmalloc.
//
// A setting the user made is kept: nothing changes when GLIBC_TUNABLES names a glibc.malloc tunable or any
// MALLOC_*_ variable is set. The heap then does not shrink while a run trains, so a rank's resident size
// stays near its peak (resnet18@224 on the CPU: 1.79 instead of 1.65 GiB); `run` hands the free heap back
// between runs (malloc_trim in train::run_experiment), so an experiment's peak is its largest run's.
#pragma once

namespace ftbench::cli {

// Call once, early in main, before large allocations. Returns whether the settings were applied.
bool tune_malloc_for_training();

}  // namespace ftbench::cli
