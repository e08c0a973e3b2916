// Sockets are plain POSIX with poll() in slices of at most 100 ms, so the
// cancel flag (set by a signal handler) and Stop() are seen promptly without
// interrupting system calls; Beast only parses the HTTP response bytes.
#include "client/http_client.h"

#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/beast/core/buffers_range.hpp>
#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/asio/buffer.hpp>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>

#include <fmt/format.h>

namespace lplex::client {
namespace {

namespace bhttp = boost::beast::http;
using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

constexpr milliseconds kSlice{100};
constexpr const char* kCancelled = "cancelled";

// Collects the status, the Content-Type and the body of a response; body
// bytes go to `sink` (the whole body for requests, SSE lines for streams).
class ResponseParser : public bhttp::basic_parser<false> {
 public:
  explicit ResponseParser(std::string* sink) : sink_(sink) {}
  int status = 0;
  std::string content_type;

 private:
  void on_request_impl(bhttp::verb, boost::beast::string_view, boost::beast::string_view, int,
                       boost::beast::error_code&) override {}
  void on_response_impl(int code, boost::beast::string_view, int, boost::beast::error_code&) override {
    status = code;
  }
  void on_field_impl(bhttp::field name, boost::beast::string_view, boost::beast::string_view value,
                     boost::beast::error_code&) override {
    if (name == bhttp::field::content_type) content_type.assign(value.data(), value.size());
  }
  void on_header_impl(boost::beast::error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>&, boost::beast::error_code&) override {}
  size_t on_body_impl(boost::beast::string_view body, boost::beast::error_code&) override {
    sink_->append(body.data(), body.size());
    return body.size();
  }
  void on_chunk_header_impl(std::uint64_t, boost::beast::string_view, boost::beast::error_code&) override {}
  size_t on_chunk_body_impl(std::uint64_t, boost::beast::string_view body, boost::beast::error_code&) override {
    sink_->append(body.data(), body.size());
    return body.size();
  }
  void on_finish_impl(boost::beast::error_code&) override {}

  std::string* sink_;
};

bool Cancelled(const std::atomic<bool>* flag) { return flag != nullptr && flag->load(std::memory_order_relaxed); }

// An open TCP connection; closes on destruction.
class Socket {
 public:
  Socket() = default;
  explicit Socket(int fd) : fd_(fd) {}
  ~Socket() {
    if (fd_ >= 0) ::close(fd_);
  }
  Socket(Socket&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
  Socket& operator=(Socket&& o) noexcept {
    std::swap(fd_, o.fd_);
    return *this;
  }
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
};

// Waits for `events` on `fd` until `deadline`, a slice at a time, checking
// the flags between slices. 1 = ready, 0 = deadline, or an error status.
Result<bool> WaitFd(int fd, short events, Clock::time_point deadline, const std::atomic<bool>* cancel,
                    const std::atomic<bool>* stop) {
  for (;;) {
    if (Cancelled(cancel) || Cancelled(stop)) return Status::IOError(kCancelled);
    const auto now = Clock::now();
    if (now >= deadline) return false;
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - now) + milliseconds(1);
    pollfd p{fd, events, 0};
    const int n = ::poll(&p, 1, static_cast<int>(std::min(left, kSlice).count()));
    if (n < 0) {
      if (errno == EINTR) continue;
      return Status::FromErrno("poll", errno);
    }
    if (n > 0) return true;
  }
}

Result<Socket> Connect(const ServerUrl& url, const ClientOptions& options) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  const std::string port = std::to_string(url.port);
  // getaddrinfo has no timeout of its own; numeric hosts answer at once.
  const int rc = ::getaddrinfo(url.host.c_str(), port.c_str(), &hints, &found);
  if (rc != 0) return Status::IOError(fmt::format("cannot resolve {}: {}", url.host, ::gai_strerror(rc)));
  std::unique_ptr<addrinfo, decltype(&::freeaddrinfo)> list(found, &::freeaddrinfo);
  const auto deadline = Clock::now() + options.connect_timeout;
  Status last = Status::IOError("no address");
  for (addrinfo* ai = found; ai != nullptr; ai = ai->ai_next) {
    Socket s(::socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol));
    if (s.fd() < 0) {
      last = Status::FromErrno("socket", errno);
      continue;
    }
    if (::connect(s.fd(), ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
      last = Status::FromErrno("connect", errno);
      continue;
    }
    Result<bool> ready = WaitFd(s.fd(), POLLOUT, deadline, options.cancel, nullptr);
    if (!ready.ok()) return ready.status();
    if (!*ready) return Status::IOError(fmt::format("connect timed out after {} ms", options.connect_timeout.count()));
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(s.fd(), SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      last = Status::FromErrno("connect", err);
      continue;
    }
    // A stream can be silent for hours on a quiet filter; keepalive notices
    // a peer that vanished without closing (power cut, lost Wi-Fi).
    int on = 1, idle = 30, interval = 10, count = 3;
    ::setsockopt(s.fd(), SOL_SOCKET, SO_KEEPALIVE, &on, sizeof on);
    ::setsockopt(s.fd(), IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
    ::setsockopt(s.fd(), IPPROTO_TCP, TCP_KEEPINTVL, &interval, sizeof interval);
    ::setsockopt(s.fd(), IPPROTO_TCP, TCP_KEEPCNT, &count, sizeof count);
    ::setsockopt(s.fd(), IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    return s;
  }
  return last;
}

Status SendAll(int fd, std::string_view data, Clock::time_point deadline, const std::atomic<bool>* cancel) {
  while (!data.empty()) {
    const ssize_t n = ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) return Status::FromErrno("send", errno);
    Result<bool> ready = WaitFd(fd, POLLOUT, deadline, cancel, nullptr);
    if (!ready.ok()) return ready.status();
    if (!*ready) return Status::IOError("timed out sending the request");
  }
  return Status::Ok();
}

std::string HostHeader(const ServerUrl& url) {
  const bool v6 = url.host.find(':') != std::string::npos;
  return fmt::format("{}{}{}:{}", v6 ? "[" : "", url.host, v6 ? "]" : "", url.port);
}

std::string BuildRequest(const ServerUrl& url, std::string_view method, std::string_view target,
                         std::string_view accept, const std::string_view* body) {
  std::string r = fmt::format("{} {}{} HTTP/1.1\r\nHost: {}\r\nUser-Agent: lplex\r\nAccept: {}\r\nConnection: close\r\n",
                              method, url.base_path, target, HostHeader(url), accept);
  if (body != nullptr) {
    r += fmt::format("Content-Type: application/json\r\nContent-Length: {}\r\n", body->size());
  }
  r += "\r\n";
  if (body != nullptr) r.append(body->data(), body->size());
  return r;
}

// Feeds received bytes to a parser. Owns the bytes not yet consumed.
class Feeder {
 public:
  Feeder(int fd, ResponseParser* parser) : fd_(fd), parser_(parser) {}

