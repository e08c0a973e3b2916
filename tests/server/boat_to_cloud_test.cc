// The boat server replicating to a cloud in the same process (plaintext
// gRPC on loopback): issue 8's boat side wired into lplex-server. The live
// frames the cloud journals are the boat's frames, seq for seq; /metrics and
// /healthz show the replication state.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "boat_server.h"
#include "cloud/instance_manager.h"
#include "config/boat_config.h"
#include "http/http_client.h"
#include "replication/replication_server.h"
#include "server_test_support.h"
#include "support/temp_dir.h"

namespace lplex::server {
namespace {

using ::testing::HasSubstr;
using lplex::testing::ReadJournalDir;
using lplex::testing::StoredFrame;
using lplex::testing::TempDir;
using lplex::testing::WaitFor;

TEST(BoatToCloud, SimBoatReplicatesLiveFramesThatTheCloudJournalsSeqForSeq) {
  TempDir dir;
  RecordingLogger cloud_log;
  cloud::InstanceManagerOptions mo;
  mo.data_dir = dir.Sub("cloud");
  mo.log = &cloud_log;
  auto im = cloud::InstanceManager::Open(mo);
  ASSERT_TRUE(im.ok()) << im.status().ToString();
  replication::ReplicationServerOptions so;
  so.listen_address = "127.0.0.1:0";
  so.insecure_plaintext = true;
  so.ack_interval_us = 100'000;
  so.instances = im->get();
  so.data_dir = mo.data_dir;
  so.log = &cloud_log;
  auto cloud = replication::ReplicationServer::Start(so);
  ASSERT_TRUE(cloud.ok()) << cloud.status().ToString();

  RecordingLogger boat_log;
  config::LoadOptions lo;
  lo.search_paths = {};
  auto cfg = config::LoadBoatServerConfig(
      {"-source", "sim:", "-port", "0", "-journal-dir", dir.Sub("boat"), "-replication-target",
       "127.0.0.1:" + std::to_string((*cloud)->port()), "-replication-instance-id", "boat-1"},
      lo);
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  BoatServerEnv env;
  env.log = &boat_log;
  env.bind_address = "127.0.0.1";
  auto boat = BoatServer::Create(cfg->config, env);
  ASSERT_TRUE(boat.ok()) << boat.status().ToString();
  ASSERT_TRUE((*boat)->Start().ok()) << boat_log.Text();
  const auto port = static_cast<uint16_t>((*boat)->http_port());

  // The cloud acknowledges a few hundred frames of the simulated boat.
  auto cursor = [&] {
    for (const auto& s : (*im)->List()) {
      if (s.id == "boat-1") return s.cursor;
    }
    return uint64_t{0};
  };
  ASSERT_TRUE(WaitFor([&] { return cursor() >= 300; }, std::chrono::seconds(30)))
      << "cloud cursor " << cursor() << "\n" << boat_log.Text() << cloud_log.Text();
  const auto metrics = http::testing::Fetch(port, "GET", "/metrics");
  EXPECT_THAT(metrics.body, HasSubstr("\nlplex_replication_connected 1\n"));
  EXPECT_THAT(metrics.body, HasSubstr("lplex_replication_live_frames_sent_total "));
  const auto status = http::testing::Fetch(port, "GET", "/replication/status");
  EXPECT_EQ(status.status, 200);
  EXPECT_THAT(status.body, ::testing::StartsWith(R"({"connected":true,"instance_id":"boat-1","local_head_seq":)"));
  EXPECT_THAT(status.body, HasSubstr(R"(,"live_lag":)"));
  EXPECT_THAT(status.body, ::testing::Not(HasSubstr("\"last_ack\":\"0001-01-01T00:00:00Z\""))) << "the cloud acked";
  const auto health = http::testing::Fetch(port, "GET", "/healthz");
  EXPECT_THAT(health.body, HasSubstr("\"replication\""));

  (*boat)->Stop();
  EXPECT_TRUE(boat_log.Contains("shutdown: stopped replication")) << boat_log.Text();
  (*cloud)->Shutdown(1'000'000);
  ASSERT_TRUE((*im)->Shutdown().ok());

  // Every frame the cloud journaled is the boat's frame of the same seq.
  std::string error;
  const std::vector<StoredFrame> boat_frames = ReadJournalDir(dir.Sub("boat"), &error);
  const std::vector<StoredFrame> cloud_frames = ReadJournalDir(dir.Sub("cloud/instances/boat-1/journal"), &error);
  ASSERT_TRUE(error.empty()) << error;
  ASSERT_GE(cloud_frames.size(), 300u);
  std::map<uint64_t, const StoredFrame*> by_seq;
  for (const auto& f : boat_frames) by_seq[f.seq] = &f;
  for (const auto& c : cloud_frames) {
    auto it = by_seq.find(c.seq);
    ASSERT_NE(it, by_seq.end()) << "the cloud has seq " << c.seq << " the boat never journaled";
    EXPECT_EQ(c.timestamp_us, it->second->timestamp_us) << "seq " << c.seq;
    EXPECT_EQ(c.pgn, it->second->pgn) << "seq " << c.seq;
    EXPECT_EQ(c.source, it->second->source) << "seq " << c.seq;
    EXPECT_EQ(c.data, it->second->data) << "seq " << c.seq;
  }
}

}  // namespace
}  // namespace lplex::server
