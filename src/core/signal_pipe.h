// SignalPipe: SIGINT and SIGTERM for a daemon's main loop, through a
// self-pipe. The handler only writes the signal's number into the pipe
// (async-signal-safe); Wait reads it on the main thread, where the real work
// (an ordered shutdown) happens. Other threads wake the same loop with Wake
// (a source that failed for good, a shutdown that finished, a test asking
// the program to stop).
//
// One SignalPipe at a time per process (the handler finds it through one
// process-wide descriptor). SIGPIPE is ignored while it lives: a client that
// went away must not kill a daemon. The previous handlers come back when it
// goes (tests run a program's main in-process, again and again).
#pragma once

#include <signal.h>

#include <chrono>
#include <functional>

#include "core/log.h"

namespace lplex {

class SignalPipe {
 public:
  SignalPipe();
  ~SignalPipe();
  SignalPipe(const SignalPipe&) = delete;
  SignalPipe& operator=(const SignalPipe&) = delete;

  // Waits up to `timeout` for a signal or a Wake; returns the signal number
  // (SIGINT, SIGTERM) or the Wake code, 0 on timeout.
  int Wait(std::chrono::milliseconds timeout);

  // Any thread, and async-signal-safe: puts `code` (1..255) in the pipe of
  // the SignalPipe that exists now. False when there is none.
  static bool Wake(int code);

 private:
  int fds_[2] = {-1, -1};
  struct sigaction old_int_ {};
  struct sigaction old_term_ {};
  struct sigaction old_pipe_ {};
};

// "SIGINT", "SIGTERM", or "signal".
const char* SignalName(int sig);

// A daemon's ordered shutdown that a second signal can still cut short: runs
// `stop` on its own thread while this thread keeps waiting on `signals`. A
// SIGINT or SIGTERM meanwhile is logged (an error naming it), `cancel` runs
// (the archiver stops its script's process group, so nothing outlives the
// process), `stop` gets up to 1.5 s more, and the process exits with 130
// (`_exit`, after flushing stdio). Returns once `stop` returned.
void StopHearingASecondSignal(SignalPipe& signals, Logger* log, const std::function<void()>& stop,
                              const std::function<void()>& cancel);

}  // namespace lplex
