// The seed scenario end to end, with the real binaries: lplex-server (a
// simulated boat) replicates to lplex-cloud over plaintext gRPC; the cloud
// is stopped with SIGTERM and started again while the boat keeps going.
// Every file the cloud journaled must be archived (marker and an identical
// copy), and every frame it journaled must be the boat's frame with that
// seq: the same header and data bytes, the same time (within the journal's
// 1 ms clamp, below). Labelled `slow` (apps/lplex-cloud/cloud_test_labels.cmake).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "server/server_test_support.h"
#include "support/temp_dir.h"

namespace lplex::cloud_app {
namespace {

using lplex::testing::ChildServer;
using lplex::testing::FileText;
using lplex::testing::JournalFiles;
using lplex::testing::ReadJournalDir;
using lplex::testing::StoredFrame;
using lplex::testing::TempDir;

const std::string kCloudBinary = std::string(LPLEX_BINARY_DIR) + "/apps/lplex-cloud/lplex-cloud";
const std::string& kBoatBinary = lplex::testing::kServerBinary;


// A loopback port free right now (the cloud must come back on the same one).
int FreePort() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0 &&
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  ::close(fd);
  return port;
}

TEST(CloudEndToEnd, BoatToCloudAcrossCloudRestartArchivesEveryFileAndKeepsBoatBytes) {
  TempDir dir;
  const int grpc_port = FreePort();
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
  std::map<uint64_t, const StoredFrame*> by_seq;
  for (const auto& f : boat_frames) by_seq[f.seq] = &f;
  size_t mismatches = 0;
  for (const auto& c : cloud_frames) {
    auto it = by_seq.find(c.seq);
    if (it == by_seq.end()) {
      ADD_FAILURE() << "cloud seq " << c.seq << " (" << c.file << ") is not in the boat's journal";
      if (++mismatches > 5) break;
      continue;
    }
    const StoredFrame& b = *it->second;
    // Timestamps within 1 ms: a journal block stores time deltas that cannot
    // go backwards, so a frame up to 1 ms older than the one before it in
    // its block is stored at that one's time (journal/writer.cc kMaxClampUs).
    // The sim's sources interleave that way now and then, and the boat's and
    // the cloud's blocks start at different frames, so the same frame can be
    // clamped in one journal and not in the other.
    const int64_t skew = b.timestamp_us > c.timestamp_us ? b.timestamp_us - c.timestamp_us
                                                         : c.timestamp_us - b.timestamp_us;
    if (skew > 1000 || b.pgn != c.pgn || b.source != c.source ||
        b.destination != c.destination || b.priority != c.priority || b.data != c.data) {
      ADD_FAILURE() << "seq " << c.seq << " differs: cloud " << c.file << " (t " << c.timestamp_us << ", pgn "
                    << c.pgn << ", src " << int(c.source) << ", " << c.data.size() << " bytes), boat " << b.file
                    << " (t " << b.timestamp_us << ", pgn " << b.pgn << ", src " << int(b.source) << ", "
                    << b.data.size() << " bytes)";
      if (++mismatches > 5) break;
    }
  }
  // Both cloud runs journaled frames: the boat reconnected to the new one.
  size_t first_run = 0, second_run = 0;
  for (const auto& c : cloud_frames) {
    const bool old = std::find(first_run_files.begin(), first_run_files.end(), c.file) != first_run_files.end();
    ++(old ? first_run : second_run);
  }
  std::printf("cloud: %zu file(s), %zu frame(s) (%zu first run, %zu second); boat: %zu frame(s)\n", files.size(),
              cloud_frames.size(), first_run, second_run, boat_frames.size());
  EXPECT_GT(first_run, 0u);
  EXPECT_GT(second_run, 0u) << second_log;
}

}  // namespace
}  // namespace lplex::cloud_app
