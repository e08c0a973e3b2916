// Names the calling thread, so `top -H`, `ps -L`, perf and gdb tell the
// server's threads apart ("lplex-http", "lplex-broker", "lplex-src", ...).
#pragma once

#include <string_view>

namespace lplex {

// Sets the calling thread's name. Linux keeps at most 15 bytes: a longer
// name is cut there. Best effort: failures are ignored (a name is a
// diagnostic, never worth failing a thread for).
void SetCurrentThreadName(std::string_view name);

}  // namespace lplex
