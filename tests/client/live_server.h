// Test helpers for the client side of the boat API: the real lplex-server on
// 127.0.0.1 with a port the test chose (so a restart can reuse it), and a
// one-connection fake HTTP server for answers the real one never gives.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "server/server_test_support.h"

namespace lplex::testing {

// A TCP port nothing listens on right now (the kernel's pick, released).
inline int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

// lplex-server with the simulated boat on a fixed port; Start again after
// Stop for a restart on the same port (with the same journal directory, so
// seqs continue).
class LiveServer {
 public:
  LiveServer(std::string dir, int port) : dir_(std::move(dir)), port_(port) {}

  bool Start(const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args = {"-source", "sim:", "-port", std::to_string(port_), "-journal-dir",
                                     dir_ + "/journal"};
    args.insert(args.end(), extra.begin(), extra.end());
    ++runs_;
    if (!child_.Start(args, dir_ + "/server" + std::to_string(runs_) + ".log")) return false;
    return child_.WaitForLog("lplex-server: ready", std::chrono::seconds(20));
  }
  // SIGTERM and wait: the server finishes its journal.
  int Stop() { return child_.Terminate(std::chrono::seconds(20)); }

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string Log() const { return child_.Log(); }

 private:
  std::string dir_;
  int port_;
  int runs_ = 0;
  ChildServer child_;
};

// Accepts one connection on loopback, reads the request head, writes
// `response` (raw bytes), then keeps the connection open until `hold` has
// passed or the client closes.
class FakeHttpServer {
 public:
  explicit FakeHttpServer(std::string response, std::chrono::milliseconds hold = std::chrono::milliseconds(0))
      : response_(std::move(response)), hold_(hold) {
    listen_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(listen_, reinterpret_cast<sockaddr*>(&a), sizeof a);
    ::listen(listen_, 4);
    socklen_t len = sizeof a;
    ::getsockname(listen_, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    thread_ = std::thread([this] { Serve(); });
  }
  ~FakeHttpServer() {
    ::shutdown(listen_, SHUT_RDWR);
    if (thread_.joinable()) thread_.join();
    ::close(listen_);
  }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  const std::string& request() const { return request_; }  // valid after the client finished

 private:
  void Serve() {
    const int c = ::accept(listen_, nullptr, nullptr);
    if (c < 0) return;
    char buf[4096];
    while (request_.find("\r\n\r\n") == std::string::npos) {
      const ssize_t n = ::recv(c, buf, sizeof buf, 0);
      if (n <= 0) break;
      request_.append(buf, static_cast<size_t>(n));
    }
    ::send(c, response_.data(), response_.size(), MSG_NOSIGNAL);
    const auto end = std::chrono::steady_clock::now() + hold_;
    timeval tv{0, 50'000};
    ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    while (std::chrono::steady_clock::now() < end) {
      const ssize_t n = ::recv(c, buf, sizeof buf, 0);
      if (n == 0) break;  // the client closed
    }
    ::close(c);
  }

  std::string response_;
  std::chrono::milliseconds hold_;
  int listen_ = -1;
  int port_ = 0;
  std::string request_;
  std::thread thread_;
};

// An SSE response head (chunked, as the boat sends it) followed by `chunks`
// each as one chunk; `end` adds the terminating chunk.
inline std::string SseResponse(const std::vector<std::string>& chunks, bool end) {
  std::string r =
      "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nTransfer-Encoding: "
      "chunked\r\n\r\n";
  for (const auto& c : chunks) {
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", c.size());
    r += size + c + "\r\n";
  }
  if (end) r += "0\r\n\r\n";
  return r;
}

}  // namespace lplex::testing
