// lplex-server as a child process replaying can0-1.pcap (issue 7, acceptance
// 2): a client that connects during the replay's start delay is served every
// frame of the capture over SSE, in order and with its bytes, and after
// SIGTERM the journal holds exactly those frames. Labelled `slow`
// (apps/lplex-server/server_test_labels.cmake).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "core/hex.h"
#include "core/time.h"
#include "http/http_client.h"
#include "server_test_support.h"
#include "support/reassembled_capture.h"
#include "support/temp_dir.h"

namespace lplex::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// One open SSE response, read incrementally: the "data: " lines of a chunked
// (or close-delimited) body, each handed out once. Every read has a
// deadline, so a test fails instead of hanging.
class SseStream {
 public:
  explicit SseStream(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) {
      ::close(fd_);
      fd_ = -1;
    }
  }
  ~SseStream() {
    if (fd_ >= 0) ::close(fd_);
  }

  // Sends GET `target` and reads the response head. Returns the status line
  // and headers as text ("" on failure).
  std::string Open(const std::string& target, milliseconds timeout) {
    if (fd_ < 0) return "";
    const std::string req = "GET " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    if (::send(fd_, req.data(), req.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(req.size())) return "";
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    size_t end;
    while ((end = raw_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill(deadline)) return "";
    }
    std::string head = raw_.substr(0, end);
    raw_.erase(0, end + 4);
    chunked_ = head.find("chunked") != std::string::npos;
    return head;
  }

  // Reads until `n` events were handed out in total, the stream ends or the
  // deadline; appends the JSON of each new event to *events. False when fewer
  // than n arrived.
  bool ReadEvents(size_t n, std::vector<std::string>* events, milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
      Decode();
      TakeEvents(events);
      if (events->size() >= n) return true;
      if (!Fill(deadline)) return false;
    }
  }

  // Reads to the end of the stream (or the deadline), appending the rest.
  // True when the server ended the stream.
  bool ReadToEnd(std::vector<std::string>* events, milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (Fill(deadline)) {
    }
    Decode();
    TakeEvents(events);
    return closed_;
  }

 private:
  bool Fill(std::chrono::steady_clock::time_point deadline) {
    if (closed_ || fd_ < 0) return false;
    const auto left = std::chrono::duration_cast<milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return false;
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left.count())) <= 0) return false;
    char tmp[65536];
    const ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n <= 0) {
      closed_ = true;
      return false;
    }
    raw_.append(tmp, static_cast<size_t>(n));
    return true;
  }

  // Moves whole chunks (or, unchunked, everything) from raw_ to body_.
  void Decode() {
    if (!chunked_) {
      body_ += raw_;
      raw_.clear();
      return;
    }
    for (;;) {
      const size_t e = raw_.find("\r\n");
      if (e == std::string::npos) return;
      const size_t n = std::stoul(raw_.substr(0, e), nullptr, 16);
      if (n == 0) return;  // the last chunk: nothing follows
      if (raw_.size() < e + 2 + n + 2) return;
      body_.append(raw_, e + 2, n);
      raw_.erase(0, e + 2 + n + 2);
    }
  }

  // Each complete "data: JSON\n" line of body_, once.
  void TakeEvents(std::vector<std::string>* events) {
    size_t p;
    while ((p = body_.find("data: ", pos_)) != std::string::npos) {
      const size_t e = body_.find('\n', p);
      if (e == std::string::npos) break;
      events->push_back(body_.substr(p + 6, e - p - 6));
      pos_ = e + 1;
    }
    if (pos_ > (1u << 20)) {  // keep the buffer small on a long stream
      body_.erase(0, pos_);
      pos_ = 0;
    }
  }

  int fd_ = -1;
  std::string raw_;   // bytes as received
  std::string body_;  // de-chunked body
  size_t pos_ = 0;    // body_ handed out up to here
  bool chunked_ = false;
  bool closed_ = false;
};

// How long the replay waits before its first frame: long enough for the
// server to get ready and for the test to connect on a busy machine.
constexpr int kDelaySeconds = 5;

