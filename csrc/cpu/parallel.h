// parallel_for for the CPU kernels: the calling thread works through the tasks together with
// whichever helper threads are free, and never waits for a helper that has not started.
//
// Why not `#pragma omp parallel for`: an OpenMP region ends at a barrier that waits for every
// thread of the team. On a busy machine (a 2-core box where another process holds one core) a
// woken worker can wait a whole scheduler tick (4-8 ms) for a core, and the region with it,
// which turns a 0.2 ms kernel into an 8 ms one. Here tasks are claimed from an atomic counter;
// the caller only waits for tasks a helper has actually claimed.
#pragma once

#include <cstdint>
#include <functional>

namespace tbd {

// Threads the kernels may use: omp_get_max_threads() when built with OpenMP (so it follows
// OMP_NUM_THREADS and torch.set_num_threads, which share the runtime), else the core count.
int max_threads();

// Runs task(i) for every i in [0, tasks) on at most `threads` threads (the caller included) and
// returns when all are done. `task` must not throw.
void parallel_for(int64_t tasks, int threads, const std::function<void(int64_t)>& task);

}  // namespace tbd
