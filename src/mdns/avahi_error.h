// Turning avahi's error numbers into Status (internal to lplex_mdns; takes
// the number as an int so this header stays free of avahi's).
#pragma once

#include <string_view>

#include "core/status.h"

namespace lplex::mdns {

// True for the errors that mean "no avahi daemon to talk to": no system
// bus, the daemon not running on it, the connection lost.
bool IsDaemonUnreachable(int avahi_error);

// IOError. For an unreachable daemon: "mDNS: cannot reach the avahi daemon
// (is avahi-daemon running?): <avahi's text>"; otherwise
// "mDNS: <what>: <avahi's text>".
Status AvahiStatus(std::string_view what, int avahi_error);

}  // namespace lplex::mdns
