// lplex-server's mDNS announcement (-mdns, on by default), run as the real
// binary with the D-Bus system bus pointed where the test wants it.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "mdns/mdns_test_support.h"

namespace lplex::testing {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr char kWarning[] = "mDNS: cannot reach the avahi daemon (is avahi-daemon running?)";

size_t Count(const std::string& text, const std::string& needle) {
  size_t n = 0;
  for (size_t at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

class ServerMdnsTest : public ::testing::Test {
 protected:
  // Starts the server on a free port with `extra` flags; returns its port
  // once it serves and has logged its mDNS line, 0 on failure.
  int StartServer(std::vector<std::string> extra) {
    std::vector<std::string> args = {"-source", "sim:", "-port", "0"};
    args.insert(args.end(), extra.begin(), extra.end());
    if (!server_.Start(args, dir_.Sub("server.log"))) return 0;
    if (!server_.WaitForLog("mDNS: ", std::chrono::seconds(20))) return 0;
    return PortFromLog(server_.Log());
  }

  TempDir dir_;
  ChildServer server_;
};

TEST_F(ServerMdnsTest, ServerWithoutAvahiDaemonServesAndWarnsOnce) {
  ScopedEnv bus("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=" + dir_.Sub("no-such-bus"));
  const int port = StartServer({});
  ASSERT_GT(port, 0) << server_.Log();
  EXPECT_EQ(HttpGet(port, "/devices").status, 200);
  const std::string log = server_.Log();
  EXPECT_EQ(Count(log, kWarning), 1u) << log;
  EXPECT_THAT(log, HasSubstr("serving without mDNS"));
  EXPECT_EQ(server_.Terminate(std::chrono::seconds(20)), 0) << server_.Log();
  EXPECT_EQ(Count(server_.Log(), kWarning), 1u) << "warned again at shutdown:\n" << server_.Log();
}

// A bus that takes the connection and never answers (a wedged dbus-daemon)
// must not keep the server from finishing its startup or from stopping.
TEST_F(ServerMdnsTest, ServerWithAWedgedSystemBusGivesUpOnMdnsAndStillStops) {
  SilentSocket bus(dir_.Sub("bus"));
  ASSERT_TRUE(bus.ok());
  ScopedEnv env("DBUS_SYSTEM_BUS_ADDRESS", bus.address());
  const int port = StartServer({});
  ASSERT_GT(port, 0) << server_.Log();
  EXPECT_GE(bus.Connections(), 1);
  EXPECT_THAT(server_.Log(), HasSubstr("the D-Bus system bus did not answer within"));
  EXPECT_EQ(HttpGet(port, "/devices").status, 200);
  EXPECT_EQ(server_.Terminate(std::chrono::seconds(20)), 0) << server_.Log();
}

TEST_F(ServerMdnsTest, MdnsFalseNeverConnectsToTheSystemBus) {
  SilentSocket bus(dir_.Sub("bus"));
  ASSERT_TRUE(bus.ok());
  ScopedEnv env("DBUS_SYSTEM_BUS_ADDRESS", bus.address());
  const int port = StartServer({"-mdns=false"});
  ASSERT_GT(port, 0) << server_.Log();
  EXPECT_EQ(HttpGet(port, "/devices").status, 200);
  EXPECT_EQ(server_.Terminate(std::chrono::seconds(20)), 0) << server_.Log();
  EXPECT_EQ(bus.Connections(), 0);
  const std::string log = server_.Log();
  EXPECT_THAT(log, HasSubstr("mDNS: not announcing (-mdns=false)"));
  EXPECT_THAT(log, Not(HasSubstr("avahi")));
}

TEST_F(ServerMdnsTest, MdnsFalseInTheConfigFileTurnsItOffToo) {
  SilentSocket bus(dir_.Sub("bus"));
  ASSERT_TRUE(bus.ok());
  ScopedEnv env("DBUS_SYSTEM_BUS_ADDRESS", bus.address());
  std::ofstream(dir_.Sub("server.conf")) << "mdns = false\n";
  const int port = StartServer({"-config", dir_.Sub("server.conf")});
  ASSERT_GT(port, 0) << server_.Log();
  EXPECT_EQ(server_.Terminate(std::chrono::seconds(20)), 0) << server_.Log();
  EXPECT_EQ(bus.Connections(), 0);
  EXPECT_THAT(server_.Log(), Not(HasSubstr("avahi")));
}

TEST_F(ServerMdnsTest, MdnsFlagWithAValueThatIsNotABoolIsRefusedNamingIt) {
  const int code = server_.Start({"-mdns=maybe", "-source", "sim:", "-port", "0"}, dir_.Sub("server.log"))
                       ? server_.Wait(std::chrono::seconds(20))
                       : -1;
  EXPECT_EQ(code, 2) << server_.Log();
  EXPECT_THAT(server_.Log(), HasSubstr("maybe"));
}

}  // namespace
}  // namespace lplex::testing
