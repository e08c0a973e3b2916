// Small helpers shared by the server benchmarks (bench/ only): CPU time and
// memory of a process or thread, percentiles, a simulated full bus as
// reassembled frames, a blocking HTTP GET and a many-connection SSE reader
// driven by one epoll loop.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "can/fast_packet.h"
#include "can/frame.h"
#include "sources/sim_boat.h"

namespace lplex::bench {

// CLOCK_MONOTONIC in ns: the same time line in every process of the machine,
// so a forked client can compare its receive time with the server's ingest time.
inline int64_t MonoNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec * 1'000'000'000LL + ts.tv_nsec;
}

inline double ThreadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + ts.tv_nsec * 1e-9;
}

inline double ProcessCpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) * 1e-6;
}

// utime + stime of another process from /proc/<pid>/stat, in seconds.
inline double PidCpuSeconds(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t rp = all.rfind(')');
  if (rp == std::string::npos) return -1;
  std::istringstream rest(all.substr(rp + 2));
  std::string field;
  unsigned long long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {  // field 3 is the state
    if (i == 14) utime = std::stoull(field);
    if (i == 15) stime = std::stoull(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

// A "VmRSS:" style line of /proc/<pid>/status in KiB (pid 0 = self).
inline long ProcStatusKib(pid_t pid, const char* key) {
  std::ifstream in(pid == 0 ? std::string("/proc/self/status") : "/proc/" + std::to_string(pid) + "/status");
  std::string line;
  const size_t n = std::strlen(key);
  while (std::getline(in, line)) {
    if (line.compare(0, n, key) == 0 && line.size() > n && line[n] == ':') return std::atol(line.c_str() + n + 1);
  }
  return -1;
}

inline std::string LoadAverage() {
  std::ifstream in("/proc/loadavg");
  std::string a, b, c;
  in >> a >> b >> c;
  return a + " " + b + " " + c;
}

// Percentile (0..100) of an unsorted sample; sorts it.
inline double Percentile(std::vector<double>* v, double p) {
  if (v->empty()) return 0;
  std::sort(v->begin(), v->end());
  const size_t i = std::min(v->size() - 1, static_cast<size_t>(p / 100.0 * static_cast<double>(v->size())));
  return (*v)[i];
}

// A frame with its own bytes.
struct OwnedFrame {
  int64_t timestamp_us;
  can::CanHeader header;
  std::vector<uint8_t> data;
  can::Frame view() const { return {.timestamp_us = timestamp_us, .header = header, .data = data}; }
};

// `seconds` of the simulated boat on a full bus (sim:?fps=full), after
// fast-packet reassembly, starting at start_us.
inline std::vector<OwnedFrame> SimFullBus(double seconds, int64_t start_us = 1'700'000'000'000'000LL) {
  sources::SimOptions so;
  so.fps = 1800;
  sources::SimBoat boat(so, start_us);
  can::FastPacketAssembler fp;
  std::vector<OwnedFrame> out;
  const int64_t end = start_us + static_cast<int64_t>(seconds * 1e6);
  can::Frame m;
  while (boat.next_due_us() < end) {
    const can::RawFrame raw = boat.Next();
    if (!raw.extended || !fp.Process(raw, &m)) continue;
    out.push_back({m.timestamp_us, m.header, std::vector<uint8_t>(m.data.begin(), m.data.end())});
  }
  return out;
}

// A loopback TCP port free right now (bound once and released): for a
// child server told to listen on it.
inline uint16_t FreeLoopbackPort() {
  const int probe = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  ::bind(probe, reinterpret_cast<sockaddr*>(&a), sizeof a);
  ::getsockname(probe, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(probe);
  return ntohs(a.sin_port);
}

inline int ConnectLoopback(uint16_t port, bool nonblocking, int rcvbuf = 0) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0), 0);
  if (fd < 0) return -1;
  if (rcvbuf > 0) ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 && errno != EINPROGRESS) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// GET `path` on 127.0.0.1:port with a fresh connection; the status code, or
// -1 when the connection failed.
inline int HttpGetStatus(uint16_t port, const std::string& path) {
  const int fd = ConnectLoopback(port, false);
  if (fd < 0) return -1;
  const std::string req = "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  if (::write(fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) {
    ::close(fd);
    return -1;
  }
  char buf[256];
  const ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  if (n < 12) return -1;
  buf[n] = 0;
  return std::atoi(buf + 9);  // "HTTP/1.1 200"
}

