// A TCP proxy on loopback for tests that must cut a connection between two
// real processes (a boat and its cloud) at a moment the test chooses,
// without stopping either of them.
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <arpa/inet.h>

#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "support/loopback_socket.h"

namespace lplex::testing {

// Listens on 127.0.0.1 (a port the kernel picks) and forwards every
// connection it accepts to 127.0.0.1:target_port, bytes both ways, from one
// thread driven by poll(). When the target refuses (it is down, say between a
// restart and the next), the accepted connection is closed at once, as a
// dead server would be seen by the client. DropAll cuts every open
// connection on both sides with a reset, as a broken network would.
// Thread-safe; the destructor closes everything and joins the thread.
class TcpProxy {
 public:
  explicit TcpProxy(int target_port) : target_port_(target_port) {
    listen_fd_ = BindLoopback(&port_, /*listen=*/true);
    if (listen_fd_ < 0 || ::pipe2(wake_, O_CLOEXEC | O_NONBLOCK) != 0) return;
    SetNonBlocking(listen_fd_);
    thread_running_ = true;  // before the thread: a DropAll right away waits for it
    thread_ = std::thread([this] { Run(); });
  }
  ~TcpProxy() {
    stop_.store(true);
    Wake();
    if (thread_.joinable()) thread_.join();
    if (listen_fd_ >= 0) ::close(listen_fd_);
    for (int fd : wake_) {
      if (fd >= 0) ::close(fd);
    }
  }
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  // False when the listening socket or the thread could not be set up.
  bool ok() const { return thread_.joinable(); }

  // The port clients connect to.
  int port() const { return port_; }

  // Closes every open connection, both the client's side and the target's,
  // with a reset (SO_LINGER 0), and returns how many were open. On return
  // they are closed: the proxy thread has done it.
  size_t DropAll() {
    std::unique_lock<std::mutex> lock(mu_);
    const uint64_t ticket = ++drops_requested_;
    Wake();
    done_cv_.wait(lock, [&] { return drops_done_ >= ticket || !thread_running_; });
    return last_drop_closed_;
  }

  // Connections accepted so far (including those the target refused).
  size_t accepted() const { return accepted_.load(); }
  // Connections forwarded to the target so far.
  size_t forwarded() const { return forwarded_.load(); }
  // Connections open right now.
  size_t open() const { return open_.load(); }

 private:
  // One client connection and its connection to the target. Each direction
  // has a buffer of bytes read but not yet written; a side is read only
  // when its buffer is empty, so a slow reader slows its writer (no
  // unbounded queue) and the thread never blocks on a write.
  struct Pair {
    int fd[2] = {-1, -1};          // 0: client, 1: target
    std::string pending[2];        // bytes read from fd[i], to be written to fd[1 - i]
    bool eof[2] = {false, false};  // fd[i] reached end of stream
    bool shut[2] = {false, false};  // fd[1 - i] was shut down for writing after eof[i]
  };

  static void SetNonBlocking(int fd) { ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK); }

