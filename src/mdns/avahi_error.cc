#include "mdns/avahi_error.h"

#include <avahi-common/error.h>
#include <fmt/format.h>

namespace lplex::mdns {

bool IsDaemonUnreachable(int avahi_error) {
  // libavahi-client reports a missing bus socket as a D-Bus error and a bus
  // without the org.freedesktop.Avahi service as NO_DAEMON.
  return avahi_error == AVAHI_ERR_NO_DAEMON || avahi_error == AVAHI_ERR_DBUS_ERROR ||
         avahi_error == AVAHI_ERR_DISCONNECTED;
}

Status AvahiStatus(std::string_view what, int avahi_error) {
  if (IsDaemonUnreachable(avahi_error)) {
    return Status::IOError(
        fmt::format("mDNS: cannot reach the avahi daemon (is avahi-daemon running?): {}", avahi_strerror(avahi_error)));
  }
  return Status::IOError(fmt::format("mDNS: {}: {}", what, avahi_strerror(avahi_error)));
}

}  // namespace lplex::mdns