  // Reads once (waiting until `deadline`) and parses what came.
  // true = progress (or message done); false = deadline with nothing read.
  Result<bool> ReadSome(Clock::time_point deadline, const std::atomic<bool>* cancel, const std::atomic<bool>* stop) {
    Result<bool> ready = WaitFd(fd_, POLLIN, deadline, cancel, stop);
    if (!ready.ok()) return ready.status();
    if (!*ready) return false;
    char buf[16384];
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n < 0) {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return true;
      return Status::FromErrno("recv", errno);
    }
    boost::beast::error_code ec;
    if (n == 0) {
      eof_ = true;
      if (!parser_->got_some()) return Status::IOError("connection closed before a response");
      parser_->put_eof(ec);
      if (ec) return Status::IOError("stream closed by server");
      return true;
    }
    pending_.append(buf, static_cast<size_t>(n));
    while (!pending_.empty() && !parser_->is_done()) {
      const size_t used = parser_->put(boost::asio::buffer(pending_.data(), pending_.size()), ec);
      pending_.erase(0, used);
      if (ec == bhttp::error::need_more) break;
      if (ec) return Status::Corruption(fmt::format("bad HTTP response: {}", ec.message()));
      if (used == 0) break;
    }
    return true;
  }

  bool eof() const { return eof_; }

 private:
  int fd_;
  ResponseParser* parser_;
  std::string pending_;
  bool eof_ = false;
};

std::string FirstLine(std::string_view body) {
  const size_t nl = body.find('\n');
  std::string_view line = body.substr(0, nl);
  if (line.size() > 300) line = line.substr(0, 300);
  return std::string(line);
}

class SseStream : public EventStream {
 public:
  SseStream(Socket socket, std::unique_ptr<ResponseParser> parser, std::unique_ptr<std::string> body,
            std::unique_ptr<Feeder> feeder, const std::atomic<bool>* cancel)
      : socket_(std::move(socket)),
        parser_(std::move(parser)),
        body_(std::move(body)),
        feeder_(std::move(feeder)),
        cancel_(cancel) {}

  Result<std::optional<StreamEvent>> Next(milliseconds wait) override {
    const auto deadline = Clock::now() + wait;
    for (;;) {
      std::optional<StreamEvent> ev;
      Status s = TakeLine(&ev);
      if (!s.ok()) return s;
      if (ev) return ev;
      if (parser_->is_done() || feeder_->eof()) return Status::IOError("stream closed by server");
      Result<bool> got = feeder_->ReadSome(deadline, cancel_, &stop_);
      if (!got.ok()) return got.status();
      if (!*got) return std::optional<StreamEvent>();
    }
  }