  // Closes with RST rather than FIN: the peer sees a connection reset, as
  // after a network failure, not an orderly end of stream.
  static void CloseHard(int fd) {
    if (fd < 0) return;
    linger l{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    ::close(fd);
  }

  void Wake() {
    if (wake_[1] >= 0) {
      const char c = 1;
      [[maybe_unused]] ssize_t n = ::write(wake_[1], &c, 1);
    }
  }

  void Accept() {
    while (true) {
      const int client = ::accept4(listen_fd_, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
      if (client < 0) return;  // EAGAIN: none left (or a transient error: poll again)
      ++accepted_;
      // A blocking connect on loopback answers at once: accepted, or refused
      // when nothing listens on the target port.
      const int target = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(static_cast<uint16_t>(target_port_));
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (target < 0 || ::connect(target, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
        if (target >= 0) ::close(target);
        CloseHard(client);
        continue;
      }
      SetNonBlocking(target);
      ++forwarded_;
      Pair p;
      p.fd[0] = client;
      p.fd[1] = target;
      pairs_.push_back(std::move(p));
    }
  }

  // Moves bytes for one pair after poll; false when the pair is finished
  // (an error on either side, or both directions ended) and must be closed.
  static bool Pump(Pair* p, const pollfd* pf) {
    for (int i = 0; i < 2; ++i) {
      if (pf[i].revents & (POLLERR | POLLNVAL)) return false;
      if ((pf[i].revents & (POLLIN | POLLHUP)) && p->pending[i].empty() && !p->eof[i]) {
        char buf[65536];
        const ssize_t n = ::recv(p->fd[i], buf, sizeof buf, 0);
        if (n > 0) {
          p->pending[i].assign(buf, static_cast<size_t>(n));
        } else if (n == 0) {
          p->eof[i] = true;
        } else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
          return false;  // ECONNRESET and the like: pass the reset on
        }
      }
    }
    for (int i = 0; i < 2; ++i) {
      const int to = p->fd[1 - i];
      if (!p->pending[i].empty()) {
        const ssize_t n = ::send(to, p->pending[i].data(), p->pending[i].size(), MSG_NOSIGNAL);
        if (n > 0) {
          p->pending[i].erase(0, static_cast<size_t>(n));
        } else if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
          return false;
        }
      }
      if (p->eof[i] && p->pending[i].empty() && !p->shut[i]) {
        ::shutdown(to, SHUT_WR);  // pass the orderly end of stream on
        p->shut[i] = true;
      }
    }
    return !(p->shut[0] && p->shut[1]);
  }

  void CloseAll() {
    for (auto& p : pairs_) {
      CloseHard(p.fd[0]);
      CloseHard(p.fd[1]);
    }
    pairs_.clear();
  }

  void Run() {
    std::vector<pollfd> fds;
    while (!stop_.load()) {
      // Drops first: a DropAll that raced with new data still closes the
      // connections it saw open.
      {
        std::lock_guard<std::mutex> lock(mu_);
        if (drops_done_ < drops_requested_) {
          last_drop_closed_ = pairs_.size();
          CloseAll();
          open_.store(0);
          drops_done_ = drops_requested_;
          done_cv_.notify_all();
        }
      }
      fds.clear();
      fds.push_back({wake_[0], POLLIN, 0});
      fds.push_back({listen_fd_, POLLIN, 0});
      for (const auto& p : pairs_) {
        for (int i = 0; i < 2; ++i) {
          short ev = 0;
          if (p.pending[i].empty() && !p.eof[i]) ev |= POLLIN;     // room to read from fd[i]
          if (!p.pending[1 - i].empty()) ev |= POLLOUT;            // bytes waiting for fd[i]
          fds.push_back({p.fd[i], ev, 0});
        }
      }
      if (::poll(fds.data(), fds.size(), -1) < 0) {
        if (errno == EINTR) continue;
        break;
      }
      if (fds[0].revents & POLLIN) {
        char drain[64];
        while (::read(wake_[0], drain, sizeof drain) > 0) {
        }
      }
      // Pumps the pairs polled above (Accept appends after them).
      std::vector<Pair> alive;
      alive.reserve(pairs_.size());
      for (size_t k = 0; k < pairs_.size(); ++k) {
        if (Pump(&pairs_[k], &fds[2 + 2 * k])) {
          alive.push_back(std::move(pairs_[k]));
        } else {
          CloseHard(pairs_[k].fd[0]);
          CloseHard(pairs_[k].fd[1]);
        }
      }
      pairs_ = std::move(alive);
      if (fds[1].revents & POLLIN) Accept();
      open_.store(pairs_.size());
    }
    CloseAll();
    open_.store(0);
    std::lock_guard<std::mutex> lock(mu_);
    thread_running_ = false;
    done_cv_.notify_all();
  }

  const int target_port_;
  int port_ = 0;
  int listen_fd_ = -1;
  int wake_[2] = {-1, -1};
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<size_t> accepted_{0};
  std::atomic<size_t> forwarded_{0};
  std::atomic<size_t> open_{0};
  std::vector<Pair> pairs_;  // the proxy thread's only

  std::mutex mu_;
  std::condition_variable done_cv_;
  uint64_t drops_requested_ = 0;  // guarded by mu_
  uint64_t drops_done_ = 0;       // guarded by mu_
  size_t last_drop_closed_ = 0;   // guarded by mu_
  bool thread_running_ = false;   // guarded by mu_
};

}  // namespace lplex::testing