TEST(ServerEndToEnd, DelayedReplayServesEveryCaptureFrameOverSseAndJournalsItsBytes) {
  const std::string capture = kCaptures + "/can0-1.pcap";
  // What `lplex import` journals from the capture: the reader's extended
  // frames through one fast-packet assembler.
  const std::vector<ReassembledFrame> want = ReassembleCapture(capture);
  ASSERT_GT(want.size(), 30000u);

  TempDir dir;
  const std::string journal = dir.Sub("journal");
  ChildServer child;
  ASSERT_TRUE(child.Start({"-source", "replay:" + capture + "?delay=PT" + std::to_string(kDelaySeconds) + "S",
                           "-replay-speed", "0", "-port", "0", "-journal-dir", journal},
                          dir.Sub("server.log"), dir.Sub("server.out")));
  ASSERT_TRUE(child.WaitForLog("lplex-server: ready", seconds(20))) << child.Log();
  const auto ready = std::chrono::steady_clock::now();
  const int port = PortFromLog(child.Log());
  ASSERT_GT(port, 0) << child.Log();

  // A buffered session: its consumer reads ring and journal at its own pace
  // and never drops a frame. Never acked, so its stream starts at the next
  // frame the broker takes — the capture's first, if we are in time.
  const auto put = http::testing::Fetch(static_cast<uint16_t>(port), "PUT", "/clients/replay-e2e",
                                        R"({"buffer_timeout":"PT5M"})");
  ASSERT_EQ(put.status, 200) << put.body;
  SseStream sse(port);
  const std::string head = sse.Open("/clients/replay-e2e/events", seconds(5));
  ASSERT_NE(head.find(" 200 "), std::string::npos) << head;
  ASSERT_NE(head.find("text/event-stream"), std::string::npos) << head;
  const auto connected_after = std::chrono::steady_clock::now() - ready;
  ASSERT_LT(connected_after, seconds(kDelaySeconds))
      << "the stream opened after the replay's delay ended: the machine is too busy for this test";

  std::vector<std::string> events;
  const bool all = sse.ReadEvents(want.size(), &events, seconds(180));
  ASSERT_TRUE(all) << events.size() << " of " << want.size() << " frames received\n" << child.Log();
  // The replay has ended (nothing more is coming) before we stop the server.
  ASSERT_TRUE(child.WaitForLog("ended (frames delivered: " + std::to_string(want.size()) + ")", seconds(30))) << child.Log();
  child.Signal(SIGTERM);
  ASSERT_EQ(child.Wait(seconds(60)), 0) << child.Log();
  EXPECT_TRUE(sse.ReadToEnd(&events, seconds(10))) << "the stream did not end at shutdown";

  // Over SSE: every frame of the capture, in order, seq from 1 without a gap.
  ASSERT_EQ(events.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    const auto j = nlohmann::json::parse(events[i], nullptr, /*allow_exceptions=*/false);
    ASSERT_TRUE(j.is_object()) << "event " << i << ": " << events[i];
    ASSERT_EQ(j.value("seq", uint64_t{0}), i + 1) << "event " << i << ": " << events[i];
    const std::optional<int64_t> ts = timefmt::ParseRfc3339(j.value("ts", std::string()));
    ASSERT_TRUE(ts.has_value()) << "event " << i << ": " << events[i];
    ASSERT_EQ(*ts, want[i].ts) << "event " << i << ": " << events[i];
    ASSERT_EQ(j.value("pgn", uint32_t{0}), want[i].header.pgn) << "event " << i << ": " << events[i];
    ASSERT_EQ(j.value("src", -1), want[i].header.source) << "event " << i << ": " << events[i];
    ASSERT_EQ(j.value("dst", -1), want[i].header.destination) << "event " << i << ": " << events[i];
    ASSERT_EQ(j.value("prio", -1), want[i].header.priority) << "event " << i << ": " << events[i];
    auto data = hex::Decode(j.value("data", std::string("?")));
    ASSERT_TRUE(data.ok()) << "event " << i << ": " << events[i];
    ASSERT_EQ(*data, want[i].data) << "event " << i << ": " << events[i];
  }

  // On disk after shutdown: exactly those frames, with the same bytes.
  std::string error;
  const std::vector<StoredFrame> got = ReadJournalDir(journal, &error);
  ASSERT_TRUE(error.empty()) << error;
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    ASSERT_EQ(got[i].seq, i + 1) << "frame " << i << " in " << got[i].file;
    ASSERT_EQ(got[i].timestamp_us, want[i].ts) << "frame " << i << " in " << got[i].file;
    ASSERT_EQ(got[i].pgn, want[i].header.pgn) << "frame " << i << " in " << got[i].file;
    ASSERT_EQ(got[i].source, want[i].header.source) << "frame " << i << " in " << got[i].file;
    ASSERT_EQ(got[i].destination, want[i].header.destination) << "frame " << i << " in " << got[i].file;
    ASSERT_EQ(got[i].priority, want[i].header.priority) << "frame " << i << " in " << got[i].file;
    ASSERT_EQ(got[i].data, want[i].data) << "frame " << i << " in " << got[i].file;
  }
}

}  // namespace
}  // namespace lplex::testing
