// The lplex CLI's mDNS resolution (apps/lplex/mdns_resolve.h): whatever
// goes wrong, the user is told to give --server.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "mdns/mdns_test_support.h"
#include "mdns_resolve.h"

namespace lplex::cli {
namespace {

using lplex::testing::ScopedEnv;
using lplex::testing::TempDir;

std::string ResolveText(const std::optional<std::string>& name, std::chrono::milliseconds timeout) {
  auto url = DiscoverServerOverMdns(name, timeout);
  return url.ok() ? *url : url.status().message();
}

constexpr char kHintRe[] = "; specify --server explicitly, e\\.g\\. --server http://inuc1\\.local:8089\n";

TEST(MdnsResolveTest, NoAvahiDaemonSaysSoAndEndsWithTheServerHint) {
  TempDir dir;
  ScopedEnv bus("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=" + dir.Sub("no-such-bus"));
  LPLEX_EXPECT_IN_FRESH_PROCESS([] { return ResolveText("inuc1", std::chrono::seconds(3)); },
                                std::chrono::seconds(2),
                                std::string("mDNS: cannot reach the avahi daemon .*: Daemon not running") + kHintRe);
}

TEST(MdnsResolveTest, WedgedBusGivesUpAtTheConfiguredTimeoutWithTheHint) {
  TempDir dir;
  lplex::testing::SilentSocket silent(dir.Sub("bus"));
  ASSERT_TRUE(silent.ok());
  ScopedEnv bus("DBUS_SYSTEM_BUS_ADDRESS", silent.address());
  LPLEX_EXPECT_IN_FRESH_PROCESS([] { return ResolveText(std::nullopt, std::chrono::milliseconds(500)); },
                                std::chrono::seconds(2),
                                std::string("mDNS: cannot reach the avahi daemon .*: the D-Bus system bus did not answer within 500 ms") + kHintRe);
}

// The hint is the same text the header promises.
TEST(MdnsResolveTest, HintNamesTheServerFlagWithAnExample) {
  EXPECT_STREQ(kSpecifyServerHint, "specify --server explicitly, e.g. --server http://inuc1.local:8089");
}

}  // namespace
}  // namespace lplex::cli