  void Stop() override { stop_.store(true, std::memory_order_relaxed); }

 private:
  // Takes complete lines off the body until one is an event.
  Status TakeLine(std::optional<StreamEvent>* out) {
    for (;;) {
      const size_t nl = body_->find('\n', scanned_);
      if (nl == std::string::npos) {
        scanned_ = body_->size();
        if (body_->size() > kMaxLineBytes) {
          return Status::Corruption(fmt::format("SSE line longer than {} bytes", kMaxLineBytes));
        }
        return Status::Ok();
      }
      std::string_view line(body_->data(), nl);
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      if (line.size() > kMaxLineBytes) {
        return Status::Corruption(fmt::format("SSE line longer than {} bytes", kMaxLineBytes));
      }
      std::optional<StreamEvent> ev;
      if (line.starts_with("data: ")) {
        std::string_view json = line.substr(6);
        nlohmann::json doc = nlohmann::json::parse(json, nullptr, /*allow_exceptions=*/false);
        if (doc.is_object()) {
          ev = StreamEvent{doc.contains("type") ? StreamEvent::Kind::kDevice : StreamEvent::Kind::kFrame,
                           std::string(json)};
        }
      }
      body_->erase(0, nl + 1);
      scanned_ = 0;
      if (ev) {
        *out = std::move(ev);
        return Status::Ok();
      }
    }
  }

  Socket socket_;
  std::unique_ptr<ResponseParser> parser_;
  std::unique_ptr<std::string> body_;
  std::unique_ptr<Feeder> feeder_;
  const std::atomic<bool>* cancel_;
  std::atomic<bool> stop_{false};
  size_t scanned_ = 0;  // body_[0, scanned_) holds no '\n'
};

Result<Response> Exchange(const ServerUrl& url, const ClientOptions& options, std::string_view method,
                          std::string_view target, const std::string_view* body) {
  const std::string what = fmt::format("{} {}{}", method, url.text, target);
  Result<Socket> sock = Connect(url, options);
  if (!sock.ok()) return Status::IOError(fmt::format("{}: {}", what, sock.status().message()));
  const auto deadline = Clock::now() + options.request_timeout;
  Status s = SendAll(sock->fd(), BuildRequest(url, method, target, "application/json", body), deadline, options.cancel);
  if (!s.ok()) return Status::IOError(fmt::format("{}: {}", what, s.message()));
  Response r;
  ResponseParser parser(&r.body);
  parser.eager(true);
  parser.body_limit(options.max_body_bytes);
  Feeder feeder(sock->fd(), &parser);
  while (!parser.is_done()) {
    Result<bool> got = feeder.ReadSome(deadline, options.cancel, nullptr);
    if (!got.ok()) {
      if (IsCancelled(got.status())) return got.status();
      return Status::IOError(fmt::format("{}: {}", what, got.status().message()));
    }
    if (!*got) {
      return Status::IOError(fmt::format("{}: no complete answer within {} ms", what, options.request_timeout.count()));
    }
    if (feeder.eof() && !parser.is_done()) return Status::IOError(fmt::format("{}: connection closed mid-answer", what));
  }
  r.status = parser.status;
  r.content_type = parser.content_type;
  return r;
}

}  // namespace

bool IsCancelled(const Status& status) {
  return status.code() == Status::Code::kIOError && status.message() == kCancelled;
}

