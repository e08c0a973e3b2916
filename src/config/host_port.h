// HOST:PORT network addresses in settings: a client's target (the boat's
// -replication-target) and a server's listen address (the cloud's
// -grpc-listen, -http-listen). One parser, so that every program refuses
// the same addresses with the same words, when the configuration is read:
// left to gRPC, "127.0.0.1:99999" silently dials port 34463 (99999 mod
// 65536) and "garbage" is retried forever as a DNS failure.
#pragma once

#include <string_view>

#include "config/settings.h"
#include "core/status.h"

namespace lplex::config {

// What an address is used for, which decides what is valid.
enum class AddressUse {
  // HOST:PORT to connect to: HOST required, PORT 1..65535.
  kConnect,
  // [HOST]:PORT to listen on: HOST may be empty (":9443" = every
  // interface), PORT 0..65535 (0 = any free port).
  kListen,
};

// Checks `address` as gRPC and the HTTP servers read it. HOST is a DNS name
// or IPv4 address (letters, digits, '.', '-', '_': "lplex.example.com",
// "10.0.0.2") or an IPv6 address in brackets ("[::1]", "[fe80::1%eth0]");
// PORT is decimal digits. Returns OK or InvalidArgument that quotes
// `address`, says what is wrong with it and what is valid, e.g.
//   "127.0.0.1:99999" is not valid: port 99999 is out of range (valid:
//   HOST:PORT with PORT 1..65535, IPv6 as [addr]:port, such as lplex.example.com:9443)
// The caller names the setting (the settings engine does for a ValueCheck).
Status CheckHostPort(std::string_view address, AddressUse use);

// CheckHostPort as a settings-table check. For kConnect "" passes (the
// setting's "off"); for kListen "" is refused like any other bad address.
ValueCheck HostPortCheck(AddressUse use);

}  // namespace lplex::config