// Many SSE clients of GET /events on one epoll loop (one thread). Each
// client parses the chunked stream just enough to find every event's
// "seq":N and calls on_seq(client, seq, receive time). A "stalled" client
// sends its request and then never reads again.
class SseClients {
 public:
  using OnSeq = std::function<void(int client, uint64_t seq, int64_t recv_ns)>;

  SseClients(uint16_t port, int healthy, int stalled, OnSeq on_seq) : on_seq_(std::move(on_seq)) {
    ep_ = epoll_create1(EPOLL_CLOEXEC);
    const std::string req = "GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n";
    for (int i = 0; i < healthy + stalled; ++i) {
      const bool stall = i >= healthy;
      const int fd = ConnectLoopback(port, false, stall ? 4096 : 0);
      if (fd < 0) {
        std::fprintf(stderr, "bench: connect %d failed: %s\n", i, std::strerror(errno));
        std::exit(2);
      }
      if (::write(fd, req.data(), req.size()) != static_cast<ssize_t>(req.size())) std::exit(2);
      ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
      clients_.push_back(Client{fd, stall, {}});
      if (!stall) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u32 = static_cast<uint32_t>(i);
        epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev);
      }
    }
  }
  ~SseClients() {
    for (auto& c : clients_) ::close(c.fd);
    ::close(ep_);
  }

  // Reads until `stop` is set. Returns false when a healthy client's stream ended.
  bool Run(const std::atomic<bool>& stop) {
    std::vector<epoll_event> evs(256);
    std::vector<char> buf(1 << 16);
    bool all_open = true;
    while (!stop.load(std::memory_order_relaxed)) {
      const int n = epoll_wait(ep_, evs.data(), static_cast<int>(evs.size()), 50);
      for (int k = 0; k < n; ++k) {
        const int i = static_cast<int>(evs[k].data.u32);
        Client& c = clients_[i];
        for (;;) {
          const ssize_t r = ::read(c.fd, buf.data(), buf.size());
          const int64_t now = MonoNs();  // per read: a pass over 256 sockets takes a while
          if (r > 0) {
            bytes_ += static_cast<uint64_t>(r);
            Parse(i, c, std::string_view(buf.data(), static_cast<size_t>(r)), now);
            if (static_cast<size_t>(r) < buf.size()) break;
            continue;
          }
          if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
            epoll_ctl(ep_, EPOLL_CTL_DEL, c.fd, nullptr);
            all_open = false;
          }
          break;
        }
      }
    }
    return all_open;
  }
  uint64_t bytes() const { return bytes_; }

 private:
  struct Client {
    int fd;
    bool stalled;
    std::string tail;  // an event split across reads
  };

  // The events are lines `data: {"seq":N,...}`; chunk-size lines and the
  // response headers never contain `"seq":`. Only complete lines count.
  void Parse(int i, Client& c, std::string_view in, int64_t now) {
    c.tail.append(in);
    size_t pos = 0;
    for (;;) {
      const size_t nl = c.tail.find('\n', pos);
      if (nl == std::string::npos) break;
      std::string_view line(c.tail.data() + pos, nl - pos);
      if (line.starts_with("data: {\"seq\":")) {
        on_seq_(i, std::strtoull(line.data() + 13, nullptr, 10), now);
      }
      pos = nl + 1;
    }
    c.tail.erase(0, pos);
  }

  OnSeq on_seq_;
  int ep_ = -1;
  std::vector<Client> clients_;
  uint64_t bytes_ = 0;
};

}  // namespace lplex::bench
