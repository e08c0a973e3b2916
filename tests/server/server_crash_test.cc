// lplex-server killed with SIGKILL at a random moment while an SSE client
// reads /events: after the restart no seq is handed out a second time
// (spec/cloud.md P2; the seq lease of journal/seq_lease.h).
#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <regex>
#include <string>
#include <vector>

#include "server_test_support.h"
#include "support/temp_dir.h"

namespace lplex::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// An open GET /events; Read collects the seqs of the frames received.
class SseClient {
 public:
  explicit SseClient(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    timeval tv{0, 200'000};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0) return;
    const std::string req = "GET /events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    ok_ = ::send(fd_, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size());
  }
  ~SseClient() { ::close(fd_); }
  bool ok() const { return ok_; }

  // Reads for up to `d` (until EOF); returns false on EOF.
  bool Read(milliseconds d) {
    const auto end = std::chrono::steady_clock::now() + d;
    char buf[16384];
    while (std::chrono::steady_clock::now() < end) {
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n == 0) return false;
      if (n > 0) text_.append(buf, static_cast<size_t>(n));
    }
    return true;
  }
  std::vector<uint64_t> Seqs() const {
    std::vector<uint64_t> out;
    static const std::regex re("\"seq\":([0-9]+)");
    for (auto it = std::sregex_iterator(text_.begin(), text_.end(), re); it != std::sregex_iterator(); ++it) {
      out.push_back(std::stoull((*it)[1]));
    }
    return out;
  }

 private:
  int fd_ = -1;
  bool ok_ = false;
  std::string text_;
};

TEST(ServerCrash, KillNineNeverReusesSeqs) {
  TempDir dir;
  const unsigned seed = std::random_device{}();
  std::mt19937 rng(seed);
  SCOPED_TRACE("seed " + std::to_string(seed));
  // Default flush interval (60 s): nothing of the first run reaches a block
  // on disk, so only the lease can tell the restart where seq stood.
  const std::vector<std::string> args = {"-source", "sim:", "-port", "0", "-journal-dir", dir.Sub("journal")};

  uint64_t max_served = 0;
  {
    ChildServer child;
    ASSERT_TRUE(child.Start(args, dir.Sub("run1.log"), dir.Sub("run1.out")));
    ASSERT_TRUE(child.WaitForLog("lplex-server: ready", seconds(20))) << child.Log();
    SseClient sse(PortFromLog(child.Log()));
    ASSERT_TRUE(sse.ok());
    const auto end = std::chrono::steady_clock::now() + seconds(20);
    while (sse.Seqs().size() < 300 && std::chrono::steady_clock::now() < end) sse.Read(milliseconds(100));
    ASSERT_GE(sse.Seqs().size(), 300u) << child.Log();
    sse.Read(milliseconds(std::uniform_int_distribution<int>(0, 1500)(rng)));
    child.Kill();  // SIGKILL
    while (sse.Read(milliseconds(500))) {
    }
    for (uint64_t s : sse.Seqs()) max_served = std::max(max_served, s);
  }
  ASSERT_GT(max_served, 0u);

  ChildServer child;
  ASSERT_TRUE(child.Start(args, dir.Sub("run2.log"), dir.Sub("run2.out")));
  ASSERT_TRUE(child.WaitForLog("lplex-server: ready", seconds(20))) << child.Log();
  SseClient sse(PortFromLog(child.Log()));
  ASSERT_TRUE(sse.ok());
  const auto end = std::chrono::steady_clock::now() + seconds(10);
  while (sse.Seqs().empty() && std::chrono::steady_clock::now() < end) sse.Read(milliseconds(100));
  ASSERT_FALSE(sse.Seqs().empty()) << child.Log();
  EXPECT_GT(sse.Seqs().front(), max_served) << child.Log();
  child.Signal(SIGTERM);
  EXPECT_EQ(child.Wait(seconds(30)), 0) << child.Log();
}

}  // namespace
}  // namespace lplex::testing
