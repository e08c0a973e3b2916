// How the lplex CLI finds a server over mDNS when --server is not given
// (spec/boat.md §5.1): the boat's instance name from the config file
// (boats.<name>.mdns), or any `_lplex._tcp` server on the link.
#pragma once

#include <chrono>
#include <optional>
#include <string>

#include "core/status.h"

namespace lplex::cli {

// The hint every mDNS failure ends with: what to do instead.
inline constexpr char kSpecifyServerHint[] = "specify --server explicitly, e.g. --server http://inuc1.local:8089";

// Browses `_lplex._tcp` for up to `timeout` (the config's mdns-timeout,
// 3 s by default) and returns the server's URL, "http://192.168.1.20:8089"
// (IPv4 preferred, else "http://[addr]:port"). With `instance_name` only
// that server counts. Errors say why (nothing answered within the timeout,
// naming the instance and the timeout; no avahi daemon to ask) and end with
// "; " + kSpecifyServerHint.
Result<std::string> DiscoverServerOverMdns(const std::optional<std::string>& instance_name,
                                           std::chrono::milliseconds timeout);

}  // namespace lplex::cli
