// ShutdownSteps: the daemons' ordered shutdown, each step timed and logged
// the same way ("shutdown: drained the broker in 0.001 s: 12 queued
// frame(s) ingested"), so an operator reads every program's shutdown alike
// and sees which step took the time.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "core/log.h"

namespace lplex {

// "0.123 s": the durations of startup and shutdown log lines.
std::string FormatSeconds(std::chrono::steady_clock::duration d);

class ShutdownSteps {
 public:
  // Logs "shutdown: started". `log` must outlive the object.
  explicit ShutdownSteps(Logger* log);
  // Runs `body` and logs "shutdown: WHAT in T" plus ": DETAIL" when body
  // returns a non-empty detail.
  void Step(const char* what, const std::function<std::string()>& body);
  // Logs "shutdown: done in T" (since construction).
  void Done();

 private:
  Logger* const log_;
  const std::chrono::steady_clock::time_point start_;
};

}  // namespace lplex
