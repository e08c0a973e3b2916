// A small blocking HTTP/1.1 client over raw sockets for the HTTP tests:
// it sends bytes exactly as written and parses what comes back (status,
// headers, Content-Length / chunked / close-delimited bodies), so tests see
// the wire format a real client sees. Every read has a deadline: a test
// fails instead of hanging.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace lplex::http::testing {

using namespace std::chrono_literals;

struct HttpResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lowercased
  std::string body;

  std::string header(std::string_view name) const {
    for (const auto& [k, v] : headers) {
      if (k == name) return v;
    }
    return "";
  }
  bool has(std::string_view name) const {
    return std::any_of(headers.begin(), headers.end(), [&](const auto& h) { return h.first == name; });
  }
};

class Conn {
 public:
  explicit Conn(uint16_t port, int rcvbuf = 0) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    if (rcvbuf > 0) ::setsockopt(fd_, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~Conn() {
    if (fd_ >= 0) ::close(fd_);
  }
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  bool ok() const { return fd_ >= 0; }

  bool Send(std::string_view raw) {
    while (!raw.empty()) {
      const ssize_t n = ::send(fd_, raw.data(), raw.size(), MSG_NOSIGNAL);
      if (n <= 0) return false;
      raw.remove_prefix(static_cast<size_t>(n));
    }
    return true;
  }

  // A request with Host, Content-Length (when there is a body) and `extra`
  // header lines ("Name: value\r\n" each).
  bool SendRequest(std::string_view method, std::string_view target, std::string_view body = {},
                   std::string_view extra = {}) {
    std::string r;
    r.append(method).append(" ").append(target).append(" HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    r.append(extra);
    if (!body.empty() || method == "POST" || method == "PUT") {
      r.append("Content-Length: ").append(std::to_string(body.size())).append("\r\n");
    }
    r.append("\r\n").append(body);
    return Send(r);
  }

  // Reads the status line and headers. nullopt on timeout or close.
  std::optional<HttpResponse> ReadHeaders(std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    size_t end;
    while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill(deadline)) return std::nullopt;
    }
    HttpResponse r;
    const std::string head = buf_.substr(0, end);
    buf_.erase(0, end + 4);
    size_t line_end = head.find("\r\n");
    const std::string status_line = head.substr(0, line_end);
    if (status_line.size() < 12) return std::nullopt;
    r.status = std::stoi(status_line.substr(9, 3));
    while (line_end != std::string::npos) {
      const size_t start = line_end + 2;
      line_end = head.find("\r\n", start);
      const std::string line = head.substr(start, line_end == std::string::npos ? std::string::npos : line_end - start);
      const size_t colon = line.find(':');
      if (colon == std::string::npos) continue;
      std::string name = line.substr(0, colon);
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char c) { return std::tolower(c); });
      size_t v = colon + 1;
      while (v < line.size() && line[v] == ' ') ++v;
      r.headers.emplace_back(name, line.substr(v));
    }
    chunked_ = r.header("transfer-encoding") == "chunked";
    last_chunk_ = false;
    ClearBody();
    return r;
  }

  // A whole response. `head`: no body follows (HEAD, or 204/304).
  std::optional<HttpResponse> ReadResponse(bool head = false, std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    auto r = ReadHeaders(timeout);
    if (!r) return r;
    if (head || r->status == 204 || r->status == 304) return r;
    if (chunked_) {
      while (!last_chunk_) {
        Dechunk();
        if (last_chunk_) break;
        if (!Fill(deadline)) return std::nullopt;
      }
      r->body = std::move(body_);
      ClearBody();
      return r;
    }
    const std::string cl = r->header("content-length");
    if (!cl.empty()) {
      const size_t n = std::stoul(cl);
      while (buf_.size() < n) {
        if (!Fill(deadline)) return std::nullopt;
      }
      r->body = buf_.substr(0, n);
      buf_.erase(0, n);
      return r;
    }
    while (Fill(deadline)) {
    }
    r->body = std::move(buf_);
    buf_.clear();
    return r;
  }

  // Streams: reads body bytes (de-chunked) until the body so far holds
  // `needle` at least `count` times. False on timeout or close.
  bool ReadBodyUntil(std::string_view needle, size_t count = 1, std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      if (chunked_) {
        Dechunk();
      } else {
        body_ += buf_;
        buf_.clear();
      }
      if (CountSoFar(needle) >= count) return true;
      if (!Fill(deadline)) return false;
    }
  }
  // True once the server closed the connection (within `timeout`).
  bool WaitClosed(std::chrono::milliseconds timeout = 5s) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (Fill(deadline)) {
    }
    if (chunked_) Dechunk();
    return closed_;
  }
  const std::string& body() const { return body_; }
  void ClearBody() {
    body_.clear();
    counted_needle_.clear();
    counted_pos_ = 0;
    counted_ = 0;
  }
  bool saw_last_chunk() const { return last_chunk_; }
  // Data chunks de-chunked so far (a chunked stream's server writes).
  size_t chunks() const { return chunks_; }

  // The JSON of every "data: " line of an SSE body.
  static std::vector<std::string> Events(const std::string& body) {
    std::vector<std::string> out;
    size_t p = 0;
    while ((p = body.find("data: ", p)) != std::string::npos) {
      const size_t e = body.find('\n', p);
      if (e == std::string::npos) break;
      out.push_back(body.substr(p + 6, e - p - 6));
      p = e + 1;
    }
    return out;
  }

  // Occurrences of `needle` in body() so far, searching only what arrived
  // since the last call with the same needle.
  size_t CountSoFar(std::string_view needle) {
    if (needle != counted_needle_) {
      counted_needle_ = needle;
      counted_pos_ = 0;
      counted_ = 0;
    }
    for (size_t p = body_.find(needle, counted_pos_); p != std::string::npos; p = body_.find(needle, counted_pos_)) {
      ++counted_;
      counted_pos_ = p + needle.size();
    }
    return counted_;
  }

  static size_t Count(std::string_view hay, std::string_view needle) {
    size_t n = 0;
    for (size_t p = hay.find(needle); p != std::string_view::npos; p = hay.find(needle, p + needle.size())) ++n;
    return n;
  }

 private:
  bool Fill(std::chrono::steady_clock::time_point deadline) {
    if (closed_ || fd_ < 0) return false;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    char tmp[65536];
    const ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) {
      closed_ = true;
      return false;
    }
    buf_.append(tmp, static_cast<size_t>(n));
    return true;
  }

  void Dechunk() {
    for (;;) {
      if (last_chunk_) return;
      const size_t e = buf_.find("\r\n");
      if (e == std::string::npos) return;
      const size_t n = std::stoul(buf_.substr(0, e), nullptr, 16);
      if (n == 0) {
        if (buf_.size() < e + 4) return;
        buf_.erase(0, e + 4);
        last_chunk_ = true;
        return;
      }
      if (buf_.size() < e + 2 + n + 2) return;
      body_.append(buf_, e + 2, n);
      buf_.erase(0, e + 2 + n + 2);
      ++chunks_;
    }
  }

  int fd_ = -1;
  std::string buf_;
  std::string body_;
  // CountSoFar's state: body_ only grows between ClearBody calls, so each
  // byte is searched once (a stream of 30,000 events stays linear).
  std::string counted_needle_;
  size_t counted_pos_ = 0;
  size_t counted_ = 0;
  bool chunked_ = false;
  bool last_chunk_ = false;
  bool closed_ = false;
  size_t chunks_ = 0;
};

// One request on a fresh connection.
inline HttpResponse Fetch(uint16_t port, std::string_view method, std::string_view target, std::string_view body = {},
                          std::string_view extra = {}) {
  Conn c(port);
  if (!c.ok() || !c.SendRequest(method, target, body, extra)) return {};
  auto r = c.ReadResponse(method == "HEAD");
  return r ? *r : HttpResponse{};
}

// Sends GET `target` on `c` and reads the headers of an SSE stream: 200 and
// text/event-stream (gtest failures otherwise). Returns the headers for
// further checks; the body stays unread on `c`.
inline HttpResponse OpenStream(Conn& c, std::string_view target) {
  HttpResponse none;
  EXPECT_TRUE(c.SendRequest("GET", target));
  auto h = c.ReadHeaders();
  EXPECT_TRUE(h);
  if (!h) return none;
  EXPECT_EQ(h->status, 200);
  EXPECT_EQ(h->header("content-type"), "text/event-stream");
  return *h;
}

}  // namespace lplex::http::testing
