// HOST:PORT addresses (config/host_port.h): what a client may connect to
// and what a server may listen on. The boat's -replication-target uses the
// connect rules (tests/config/boat_config_test.cc has it end to end).
#include "config/host_port.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace lplex::config {
namespace {

using ::testing::HasSubstr;

TEST(HostPort, ListenAllowsEmptyHostAndPortZeroThatConnectRefuses) {
  EXPECT_TRUE(CheckHostPort(":9443", AddressUse::kListen).ok());
  EXPECT_TRUE(CheckHostPort("127.0.0.1:0", AddressUse::kListen).ok());
  EXPECT_FALSE(CheckHostPort(":9443", AddressUse::kConnect).ok());
  EXPECT_FALSE(CheckHostPort("127.0.0.1:0", AddressUse::kConnect).ok());
}

TEST(HostPort, ListenMessageSaysPortZeroIsValid) {
  const Status s = CheckHostPort("0.0.0.0:70000", AddressUse::kListen);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("[HOST]:PORT with PORT 0..65535"));
}

TEST(HostPort, PortWithManyDigitsIsOutOfRangeNotAnOverflow) {
  const Status s = CheckHostPort("h:99999999999999999999999", AddressUse::kConnect);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("is out of range"));
}

TEST(HostPort, SignedOrEmptyPortIsRefused) {
  EXPECT_THAT(CheckHostPort("h:+80", AddressUse::kConnect).message(), HasSubstr("is not a number"));
  EXPECT_THAT(CheckHostPort("h:-1", AddressUse::kConnect).message(), HasSubstr("is not a number"));
  EXPECT_THAT(CheckHostPort("h:", AddressUse::kConnect).message(), HasSubstr("no PORT after the ':'"));
}

TEST(HostPort, BracketedIpv6WithoutPortIsRefused) {
  const Status s = CheckHostPort("[::1]", AddressUse::kConnect);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(s.message(), HasSubstr("no :PORT after the ']'"));
}

TEST(HostPort, BracketsAroundSomethingOtherThanIpv6AreRefused) {
  EXPECT_FALSE(CheckHostPort("[host]:9443", AddressUse::kConnect).ok());
  EXPECT_FALSE(CheckHostPort("[]:9443", AddressUse::kConnect).ok());
  EXPECT_FALSE(CheckHostPort("[::1:9443", AddressUse::kConnect).ok());
  EXPECT_FALSE(CheckHostPort("[fe80::1%]:9443", AddressUse::kConnect).ok());
}

TEST(HostPort, GrpcSchemeTargetIsRefusedNotPassedThrough) {
  EXPECT_FALSE(CheckHostPort("dns:///cloud:9443", AddressUse::kConnect).ok());
  EXPECT_FALSE(CheckHostPort("unix:/run/cloud.sock", AddressUse::kConnect).ok());
}

TEST(HostPort, EmptyIsOffForAConnectSettingButRefusedForListen) {
  SettingValue empty;
  EXPECT_TRUE(HostPortCheck(AddressUse::kConnect)(empty).ok());
  EXPECT_FALSE(HostPortCheck(AddressUse::kListen)(empty).ok());
}

}  // namespace
}  // namespace lplex::config
