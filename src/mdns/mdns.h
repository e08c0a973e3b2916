// mDNS service discovery of lplex servers (spec/boat.md §2.0, §5.7): the
// server announces `_lplex._tcp` in `local.` (instance name = hostname, the
// HTTP port); clients browse for it and connect to http://<address>:<port>.
//
// Both sides talk to the system's avahi daemon over D-Bus rather than
// answering multicast themselves: a host normally runs one mDNS responder,
// and a second one on UDP 5353 fights it over the host name. When no avahi
// daemon is reachable (no system bus, or the daemon is not running) every
// entry point returns an error that says so, quickly, instead of hanging;
// a bus that takes the connection and never answers (a wedged dbus-daemon)
// is given up on after a bounded wait (Start: 5 s; Discover: its timeout),
// leaving one blocked thread behind.
// The D-Bus system bus is the one libdbus finds: DBUS_SYSTEM_BUS_ADDRESS,
// else /run/dbus/system_bus_socket.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>

#include "core/status.h"

namespace lplex::mdns {

// The DNS-SD service type lplex servers announce.
inline constexpr char kServiceType[] = "_lplex._tcp";

// How long Discover waits when the caller has no opinion (spec §5.7).
inline constexpr std::chrono::milliseconds kDefaultDiscoverTimeout{3000};

// Announces one `_lplex._tcp` service for as long as the object lives.
// Thread-safe; the registration runs on a thread of its own (avahi's
// threaded poll), so nothing has to drive it.
class Announcer {
 public:
  // Registers instance `name` (e.g. the hostname) of `_lplex._tcp` in
  // `local.` on every interface, at TCP `port`. Returns once the request
  // is handed to the daemon; the daemon then probes the name. If another
  // host already owns the name, the service is renamed the avahi way
  // ("inuc1 #2") and registered again; name() reports the current one.
  // If the avahi daemon restarts, the service is registered again once it
  // is back.
  // Errors: InvalidArgument for an empty or over-long name (DNS labels are
  // at most 63 bytes) or port 0; IOError "mDNS: cannot reach the avahi
  // daemon (is avahi-daemon running?): <avahi's reason>" when there is no
  // daemon to talk to; IOError naming avahi's reason for anything else.
  static Result<std::unique_ptr<Announcer>> Start(const std::string& name, uint16_t port);

  // Withdraws the service and stops the thread.
  ~Announcer();
  Announcer(const Announcer&) = delete;
  Announcer& operator=(const Announcer&) = delete;

  // The instance name now announced (differs from the one given to Start
  // after a collision).
  std::string name() const;
  uint16_t port() const;

  struct Impl;  // avahi state; defined in announcer.cc

 private:
  explicit Announcer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Browses `_lplex._tcp` in `local.` and resolves what it finds into
// "http://<host>:<port>": the first IPv4 address found wins; a server that
// only has IPv6 comes out bracketed ("http://[fe80::1%25eth0]:8089", with
// the interface as a zone for link-local addresses). With `instance_name`
// only the service of that name counts (compared case-insensitively, as
// DNS does); without it the first server that resolves.
// Errors: NotFound when nothing (or nothing of that name) answered within
// `timeout`, naming the name and the timeout; IOError "mDNS: cannot reach
// the avahi daemon (is avahi-daemon running?): <reason>" when there is no
// daemon; InvalidArgument for a timeout that is not positive. Never takes
// much longer than `timeout`.
Result<std::string> Discover(const std::optional<std::string>& instance_name,
                             std::chrono::milliseconds timeout = kDefaultDiscoverTimeout);

}  // namespace lplex::mdns
