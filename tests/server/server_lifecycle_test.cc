// BoatServer in-process: startup order (keeper sweep before recording, seq
// recovered), serving a simulated boat over HTTP, and a replay journaled
// frame for frame.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "boat_server.h"
#include "config/boat_config.h"
#include "core/log.h"
#include "http/http_client.h"
#include "journal/archived_marker.h"
#include "server_test_support.h"
#include "support/loopback_socket.h"
#include "support/reassembled_capture.h"
#include "support/temp_dir.h"

namespace lplex::server {
namespace {

using ::testing::HasSubstr;
using lplex::testing::FileText;
using lplex::testing::HttpGet;
using lplex::testing::JournalFiles;
using lplex::testing::ReadJournalDir;
using lplex::testing::ReassembleCapture;
using lplex::testing::ReassembledFrame;
using lplex::testing::StoredFrame;
using lplex::testing::TempDir;
using lplex::testing::WaitFor;

// The config from flags alone (no config file is looked for).
config::BoatServerConfig Config(const std::vector<std::string>& args) {
  config::LoadOptions o;
  o.search_paths = {};
  auto r = config::LoadBoatServerConfig(args, o);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? r->config : config::BoatServerConfig{};
}

std::unique_ptr<BoatServer> StartServer(const std::vector<std::string>& args, Logger* log) {
  BoatServerEnv env;
  env.log = log;
  env.bind_address = "127.0.0.1";
  auto s = BoatServer::Create(Config(args), env);
  EXPECT_TRUE(s.ok()) << s.status().ToString();
  if (!s.ok()) return nullptr;
  const Status started = (*s)->Start();
  EXPECT_TRUE(started.ok()) << started.ToString();
  if (!started.ok()) return nullptr;
  return std::move(s).value();
}

TEST(BoatServer, ServerStartsOnSimAndServesDevices) {
  TempDir dir;
  RecordingLogger log;
  auto server = StartServer({"-source", "sim:", "-port", "0", "-journal-dir", dir.Sub("journal")}, &log);
  ASSERT_NE(server, nullptr) << log.Text();
  const int port = server->http_port();
  ASSERT_GT(port, 0);
  EXPECT_TRUE(log.Contains("HTTP API at http://127.0.0.1:" + std::to_string(port) + "/")) << log.Text();
  EXPECT_TRUE(log.Contains("ready in")) << log.Text();

  // The simulated boat claims its addresses at once; the broker learns them.
  ASSERT_TRUE(WaitFor([&] { return server->status().devices >= 5; }, std::chrono::seconds(20)))
      << "devices: " << server->status().devices << "\n" << log.Text();

  const auto ready = HttpGet(port, "/readyz");
  EXPECT_EQ(ready.status, 200) << ready.body;
  const auto devices = HttpGet(port, "/devices");
  ASSERT_EQ(devices.status, 200) << devices.body;
  const auto json = nlohmann::json::parse(devices.body, nullptr, false);
  ASSERT_TRUE(json.is_array()) << devices.body;
  EXPECT_GE(json.size(), 5u) << devices.body;
  std::set<int> sources;
  for (const auto& d : json) sources.insert(d.value("src", -1));
  EXPECT_GE(sources.size(), 5u) << devices.body;

  server->Stop();
  EXPECT_EQ(HttpGet(port, "/devices").status, 0);  // nobody listens any more
  EXPECT_TRUE(log.Contains("shutdown: done")) << log.Text();
}

// The status line's "clients": one per stream, though a session stream
// holds both a consumer and a wake-up subscriber in the broker.
TEST(BoatServer, StatusCountsEachClientStreamOnce) {
  TempDir dir;
  RecordingLogger log;
  auto server = StartServer({"-source", "sim:", "-port", "0"}, &log);
  ASSERT_NE(server, nullptr) << log.Text();
  const auto port = static_cast<uint16_t>(server->http_port());
  http::testing::Conn events(port);
  ASSERT_TRUE(events.SendRequest("GET", "/events"));
  ASSERT_TRUE(events.ReadHeaders().has_value());
  ASSERT_EQ(http::testing::Fetch(port, "PUT", "/clients/helm", R"({"buffer_timeout":"PT1M"})").status, 200);
  http::testing::Conn session(port);
  ASSERT_TRUE(session.SendRequest("GET", "/clients/helm/events"));
  ASSERT_TRUE(session.ReadHeaders().has_value());
  EXPECT_TRUE(WaitFor([&] { return server->status().clients == 2; }, std::chrono::seconds(5)))
      << "clients: " << server->status().clients;
  server->Stop();
}

TEST(BoatServer, RestartContinuesSeqAfterLastJournaledFrame) {
  TempDir dir;
  const std::vector<std::string> args = {"-source", "sim:", "-port", "0", "-journal-dir", dir.Sub("journal")};
  uint64_t last_before = 0;
  {
    RecordingLogger log;
    auto server = StartServer(args, &log);
    ASSERT_NE(server, nullptr) << log.Text();
    EXPECT_EQ(server->status().first_seq, 1u);
    ASSERT_TRUE(WaitFor([&] { return server->status().frames_total >= 50; }, std::chrono::seconds(20)));
    server->Stop();
    last_before = server->status().head_seq - 1;
  }
  std::string error;
  const auto first_run = ReadJournalDir(dir.Sub("journal"), &error);
  ASSERT_TRUE(error.empty()) << error;
  ASSERT_FALSE(first_run.empty());
  EXPECT_EQ(first_run.back().seq, last_before);  // every assigned seq reached the journal

  RecordingLogger log;
  auto server = StartServer(args, &log);
  ASSERT_NE(server, nullptr) << log.Text();
  EXPECT_EQ(server->status().first_seq, last_before + 1);
  EXPECT_TRUE(log.Contains("seq continues at " + std::to_string(last_before + 1))) << log.Text();
  ASSERT_TRUE(WaitFor([&] { return server->status().frames_total >= 20; }, std::chrono::seconds(20)));
  server->Stop();

  const auto all = ReadJournalDir(dir.Sub("journal"), &error);
  ASSERT_TRUE(error.empty()) << error;
  std::vector<uint64_t> seqs;
  for (const auto& f : all) seqs.push_back(f.seq);
  std::sort(seqs.begin(), seqs.end());
  ASSERT_GT(seqs.size(), first_run.size());
  for (size_t i = 0; i < seqs.size(); ++i) ASSERT_EQ(seqs[i], i + 1) << "seq reused or skipped";
}

// A file an earlier run left unarchived (a crash, an archive outage) is
// archived by the startup sweep, which finishes inside Start(): before the
// writer opens its first file (P9).
TEST(BoatServer, StartupSweepArchivesLeftoverFileBeforeRecording) {
  TempDir dir;
  const std::string journal = dir.Sub("journal");
  {
    RecordingLogger log;
    auto server = StartServer({"-source", "sim:", "-port", "0", "-journal-dir", journal}, &log);
    ASSERT_NE(server, nullptr);
    ASSERT_TRUE(WaitFor([&] { return server->status().frames_total >= 20; }, std::chrono::seconds(20)));
    server->Stop();
  }
  const auto leftovers = JournalFiles(journal);
  ASSERT_EQ(leftovers.size(), 1u);
  ASSERT_FALSE(std::filesystem::exists(journal::ArchivedMarkerPath(leftovers[0])));

  RecordingLogger log;
  // A replay of nothing useful would end at once; sim: keeps the run alive.
  auto server = StartServer({"-source", "sim:", "-port", "0", "-journal-dir", journal, "-journal-archive-target",
                             "file://" + dir.Sub("archive"), "-journal-archive-trigger", "on-rotate"},
                            &log);
  ASSERT_NE(server, nullptr) << log.Text();
  // Right after Start: archived, with its marker, byte for byte.
  const std::string copy = dir.Sub("archive") + "/" + std::filesystem::path(leftovers[0]).filename().string();
  EXPECT_TRUE(std::filesystem::exists(journal::ArchivedMarkerPath(leftovers[0]))) << log.Text();
  ASSERT_TRUE(std::filesystem::exists(copy)) << log.Text();
  EXPECT_EQ(FileText(copy), FileText(leftovers[0]));
  server->Stop();
}

TEST(BoatServer, ReplayOfCaptureJournalsEveryFrame) {
  const std::string capture = lplex::testing::kCaptures + "/can0-1.pcap";
  const std::vector<ReassembledFrame> want = ReassembleCapture(capture);
  ASSERT_GT(want.size(), 30000u);

  TempDir dir;
  RecordingLogger log;
  auto server = StartServer({"-source", "replay:" + capture, "-replay-speed", "0", "-port", "0", "-journal-dir",
                             dir.Sub("journal"), "-journal-rotate-size", "1048576"},
                            &log);
  ASSERT_NE(server, nullptr) << log.Text();
  ASSERT_TRUE(WaitFor([&] { return server->status().frames_total >= want.size(); }, std::chrono::seconds(120)))
      << server->status().frames_total << " of " << want.size();
  ASSERT_TRUE(WaitFor([&] { return log.Contains("ended"); }, std::chrono::seconds(10))) << log.Text();
  server->Stop();
  const BoatServerStatus st = server->status();
  EXPECT_EQ(st.frames_total, want.size());
  EXPECT_EQ(st.source_dropped, 0u);
  EXPECT_EQ(st.journal_dropped, 0u);
  EXPECT_GT(st.files_written, 1u);  // rotated by size on the way

  std::string error;
  const auto got = ReadJournalDir(dir.Sub("journal"), &error);
  ASSERT_TRUE(error.empty()) << error;
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    ASSERT_EQ(got[i].seq, i + 1) << "frame " << i;
    ASSERT_EQ(got[i].timestamp_us, want[i].ts) << "frame " << i;
    ASSERT_EQ(got[i].pgn, want[i].header.pgn) << "frame " << i;
    ASSERT_EQ(got[i].source, want[i].header.source) << "frame " << i;
    ASSERT_EQ(got[i].destination, want[i].header.destination) << "frame " << i;
    ASSERT_EQ(got[i].priority, want[i].header.priority) << "frame " << i;
    ASSERT_EQ(got[i].data, want[i].data) << "frame " << i;
  }
}

TEST(BoatServer, PortInUseFailsStartNamingTheAddress) {
  TempDir dir;
  int port = 0;
  const int fd = lplex::testing::BindLoopback(&port, /*listen=*/true);
  ASSERT_GE(fd, 0);
  RecordingLogger log;
  BoatServerEnv env;
  env.log = &log;
  env.bind_address = "127.0.0.1";
  auto s = BoatServer::Create(
      Config({"-source", "sim:", "-port", std::to_string(port), "-journal-dir", dir.Sub("journal")}), env);
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  const Status started = (*s)->Start();
  ::close(fd);
  EXPECT_FALSE(started.ok());
  EXPECT_THAT(started.ToString(), HasSubstr(std::to_string(port)));
  // What was started before HTTP (keeper, journal) was stopped again.
  EXPECT_TRUE(log.Contains("shutdown: done")) << log.Text();
}

}  // namespace
}  // namespace lplex::server
