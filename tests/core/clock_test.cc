#include "core/clock.h"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <thread>
#include <vector>

namespace lplex {
namespace {

TEST(FakeClock, StartsWhereToldAndDefaultsToZero) {
  EXPECT_EQ(FakeClock().NowMicros(), 0);
  EXPECT_EQ(FakeClock(1772460000000000).NowMicros(), 1772460000000000);
}

TEST(FakeClock, DoesNotMoveOnItsOwn) {
  FakeClock c(100);
  std::this_thread::sleep_for(std::chrono::milliseconds(2));
  EXPECT_EQ(c.NowMicros(), 100);
}

TEST(FakeClock, SetAndAdvance) {
  FakeClock c(100);
  c.Advance(50);
  EXPECT_EQ(c.NowMicros(), 150);
  c.Set(1'000'000);
  EXPECT_EQ(c.NowMicros(), 1'000'000);
  c.Advance(-2'000'000);  // a clock step backwards, as NTP can do
  EXPECT_EQ(c.NowMicros(), -1'000'000);
  c.Set(0);
  EXPECT_EQ(c.NowMicros(), 0);
}

TEST(FakeClock, ConcurrentAdvancesAreNotLost) {
  FakeClock c(0);
  constexpr int kThreads = 4;
  constexpr int kSteps = 10000;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&c] {
      for (int i = 0; i < kSteps; ++i) c.Advance(1);
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(c.NowMicros(), int64_t{kThreads} * kSteps);
}

TEST(FakeClock, UsableThroughClockInterface) {
  FakeClock fake(5);
  const Clock& clock = fake;
  fake.Advance(5);
  EXPECT_EQ(clock.NowMicros(), 10);
}

TEST(FakeClock, MonotonicStartsWhereToldAndAdvancesWithWallTime) {
  FakeClock c(1772460000000000, 500);
  EXPECT_EQ(c.MonotonicMicros(), 500);
  c.Advance(250);
  EXPECT_EQ(c.NowMicros(), 1772460000000250);
  EXPECT_EQ(c.MonotonicMicros(), 750);
  EXPECT_EQ(c.Monotonic(), MonoTime(std::chrono::microseconds(750)));
  c.Advance(std::chrono::milliseconds(2));
  EXPECT_EQ(c.MonotonicMicros(), 2750);
}

TEST(FakeClock, WallClockStepsLeaveMonotonicTimeAlone) {
  FakeClock c(1'000'000, 10);
  c.Set(5'000'000);  // an operator sets the clock forward
  EXPECT_EQ(c.MonotonicMicros(), 10);
  c.Advance(-2'000'000);  // NTP steps it back
  EXPECT_EQ(c.NowMicros(), 3'000'000);
  EXPECT_EQ(c.MonotonicMicros(), 10) << "monotonic time went backwards";
}

TEST(FakeClock, DoesNotTick) {
  EXPECT_FALSE(FakeClock().Ticks());
  EXPECT_TRUE(Clock::Real()->Ticks());
}

TEST(RealClock, MonotonicIsSteadyClockTime) {
  const auto before = std::chrono::steady_clock::now();
  const MonoTime now = Clock::Real()->Monotonic();
  const auto after = std::chrono::steady_clock::now();
  EXPECT_GE(now, std::chrono::floor<std::chrono::microseconds>(before));
  EXPECT_LE(now, after);
}

TEST(ToSteadyDeadline, RealClockDeadlineIsItself) {
  const MonoTime d = Clock::Real()->Monotonic() + std::chrono::seconds(3);
  const auto s = ToSteadyDeadline(*Clock::Real(), d);
  EXPECT_LE(std::chrono::abs(s - d), std::chrono::milliseconds(50));
}

TEST(ToSteadyDeadline, FakeClockGivesTheFakeTimeLeftAsRealTime) {
  FakeClock c(0, 1'000'000'000);  // fake monotonic time far from steady_clock's
  const auto before = std::chrono::steady_clock::now();
  const auto s = ToSteadyDeadline(c, c.Monotonic() + std::chrono::seconds(2));
  const auto after = std::chrono::steady_clock::now();
  EXPECT_GE(s, before + std::chrono::seconds(2));
  EXPECT_LE(s, after + std::chrono::seconds(2));
  // Already reached: in the past.
  EXPECT_LE(ToSteadyDeadline(c, c.Monotonic() - std::chrono::seconds(1)), std::chrono::steady_clock::now());
}

TEST(ToSteadyDeadline, FarDeadlineSaturatesInsteadOfOverflowing) {
  FakeClock c(0, 0);
  EXPECT_EQ(ToSteadyDeadline(c, MonoTime::max()), std::chrono::steady_clock::time_point::max());
  const MonoTime far = MonoTime::max() - std::chrono::hours(1);
  EXPECT_EQ(ToSteadyDeadline(c, far), std::chrono::steady_clock::time_point::max());
}

TEST(RealClock, IsSingletonAndNotNull) {
  ASSERT_NE(Clock::Real(), nullptr);
  EXPECT_EQ(Clock::Real(), Clock::Real());
}

TEST(RealClock, CloseToSystemClock) {
  auto sys_us = [] {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  };
  int64_t before = sys_us();
  int64_t now = Clock::Real()->NowMicros();
  int64_t after = sys_us();
  // Allow a little slack for a clock step between the reads.
  EXPECT_GE(now, before - 1'000'000);
  EXPECT_LE(now, after + 1'000'000);
  // Microseconds since the Unix epoch, not milliseconds or nanoseconds:
  // somewhere after 2020 and before 2100.
  EXPECT_GT(now, int64_t{1577836800} * 1'000'000);
  EXPECT_LT(now, int64_t{4102444800} * 1'000'000);
}

TEST(RealClock, Advances) {
  int64_t a = Clock::Real()->NowMicros();
  std::this_thread::sleep_for(std::chrono::milliseconds(5));
  int64_t b = Clock::Real()->NowMicros();
  EXPECT_GE(b - a, 4000);
}

}  // namespace
}  // namespace lplex
