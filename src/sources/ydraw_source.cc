#include "sources/ydraw_source.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "can/can_id.h"
#include "sources/text_lines.h"

namespace lplex::sources {
namespace {

constexpr int64_t kDayUs = 86'400'000'000;
// A RAW line is at most ~45 characters; anything this long without a line
// end is not a RAW stream (or lost its line ends) and is dropped.
constexpr size_t kMaxLine = 256;

// getaddrinfo for host:port; for UDP an empty host binds every address.
Result<addrinfo*> Resolve(const std::string& host, uint16_t port, bool tcp, bool passive) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = tcp ? SOCK_STREAM : SOCK_DGRAM;
  hints.ai_flags = passive ? AI_PASSIVE : 0;
  addrinfo* res = nullptr;
  const std::string service = std::to_string(port);
  const int rc = ::getaddrinfo(host.empty() ? nullptr : host.c_str(), service.c_str(), &hints, &res);
  if (rc != 0) return Status::IOError(fmt::format("cannot resolve {}: {}", host, ::gai_strerror(rc)));
  return res;
}

}  // namespace

int64_t YdTimeOfDayToTimestamp(int64_t time_of_day_us, int64_t now_us) {
  const int64_t day = now_us >= 0 ? now_us / kDayUs : (now_us - kDayUs + 1) / kDayUs;
  int64_t best = day * kDayUs + time_of_day_us;
  for (int64_t d : {day - 1, day + 1}) {
    const int64_t t = d * kDayUs + time_of_day_us;
    if (std::llabs(t - now_us) < std::llabs(best - now_us)) best = t;
  }
  return best;
}

std::string FormatYdRawTxLine(const can::RawFrame& frame) {
  std::string s = fmt::format("{:08X}", frame.id & 0x1FFFFFFF);
  for (uint8_t i = 0; i < frame.length && i < 8; ++i) s += fmt::format(" {:02X}", frame.data[i]);
  s += "\r\n";
  return s;
}

YdRawSource::YdRawSource(std::string uri, uint8_t bus, YdRawOptions options, std::unique_ptr<Pacer> pacer)
    : ThreadedSource(std::move(uri), bus, std::move(pacer)), options_(std::move(options)) {
  wake_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
}

YdRawSource::~YdRawSource() {
  Stop();
  if (udp_fd_ >= 0) ::close(udp_fd_);
  if (wake_fd_ >= 0) ::close(wake_fd_);
}

void YdRawSource::Interrupt() {
  if (wake_fd_ < 0) return;
  const uint64_t one = 1;
  [[maybe_unused]] ssize_t n = ::write(wake_fd_, &one, sizeof one);
}

Status YdRawSource::Open() {
  if (wake_fd_ < 0) return Status::FromErrno("eventfd", errno);
  if (options_.tcp) return Status::Ok();  // connecting (and reconnecting) is the thread's job
  LPLEX_ASSIGN_OR_RETURN(addrinfo * res, Resolve(options_.host, options_.port, false, true));
  Status last = Status::IOError("no address");
  for (addrinfo* a = res; a != nullptr; a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
    if (fd < 0) {
      last = Status::FromErrno("socket", errno);
      continue;
    }
    const int on = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (::bind(fd, a->ai_addr, a->ai_addrlen) != 0) {
      last = Status::FromErrno(fmt::format("bind UDP port {}", options_.port), errno);
      ::close(fd);
      continue;
    }
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len);
    local_port_ = ntohs(ss.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&ss)->sin6_port
                                                 : reinterpret_cast<sockaddr_in*>(&ss)->sin_port);
    udp_fd_ = fd;
    break;
  }
  ::freeaddrinfo(res);
  if (udp_fd_ < 0) return last.WithContext(uri());
  return Status::Ok();
}

bool YdRawSource::WaitFd(int fd, bool out, int timeout_ms) {
  pollfd p[2] = {{fd, static_cast<short>(out ? POLLOUT : POLLIN), 0}, {wake_fd_, POLLIN, 0}};
  for (;;) {
    if (stopping()) return false;
    const int rc = ::poll(p, 2, timeout_ms);
    if (rc < 0 && errno == EINTR) continue;
    if (stopping()) return false;
    return rc > 0 && p[0].revents != 0;
  }
}

