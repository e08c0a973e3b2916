#include "core/clock_condition.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <thread>

namespace lplex {
namespace {

using namespace std::chrono_literals;

// A thread waiting on a FakeClock until a deadline wakes when Advance reaches
// it, not before, and not by itself in real time.
TEST(ClockCondition, FakeClockWaiterWakesOnlyWhenAdvanceReachesTheDeadline) {
  FakeClock clock(0, 0);
  ClockCondition cond(&clock);
  std::mutex mu;
  std::atomic<bool> returned{false};
  bool result = true;
  std::thread t([&] {
    std::unique_lock<std::mutex> lock(mu);
    result = cond.WaitUntil(lock, clock.Monotonic() + 10s, [] { return false; });
    returned = true;
  });
  ASSERT_TRUE(clock.AwaitBlocks(1));
  clock.Advance(9s);  // not there yet: the thread re-checks and blocks again
  ASSERT_TRUE(clock.AwaitBlocks(2));
  EXPECT_FALSE(returned.load());
  clock.Advance(1s);
  t.join();
  EXPECT_TRUE(returned.load());
  EXPECT_FALSE(result) << "the deadline came first, so WaitUntil says false";
}

TEST(ClockCondition, NotifyAllWakesAWaiterWhosePredicateBecameTrue) {
  FakeClock clock;
  ClockCondition cond(&clock);
  std::mutex mu;
  bool ready = false;
  bool result = false;
  std::thread t([&] {
    std::unique_lock<std::mutex> lock(mu);
    result = cond.WaitUntil(lock, MonoTime::max(), [&] { return ready; });
  });
  ASSERT_TRUE(clock.AwaitBlocks(1));
  {
    std::lock_guard<std::mutex> lock(mu);
    ready = true;
  }
  cond.NotifyAll();
  t.join();
  EXPECT_TRUE(result);
  EXPECT_EQ(clock.MonotonicMicros(), 0) << "no time had to pass";
}

TEST(ClockCondition, DeadlineAlreadyReachedReturnsWithoutBlocking) {
  FakeClock clock(0, 5'000'000);
  ClockCondition cond(&clock);
  std::mutex mu;
  std::unique_lock<std::mutex> lock(mu);
  EXPECT_FALSE(cond.WaitUntil(lock, clock.Monotonic(), [] { return false; }));
  EXPECT_FALSE(cond.WaitUntil(lock, clock.Monotonic() - 1s, [] { return false; }));
  EXPECT_TRUE(cond.WaitUntil(lock, clock.Monotonic() - 1s, [] { return true; }));
  EXPECT_TRUE(lock.owns_lock());
  EXPECT_EQ(clock.blocks(), 0u);
}

// A wall-clock step (Set, or a negative Advance) must not end a wait: only
// monotonic time counts.
TEST(ClockCondition, WallClockStepDoesNotEndAWait) {
  FakeClock clock(1'000'000, 0);
  ClockCondition cond(&clock);
  std::mutex mu;
  std::atomic<bool> returned{false};
  std::thread t([&] {
    std::unique_lock<std::mutex> lock(mu);
    cond.WaitUntil(lock, clock.Monotonic() + 1s, [] { return false; });
    returned = true;
  });
  ASSERT_TRUE(clock.AwaitBlocks(1));
  clock.Set(1'000'000 + 3'600'000'000LL);  // an hour forward on the wall
  clock.Advance(-5'000'000);
  EXPECT_FALSE(returned.load());
  clock.Advance(1s);
  t.join();
  EXPECT_TRUE(returned.load());
}

// Many rounds of "change state under the lock, notify" against a waiter that
// re-checks: none of the notifications is lost (the test would hang).
TEST(ClockCondition, NotificationBetweenCheckAndSleepIsNotLost) {
  FakeClock clock;
  ClockCondition cond(&clock);
  std::mutex mu;
  int produced = 0;
  int consumed = 0;
  constexpr int kRounds = 2000;
  std::thread consumer([&] {
    std::unique_lock<std::mutex> lock(mu);
    while (consumed < kRounds) {
      cond.WaitUntil(lock, MonoTime::max(), [&] { return produced > consumed; });
      consumed = produced;
    }
  });
  for (int i = 0; i < kRounds; ++i) {
    {
      std::lock_guard<std::mutex> lock(mu);
      ++produced;
    }
    cond.NotifyAll();
  }
  consumer.join();
  EXPECT_EQ(consumed, kRounds);
}

// The same for clock moves racing a waiter's deadline check.
TEST(ClockCondition, AdvanceBetweenCheckAndSleepIsNotLost) {
  for (int round = 0; round < 200; ++round) {
    FakeClock clock;
    ClockCondition cond(&clock);
    std::mutex mu;
    const MonoTime deadline = clock.Monotonic() + 1ms;  // fixed before the race starts
    std::thread t([&] {
      std::unique_lock<std::mutex> lock(mu);
      cond.WaitUntil(lock, deadline, [] { return false; });
    });
    clock.Advance(1ms);  // may land before, during or after the waiter's check
    t.join();
  }
}

TEST(ClockCondition, RealClockWaitEndsAtTheDeadline) {
  ClockCondition cond;  // Clock::Real()
  std::mutex mu;
  std::unique_lock<std::mutex> lock(mu);
  const auto t0 = std::chrono::steady_clock::now();
  EXPECT_FALSE(cond.WaitUntil(lock, Clock::Real()->Monotonic() + 20ms, [] { return false; }));
  const auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(took, 19ms);
  EXPECT_LT(took, 2s);
}

}  // namespace
}  // namespace lplex
