#include "util/thread_pool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <thread>
#include <vector>

namespace omendb {
namespace {

using Clock = std::chrono::steady_clock;

// Waits until `condition` holds, yielding; false if it still does not after 10 seconds, so a
// broken pool fails the test instead of hanging it.
template <class Condition>
bool wait_for(Condition condition) {
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (!condition()) {
    if (Clock::now() > deadline) return false;
    std::this_thread::yield();
  }
  return true;
}

// Runs a loop over [0, count) and checks that every index was visited exactly once and that
// no two bodies ran at once with the same `thread` value.
void expect_each_index_once(ThreadPool& pool, std::size_t count, std::size_t grain) {
  std::vector<std::atomic<int>> visits(count);
  std::vector<std::atomic<int>> running(pool.size());
  std::atomic<bool> thread_out_of_range{false};
  std::atomic<bool> thread_shared{false};
  pool.parallel_for(count, grain, [&](std::size_t thread, std::size_t i) {
    if (thread >= pool.size()) {
      thread_out_of_range = true;
      return;
    }
    if (running[thread].fetch_add(1) != 0) thread_shared = true;
    visits[i].fetch_add(1, std::memory_order_relaxed);
    std::this_thread::yield();  // widens the window in which a shared `thread` would show
    running[thread].fetch_sub(1);
  });
  EXPECT_FALSE(thread_out_of_range);
  EXPECT_FALSE(thread_shared);
  for (std::size_t i = 0; i < count; ++i) {
    ASSERT_EQ(visits[i].load(), 1) << "index " << i << " of " << count << ", grain " << grain;
  }
}

// size() counts the caller and the workers; 0 threads means one per hardware thread.
TEST(ThreadPoolTest, SizeCountsCallerAndWorkers) {
  EXPECT_EQ(ThreadPool(1).size(), 1u);
  EXPECT_EQ(ThreadPool(4).size(), 4u);
  EXPECT_EQ(ThreadPool(0).size(), std::max(1u, std::thread::hardware_concurrency()));
}

// Every index is visited exactly once, with in-range and non-shared `thread` values, for many
// combinations of pool size, count and grain: empty loops, count below, at and above the grain,
// grain 0, and counts that do not divide into blocks.
TEST(ThreadPoolTest, VisitsEveryIndexExactlyOnce) {
  for (std::size_t threads : {1u, 2u, 3u, 4u, 8u}) {
    ThreadPool pool(threads);
    for (std::size_t count : {0u, 1u, 2u, 7u, 63u, 64u, 65u, 1000u, 10'007u}) {
      for (std::size_t grain : {0u, 1u, 3u, 64u, 1000u, 100'000u}) {
        SCOPED_TRACE(testing::Message()
                     << threads << " threads, count " << count << ", grain " << grain);
        expect_each_index_once(pool, count, grain);
      }
    }
  }
}

// One pool runs thousands of consecutive loops correctly (workers pick up every new loop and
// none is left running into the next).
TEST(ThreadPoolTest, RunsManyConsecutiveLoops) {
  ThreadPool pool(4);
  for (int loop = 0; loop < 2000; ++loop) {
    std::atomic<std::size_t> sum{0};
    pool.parallel_for(100, 1, [&](std::size_t, std::size_t i) { sum += i; });
    ASSERT_EQ(sum.load(), 4950u) << "loop " << loop;
  }
}

// Workers really take part: the caller's first body blocks until another thread has run a
// body, which only a worker can do.
TEST(ThreadPoolTest, WorkersRunBodiesAlongsideTheCaller) {
  ThreadPool pool(4);
  const std::thread::id caller = std::this_thread::get_id();
  std::atomic<int> bodies_on_workers{0};
  std::atomic<bool> timed_out{false};
  pool.parallel_for(4, 1, [&](std::size_t thread, std::size_t) {
    if (std::this_thread::get_id() != caller) {
      EXPECT_NE(thread, 0u);  // 0 is the caller's
      ++bodies_on_workers;
      return;
    }
    EXPECT_EQ(thread, 0u);
    if (!wait_for([&] { return bodies_on_workers.load() > 0; })) timed_out = true;
  });
  EXPECT_FALSE(timed_out);
  EXPECT_GT(bodies_on_workers.load(), 0);
}

// A body that starts another loop on the same pool gets it run inline on its own thread with
// thread == 0, every inner index once, whether the body runs on the caller or on a worker.
TEST(ThreadPoolTest, NestedLoopRunsInlineInTheBody) {
  ThreadPool pool(4);
  std::vector<std::atomic<int>> inner_visits(64 * 100);
  std::atomic<bool> inner_moved_thread{false};
  std::atomic<bool> inner_thread_not_zero{false};
  pool.parallel_for(64, 1, [&](std::size_t, std::size_t outer) {
    const std::thread::id body_thread = std::this_thread::get_id();
    pool.parallel_for(100, 1, [&](std::size_t thread, std::size_t inner) {
      if (std::this_thread::get_id() != body_thread) inner_moved_thread = true;
      if (thread != 0) inner_thread_not_zero = true;
      inner_visits[outer * 100 + inner].fetch_add(1);
    });
  });
  EXPECT_FALSE(inner_moved_thread);
  EXPECT_FALSE(inner_thread_not_zero);
  for (std::size_t i = 0; i < inner_visits.size(); ++i) ASSERT_EQ(inner_visits[i].load(), 1);
}

// While one caller's loop holds the pool, a second caller's loop runs inline on the second
// caller's thread with thread == 0, completes, and does not wait for the first.
TEST(ThreadPoolTest, ConcurrentCallerRunsInlineWhileThePoolIsBusy) {
  ThreadPool pool(4);
  std::atomic<bool> first_started{false};
  std::atomic<bool> second_done{false};
  std::atomic<bool> first_timed_out{false};
  std::vector<std::atomic<int>> first_visits(1000);
  std::thread first_caller([&] {
    pool.parallel_for(1000, 1, [&](std::size_t, std::size_t i) {
      first_visits[i].fetch_add(1);
      if (i == 0) {
        first_started = true;
        if (!wait_for([&] { return second_done.load(); })) first_timed_out = true;
      }
    });
  });
  const bool first_started_in_time = wait_for([&] { return first_started.load(); });
  std::vector<int> second_visits(500, 0);  // plain ints: only this thread may touch them
  bool second_off_thread_or_not_zero = false;
  const std::thread::id second_caller = std::this_thread::get_id();
  pool.parallel_for(500, 1, [&](std::size_t thread, std::size_t i) {
    if (thread != 0 || std::this_thread::get_id() != second_caller) {
      second_off_thread_or_not_zero = true;
    }
    ++second_visits[i];
  });
  second_done = true;
  first_caller.join();
  EXPECT_TRUE(first_started_in_time);
  EXPECT_FALSE(first_timed_out);
  EXPECT_FALSE(second_off_thread_or_not_zero);
  EXPECT_TRUE(
      std::all_of(second_visits.begin(), second_visits.end(), [](int v) { return v == 1; }));
  for (std::size_t i = 0; i < first_visits.size(); ++i) ASSERT_EQ(first_visits[i].load(), 1);
}

// Two threads calling parallel_for on one pool over and over, racing for it, both always get
// complete and correct loops.
TEST(ThreadPoolTest, TwoCallersRacingStayCorrect) {
  ThreadPool pool(3);
  const auto hammer = [&pool](std::size_t salt) {
    for (std::size_t round = 0; round < 300; ++round) {
      const std::size_t count = 50 + (round * 7 + salt) % 200;
      std::vector<std::atomic<int>> visits(count);
      pool.parallel_for(count, 1 + round % 5, [&](std::size_t, std::size_t i) { ++visits[i]; });
      for (std::size_t i = 0; i < count; ++i) {
        if (visits[i].load() != 1) return false;
      }
    }
    return true;
  };
  bool other_ok = false;
  std::thread other([&] { other_ok = hammer(1); });
  const bool this_ok = hammer(2);
  other.join();
  EXPECT_TRUE(this_ok);
  EXPECT_TRUE(other_ok);
}

// Pools are destroyed cleanly right after construction, after one loop, and after many, with
// workers idle or just finished.
TEST(ThreadPoolTest, DestructionJoinsWorkers) {
  for (int round = 0; round < 50; ++round) {
    { ThreadPool idle(4); }
    {
      ThreadPool used(4);
      std::atomic<int> calls{0};
      used.parallel_for(1000, 10, [&](std::size_t, std::size_t) { ++calls; });
      EXPECT_EQ(calls.load(), 1000);
    }
    {
      ThreadPool reused(3);
      for (int loop = 0; loop < 5; ++loop) {
        reused.parallel_for(64, 1, [](std::size_t, std::size_t) {});
      }
    }
  }
}

}  // namespace
}  // namespace omendb
