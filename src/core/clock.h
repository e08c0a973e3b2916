// Clock: where "now" comes from. Code that measures time takes a Clock so
// tests can use FakeClock and move time by hand.
//
// A Clock has two time lines (docs/adr/005-monotonic-time-behind-the-clock.md):
//  - wall-clock time (NowMicros): what file names, timestamps and ages use;
//    it can step (NTP, an operator) in either direction;
//  - monotonic time (MonotonicMicros / Monotonic): what intervals, timeouts,
//    backoffs and deadlines use; it never goes backwards.
// Waiting for a point in monotonic time goes through ClockCondition
// (core/clock_condition.h), so that on a FakeClock a thread waits for Advance() instead
// of for real time.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <set>

namespace lplex {

// A point on a Clock's monotonic time line. It has steady_clock's type so that
// deadlines read naturally (`clock->Monotonic() + timeout`) and code written
// for steady_clock keeps compiling, but a MonoTime means something only next
// to the Clock that produced it: for Clock::Real() it is steady_clock time,
// for a FakeClock it is wherever the test put it. Real blocking I/O that needs
// a steady_clock deadline (poll, curl) converts with ToSteadyDeadline.
using MonoTime = std::chrono::steady_clock::time_point;

class ClockListener;

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time, µs since the Unix epoch (UTC).
  virtual int64_t NowMicros() const = 0;
  // Monotonic time, µs since an arbitrary origin fixed for the clock's life.
  // Never decreases. For Clock::Real() it is steady_clock's time.
  virtual int64_t MonotonicMicros() const = 0;
  // MonotonicMicros as a MonoTime.
  MonoTime Monotonic() const { return MonoTime(std::chrono::microseconds(MonotonicMicros())); }

  // Whether monotonic time passes by itself. True for the real clock: a
  // thread may block on steady_clock until a deadline. False for FakeClock:
  // time moves only by Advance(), which calls every listener.
  virtual bool Ticks() const { return true; }
  // For ClockCondition (core/clock_condition.h); other code has no need of them.
  // Registers / unregisters a listener called after every move of a clock
  // that does not tick (on the thread that moved it). No-ops on a ticking
  // clock.
  virtual void AddListener(ClockListener* /*listener*/) {}
  virtual void RemoveListener(ClockListener* /*listener*/) {}
  // Told that a thread is about to block waiting on this clock, after its
  // last look at the time (FakeClock counts them, see FakeClock::blocks()).
  // Called with the waiter's locks held: must not take a lock that is held
  // while listeners are told.
  virtual void NoteBlocked() {}

  // The process-wide real clock (never null, never destroyed).
  static Clock* Real();
};

// Told when a clock that does not tick has moved.
class ClockListener {
 public:
  virtual ~ClockListener() = default;
  virtual void OnClockMoved() = 0;
};

// The steady_clock time_point at which `deadline`, a point on `clock`'s
// monotonic time, is reached, for blocking calls that only take real time
// (poll, waitpid loops, curl timeouts): now + the time left on `clock`
// (saturating at time_point::max for a far deadline; in the past for one
// already reached). For Clock::Real() it is `deadline` itself, give or take
// a microsecond. On a FakeClock the real wait lasts as long as the fake time
// left — the process or transfer does not know the time is fake.
std::chrono::steady_clock::time_point ToSteadyDeadline(const Clock& clock, MonoTime deadline);

// A clock that only moves when told to. Safe to read and move from several
// threads. Its monotonic time starts at `mono_start_us` and moves only with
// Advance (never with Set, which is a wall-clock step).
class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t start_us = 0, int64_t mono_start_us = 0) : now_us_(start_us), mono_us_(mono_start_us) {}
  int64_t NowMicros() const override { return now_us_.load(std::memory_order_acquire); }
  int64_t MonotonicMicros() const override { return mono_us_.load(std::memory_order_acquire); }
  bool Ticks() const override { return false; }
  void AddListener(ClockListener* listener) override;
  void RemoveListener(ClockListener* listener) override;

  // Sets wall-clock time only (a clock step); monotonic time stays.
  void Set(int64_t us);
  // Time passes: both time lines move by `delta_us`, then threads waiting on
  // this clock (ClockCondition) wake and re-check their deadlines. A negative
  // delta is a wall-clock step backwards: monotonic time does not move.
  // Advance does not wait for the woken threads to run: a test that needs
  // them done reads blocks() first and then calls AwaitBlocks.
  void Advance(int64_t delta_us);
  void Advance(std::chrono::microseconds delta) { Advance(delta.count()); }

  // How many times a thread has blocked on this clock (ClockCondition::
  // WaitUntil found its condition false and its deadline not reached, and
  // went to sleep). A thread that blocks is idle: a test waits for the count
  // to pass a value it read before poking the thread (Advance, a queued
  // item) to know the thread has done the work and gone back to waiting.
  uint64_t blocks() const;
  // Blocks the caller (in real time, at most `limit`) until blocks() >= n.
  // Returns false on timeout: a test fails instead of hanging.
  bool AwaitBlocks(uint64_t n, std::chrono::milliseconds limit = std::chrono::seconds(10)) const;
  void NoteBlocked() override;

 private:
  std::atomic<int64_t> now_us_;
  std::atomic<int64_t> mono_us_;
  // Two locks, so that a waiter may note its block while holding its own
  // lock, which Advance takes (through the listener) under listeners_mu_.
  std::mutex listeners_mu_;  // guards listeners_; held while telling them
  std::set<ClockListener*> listeners_;
  mutable std::mutex blocks_mu_;  // guards blocks_
  mutable std::condition_variable blocked_cv_;
  uint64_t blocks_ = 0;
};

}  // namespace lplex
