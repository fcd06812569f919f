// The helper-thread pool behind tbd::parallel_for (see parallel.h).
#include "parallel.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include <unistd.h>

#ifdef TBD_WITH_OPENMP
#include <omp.h>
#endif

namespace tbd {
namespace {

struct Job {
  const std::function<void(int64_t)>* task;
  int64_t tasks;
  int helpers;                     // helpers allowed to join
  std::atomic<int> joined{0};
  std::atomic<int64_t> next{0};    // next unclaimed task
  std::atomic<int64_t> done{0};    // finished tasks
  std::mutex mutex;
  std::condition_variable finished;

  // Claims and runs tasks until none are left; true if this call finished the last task.
  bool work() {
    bool last = false;
    for (int64_t i = next.fetch_add(1); i < tasks; i = next.fetch_add(1)) {
      (*task)(i);
      last = done.fetch_add(1) + 1 == tasks;
    }
    return last;
  }
};

class Pool {
 public:
  static Pool& instance() {
    static Pool* pool = new Pool();  // never destroyed: helpers are detached daemon threads
    return *pool;
  }

  // A forked child has no helper threads (and maybe a mutex locked at fork time): run serially.
  bool usable() const { return getpid() == owner_; }

  void run(int64_t tasks, int threads, const std::function<void(int64_t)>& task) {
    auto job = std::make_shared<Job>();
    job->task = &task;
    job->tasks = tasks;
    job->helpers = threads - 1;
    ensure_helpers(threads - 1);
    {
      std::lock_guard<std::mutex> lock(mutex_);
      job_ = job;
      generation_.fetch_add(1);
    }
    wake_.notify_all();
    job->work();
    // Wait only for tasks that helpers claimed and are still running.
    const auto spin_until = std::chrono::steady_clock::now() + std::chrono::microseconds(100);
    while (job->done.load() < tasks && std::chrono::steady_clock::now() < spin_until) std::this_thread::yield();
    if (job->done.load() < tasks) {
      std::unique_lock<std::mutex> lock(job->mutex);
      job->finished.wait(lock, [&] { return job->done.load() >= tasks; });
    }
    std::lock_guard<std::mutex> lock(mutex_);
    if (job_ == job) job_.reset();
  }

 private:
  void ensure_helpers(int wanted) {
    std::lock_guard<std::mutex> lock(mutex_);
    while (helpers_ < wanted) {
      std::thread([this] { helper_loop(); }).detach();
      ++helpers_;
    }
  }

  void helper_loop() {
    uint64_t seen = generation_.load();
    for (;;) {
      // Spin briefly for back-to-back kernel calls, then sleep until the next job.
      const auto spin_until = std::chrono::steady_clock::now() + std::chrono::microseconds(200);
      while (generation_.load() == seen && std::chrono::steady_clock::now() < spin_until) std::this_thread::yield();
      std::shared_ptr<Job> job;
      {
        std::unique_lock<std::mutex> lock(mutex_);
        wake_.wait(lock, [&] { return generation_.load() != seen; });
        seen = generation_.load();
        job = job_;
      }
      if (!job || job->joined.fetch_add(1) >= job->helpers) continue;
      if (job->work()) {
        std::lock_guard<std::mutex> lock(job->mutex);
        job->finished.notify_all();
      }
    }
  }

  const pid_t owner_ = getpid();
  std::mutex mutex_;
  std::condition_variable wake_;
  std::atomic<uint64_t> generation_{0};
  std::shared_ptr<Job> job_;
  int helpers_ = 0;
};

}  // namespace

int max_threads() {
#ifdef TBD_WITH_OPENMP
  return std::max(1, omp_get_max_threads());
#else
  return std::max(1u, std::thread::hardware_concurrency());
#endif
}

void parallel_for(int64_t tasks, int threads, const std::function<void(int64_t)>& task) {
  threads = static_cast<int>(std::min<int64_t>(threads, tasks));
  if (threads <= 1 || !Pool::instance().usable()) {
    for (int64_t i = 0; i < tasks; ++i) task(i);
    return;
  }
  Pool::instance().run(tasks, threads, task);
}

}  // namespace tbd
