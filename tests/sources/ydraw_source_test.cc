#include "sources/ydraw_source.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "core/time.h"
#include "sources/live_source_test_util.h"
#include "support/loopback_socket.h"

namespace lplex::sources {
namespace {

using testing::Collector;

// "hh:mm:ss.mmm" of now (UTC), as a gateway with a synchronized clock writes it.
std::string TimeOfDayNow() {
  const auto c = timefmt::ToCivil(Clock::Real()->NowMicros());
  char buf[32];
  std::snprintf(buf, sizeof buf, "%02d:%02d:%02d.%03d", c.hour, c.minute, c.second, c.micros / 1000);
  return buf;
}

void SendAll(int fd, const std::string& s) {
  ASSERT_EQ(::send(fd, s.data(), s.size(), MSG_NOSIGNAL), static_cast<ssize_t>(s.size()));
}

TEST(YdRawSource, YdTimeOfDayTakesTheNearestDate) {
  const int64_t day = 86'400'000'000, midnight = 20'000 * day;
  // Received just after midnight, stamped just before it: yesterday.
  EXPECT_EQ(YdTimeOfDayToTimestamp(day - 100'000, midnight + 50'000), midnight - 100'000);
  // Received just before midnight, stamped just after it (gateway clock ahead): tomorrow.
  EXPECT_EQ(YdTimeOfDayToTimestamp(20'000, midnight - 30'000), midnight + 20'000);
  EXPECT_EQ(YdTimeOfDayToTimestamp(12 * 3'600'000'000LL, midnight + 11 * 3'600'000'000LL),
            midnight + 12 * 3'600'000'000LL);
}

TEST(YdRawSource, YdrawTcpReconnectsAfterServerCloses) {
  int port = 0;
  const int server = lplex::testing::BindLoopback(&port, /*listen=*/true);
  ASSERT_GE(server, 0);
  std::string received;  // what the source sent to the "gateway"
  std::thread gateway([&] {
    // First connection: two frames, then the gateway closes (a reboot, Wi-Fi lost).
    int c = ::accept(server, nullptr, nullptr);
    ASSERT_GE(c, 0);
    SendAll(c, TimeOfDayNow() + " R 09F80123 01 02 03 04 05 06 07 08\r\n" + TimeOfDayNow() +
                   " R 09F80123 11 12 13 14 15 16 17 18\r\n");
    ::close(c);
    // Second connection: two more, one split across writes; then read what the source sends.
    c = ::accept(server, nullptr, nullptr);
    ASSERT_GE(c, 0);
    SendAll(c, TimeOfDayNow() + " R 0DF11923 21 22 23 24");
    SendAll(c, " 25 26 27 28\r\n" + TimeOfDayNow() + " T 09F80123 31 32 33 34 35 36 37 38\r\n");
    char buf[256];
    while (received.find("\r\n") == std::string::npos) {
      const ssize_t n = ::recv(c, buf, sizeof buf, 0);
      if (n <= 0) break;
      received.append(buf, static_cast<size_t>(n));
    }
    ::close(c);
  });

  YdRawOptions o;
  o.host = "127.0.0.1";
  o.port = static_cast<uint16_t>(port);
  o.initial_backoff_us = 10'000;
  YdRawSource source("ydraw+tcp://127.0.0.1:" + std::to_string(port), 2, o, NewRealPacer(Clock::Real()));
  Collector got;
  ASSERT_TRUE(source.Start(got.Sink(), got.OnEnd()).ok());
  ASSERT_TRUE(got.WaitForCount(4)) << "got " << got.frames().size() << " frames";
  EXPECT_EQ(source.connects(), 2u);

  const uint8_t request[3] = {0x00, 0xEE, 0x00};
  can::Frame iso;
  iso.header = {6, 59904, 254, can::kBroadcast};
  iso.data = request;
  ASSERT_TRUE(source.Send(iso).ok());
  gateway.join();
  ::close(server);
  source.Stop();

  EXPECT_EQ(received, "18EAFFFE 00 EE 00\r\n");
  const auto frames = got.frames();
  ASSERT_EQ(frames.size(), 4u);
  EXPECT_EQ(frames[0].header.pgn, 129025u);
  EXPECT_EQ(frames[2].header.pgn, 0x1F119u);
  EXPECT_EQ(frames[2].data, (std::vector<uint8_t>{0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28}));
  EXPECT_EQ(frames[3].data[0], 0x31);
  for (const auto& f : frames) {
    EXPECT_EQ(f.bus, 2);
    EXPECT_LT(std::llabs(f.ts - Clock::Real()->NowMicros()), 60'000'000) << "dated today";
  }
}

TEST(YdRawSource, YdrawTcpSendFailsWhileNotConnected) {
  int port = 0;
  const int unused = lplex::testing::BindLoopback(&port, /*listen=*/false);  // bound, never listening: refused
  ASSERT_GE(unused, 0);
  YdRawOptions o;
  o.host = "127.0.0.1";
  o.port = static_cast<uint16_t>(port);
  YdRawSource source("ydraw+tcp://127.0.0.1:" + std::to_string(port), 0, o, NewRealPacer(Clock::Real()));
  Collector got;
  ASSERT_TRUE(source.Start(got.Sink(), got.OnEnd()).ok());
  const uint8_t data[3] = {0x00, 0xEE, 0x00};
  can::Frame f;
  f.header = {6, 59904, 254, can::kBroadcast};
  f.data = data;
  const Status s = source.Send(f);
  EXPECT_TRUE(s.IsIOError()) << s.ToString();
  EXPECT_NE(s.message().find("not connected"), std::string::npos) << s.ToString();
  source.Stop();  // returns promptly while the source waits to reconnect
  ::close(unused);
}

TEST(YdRawSource, YdrawUdpReceivesLines) {
  YdRawOptions o;
  o.tcp = false;
  o.host = "127.0.0.1";
  o.port = 0;  // any free port; read back below
  YdRawSource source("ydraw+udp://127.0.0.1:0", 0, o, NewRealPacer(Clock::Real()));
  Collector got;
  ASSERT_TRUE(source.Start(got.Sink(), got.OnEnd()).ok());
  ASSERT_NE(source.local_port(), 0);

  const int fd = ::socket(AF_INET, SOCK_DGRAM, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(source.local_port());
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  // One datagram: two frames with a malformed line between them, the last without its line end.
  const std::string datagram = TimeOfDayNow() + " R 09F80123 01 02 03 04 05 06 07 08\r\n" +
                               "not a raw line\r\n" + TimeOfDayNow() + " R 09F80223 0A 0B 0C 0D 0E 0F 10 11";
  ASSERT_EQ(::sendto(fd, datagram.data(), datagram.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to),
            static_cast<ssize_t>(datagram.size()));
  ::close(fd);
  ASSERT_TRUE(got.WaitForCount(2));
  source.Stop();
  const auto frames = got.frames();
  EXPECT_EQ(frames[0].header.source, 0x23);
  EXPECT_EQ(frames[1].header.pgn, 129026u);
  EXPECT_EQ(frames[1].data[0], 0x0A);
  EXPECT_EQ(source.malformed_lines(), 1u);
  EXPECT_FALSE(source.can_send());
}

}  // namespace
}  // namespace lplex::sources
