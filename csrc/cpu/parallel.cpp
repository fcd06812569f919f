// tbd::parallel_for (see parallel.h).
#include "parallel.h"

#include <algorithm>
#include <atomic>
#include <chrono>

#include <unistd.h>

#ifdef TBD_WITH_OPENMP
#include <omp.h>
#endif

namespace tbd {
namespace {

using Clock = std::chrono::steady_clock;

// A region that outlived the caller's own work by this much waited for a descheduled worker.
constexpr auto kStall = std::chrono::microseconds(1500);
// After a stall, run serially this long before trying threads again.
constexpr auto kSerialAfterStall = std::chrono::milliseconds(250);

// Clock time (ns since epoch of steady_clock) until which parallel_for runs serially. Process-wide
// on purpose: contention is a property of the machine, not of one call.
std::atomic<int64_t> serial_until_ns{0};

// The process that may use the OpenMP workers: a forked child inherits none (libgomp is not
// fork-safe and would wait for them forever), so it runs serially.
const pid_t owner_pid = getpid();

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

}  // namespace

int max_threads() {
#ifdef TBD_WITH_OPENMP
  return std::max(1, omp_get_max_threads());
#else
  return 1;
#endif
}

void parallel_for(int64_t tasks, int threads, const std::function<void(int64_t)>& task) {
  threads = static_cast<int>(std::min<int64_t>(threads, tasks));
#ifdef TBD_WITH_OPENMP
  if (threads > 1 && now_ns() >= serial_until_ns.load(std::memory_order_relaxed) && !omp_in_parallel() &&
      getpid() == owner_pid) {
    std::atomic<int64_t> next{0};
    int64_t caller_done_ns = 0;
    const int64_t start = now_ns();
#pragma omp parallel num_threads(threads)
    {
      for (int64_t i = next.fetch_add(1); i < tasks; i = next.fetch_add(1)) task(i);
      if (omp_get_thread_num() == 0) caller_done_ns = now_ns();
    }
    const int64_t end = now_ns();
    const int64_t waited = end - caller_done_ns, worked = caller_done_ns - start;
    if (waited > std::chrono::nanoseconds(kStall).count() && waited > worked)
      serial_until_ns.store(end + std::chrono::nanoseconds(kSerialAfterStall).count(), std::memory_order_relaxed);
    return;
  }
#endif
  for (int64_t i = 0; i < tasks; ++i) task(i);
}

}  // namespace tbd
