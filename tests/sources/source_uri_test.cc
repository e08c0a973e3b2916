#include "sources/source_uri.h"

#include <gtest/gtest.h>

namespace lplex::sources {
namespace {

TEST(SourceUri, SourceUriRejectsUnknownSchemeListingValidForms) {
  auto r = ParseSourceUri("can://can0");
  ASSERT_FALSE(r.ok());
  const std::string& m = r.status().message();
  EXPECT_NE(m.find("\"can://can0\""), std::string::npos) << m;
  EXPECT_NE(m.find("unknown scheme \"can\""), std::string::npos) << m;
  for (const char* form : {"socketcan:IFACE", "replay:PATH", "sim:", "ydraw+tcp://HOST:PORT", "ydraw+udp://"}) {
    EXPECT_NE(m.find(form), std::string::npos) << form << " missing from: " << m;
  }
  EXPECT_FALSE(ParseSourceUri("can0").ok());  // no scheme at all
}

TEST(SourceUri, SourceUriParsesEveryForm) {
  auto s = ParseSourceUri("socketcan:can1");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->kind, SourceKind::kSocketCan);
  EXPECT_EQ(s->interface, "can1");

  s = ParseSourceUri("replay:/data/can0-1.pcap?speed=0&loop=true");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->kind, SourceKind::kReplay);
  EXPECT_EQ(s->path, "/data/can0-1.pcap");
  EXPECT_EQ(s->speed, 0.0);
  EXPECT_EQ(s->loop, true);

  s = ParseSourceUri("replay:journal");
  ASSERT_TRUE(s.ok());
  EXPECT_FALSE(s->speed.has_value());  // left to --replay-speed
  EXPECT_FALSE(s->loop.has_value());

  s = ParseSourceUri("sim:");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->kind, SourceKind::kSim);
  EXPECT_EQ(s->fps, 0);
  s = ParseSourceUri("sim:?seed=42&fps=full&ais=20");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->seed, 42u);
  EXPECT_EQ(s->fps, kFullBusFramesPerSecond);
  EXPECT_EQ(s->ais_targets, 20);

  s = ParseSourceUri("ydraw+tcp://192.168.4.1:1457");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->kind, SourceKind::kYdRawTcp);
  EXPECT_EQ(s->host, "192.168.4.1");
  EXPECT_EQ(s->port, 1457);
  s = ParseSourceUri("ydraw+udp://:1456");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->kind, SourceKind::kYdRawUdp);
  EXPECT_EQ(s->host, "");
  s = ParseSourceUri("ydraw+tcp://[fe80::1]:1457");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->host, "fe80::1");
}

TEST(SourceUri, SourceUriBadOptionNamesOptionAndValidOnes) {
  auto r = ParseSourceUri("replay:x.pcap?speed=-1");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("speed \"-1\" out of range (valid: 0..1000"), std::string::npos)
      << r.status().message();
  r = ParseSourceUri("replay:x.pcap?sped=2");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("unknown replay option \"sped\" (valid: speed, loop, delay)"), std::string::npos)
      << r.status().message();
  r = ParseSourceUri("sim:?seed=abc");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("seed \"abc\""), std::string::npos);
  r = ParseSourceUri("ydraw+tcp://gateway");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("missing :PORT"), std::string::npos);
  r = ParseSourceUri("ydraw+tcp://:1457");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("missing HOST"), std::string::npos);
  r = ParseSourceUri("ydraw+udp://:70000");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("port \"70000\" out of range (valid: 1..65535)"), std::string::npos);
  r = ParseSourceUri("socketcan:");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("empty interface name"), std::string::npos);
  r = ParseSourceUri("replay:");
  ASSERT_FALSE(r.ok());
}

