// InterruptGuard: while one is alive, SIGINT (Ctrl-C) and SIGTERM do not end
// the process; they set a flag. `lplex archive` and `lplex retention` hand
// the flag to their archiver (ArchiverConfig::cancel), which stops the
// archive script's process group — its own group, so the terminal's SIGINT
// never reaches it — or stops between files; the command then keeps what was
// done (markers of files already answered "ok"), reports the rest as
// interrupted and exits 1.
//
// The handler only stores to a lock-free std::atomic<bool>, which is
// async-signal-safe. The previous dispositions come back when the guard is
// destroyed, so a test can run a command in-process. One guard at a time.
#pragma once

#include <signal.h>

#include <atomic>

namespace lplex::cli {

class InterruptGuard {
 public:
  // Clears the flag and installs the handler for SIGINT and SIGTERM.
  InterruptGuard();
  ~InterruptGuard();
  InterruptGuard(const InterruptGuard&) = delete;
  InterruptGuard& operator=(const InterruptGuard&) = delete;

  // Set (and never cleared while the guard lives) once a signal came.
  const std::atomic<bool>* flag() const;
  bool interrupted() const { return flag()->load(std::memory_order_relaxed); }
  // The signal that came first (SIGINT or SIGTERM), 0 if none.
  int signal_number() const;

 private:
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
};

}  // namespace lplex::cli
