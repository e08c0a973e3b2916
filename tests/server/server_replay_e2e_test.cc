// lplex-server as a child process replaying can0-1.pcap (issue 7, acceptance
// 2): a client that connects during the replay's start delay is served every
// frame of the capture over SSE, in order and with its bytes, and after
// SIGTERM the journal holds exactly those frames. Labelled `slow`
// (apps/lplex-server/server_test_labels.cmake).
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

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

using std::chrono::seconds;

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
  http::testing::Conn sse(static_cast<uint16_t>(port));
  ASSERT_TRUE(sse.SendRequest("GET", "/clients/replay-e2e/events"));
  const auto head = sse.ReadHeaders(seconds(5));
  ASSERT_TRUE(head.has_value());
  ASSERT_EQ(head->status, 200);
  ASSERT_EQ(head->header("content-type"), "text/event-stream");
  const auto connected_after = std::chrono::steady_clock::now() - ready;
  ASSERT_LT(connected_after, seconds(kDelaySeconds))
      << "the stream opened after the replay's delay ended: the machine is too busy for this test";

  const bool all = sse.ReadBodyUntil("data: ", want.size(), seconds(180));
  ASSERT_TRUE(all) << http::testing::Conn::Events(sse.body()).size() << " of " << want.size()
                   << " frames received\n" << child.Log();
  // The replay has ended (nothing more is coming) before we stop the server.
  ASSERT_TRUE(child.WaitForLog("ended (frames delivered: " + std::to_string(want.size()) + ")", seconds(30))) << child.Log();
  child.Signal(SIGTERM);
  ASSERT_EQ(child.Wait(seconds(60)), 0) << child.Log();
  EXPECT_TRUE(sse.WaitClosed(seconds(10))) << "the stream did not end at shutdown";
  const std::vector<std::string> events = http::testing::Conn::Events(sse.body());

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
