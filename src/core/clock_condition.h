// ClockCondition: a condition variable whose timed waits run on a Clock's
// monotonic time — the one timer primitive of lplex
// (docs/adr/005-monotonic-time-behind-the-clock.md).
//
// A loop that waits for "work, or a deadline" (the keeper's scan interval and
// retry backoff; a broker's tick, session expiry, discovery retries, bus
// silence) waits here instead of on a std::condition_variable with
// steady_clock. On Clock::Real() it is exactly that. On a FakeClock the
// thread blocks until NotifyAll() or FakeClock::Advance() and re-checks, so a
// test moves time by hand and never sleeps: it reads FakeClock::blocks(),
// pokes the thread (Advance, or queues work and NotifyAll), then
// AwaitBlocks(n + 1) returns once the thread has done the work and is
// waiting again.
//
// Usage (mu_ guards the state the predicate reads):
//   std::unique_lock<std::mutex> lock(mu_);
//   cond_.WaitUntil(lock, clock->Monotonic() + interval, [&] { return stop_ || !queue_.empty(); });
// and whoever changes that state calls cond_.NotifyAll() (with or without
// mu_ held).
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>

#include "core/clock.h"

namespace lplex {

class ClockCondition final : private ClockListener {
 public:
  // `clock` (null: Clock::Real()) must outlive the condition.
  explicit ClockCondition(Clock* clock = nullptr);
  ClockCondition(const ClockCondition&) = delete;
  ClockCondition& operator=(const ClockCondition&) = delete;
  // No thread may be waiting.
  ~ClockCondition() override;

  Clock* clock() const { return clock_; }

  // Wakes every thread in WaitUntil so that it re-checks its predicate. Call
  // it after changing what the predicate reads; no notification is lost
  // when the change was made under the waiter's mutex.
  void NotifyAll();

  // Blocks until pred() is true or the clock's monotonic time reaches
  // `deadline` (MonoTime::max(): no deadline). `lock` must be locked on
  // entry; it is released while blocked and locked again on return, and
  // pred() is only called with it held. Returns pred()'s last value: false
  // means the deadline came first. A deadline already reached returns at
  // once without blocking.
  bool WaitUntil(std::unique_lock<std::mutex>& lock, MonoTime deadline, const std::function<bool()>& pred);

 private:
  void OnClockMoved() override;

  Clock* const clock_;
  // Taken by the waiter before it releases the caller's lock, and by every
  // waker: a notification or a clock move between a waiter's last check and
  // its sleep is not lost (what std::condition_variable_any does inside,
  // plus the clock's deadline check).
  std::mutex mu_;
  std::condition_variable cv_;
};

}  // namespace lplex
