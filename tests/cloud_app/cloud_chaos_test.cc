// Chaos between a boat and its cloud (issue 8, acceptance 3), with the real
// binaries: lplex-server on `sim:` replicates to lplex-cloud over plaintext
// gRPC through a TCP proxy. Over about a minute, at moments drawn from a
// seeded RNG, the proxy cuts the connection 20 times, the cloud is restarted
// 3 times (one of them after SIGKILL) and the boat 2 times (SIGTERM, same
// journal directory, so its seqs continue). Then the boat comes back once
// more with a source that stays silent, so its head stops moving, and the
// cloud must catch up: cursor equal to the boat's head, no hole. The cloud's
// journals, read back with the journal reader, must then hold every boat seq
// exactly once, each frame the boat's. Labelled `slow`
// (apps/lplex-cloud/cloud_test_labels.cmake).
//
// The seed is printed; LPLEX_CHAOS_SEED=N replays the same schedule (the
// moments, not the processes' timing, which the test does not control).
#include <signal.h>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cloud_app/cloud_e2e_support.h"
#include "server/server_test_support.h"
#include "support/tcp_proxy.h"
#include "support/temp_dir.h"

namespace lplex::cloud_app {
namespace {

using lplex::testing::ChildServer;
using lplex::testing::CompareSeqs;
using lplex::testing::FileTable;
using lplex::testing::FreeLoopbackPort;
using lplex::testing::HttpGet;
using lplex::testing::JsonUint;
using lplex::testing::kCloudBinary;
using lplex::testing::PortFromLog;
using lplex::testing::ReadJournalDir;
using lplex::testing::SeqComparison;
using lplex::testing::SeqRanges;
using lplex::testing::StoredFrame;
using lplex::testing::TcpProxy;
using lplex::testing::TempDir;
using lplex::testing::WaitFor;
using Clock = std::chrono::steady_clock;

const std::string& kBoatBinary = lplex::testing::kServerBinary;
const std::string kInstance = "boat-1";

enum class Kind { kDrop, kCloudTerm, kCloudKill, kBoatTerm };

const char* KindName(Kind k) {
  switch (k) {
    case Kind::kDrop: return "proxy drop";
    case Kind::kCloudTerm: return "cloud SIGTERM+restart";
    case Kind::kCloudKill: return "cloud SIGKILL+restart";
    case Kind::kBoatTerm: return "boat SIGTERM+restart";
  }
  return "?";
}

struct Event {
  std::chrono::milliseconds at{0};  // since the chaos started
  Kind kind = Kind::kDrop;
  // Observed just before the event (0 when the process did not answer).
  double started_s = 0;
  uint64_t boat_head = 0;    // the boat's /replication/status local_head_seq
  uint64_t cloud_cursor = 0;  // the cloud's /instances/{id}/status cursor
  std::string note;          // what the event did
};

// The moments of the chaos, drawn from `seed`: 20 drops, 3 cloud restarts
// (one of them, chosen at random, by SIGKILL) and 2 boat restarts, spread
// over `window`, in time order.
std::vector<Event> Schedule(uint32_t seed, std::chrono::milliseconds window) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int64_t> when(3000, window.count());
  std::vector<Event> events;
  auto add = [&](Kind k, int n) {
    for (int i = 0; i < n; ++i) {
      Event e;
      e.at = std::chrono::milliseconds(when(rng));
      e.kind = k;
      events.push_back(e);
    }
  };
  add(Kind::kDrop, 20);
  add(Kind::kCloudTerm, 3);
  add(Kind::kBoatTerm, 2);
  std::uniform_int_distribution<int> which(0, 2);
  const int killed = which(rng);
  int cloud_restarts = 0;
  for (auto& e : events) {
    if (e.kind == Kind::kCloudTerm && cloud_restarts++ == killed) e.kind = Kind::kCloudKill;
  }
  std::stable_sort(events.begin(), events.end(), [](const Event& a, const Event& b) { return a.at < b.at; });
  return events;
}

uint32_t ChaosSeed() {
  if (const char* s = std::getenv("LPLEX_CHAOS_SEED"); s != nullptr && *s != '\0') {
    return static_cast<uint32_t>(std::strtoul(s, nullptr, 10));
  }
  return std::random_device{}();
}

// The event a seq was recorded after: the last one whose boat head, seen
// just before it, was below the seq (the seq came later). -1: before all.
int EventBefore(const std::vector<Event>& events, uint64_t seq) {
  int found = -1;
  for (size_t i = 0; i < events.size(); ++i) {
    if (events[i].boat_head != 0 && events[i].boat_head < seq) found = static_cast<int>(i);
  }
  return found;
}

std::string Where(const std::vector<Event>& events, const std::vector<uint64_t>& seqs) {
  std::string out;
  size_t shown = 0;
  for (size_t i = 0; i < seqs.size() && shown < 15; ++i) {
    if (i > 0 && seqs[i] == seqs[i - 1] + 1) continue;  // one line per range
    ++shown;
    const int e = EventBefore(events, seqs[i]);
    out += "    from seq " + std::to_string(seqs[i]) + ": recorded by the boat after " +
           (e < 0 ? std::string("the start") : "event #" + std::to_string(e) + " (" + KindName(events[e].kind) + ")") +
           "\n";
  }
  return out;
}

TEST(CloudChaos, ProxyDropsAndRestartsLeaveEveryBoatSeqAtTheCloudExactlyOnce) {
  const uint32_t seed = ChaosSeed();
  std::printf("chaos seed %u (rerun with LPLEX_CHAOS_SEED=%u)\n", seed, seed);
  std::fflush(stdout);
  TempDir dir;
  const int grpc_port = FreeLoopbackPort();
  ASSERT_GT(grpc_port, 0);
  TcpProxy proxy(grpc_port);
  ASSERT_TRUE(proxy.ok());

  const std::string cloud_data = dir.Sub("cloud");
  const std::string boat_journal = dir.Sub("boat");
  const std::string cloud_journal = cloud_data + "/instances/" + kInstance + "/journal";
  const std::vector<std::string> cloud_args = {"-insecure-plaintext",
                                               "-data-dir", cloud_data,
                                               "-grpc-listen", "127.0.0.1:" + std::to_string(grpc_port),
                                               "-http-listen", "127.0.0.1:0",
                                               "-journal-rotate-duration", "PT10S"};
  auto boat_args = [&](const std::string& source) {
    return std::vector<std::string>{"-source", source, "-port", "0", "-journal-dir", boat_journal,
                                    "-journal-rotate-duration", "PT15S",
                                    // Holes are backfilled from the boat's journal on disk:
                                    // a short flush interval lets them close within seconds.
                                    "-journal-flush-interval", "PT1S",
                                    "-replication-target", "127.0.0.1:" + std::to_string(proxy.port()),
                                    "-replication-instance-id", kInstance};
  };
  ChildServer cloud(kCloudBinary);
  ChildServer boat(kBoatBinary);
  int cloud_runs = 0, boat_runs = 0;
  int cloud_http = 0, boat_http = 0;

  auto start_cloud = [&]() -> bool {
    ++cloud_runs;
    if (!cloud.Start(cloud_args, dir.Sub("cloud-" + std::to_string(cloud_runs) + ".log"))) return false;
    if (!cloud.WaitForLog("lplex-cloud: ready", std::chrono::seconds(30))) return false;
    cloud_http = PortFromLog(cloud.Log());
    return cloud_http > 0;
  };
  auto start_boat = [&](const std::string& source) -> bool {
    ++boat_runs;
    if (!boat.Start(boat_args(source), dir.Sub("boat-" + std::to_string(boat_runs) + ".log"))) return false;
    if (!boat.WaitForLog("lplex-server: ready", std::chrono::seconds(30))) return false;
    boat_http = PortFromLog(boat.Log());
    return boat_http > 0;
  };
  auto boat_status = [&] { return HttpGet(boat_http, "/replication/status").body; };
  auto cloud_status = [&] { return HttpGet(cloud_http, "/instances/" + kInstance + "/status").body; };

  ASSERT_TRUE(start_cloud()) << cloud.Log();
  ASSERT_TRUE(start_boat("sim:?fps=200")) << boat.Log();

  // The chaos.
  std::vector<Event> events = Schedule(seed, std::chrono::seconds(60));
  const Clock::time_point t0 = Clock::now();
  for (size_t i = 0; i < events.size(); ++i) {
    Event& e = events[i];
    std::this_thread::sleep_until(t0 + e.at);
    std::string waited;
    if (e.kind == Kind::kDrop) {
      // A drop cuts a live link, not the gap while the boat waits to retry
      // (its backoff reaches 60 s at most).
      const Clock::time_point w = Clock::now();
      WaitFor([&] { return proxy.open() > 0; }, std::chrono::seconds(65));
      const double s = std::chrono::duration<double>(Clock::now() - w).count();
      if (s > 2) waited = " after waiting " + std::to_string(static_cast<int>(s)) + " s for the boat to reconnect";
    }
    e.started_s = std::chrono::duration<double>(Clock::now() - t0).count();
    e.boat_head = JsonUint(boat_status(), "local_head_seq").value_or(0);
    e.cloud_cursor = JsonUint(cloud_status(), "cursor").value_or(0);
    switch (e.kind) {
      case Kind::kDrop:
        e.note = std::to_string(proxy.DropAll()) + " connection(s) cut" + waited;
        EXPECT_NE(e.note[0], '0') << "drop #" << i << " found no connection to cut";
        break;
      case Kind::kCloudTerm: {
        const int code = cloud.Terminate(std::chrono::seconds(60));
        EXPECT_EQ(code, 0) << "cloud run " << cloud_runs << ":\n" << cloud.Log();
        e.note = "cloud run " + std::to_string(cloud_runs) + " exited " + std::to_string(code);
        ASSERT_TRUE(start_cloud()) << cloud.Log();
        break;
      }
      case Kind::kCloudKill: {
        cloud.Signal(SIGKILL);
        const int code = cloud.Wait(std::chrono::seconds(20));
        EXPECT_EQ(code, 128 + SIGKILL);
        e.note = "cloud run " + std::to_string(cloud_runs) + " killed";
        ASSERT_TRUE(start_cloud()) << cloud.Log();
        break;
      }
      case Kind::kBoatTerm: {
        const int code = boat.Terminate(std::chrono::seconds(60));
        EXPECT_EQ(code, 0) << "boat run " << boat_runs << ":\n" << boat.Log();
        e.note = "boat run " + std::to_string(boat_runs) + " exited " + std::to_string(code);
        ASSERT_TRUE(start_boat("sim:?fps=200")) << boat.Log();
        break;
      }
    }
  }
  std::this_thread::sleep_for(std::chrono::seconds(3));

  // The boat stops and comes back with a source that never speaks: its head
  // is now fixed, the last seq of its journal.
  ASSERT_EQ(boat.Terminate(std::chrono::seconds(60)), 0) << boat.Log();
  std::string error;
  const uint64_t boat_head = [&] {
    const std::vector<StoredFrame> frames = ReadJournalDir(boat_journal, &error);
    return frames.empty() ? uint64_t{0} : frames.back().seq;
  }();
  ASSERT_TRUE(error.empty()) << error;
  ASSERT_GT(boat_head, 0u);
  ASSERT_TRUE(start_boat("ydraw+udp://127.0.0.1:" + std::to_string(FreeLoopbackPort()))) << boat.Log();

  // The cloud catches up: cursor at the boat's head, no hole.
  const Clock::time_point catch_up = Clock::now();
  std::string last_cloud, last_boat;
  const bool caught_up = WaitFor(
      [&] {
        last_cloud = cloud_status();
        last_boat = boat_status();
        return JsonUint(last_cloud, "cursor") == boat_head && last_cloud.find("\"holes\"") == std::string::npos;
      },
      std::chrono::seconds(60));
  const double catch_up_s = std::chrono::duration<double>(Clock::now() - catch_up).count();
  EXPECT_TRUE(caught_up) << "the cloud did not reach the boat's head " << boat_head << " within 60 s; cloud: "
                         << last_cloud << "boat: " << last_boat;
  EXPECT_EQ(JsonUint(last_boat, "local_head_seq"), boat_head) << last_boat;

  ASSERT_EQ(boat.Terminate(std::chrono::seconds(60)), 0) << boat.Log();
  ASSERT_EQ(cloud.Terminate(std::chrono::seconds(60)), 0) << cloud.Log();

  // Every boat seq at the cloud exactly once, each frame the boat's.
  const std::vector<StoredFrame> boat_frames = ReadJournalDir(boat_journal, &error);
  const std::vector<StoredFrame> cloud_frames = ReadJournalDir(cloud_journal, &error);
  EXPECT_TRUE(error.empty()) << "reading the journals back:\n" << error;
  const SeqComparison c = CompareSeqs(boat_frames, cloud_frames);

  std::string timeline;
  for (size_t i = 0; i < events.size(); ++i) {
    const Event& e = events[i];
    char line[200];
    std::snprintf(line, sizeof line, "  #%-2zu %6.2f s  %-22s boat head %-7llu cloud cursor %-7llu %s\n", i,
                  e.started_s, KindName(e.kind), static_cast<unsigned long long>(e.boat_head),
                  static_cast<unsigned long long>(e.cloud_cursor), e.note.c_str());
    timeline += line;
  }
  std::printf("chaos seed %u, %zu proxy connections accepted (%zu forwarded), cloud runs %d, boat runs %d, "
              "catch-up %.1f s\n%s%s",
              seed, proxy.accepted(), proxy.forwarded(), cloud_runs, boat_runs, catch_up_s, timeline.c_str(),
              c.Describe().c_str());
  std::printf("  cloud journal files:\n%s", FileTable(cloud_frames).c_str());
  std::fflush(stdout);

  EXPECT_EQ(c.boat_first, 1u);
  EXPECT_EQ(c.boat_head, boat_head);
  EXPECT_TRUE(c.boat_gaps.empty()) << "the boat's own journal skips seqs " << SeqRanges(c.boat_gaps);
  EXPECT_TRUE(c.missing.empty()) << "seed " << seed << ": the cloud lacks " << c.missing.size()
                                 << " boat seq(s): " << SeqRanges(c.missing) << "\n"
                                 << Where(events, c.missing) << timeline;
  EXPECT_TRUE(c.duplicated.empty()) << "seed " << seed << ": the cloud holds " << c.duplicated.size()
                                    << " seq(s) more than once: " << SeqRanges(c.duplicated) << "\n"
                                    << Where(events, c.duplicated) << timeline;
  EXPECT_TRUE(c.extra.empty()) << "the cloud holds seqs the boat never had: " << SeqRanges(c.extra);
  EXPECT_EQ(c.different, 0u) << c.Describe();

  // LPLEX_CHAOS_KEEP=DIR keeps the journals and logs of a failed run there.
  if (const char* keep = std::getenv("LPLEX_CHAOS_KEEP"); keep != nullptr && *keep != '\0' && HasFailure()) {
    std::error_code ec;
    std::filesystem::copy(dir.path(), keep, std::filesystem::copy_options::recursive, ec);
    std::printf("kept %s in %s%s\n", dir.path().c_str(), keep, ec ? (": " + ec.message()).c_str() : "");
  }
}

}  // namespace
}  // namespace lplex::cloud_app
