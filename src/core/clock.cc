#include "core/clock.h"

#include <chrono>
#include <limits>

namespace lplex {
namespace {
class RealClock final : public Clock {
 public:
  int64_t NowMicros() const override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::system_clock::now().time_since_epoch())
        .count();
  }
  int64_t MonotonicMicros() const override {
    return std::chrono::duration_cast<std::chrono::microseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
  }
};
}  // namespace

Clock* Clock::Real() {
  static RealClock* clock = new RealClock();  // intentionally leaked: usable during static destruction
  return clock;
}

std::chrono::steady_clock::time_point ToSteadyDeadline(const Clock& clock, MonoTime deadline) {
  using Steady = std::chrono::steady_clock;
  if (deadline == MonoTime::max()) return Steady::time_point::max();
  if (deadline == MonoTime::min()) return Steady::time_point::min();
  const auto now = Steady::now();
  // Time left on `clock`, in whole microseconds (its resolution), compared as
  // durations so that a far deadline saturates instead of overflowing.
  const int64_t left_us = std::chrono::duration_cast<std::chrono::microseconds>(deadline.time_since_epoch()).count() -
                          clock.MonotonicMicros();
  const auto room = std::chrono::duration_cast<std::chrono::microseconds>(Steady::time_point::max() - now).count();
  if (left_us >= room) return Steady::time_point::max();
  return now + std::chrono::microseconds(left_us);
}

void FakeClock::AddListener(ClockListener* listener) {
  std::lock_guard<std::mutex> lock(listeners_mu_);
  listeners_.insert(listener);
}

void FakeClock::RemoveListener(ClockListener* listener) {
  std::lock_guard<std::mutex> lock(listeners_mu_);
  listeners_.erase(listener);
}

void FakeClock::Set(int64_t us) {
  now_us_.store(us, std::memory_order_release);
  // Wall-clock steps wake nobody: waits are on monotonic time.
}

void FakeClock::Advance(int64_t delta_us) {
  now_us_.fetch_add(delta_us, std::memory_order_acq_rel);
  if (delta_us <= 0) return;
  mono_us_.fetch_add(delta_us, std::memory_order_acq_rel);
  // Under listeners_mu_, so a listener cannot unregister (and be destroyed)
  // while it is being told.
  std::lock_guard<std::mutex> lock(listeners_mu_);
  for (ClockListener* l : listeners_) l->OnClockMoved();
}

uint64_t FakeClock::blocks() const {
  std::lock_guard<std::mutex> lock(blocks_mu_);
  return blocks_;
}

bool FakeClock::AwaitBlocks(uint64_t n, std::chrono::milliseconds limit) const {
  std::unique_lock<std::mutex> lock(blocks_mu_);
  return blocked_cv_.wait_for(lock, limit, [&] { return blocks_ >= n; });
}

void FakeClock::NoteBlocked() {
  std::lock_guard<std::mutex> lock(blocks_mu_);
  ++blocks_;
  blocked_cv_.notify_all();
}

}  // namespace lplex
