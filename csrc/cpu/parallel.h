// parallel_for for the CPU kernels, on the OpenMP runtime (shared with torch when both load the
// same libgomp, so torch.set_num_threads applies and idle workers are reused between torch ops
// and ours).
//
// Tasks are claimed from an atomic counter, so a late thread simply finds less to do. One
// hazard remains: an OpenMP region ends at a barrier that waits for every thread of the team, and
// on a busy machine (two cores, another process holding one) a woken worker can wait a whole
// scheduler tick (4-8 ms) for a core, turning a 0.2 ms kernel into an 8 ms one. parallel_for
// notices such a stall (the calling thread finished its share long before the region ended) and
// then runs serially for a short while before trying threads again. A forked child runs serially
// (libgomp's workers do not survive fork; a region there would wait forever).
#pragma once

#include <cstdint>
#include <functional>

namespace tbd {

// Threads the kernels may use: omp_get_max_threads() (OMP_NUM_THREADS, torch.set_num_threads).
int max_threads();

// Runs task(i) for every i in [0, tasks) on at most `threads` threads (the caller included) and
// returns when all are done. `task` must not throw.
void parallel_for(int64_t tasks, int threads, const std::function<void(int64_t)>& task);

}  // namespace tbd
