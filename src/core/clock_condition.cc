#include "core/clock_condition.h"

namespace lplex {

ClockCondition::ClockCondition(Clock* clock) : clock_(clock != nullptr ? clock : Clock::Real()) {
  clock_->AddListener(this);
}

ClockCondition::~ClockCondition() { clock_->RemoveListener(this); }

void ClockCondition::NotifyAll() {
  // Taking mu_ orders this after a waiter that is between its last check
  // and its sleep (it holds mu_ there).
  { std::lock_guard<std::mutex> lock(mu_); }
  cv_.notify_all();
}

void ClockCondition::OnClockMoved() { NotifyAll(); }

bool ClockCondition::WaitUntil(std::unique_lock<std::mutex>& lock, MonoTime deadline,
                               const std::function<bool()>& pred) {
  while (true) {
    if (pred()) return true;
    if (clock_->Monotonic() >= deadline) return false;
    // Lock order: the caller's lock, then mu_, then (NoteBlocked) the
    // clock's count; wakers take mu_ (a FakeClock under its listener lock).
    std::unique_lock<std::mutex> inner(mu_);
    // Re-checked under mu_: a clock move after this check notifies after the
    // sleep starts (it needs mu_).
    if (clock_->Monotonic() >= deadline) {
      inner.unlock();
      continue;
    }
    // After the last look at the time, so a test that sees the count and
    // then advances the clock always wakes this thread.
    clock_->NoteBlocked();
    lock.unlock();
    if (!clock_->Ticks() || deadline == MonoTime::max()) {
      cv_.wait(inner);
    } else {
      cv_.wait_until(inner, ToSteadyDeadline(*clock_, deadline));
    }
    inner.unlock();
    lock.lock();
  }
}

}  // namespace lplex
