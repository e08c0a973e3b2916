// Announce -> Discover through a real avahi daemon.
#include <gtest/gtest.h>

#include <unistd.h>

#include "mdns/mdns_test_support.h"

namespace lplex::mdns {
namespace {

// Not run yet: a round trip needs avahi-daemon (not installed on the build
// machines; Debian's package starts a system-wide daemon on install) running
// as root against a private bus, with multicast on an interface. The other
// tests pin everything short of the daemon's answers.
TEST(MdnsRoundTripTest, AnnouncedServerIsDiscoveredByName) {
  if (::access(lplex::testing::kAvahiDaemon, X_OK) != 0) {
    GTEST_SKIP() << "needs avahi-daemon (" << lplex::testing::kAvahiDaemon
                 << "), which is not installed; see the comment above";
  }
  GTEST_SKIP() << "round trip through a private avahi-daemon not written yet (see the comment above)";
}

}  // namespace
}  // namespace lplex::mdns
