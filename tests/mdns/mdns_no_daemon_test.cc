// The avahi client where no avahi daemon can be reached: the case on most
// build machines, in CI and in containers. Every entry point must say so
// plainly and at once, never sit out its timeout or hang.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>

#include "mdns/mdns.h"
#include "mdns/mdns_test_support.h"

namespace lplex::mdns {
namespace {

using ::testing::HasSubstr;
using lplex::testing::PrivateBus;
using lplex::testing::ScopedEnv;
using lplex::testing::SilentSocket;
using lplex::testing::TempDir;
class MdnsNoDaemonTest : public ::testing::Test {
 protected:
  TempDir dir_;
};

// What each call returns, as text for the regexes.
std::string StartText(const std::string& name, uint16_t port) {
  auto a = Announcer::Start(name, port);
  return a.ok() ? "started" : a.status().ToString();
}
std::string DiscoverText(const std::optional<std::string>& name, std::chrono::milliseconds timeout) {
  auto url = Discover(name, timeout);
  return url.ok() ? *url : url.status().ToString();
}

// "I/O error: " is Status::ToString's prefix for IOError.
constexpr char kUnreachableRe[] =
    "I/O error: mDNS: cannot reach the avahi daemon \\(is avahi-daemon running\\?\\): ";

// No system bus at all: the socket file does not exist.
TEST_F(MdnsNoDaemonTest, AnnouncerStartWithoutSystemBusSaysTheAvahiDaemonIsUnreachable) {
  ScopedEnv bus("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=" + dir_.Sub("no-such-bus"));
  LPLEX_EXPECT_IN_FRESH_PROCESS([] { return StartText("lplex-test", 8089); }, std::chrono::seconds(2),
                                std::string(kUnreachableRe) + "Daemon not running");
}

TEST_F(MdnsNoDaemonTest, DiscoverWithoutSystemBusFailsAtOnceInsteadOfWaitingOutTheTimeout) {
  ScopedEnv bus("DBUS_SYSTEM_BUS_ADDRESS", "unix:path=" + dir_.Sub("no-such-bus"));
  LPLEX_EXPECT_IN_FRESH_PROCESS([] { return DiscoverText(std::nullopt, std::chrono::seconds(20)); },
                                std::chrono::seconds(2), std::string(kUnreachableRe) + "Daemon not running");
}

// A system bus is up, but nothing owns org.freedesktop.Avahi on it: the
// usual state of a desktop or server where avahi-daemon is stopped.
TEST_F(MdnsNoDaemonTest, AnnouncerStartOnABusWithoutAvahiSaysTheDaemonIsNotRunning) {
  PrivateBus bus(dir_);
  if (!bus.Start()) GTEST_SKIP() << "needs dbus-daemon (Debian package dbus-daemon) to run a private bus";
  ScopedEnv env("DBUS_SYSTEM_BUS_ADDRESS", bus.address());
  LPLEX_EXPECT_IN_FRESH_PROCESS([] { return StartText("lplex-test", 8089); }, std::chrono::seconds(2),
                                std::string(kUnreachableRe) + "Daemon not running");
}

TEST_F(MdnsNoDaemonTest, DiscoverNamedOnABusWithoutAvahiFailsAtOnce) {
  PrivateBus bus(dir_);
  if (!bus.Start()) GTEST_SKIP() << "needs dbus-daemon (Debian package dbus-daemon) to run a private bus";
  ScopedEnv env("DBUS_SYSTEM_BUS_ADDRESS", bus.address());
  LPLEX_EXPECT_IN_FRESH_PROCESS([] { return DiscoverText("inuc1", std::chrono::seconds(20)); },
                                std::chrono::seconds(2), std::string(kUnreachableRe) + "Daemon not running");
}

// A bus that takes the connection and never answers (a wedged
// dbus-daemon): libdbus alone would wait for ever.
TEST_F(MdnsNoDaemonTest, AnnouncerStartOnAWedgedBusGivesUpAfterFiveSeconds) {
  SilentSocket silent(dir_.Sub("bus"));
  ASSERT_TRUE(silent.ok());
  ScopedEnv env("DBUS_SYSTEM_BUS_ADDRESS", silent.address());
  LPLEX_EXPECT_IN_FRESH_PROCESS([] { return StartText("lplex-test", 8089); }, std::chrono::seconds(7),
                                std::string(kUnreachableRe) + "the D-Bus system bus did not answer within 5000 ms");
}

TEST_F(MdnsNoDaemonTest, DiscoverOnAWedgedBusGivesUpAtItsTimeout) {
  SilentSocket silent(dir_.Sub("bus"));
  ASSERT_TRUE(silent.ok());
  ScopedEnv env("DBUS_SYSTEM_BUS_ADDRESS", silent.address());
  LPLEX_EXPECT_IN_FRESH_PROCESS([] { return DiscoverText(std::nullopt, std::chrono::milliseconds(300)); },
                                std::chrono::seconds(2),
                                std::string(kUnreachableRe) + "the D-Bus system bus did not answer within 300 ms");
}

// Arguments that can never work are refused before avahi is asked.
TEST_F(MdnsNoDaemonTest, AnnouncerRefusesAnEmptyInstanceName) {
  auto a = Announcer::Start("", 8089);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), Status::Code::kInvalidArgument);
  EXPECT_THAT(a.status().message(), HasSubstr("instance name \"\""));
}

TEST_F(MdnsNoDaemonTest, AnnouncerRefusesAnInstanceNameLongerThanADnsLabel) {
  const std::string name(64, 'x');
  auto a = Announcer::Start(name, 8089);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), Status::Code::kInvalidArgument);
  EXPECT_THAT(a.status().message(), HasSubstr(name));
  EXPECT_THAT(a.status().message(), HasSubstr("1..63 bytes"));
}

TEST_F(MdnsNoDaemonTest, AnnouncerRefusesPortZero) {
  auto a = Announcer::Start("lplex-test", 0);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().code(), Status::Code::kInvalidArgument);
  EXPECT_THAT(a.status().message(), HasSubstr("port 0"));
}

TEST_F(MdnsNoDaemonTest, DiscoverRefusesATimeoutThatIsNotPositive) {
  auto url = Discover(std::nullopt, std::chrono::milliseconds(0));
  ASSERT_FALSE(url.ok());
  EXPECT_EQ(url.status().code(), Status::Code::kInvalidArgument);
  EXPECT_THAT(url.status().message(), HasSubstr("timeout 0 ms"));
}

}  // namespace
}  // namespace lplex::mdns
