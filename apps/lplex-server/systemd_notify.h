// SystemdNotifier: tells systemd (Type=notify units) where the server is in
// its life: READY=1 once it serves, STOPPING=1 when shutdown starts, and
// WATCHDOG=1 pings while the broker loop is alive.
//
// Without NOTIFY_SOCKET in the environment (not started by systemd, or a
// unit without Type=notify) every call is a no-op, so the server runs the
// same from a terminal, a test or `make demo`.
#pragma once

#include <atomic>
#include <cstdint>
#include <string_view>

#include "core/clock.h"

namespace lplex::server {

class SystemdNotifier {
 public:
  // Reads NOTIFY_SOCKET and WATCHDOG_USEC (sd_watchdog_enabled) once.
  // `clock` (null = Clock::Real()) paces the watchdog pings.
  explicit SystemdNotifier(Clock* clock = nullptr);

  // True when systemd listens (NOTIFY_SOCKET is set).
  bool enabled() const { return enabled_; }
  // The watchdog interval systemd expects pings within; 0 = no watchdog.
  int64_t watchdog_interval_us() const { return watchdog_us_; }

  // READY=1 with a STATUS= line.
  void Ready(std::string_view status);
  // STOPPING=1 with a STATUS= line.
  void Stopping(std::string_view status);
  // STATUS= only (shown by systemctl status).
  void Status(std::string_view status);
  // WATCHDOG=1 when half the watchdog interval has passed since the last
  // ping; otherwise nothing. Cheap: call it from a loop that only runs while
  // the process is healthy (the broker's owner thread). Thread-safe.
  void MaybePingWatchdog();

 private:
  void Send(std::string_view state);

  Clock* clock_;
  bool enabled_ = false;
  int64_t watchdog_us_ = 0;
  std::atomic<int64_t> last_ping_us_{0};
};

}  // namespace lplex::server