int YdRawSource::Connect(Status* error) {
  auto res = Resolve(options_.host, options_.port, true, false);
  if (!res.ok()) {
    *error = res.status();
    return -1;
  }
  int result = -1;
  for (addrinfo* a = *res; a != nullptr && result < 0 && !stopping(); a = a->ai_next) {
    const int fd = ::socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
    if (fd < 0) {
      *error = Status::FromErrno("socket", errno);
      continue;
    }
    int rc = ::connect(fd, a->ai_addr, a->ai_addrlen);
    if (rc != 0 && errno == EINPROGRESS) {
      // A gateway on the boat's LAN answers at once; 10 s covers a slow Wi-Fi.
      if (WaitFd(fd, true, 10'000)) {
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        rc = err == 0 ? 0 : -1;
        errno = err;
      } else {
        errno = ETIMEDOUT;
      }
    }
    if (rc == 0) {
      result = fd;
    } else {
      *error = Status::FromErrno(fmt::format("connect to {}:{}", options_.host, options_.port), errno);
      ::close(fd);
    }
  }
  ::freeaddrinfo(*res);
  return result;
}

void YdRawSource::HandleLine(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  if (line.empty()) return;
  can::RawFrame raw;
  std::string why;
  if (text::ParseYdRawLine(line, &raw, &why) != text::LineResult::kFrame) {
    malformed_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  raw.timestamp_us = YdTimeOfDayToTimestamp(raw.timestamp_us, clock()->NowMicros());
  can::Frame message;
  if (raw.extended && assembler_.Process(raw, &message)) Deliver(message);
}

void YdRawSource::HandleBytes(const char* p, size_t n) {
  for (size_t i = 0; i < n; ++i) {
    if (p[i] == '\n') {
      if (line_.size() <= kMaxLine) HandleLine(line_);
      line_.clear();
    } else if (line_.size() < kMaxLine) {
      line_.push_back(p[i]);
    } else if (line_.size() == kMaxLine) {
      malformed_.fetch_add(1, std::memory_order_relaxed);
      line_.push_back('\0');  // mark: drop the rest of this line
    }
  }
}

bool YdRawSource::ReadStream(int fd) {
  bool any = false;
  char buf[4096];
  line_.clear();
  while (WaitFd(fd, false, -1)) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n < 0 && (errno == EINTR || errno == EAGAIN)) continue;
    if (n <= 0) break;  // closed by the gateway, or an error: reconnect
    any = true;
    HandleBytes(buf, static_cast<size_t>(n));
  }
  return any;
}

Status YdRawSource::Run() {
  if (!options_.tcp) {
    char buf[65536];
    while (WaitFd(udp_fd_, false, -1)) {
      const ssize_t n = ::recv(udp_fd_, buf, sizeof buf, 0);
      if (n < 0) {
        if (errno == EINTR || errno == EAGAIN) continue;
        return Status::FromErrno(uri() + ": receive", errno);
      }
      // A datagram holds whole lines; the last may lack its line end.
      line_.clear();
      HandleBytes(buf, static_cast<size_t>(n));
      if (!line_.empty()) HandleLine(line_);
      line_.clear();
    }
    return Status::Ok();
  }
  int64_t backoff = options_.initial_backoff_us;
  while (!stopping()) {
    Status error;
    const int fd = Connect(&error);
    if (fd >= 0) {
      connects_.fetch_add(1, std::memory_order_relaxed);
      {
        std::lock_guard lock(tx_mu_);
        tx_fd_ = fd;
      }
      if (ReadStream(fd)) backoff = options_.initial_backoff_us;
      {
        std::lock_guard lock(tx_mu_);
        tx_fd_ = -1;
      }
      ::close(fd);
    }
    if (stopping()) break;
    const int64_t until = clock()->NowMicros() + backoff;
    while (!stopping() && clock()->NowMicros() < until) pacer().WaitUntil(until);
    backoff = std::min(backoff * 2, options_.max_backoff_us);
  }
  return Status::Ok();
}

Status YdRawSource::Send(const can::Frame& frame) {
  if (!options_.tcp) return FrameSource::Send(frame);
  std::lock_guard lock(tx_mu_);
  can::TxFrames tx;
  LPLEX_RETURN_IF_ERROR(fragmenter_.Fragment(frame.header, frame.data, &tx));
  if (tx_fd_ < 0) return Status::IOError(fmt::format("{}: not connected to the gateway", uri()));
  std::string lines;
  for (const can::RawFrame& f : tx.view()) lines += FormatYdRawTxLine(f);
  size_t off = 0;
  while (off < lines.size()) {
    const ssize_t n = ::send(tx_fd_, lines.data() + off, lines.size() - off, MSG_NOSIGNAL);
    if (n > 0) {
      off += static_cast<size_t>(n);
    } else if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      if (!WaitFd(tx_fd_, true, 1000)) return Status::IOError(fmt::format("{}: gateway does not accept data", uri()));
    } else {
      return Status::FromErrno(uri() + ": send", errno);
    }
  }
  return Status::Ok();
}

}  // namespace lplex::sources