TEST(SourceUri, ReplayDelayParsesAnIso8601Duration) {
  auto s = ParseSourceUri("replay:/data/can0-1.pcap?speed=0&delay=PT1M30S");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->path, "/data/can0-1.pcap");
  EXPECT_EQ(s->delay_us, 90'000'000);
  s = ParseSourceUri("replay:/data/can0-1.pcap?delay=P1D");  // the longest
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->delay_us, kMaxReplayDelayUs);
  s = ParseSourceUri("replay:/data/can0-1.pcap");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->delay_us, 0);  // no delay unless asked
}

TEST(SourceUri, ReplayDelayRejectsNegativeNamingTheValueAndTheValidRange) {
  auto r = ParseSourceUri("replay:x.pcap?delay=-PT5S");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("\"replay:x.pcap?delay=-PT5S\""), std::string::npos) << r.status().message();
  EXPECT_NE(r.status().message().find("delay \"-PT5S\" is negative (valid: an ISO 8601 duration PT0S..P1D"),
            std::string::npos)
      << r.status().message();
}

TEST(SourceUri, ReplayDelayRejectsGoSyntaxAndFractions) {
  for (const char* bad : {"5s", "PT0.5S", "", "pt5s"}) {
    auto r = ParseSourceUri(std::string("replay:x.pcap?delay=") + bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find(std::string("delay \"") + bad + "\" is not a duration (valid: an ISO 8601 "
                                                                      "duration PT0S..P1D, e.g. PT10S, PT2M)"),
              std::string::npos)
        << r.status().message();
  }
}

TEST(SourceUri, ReplayDelayOverADayIsOutOfRange) {
  auto r = ParseSourceUri("replay:x.pcap?delay=PT24H1S");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("delay \"PT24H1S\" out of range (valid: an ISO 8601 duration PT0S..P1D"),
            std::string::npos)
      << r.status().message();
  r = ParseSourceUri("replay:x.pcap?delay=P106751991DT4H55S");  // beyond what µs in int64 hold
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("delay \"P106751991DT4H55S\" out of range"), std::string::npos)
      << r.status().message();
}

TEST(SourceUri, InterfacesFlagMapsToSocketCanSourcesOnConsecutiveBuses) {
  auto r = ParseInterfaceList("can0,can1");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto specs = *r;
  auto sim = ParseSourceUri("sim:");
  ASSERT_TRUE(sim.ok());
  specs.push_back(*sim);
  ASSERT_TRUE(AssignBuses(&specs).ok());
  ASSERT_EQ(specs.size(), 3u);
  EXPECT_EQ(specs[0].interface, "can0");
  EXPECT_EQ(specs[0].uri, "socketcan:can0");
  EXPECT_EQ(specs[1].interface, "can1");
  EXPECT_EQ(specs[0].bus, 0);
  EXPECT_EQ(specs[1].bus, 1);
  EXPECT_EQ(specs[2].bus, 2);

  auto bad = ParseInterfaceList("can0,,can1");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("\"can0,,can1\": entry 2: empty interface name"), std::string::npos)
      << bad.status().message();
  bad = ParseInterfaceList("averyveryverylongname0");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("longer than 15"), std::string::npos);
}

}  // namespace
}  // namespace lplex::sources

namespace lplex::sources {
namespace {

// "?delay=PT5S&delay=PT6S" took one of them without a word.
TEST(SourceUri, OptionGivenTwiceIsRefusedNamingIt) {
  auto r = ParseSourceUri("replay:/x.pcap?delay=PT5S&delay=PT6S");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("option \"delay\" is given twice"), std::string::npos) << r.status().message();
  EXPECT_FALSE(ParseSourceUri("sim:?fps=10&fps=20").ok());
}

TEST(SourceUri, SimFpsThatIsNotANumberSaysSoNotOutOfRange) {
  auto r = ParseSourceUri("sim:?fps=abc");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("fps \"abc\" is not a number (valid: 1..100000"), std::string::npos)
      << r.status().message();
  r = ParseSourceUri("sim:?fps=0");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("fps \"0\" out of range"), std::string::npos) << r.status().message();
}

}  // namespace
}  // namespace lplex::sources
