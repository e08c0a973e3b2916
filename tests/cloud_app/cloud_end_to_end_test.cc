// The seed scenario end to end, with the real binaries: lplex-server (a
// simulated boat) replicates to lplex-cloud over plaintext gRPC; the cloud
// is stopped with SIGTERM and started again while the boat keeps going.
// Every file the cloud journaled must be archived (marker and an identical
// copy), and every frame it journaled must be the boat's frame with that
// seq: the same header and data bytes, the same time (within the journal's
// 1 ms clamp: FrameDifference in cloud_e2e_support.h). Labelled `slow`
// (apps/lplex-cloud/cloud_test_labels.cmake).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include "cloud_app/cloud_e2e_support.h"
#include "server/server_test_support.h"
#include "support/temp_dir.h"

namespace lplex::cloud_app {
namespace {

using lplex::testing::ChildServer;
using lplex::testing::FileText;
using lplex::testing::FramesInFiles;
using lplex::testing::FramesNotFromBoat;
using lplex::testing::FreeLoopbackPort;
using lplex::testing::JournalFiles;
using lplex::testing::kCloudBinary;
using lplex::testing::ReadJournalDir;
using lplex::testing::StoredFrame;
using lplex::testing::TempDir;

const std::string& kBoatBinary = lplex::testing::kServerBinary;

TEST(CloudEndToEnd, BoatToCloudAcrossCloudRestartArchivesEveryFileAndKeepsBoatBytes) {
  TempDir dir;
  const int grpc_port = FreeLoopbackPort();
  ASSERT_GT(grpc_port, 0);
  const std::string cloud_data = dir.Sub("cloud");
  const std::string archive = dir.Sub("archive");
  const std::vector<std::string> cloud_args = {"-insecure-plaintext",
                                               "-data-dir", cloud_data,
                                               "-grpc-listen", "127.0.0.1:" + std::to_string(grpc_port),
                                               "-http-listen", "127.0.0.1:0",
                                               "-journal-rotate-duration", "PT5S",
                                               "-journal-archive-target", "file://" + archive,
                                               "-journal-archive-trigger", "on-rotate"};
  ChildServer cloud(kCloudBinary);
  ChildServer boat(kBoatBinary);

  ASSERT_TRUE(cloud.Start(cloud_args, dir.Sub("cloud-1.log")));
  ASSERT_TRUE(cloud.WaitForLog("lplex-cloud: ready", std::chrono::seconds(20))) << cloud.Log();
  ASSERT_TRUE(boat.Start({"-source", "sim:", "-port", "0", "-journal-dir", dir.Sub("boat"), "-replication-target",
                          "127.0.0.1:" + std::to_string(grpc_port), "-replication-instance-id", "boat-1"},
                         dir.Sub("boat.log")));
  ASSERT_TRUE(boat.WaitForLog("lplex-server: ready", std::chrono::seconds(20))) << boat.Log();
  std::this_thread::sleep_for(std::chrono::seconds(12));

  // The cloud goes away and comes back on the same port; the boat reconnects.
  ASSERT_EQ(cloud.Terminate(std::chrono::seconds(60)), 0) << cloud.Log();
  const std::string first_log = cloud.Log();
  EXPECT_THAT(first_log, ::testing::HasSubstr("shutdown: keeper drained"));
  const std::string journal_dir = cloud_data + "/instances/boat-1/journal";
  const std::vector<std::string> first_run_files = JournalFiles(journal_dir);
  ASSERT_TRUE(cloud.Start(cloud_args, dir.Sub("cloud-2.log")));
  ASSERT_TRUE(cloud.WaitForLog("lplex-cloud: ready", std::chrono::seconds(20))) << cloud.Log();
  std::this_thread::sleep_for(std::chrono::seconds(6));

  ASSERT_EQ(boat.Terminate(std::chrono::seconds(60)), 0) << boat.Log();
  ASSERT_EQ(cloud.Terminate(std::chrono::seconds(60)), 0) << cloud.Log();
  const std::string second_log = cloud.Log();

  // Every file the cloud journaled: its marker, and an identical copy.
  const std::vector<std::string> files = JournalFiles(journal_dir);
  ASSERT_GE(files.size(), 2u) << first_log << second_log;
  for (const auto& path : files) {
    EXPECT_TRUE(std::filesystem::exists(path + ".archived")) << path << "\n" << second_log;
    const std::string copy = archive + "/boat-1/" + std::filesystem::path(path).filename().string();
    ASSERT_TRUE(std::filesystem::exists(copy)) << copy;
    EXPECT_TRUE(FileText(copy) == FileText(path)) << copy << " differs from " << path;
  }

  // The cloud's frames are the boat's, seq for seq, byte for byte.
  std::string error;
  const std::vector<StoredFrame> boat_frames = ReadJournalDir(dir.Sub("boat"), &error);
  const std::vector<StoredFrame> cloud_frames = ReadJournalDir(journal_dir, &error);
  ASSERT_TRUE(error.empty()) << error;
  ASSERT_FALSE(cloud_frames.empty());
  for (const auto& problem : FramesNotFromBoat(boat_frames, cloud_frames)) ADD_FAILURE() << problem;

  // Both cloud runs journaled frames: the boat reconnected to the new one.
  const size_t first_run = FramesInFiles(cloud_frames, first_run_files);
  const size_t second_run = cloud_frames.size() - first_run;
  std::printf("cloud: %zu file(s), %zu frame(s) (%zu first run, %zu second); boat: %zu frame(s)\n", files.size(),
              cloud_frames.size(), first_run, second_run, boat_frames.size());
  EXPECT_GT(first_run, 0u);
  EXPECT_GT(second_run, 0u) << second_log;
}

}  // namespace
}  // namespace lplex::cloud_app