Result<ServerUrl> ParseServerUrl(std::string_view text) {
  ServerUrl u;
  std::string_view rest = text;
  const size_t scheme_end = rest.find("://");
  if (scheme_end == std::string_view::npos) {
    return Status::InvalidArgument(fmt::format("\"{}\" is not a URL (valid: http://HOST[:PORT], e.g. http://inuc1.local:8089)", text));
  }
  const std::string_view scheme = rest.substr(0, scheme_end);
  if (scheme == "https") {
    return Status::InvalidArgument(fmt::format("\"{}\": https is not supported yet (use http://)", text));
  }
  if (scheme != "http") {
    return Status::InvalidArgument(fmt::format("\"{}\" has an unsupported scheme (valid: http://HOST[:PORT])", text));
  }
  rest.remove_prefix(scheme_end + 3);
  const size_t slash = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? std::string_view() : rest.substr(slash);
  if (!path.empty() && path[0] != '/') {
    return Status::InvalidArgument(fmt::format("\"{}\" has a query or fragment (valid: http://HOST[:PORT][/PATH])", text));
  }
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  if (authority.find('@') != std::string_view::npos) {
    return Status::InvalidArgument(fmt::format("\"{}\" has user information (valid: http://HOST[:PORT])", text));
  }
  std::string_view port_text;
  if (!authority.empty() && authority[0] == '[') {
    const size_t close = authority.find(']');
    if (close == std::string_view::npos) {
      return Status::InvalidArgument(fmt::format("\"{}\" has an unclosed '[' (valid: http://[IPV6]:PORT)", text));
    }
    u.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after[0] != ':') return Status::InvalidArgument(fmt::format("\"{}\" is not a valid host (valid: http://HOST[:PORT])", text));
      port_text = after.substr(1);
      if (port_text.empty()) return Status::InvalidArgument(fmt::format("\"{}\" has an empty port (valid: 1..65535)", text));
    }
  } else {
    const size_t colon = authority.find(':');
    u.host = std::string(authority.substr(0, colon));
    if (colon != std::string_view::npos) {
      port_text = authority.substr(colon + 1);
      if (port_text.empty()) return Status::InvalidArgument(fmt::format("\"{}\" has an empty port (valid: 1..65535)", text));
    }
  }
  if (u.host.empty()) return Status::InvalidArgument(fmt::format("\"{}\" has no host (valid: http://HOST[:PORT])", text));
  for (char c : u.host) {
    if (c <= ' ' || c == '/' || c == '\\' || c == '"' || static_cast<unsigned char>(c) >= 0x7f) {
      return Status::InvalidArgument(fmt::format("\"{}\" is not a valid host (valid: http://HOST[:PORT])", text));
    }
  }
  if (!port_text.empty()) {
    unsigned port = 0;
    auto [p, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || p != port_text.data() + port_text.size() || port == 0 || port > 65535) {
      return Status::InvalidArgument(fmt::format("\"{}\" has a bad port \"{}\" (valid: 1..65535)", text, port_text));
    }
    u.port = static_cast<uint16_t>(port);
  }
  u.base_path = std::string(path);
  u.text = fmt::format("http://{}{}", HostHeader(u), u.base_path);
  return u;
}

HttpClient::HttpClient(ServerUrl url, ClientOptions options) : url_(std::move(url)), options_(options) {}

Result<Response> HttpClient::Get(std::string_view target) const {
  return Exchange(url_, options_, "GET", target, nullptr);
}

Result<Response> HttpClient::Put(std::string_view target, std::string_view json_body) const {
  return Exchange(url_, options_, "PUT", target, &json_body);
}

Result<std::unique_ptr<EventStream>> HttpClient::OpenStream(std::string_view target) const {
  const std::string what = fmt::format("GET {}{}", url_.text, target);
  Result<Socket> sock = Connect(url_, options_);
  if (!sock.ok()) {
    if (IsCancelled(sock.status())) return sock.status();
    return Status::IOError(fmt::format("{}: {}", what, sock.status().message()));
  }
  const auto deadline = Clock::now() + options_.request_timeout;
  Status s = SendAll(sock->fd(), BuildRequest(url_, "GET", target, "text/event-stream", nullptr), deadline,
                     options_.cancel);
  if (!s.ok()) return IsCancelled(s) ? s : Status::IOError(fmt::format("{}: {}", what, s.message()));
  auto body = std::make_unique<std::string>();
  auto parser = std::make_unique<ResponseParser>(body.get());
  parser->eager(true);
  parser->body_limit(std::numeric_limits<std::uint64_t>::max());  // a stream has no end
  auto feeder = std::make_unique<Feeder>(sock->fd(), parser.get());
  while (!parser->is_header_done()) {
    Result<bool> got = feeder->ReadSome(deadline, options_.cancel, nullptr);
    if (!got.ok()) return IsCancelled(got.status()) ? got.status() : Status::IOError(fmt::format("{}: {}", what, got.status().message()));
    if (!*got) return Status::IOError(fmt::format("{}: no answer within {} ms", what, options_.request_timeout.count()));
    if (feeder->eof() && !parser->is_header_done()) return Status::IOError(fmt::format("{}: connection closed before the headers", what));
  }
  if (parser->status != 200) {
    // Read the (short) error body so the message can say what the server said.
    while (!parser->is_done() && !feeder->eof() && body->size() < 4096) {
      Result<bool> got = feeder->ReadSome(deadline, options_.cancel, nullptr);
      if (!got.ok() || !*got) break;
    }
    const std::string msg = fmt::format("{}: HTTP {}: {}", what, parser->status, FirstLine(*body));
    if (parser->status == 404) return Status::NotFound(msg);
    if (parser->status == 400) return Status::InvalidArgument(msg);
    return Status::IOError(msg);
  }
  std::unique_ptr<EventStream> stream =
      std::make_unique<SseStream>(std::move(*sock), std::move(parser), std::move(body), std::move(feeder), options_.cancel);
  return stream;
}

}  // namespace lplex::client
