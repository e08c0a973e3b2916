#include "systemd_notify.h"

#include <systemd/sd-daemon.h>

#include <cstdlib>
#include <string>

namespace lplex::server {

SystemdNotifier::SystemdNotifier(Clock* clock) : clock_(clock != nullptr ? clock : Clock::Real()) {
  const char* socket = std::getenv("NOTIFY_SOCKET");
  enabled_ = socket != nullptr && socket[0] != '\0';
  uint64_t usec = 0;
  // > 0 only when WATCHDOG_USEC is set (and WATCHDOG_PID, if set, is us).
  if (enabled_ && sd_watchdog_enabled(0, &usec) > 0) watchdog_us_ = static_cast<int64_t>(usec);
}

void SystemdNotifier::Send(std::string_view state) {
  if (!enabled_) return;
  // sd_notify needs a NUL-terminated string; "unset_environment" stays 0 so a
  // restart of the notifier (tests) still finds the socket.
  sd_notify(0, std::string(state).c_str());
}

void SystemdNotifier::Ready(std::string_view status) {
  Send("READY=1\nSTATUS=" + std::string(status));
  last_ping_us_.store(clock_->MonotonicMicros(), std::memory_order_relaxed);
}

void SystemdNotifier::Stopping(std::string_view status) { Send("STOPPING=1\nSTATUS=" + std::string(status)); }

void SystemdNotifier::Status(std::string_view status) { Send("STATUS=" + std::string(status)); }

void SystemdNotifier::MaybePingWatchdog() {
  if (watchdog_us_ <= 0) return;
  const int64_t now = clock_->MonotonicMicros();
  int64_t last = last_ping_us_.load(std::memory_order_relaxed);
  if (now - last < watchdog_us_ / 2) return;
  if (!last_ping_us_.compare_exchange_strong(last, now, std::memory_order_relaxed)) return;
  Send("WATCHDOG=1");
}

}  // namespace lplex::server
