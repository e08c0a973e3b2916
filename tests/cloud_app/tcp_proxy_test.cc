// The test proxy the chaos test cuts connections with (support/tcp_proxy.h):
// if it forwarded wrongly or failed to cut, the chaos test would prove
// nothing.
#include "support/tcp_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <thread>
#include <utility>

#include "support/loopback_socket.h"

namespace lplex::testing {
namespace {

int Connect(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// Accepts one connection within 5 s; -1 if none came.
int AcceptOne(int listen_fd) {
  pollfd p{listen_fd, POLLIN, 0};
  if (::poll(&p, 1, 5000) != 1) return -1;
  return ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
}

// Reads exactly n bytes within 5 s ("" on error, end of stream or timeout).
std::string ReadN(int fd, size_t n) {
  std::string out;
  while (out.size() < n) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 5000) != 1) return "";
    char buf[4096];
    const ssize_t r = ::recv(fd, buf, std::min(sizeof buf, n - out.size()), 0);
    if (r <= 0) return "";
    out.append(buf, static_cast<size_t>(r));
  }
  return out;
}

// What the next read sees within 5 s: 0 end of stream, -errno an error, 1 data, -1000 nothing.
int NextRead(int fd) {
  pollfd p{fd, POLLIN, 0};
  if (::poll(&p, 1, 5000) != 1) return -1000;
  char c;
  const ssize_t r = ::recv(fd, &c, 1, 0);
  return r < 0 ? -errno : static_cast<int>(r);
}

// A loopback target (listening, or only bound so that connects to it are
// refused) with a TcpProxy in front of it; the target's socket is closed
// when this goes.
struct ProxiedTarget {
  explicit ProxiedTarget(bool listen) : listener(BindLoopback(&target_port, listen)), proxy(target_port) {}
  ~ProxiedTarget() {
    if (listener >= 0) ::close(listener);
  }

  // A client connected through the proxy and the target's side of that
  // connection: {client, server}, -1 for a side that failed.
  std::pair<int, int> Connection() const {
    const int client = Connect(proxy.port());
    return {client, AcceptOne(listener)};
  }

  int target_port = 0;
  const int listener;
  TcpProxy proxy;
};

TEST(TcpProxy, ForwardsBytesBothWaysAndCountsConnections) {
  ProxiedTarget t(/*listen=*/true);
  ASSERT_GE(t.listener, 0);
  ASSERT_TRUE(t.proxy.ok());
  const std::pair<int, int> connection = t.Connection();
  const int client = connection.first, server = connection.second;  // `client` goes into a lambda
  ASSERT_GE(client, 0);
  ASSERT_GE(server, 0);

  const std::string big(1 << 20, 'x');  // more than a socket buffer: the proxy must queue, not drop
  std::string got;
  std::thread writer([&] { ::send(client, big.data(), big.size(), MSG_NOSIGNAL); });
  got = ReadN(server, big.size());
  writer.join();
  EXPECT_EQ(got.size(), big.size());
  EXPECT_TRUE(got == big);
  ASSERT_EQ(::send(server, "pong", 4, MSG_NOSIGNAL), 4);
  EXPECT_EQ(ReadN(client, 4), "pong");
  EXPECT_EQ(t.proxy.accepted(), 1u);
  EXPECT_EQ(t.proxy.forwarded(), 1u);
  EXPECT_EQ(t.proxy.open(), 1u);
  ::close(client);
  ::close(server);
}

TEST(TcpProxy, DropAllResetsBothSidesAndLaterConnectionsStillForward) {
  ProxiedTarget t(/*listen=*/true);
  ASSERT_GE(t.listener, 0);
  ASSERT_TRUE(t.proxy.ok());
  const auto [client, server] = t.Connection();
  ASSERT_GE(client, 0);
  ASSERT_GE(server, 0);
  ASSERT_EQ(::send(client, "a", 1, MSG_NOSIGNAL), 1);
  ASSERT_EQ(ReadN(server, 1), "a");  // the pair is set up before the drop

  EXPECT_EQ(t.proxy.DropAll(), 1u);
  EXPECT_EQ(t.proxy.open(), 0u);
  EXPECT_EQ(NextRead(client), -ECONNRESET);
  EXPECT_EQ(NextRead(server), -ECONNRESET);

  const auto [client2, server2] = t.Connection();
  ASSERT_GE(client2, 0);
  ASSERT_GE(server2, 0);
  ASSERT_EQ(::send(client2, "b", 1, MSG_NOSIGNAL), 1);
  EXPECT_EQ(ReadN(server2, 1), "b");
  EXPECT_EQ(t.proxy.accepted(), 2u);
  for (int fd : {client, server, client2, server2}) ::close(fd);
}

TEST(TcpProxy, ClosesTheClientWhenTheTargetRefuses) {
  ProxiedTarget t(/*listen=*/false);  // bound, not listening: connects are refused
  ASSERT_GE(t.listener, 0);
  ASSERT_TRUE(t.proxy.ok());
  const int client = Connect(t.proxy.port());
  ASSERT_GE(client, 0);
  const int r = NextRead(client);
  EXPECT_TRUE(r == 0 || r == -ECONNRESET) << r;
  EXPECT_EQ(t.proxy.accepted(), 1u);
  EXPECT_EQ(t.proxy.forwarded(), 0u);
  ::close(client);
}

}  // namespace
}  // namespace lplex::testing
