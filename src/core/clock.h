// Clock: where "now" comes from. Code that measures time takes a Clock so
// tests can use FakeClock and move time by hand.
#pragma once

#include <atomic>
#include <cstdint>

namespace lplex {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time, µs since the Unix epoch (UTC).
  virtual int64_t NowMicros() const = 0;

  // The process-wide real clock (never null, never destroyed).
  static Clock* Real();
};

// A clock that only moves when told to. Safe to read from several threads.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t start_us = 0) : now_us_(start_us) {}
  int64_t NowMicros() const override { return now_us_.load(std::memory_order_relaxed); }
  void Set(int64_t us) { now_us_.store(us, std::memory_order_relaxed); }
  void Advance(int64_t delta_us) { now_us_.fetch_add(delta_us, std::memory_order_relaxed); }

 private:
  std::atomic<int64_t> now_us_;
};

}  // namespace lplex
