#include "util/thread_pool.h"

#include <algorithm>

namespace omendb {

struct ThreadPool::Loop {
  std::size_t count;
  std::size_t grain;
  const std::function<void(std::size_t, std::size_t)>* body;
  std::atomic<std::size_t> next{0};
};

ThreadPool::ThreadPool(std::size_t threads) {
  if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
  workers_.reserve(threads - 1);
  for (std::size_t t = 1; t < threads; ++t) workers_.emplace_back([this, t] { worker_main(t); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  for (std::thread& worker : workers_) worker.join();
}

void ThreadPool::run_blocks(Loop& loop, std::size_t thread) {
  for (;;) {
    const std::size_t begin = loop.next.fetch_add(loop.grain, std::memory_order_relaxed);
    if (begin >= loop.count) return;
    const std::size_t end = std::min(loop.count, begin + loop.grain);
    for (std::size_t i = begin; i < end; ++i) (*loop.body)(thread, i);
  }
}

void ThreadPool::parallel_for(std::size_t count, std::size_t grain,
                              const std::function<void(std::size_t, std::size_t)>& body) {
  if (count == 0) return;
  grain = std::max<std::size_t>(grain, 1);
  // An atomic flag, not a mutex: a nested loop tests it on the thread that set it, which
  // std::mutex::try_lock does not allow.
  if (workers_.empty() || count <= grain || busy_.exchange(true, std::memory_order_acquire)) {
    for (std::size_t i = 0; i < count; ++i) body(0, i);
    return;
  }
  Loop loop{count, grain, &body};
  {
    std::lock_guard lock(mutex_);
    loop_ = &loop;
    active_workers_ = workers_.size();
    ++generation_;
  }
  wake_.notify_all();
  run_blocks(loop, 0);
  std::unique_lock lock(mutex_);
  done_.wait(lock, [this] { return active_workers_ == 0; });
  loop_ = nullptr;
  busy_.store(false, std::memory_order_release);
}

void ThreadPool::worker_main(std::size_t thread) {
  std::size_t seen_generation = 0;
  for (;;) {
    Loop* loop = nullptr;
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [&] { return stopping_ || generation_ != seen_generation; });
      if (stopping_) return;
      seen_generation = generation_;
      loop = loop_;
    }
    run_blocks(*loop, thread);
    {
      std::lock_guard lock(mutex_);
      --active_workers_;
    }
    done_.notify_one();
  }
}

}  // namespace omendb
