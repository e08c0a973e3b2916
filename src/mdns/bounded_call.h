// Running a call that may block for ever, with a time limit (internal to
// lplex_mdns).
//
// avahi_client_new() blocks in libdbus's handshake with no time limit when
// the bus socket accepts the connection and then never answers (a wedged
// dbus-daemon): a server would never finish starting, a client never give
// up. So the connect runs on a thread of its own.
#pragma once

#include <chrono>
#include <functional>

namespace lplex::mdns {

// Runs `call` on a new thread and waits at most `limit` for it. Returns
// true when it returned in time (everything it wrote is visible to the
// caller). Returns false otherwise: the thread is abandoned, still blocked,
// so `call` must own (or leak) everything it touches — capture shared_ptrs
// or pointers the caller gives up on, never the caller's stack.
bool RunWithin(std::chrono::milliseconds limit, std::function<void()> call);

}  // namespace lplex::mdns
