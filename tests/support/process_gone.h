// Waiting for a process a test expects to have been killed: a child of the
// code under test, which the test cannot reap itself.
#pragma once

#include <signal.h>
#include <sys/types.h>

#include <cerrno>
#include <chrono>
#include <string>
#include <thread>

#include "support/file_text.h"

namespace lplex::testing {

// True once `pid` no longer runs (gone, or a zombie waiting for its parent or
// init) within `within`, polling every 20 ms; false if it still runs then.
inline bool ProcessGone(pid_t pid, std::chrono::milliseconds within = std::chrono::seconds(2)) {
  const auto deadline = std::chrono::steady_clock::now() + within;
  while (true) {
    if (::kill(pid, 0) != 0 && errno == ESRCH) return true;
    // Field 3 of /proc/<pid>/stat, after the ")" that ends the command name.
    const std::string stat = ReadAll("/proc/" + std::to_string(pid) + "/stat");
    const size_t paren = stat.rfind(')');
    if (paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] == 'Z') return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

}  // namespace lplex::testing
