// The seed scenario (spec/cloud.md §2.9, issue 8 acceptance 2) with every
// part real: lplex-server on `sim:` replicates over mTLS (a private CA and
// certificates made by openssl here; the client certificate's CN is the
// boat's instance id) to lplex-cloud, whose journals rotate every 5 s and are
// archived on rotation to S3 (moto). The cloud gets SIGTERM mid-stream and
// comes back; the boat stops. Then every journal file the cloud wrote, live
// and backfill, is in S3 with identical bytes, none is left unarchived, the
// cloud holds exactly the boat's frames, and its cursor is the boat's head.
// Labelled `slow` (apps/lplex-cloud/cloud_test_labels.cmake).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <regex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "cloud_app/cloud_e2e_support.h"
#include "journal/archived_marker.h"
#include "server/server_test_support.h"
#include "support/moto_server.h"
#include "support/temp_dir.h"

namespace lplex::cloud_app {
namespace {

namespace fs = std::filesystem;
using lplex::testing::ChildServer;
using lplex::testing::FileText;
using lplex::testing::HttpGet;
using lplex::testing::JournalFiles;
using lplex::testing::JsonUint;
using lplex::testing::MotoServer;
using lplex::testing::PortFromLog;
using lplex::testing::ReadJournalDir;
using lplex::testing::StoredFrame;
using lplex::testing::TempDir;
using lplex::testing::TestPki;
using lplex::testing::WaitFor;
using std::chrono::seconds;

constexpr char kBucket[] = "cloud-archive";
constexpr char kPrefix[] = "fleet/";
constexpr char kBoat[] = "boat-1";

// The cloud's view of the boat: GET /instances/boat-1/status.
struct CloudView {
  bool connected = false;
  uint64_t cursor = 0;
  bool has_holes = false;
  std::string body;
};

CloudView CloudStatus(int http_port) {
  CloudView v;
  const auto r = HttpGet(http_port, std::string("/instances/") + kBoat + "/status");
  v.body = r.body;
  if (r.status != 200) return v;
  v.connected = r.body.find("\"connected\":true") != std::string::npos;
  v.cursor = JsonUint(r.body, "cursor").value_or(0);
  v.has_holes = r.body.find("\"holes\"") != std::string::npos;  // omitted when there are none
  return v;
}

// Every .lpj under `root`, recursively.
std::vector<std::string> AllJournals(const std::string& root) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    if (e.path().extension() == ".lpj") out.push_back(e.path().string());
  }
  return out;
}

// moto runs without auth here, but answers an anonymous GET of a private
// object with 403: any Authorization header makes the request a user's.
const std::vector<std::string> kAsAUser = {
    "Authorization: AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/s3/aws4_request, SignedHeaders=host, "
    "Signature=0"};

// The keys under `prefix` in the bucket (ListObjects).
std::set<std::string> S3Keys(const MotoServer& moto, const std::string& prefix) {
  std::string body;
  std::set<std::string> keys;
  if (moto.Http("GET", std::string("/") + kBucket + "?prefix=" + prefix + "&max-keys=1000", "", kAsAUser, &body) !=
      200) {
    return keys;
  }
  static const std::regex re("<Key>([^<]*)</Key>");
  for (auto it = std::sregex_iterator(body.begin(), body.end(), re); it != std::sregex_iterator(); ++it) {
    keys.insert((*it)[1]);
  }
  return keys;
}

// The cloud log's "replication:" lines (handshakes, holes, live and
// backfill), for failure messages.
std::string ReplicationLines(const std::string& log) {
  std::string out;
  size_t pos = 0;
  while (pos < log.size()) {
    size_t end = log.find('\n', pos);
    if (end == std::string::npos) end = log.size();
    if (log.compare(pos, 12, "replication:") == 0) out += log.substr(pos, end - pos + 1);
    pos = end + 1;
  }
  return out;
}

