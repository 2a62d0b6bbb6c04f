// A fixed set of worker threads that run parallel loops for batch inserts and batch searches.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace omendb {

class ThreadPool {
 public:
  // A pool running loops on `threads` threads in all: the caller plus threads - 1 workers.
  // threads == 0 means one per hardware thread.
  explicit ThreadPool(std::size_t threads);
  ~ThreadPool();  // joins the workers
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  // Threads a loop may use, the caller included.
  std::size_t size() const noexcept { return workers_.size() + 1; }

  // Calls body(thread, i) for every i in [0, count), handing out indices in blocks of `grain`,
  // and returns when all calls have returned. `thread` is in [0, size()) and unique among the
  // threads running this loop, so it can index scratch space allocated per loop. `body` must not
  // throw. While another loop runs (from another thread, or nested in a body), this one runs on
  // the calling thread alone with thread == 0: loops never wait for each other. Scratch space
  // shared by concurrent loops must therefore not be indexed by `thread`.
  void parallel_for(std::size_t count, std::size_t grain,
                    const std::function<void(std::size_t thread, std::size_t i)>& body);

 private:
  struct Loop;
  void worker_main(std::size_t thread);
  static void run_blocks(Loop& loop, std::size_t thread);

  std::atomic<bool> busy_{false};  // set by the caller of the running loop while it runs
  std::mutex mutex_;
  std::condition_variable wake_;
  std::condition_variable done_;
  Loop* loop_ = nullptr;            // guarded by mutex_
  std::size_t generation_ = 0;      // guarded by mutex_; bumped for each loop
  std::size_t active_workers_ = 0;  // guarded by mutex_
  bool stopping_ = false;           // guarded by mutex_
  std::vector<std::thread> workers_;
};

}  // namespace omendb