TEST(CloudSeedScenario, MtlsBoatToCloudAcrossSigtermArchivesEveryFileToS3ByteIdentical) {
  std::string why;
  if (!MotoServer::Available(&why)) GTEST_SKIP() << why;
  if (!lplex::testing::HaveOpenssl()) GTEST_SKIP() << "openssl not found";
  MotoServer moto;
  MotoServer::Options mo;
  mo.buckets = {kBucket};
  ASSERT_TRUE(moto.Start(mo, &why)) << why;
  ::setenv("AWS_ACCESS_KEY_ID", moto.access_key_id().c_str(), 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", moto.secret_access_key().c_str(), 1);
  ::setenv("AWS_REGION", moto.region(), 1);

  TempDir dir;
  TestPki pki;
  fs::create_directories(dir.Sub("pki"));
  ASSERT_TRUE(pki.Make(dir.Sub("pki"), {kBoat}, &why)) << why;

  const int grpc_port = lplex::testing::FreeLoopbackPort();
  ASSERT_GT(grpc_port, 0);
  const std::string cloud_data = dir.Sub("cloud");
  const std::string boat_journal = dir.Sub("boat");
  std::vector<std::string> cloud_args = {"-data-dir", cloud_data,
                                         "-grpc-listen", "127.0.0.1:" + std::to_string(grpc_port),
                                         "-http-listen", "127.0.0.1:0",
                                         "-journal-rotate-duration", "PT5S",
                                         "-journal-archive-target", std::string("s3://") + kBucket + "/" + kPrefix,
                                         "-journal-archive-s3-endpoint", moto.endpoint(),
                                         "-journal-archive-trigger", "on-rotate"};
  for (const auto& f : pki.CloudFlags()) cloud_args.push_back(f);
  std::vector<std::string> replication = {"-replication-target", "127.0.0.1:" + std::to_string(grpc_port),
                                          "-replication-instance-id", kBoat};
  for (const auto& f : pki.BoatFlags(kBoat)) replication.push_back(f);
  std::vector<std::string> boat_args = {"-source", "sim:", "-port", "0", "-journal-dir", boat_journal};
  boat_args.insert(boat_args.end(), replication.begin(), replication.end());

  ChildServer cloud(lplex::testing::kCloudBinary);
  ChildServer boat(lplex::testing::kServerBinary);

  // --- Run 1: the boat streams to the cloud over mTLS.
  ASSERT_TRUE(cloud.Start(cloud_args, dir.Sub("cloud-1.log")));
  ASSERT_TRUE(cloud.WaitForLog("lplex-cloud: ready", seconds(20))) << cloud.Log();
  EXPECT_THAT(cloud.Log(), ::testing::HasSubstr("mTLS"));
  int cloud_http = PortFromLog(cloud.Log());
  ASSERT_GT(cloud_http, 0) << cloud.Log();
  ASSERT_TRUE(boat.Start(boat_args, dir.Sub("boat-1.log")));
  ASSERT_TRUE(boat.WaitForLog("lplex-server: ready", seconds(20))) << boat.Log();
  ASSERT_TRUE(WaitFor([&] { return CloudStatus(cloud_http).cursor > 0; }, seconds(20)))
      << CloudStatus(cloud_http).body << "\n" << cloud.Log() << boat.Log();
  std::this_thread::sleep_for(seconds(11));  // two rotations at least

  // --- SIGTERM mid-stream: the cloud finalizes, archives, exits 0.
  const uint64_t cursor_before_restart = CloudStatus(cloud_http).cursor;
  ASSERT_EQ(cloud.Terminate(seconds(60)), 0) << cloud.Log();
  const std::string first_log = cloud.Log();
  EXPECT_THAT(first_log, ::testing::HasSubstr("shutdown: keeper drained"));
  const std::string journal_dir = cloud_data + "/instances/" + kBoat + "/journal";
  const std::vector<std::string> first_run_files = JournalFiles(journal_dir);

  // --- Run 2: the cloud comes back on the same port; the boat reconnects.
  ASSERT_TRUE(cloud.Start(cloud_args, dir.Sub("cloud-2.log")));
  ASSERT_TRUE(cloud.WaitForLog("lplex-cloud: ready", seconds(20))) << cloud.Log();
  cloud_http = PortFromLog(cloud.Log());
  ASSERT_GT(cloud_http, 0) << cloud.Log();
  ASSERT_TRUE(WaitFor(
      [&] {
        const CloudView v = CloudStatus(cloud_http);
        return v.connected && v.cursor > cursor_before_restart;
      },
      seconds(40)))
      << CloudStatus(cloud_http).body << "\n" << cloud.Log();
  std::this_thread::sleep_for(seconds(6));
  ASSERT_EQ(boat.Terminate(seconds(60)), 0) << boat.Log();

  // --- The boat comes back with nothing new to say (a replay source that
  // waits an hour before its first frame), so its head holds still: what it
  // journaled after its replication stopped reaches the cloud, and the
  // cloud's cursor must come to equal the boat's head.
  std::vector<std::string> idle_args = {"-source",
                                        "replay:" + lplex::testing::kCaptures + "/candumpSample1.txt?delay=PT1H",
                                        "-port", "0", "-journal-dir", boat_journal};
  idle_args.insert(idle_args.end(), replication.begin(), replication.end());
  ASSERT_TRUE(boat.Start(idle_args, dir.Sub("boat-2.log")));
  ASSERT_TRUE(boat.WaitForLog("lplex-server: ready", seconds(20))) << boat.Log();
  const int boat_http = PortFromLog(boat.Log());
  ASSERT_GT(boat_http, 0) << boat.Log();
  uint64_t boat_head = 0, boat_sees = 0;
  CloudView at_end;
  const bool caught_up = WaitFor(
      [&] {
        const auto r = HttpGet(boat_http, "/replication/status");
        boat_head = JsonUint(r.body, "local_head_seq").value_or(0);
        boat_sees = JsonUint(r.body, "cloud_cursor").value_or(0);
        at_end = CloudStatus(cloud_http);
        return boat_head > 0 && at_end.cursor == boat_head && boat_sees == boat_head && !at_end.has_holes;
      },
      seconds(60));
  EXPECT_TRUE(caught_up) << "boat head " << boat_head << ", boat's view of the cursor " << boat_sees
                         << ", cloud: " << at_end.body << "\n" << boat.Log() << cloud.Log();

  ASSERT_EQ(boat.Terminate(seconds(60)), 0) << boat.Log();
  ASSERT_EQ(cloud.Terminate(seconds(60)), 0) << cloud.Log();
  const std::string second_log = cloud.Log();
  EXPECT_THAT(second_log, ::testing::HasSubstr("shutdown: keeper drained"));

  // --- No journal anywhere under the cloud's data dir is left unarchived.
  for (const auto& path : AllJournals(cloud_data)) {
    EXPECT_TRUE(fs::exists(journal::ArchivedMarkerPath(path))) << path << " left unarchived\n" << second_log;
  }

  // --- Every file of the boat's cloud journal is in S3, byte for byte, and
  // S3 holds nothing else for it.
  const std::vector<std::string> files = JournalFiles(journal_dir);
  size_t live = 0, backfill = 0;
  std::set<std::string> expected_keys;
  for (const auto& path : files) {
    const std::string name = fs::path(path).filename().string();
    live += name.rfind("nmea2k-", 0) == 0;
    backfill += name.rfind("backfill-", 0) == 0;
    const std::string key = std::string(kPrefix) + kBoat + "/" + name;
    expected_keys.insert(key);
    std::string object;
    const int code = moto.Http("GET", std::string("/") + kBucket + "/" + key, "", kAsAUser, &object);
    ASSERT_EQ(code, 200) << key << " missing from S3: " << object << "\n" << second_log;
    EXPECT_TRUE(object == FileText(path)) << key << " in S3 differs from " << path << " (" << object.size()
                                          << " vs " << fs::file_size(path) << " bytes)";
  }
  EXPECT_EQ(S3Keys(moto, kPrefix), expected_keys);
  EXPECT_GE(live, 3u) << "rotating every 5 s for ~20 s over two runs";

  // --- The cloud's frames are the boat's, each seq once, every boat seq.
  std::string error;
  const std::vector<StoredFrame> boat_frames = ReadJournalDir(boat_journal, &error);
  const std::vector<StoredFrame> cloud_frames = ReadJournalDir(journal_dir, &error);
  ASSERT_TRUE(error.empty()) << error;
  ASSERT_FALSE(cloud_frames.empty());
  for (const auto& problem : lplex::testing::FramesNotFromBoat(boat_frames, cloud_frames)) ADD_FAILURE() << problem;
  if (const auto dups = lplex::testing::DuplicatedSeqs(cloud_frames); !dups.empty()) {
    std::string text;
    for (const auto& d : dups) text += d + "\n";
    ADD_FAILURE() << "seqs journaled twice by the cloud:\n"
                  << text << "cloud's replication log:\n"
                  << ReplicationLines(first_log) << "-- restart --\n"
                  << ReplicationLines(second_log);
  }
  std::set<uint64_t> cloud_seqs;
  for (const auto& c : cloud_frames) cloud_seqs.insert(c.seq);
  size_t missing = 0;
  for (const auto& b : boat_frames) {
    if (cloud_seqs.count(b.seq) == 0 && ++missing <= 5) ADD_FAILURE() << "boat seq " << b.seq << " not in the cloud";
  }
  EXPECT_EQ(missing, 0u);
  ASSERT_FALSE(boat_frames.empty());
  EXPECT_EQ(boat_frames.back().seq, boat_head) << "the boat's journal ends at its head";

  // Both cloud runs journaled frames: the boat reconnected to the new one.
  const size_t first_run = lplex::testing::FramesInFiles(cloud_frames, first_run_files);
  const size_t second_run = cloud_frames.size() - first_run;
  std::printf("cloud: %zu file(s) (%zu live, %zu backfill), %zu frame(s) (%zu first run, %zu later); boat: %zu "
              "frame(s), head %llu\n",
              files.size(), live, backfill, cloud_frames.size(), first_run, second_run, boat_frames.size(),
              static_cast<unsigned long long>(boat_head));
  std::printf("%s", lplex::testing::FileTable(cloud_frames).c_str());
  EXPECT_GT(first_run, 0u);
  EXPECT_GT(second_run, 0u) << second_log;
}

}  // namespace
}  // namespace lplex::cloud_app
