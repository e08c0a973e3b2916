// lplex-server as a child process, stopped by SIGTERM at a random moment and
// restarted: every journal file reaches the archive byte for byte, none is
// left unarchived, and seq goes on across the restart without reuse or gap.
// Labelled `slow` (apps/lplex-server/server_test_labels.cmake).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "journal/archived_marker.h"
#include "server_test_support.h"
#include "support/moto_server.h"
#include "support/temp_dir.h"

namespace lplex::testing {
namespace {

using ::testing::HasSubstr;
using std::chrono::milliseconds;
using std::chrono::seconds;

// Random run lengths; the seed is printed so a failure can be replayed.
class RunLengths {
 public:
  RunLengths() : seed_(std::random_device{}()), rng_(seed_) {}
  milliseconds Next() { return milliseconds(std::uniform_int_distribution<int>(1200, 3500)(rng_)); }
  unsigned seed() const { return seed_; }

 private:
  unsigned seed_;
  std::mt19937 rng_;
};

// One run: start, wait until ready, let it record for `run`, SIGTERM, wait
// for exit 0. Returns the log.
std::string RunUntilSigterm(const std::vector<std::string>& args, const TempDir& dir, int n, milliseconds run) {
  ChildServer child;
  const std::string log = dir.Sub("run" + std::to_string(n) + ".log");
  EXPECT_TRUE(child.Start(args, log, dir.Sub("run" + std::to_string(n) + ".out")));
  EXPECT_TRUE(child.WaitForLog("lplex-server: ready", seconds(20))) << child.Log();
  EXPECT_GT(PortFromLog(child.Log()), 0) << child.Log();
  std::this_thread::sleep_for(run);
  child.Signal(SIGTERM);
  EXPECT_EQ(child.Wait(seconds(60)), 0) << child.Log();
  return child.Log();
}

// The seq this run started from, from "journal: seq continues at N" / "seq starts at N".
uint64_t FirstSeqFromLog(const std::string& log) {
  std::smatch m;
  static const std::regex re("seq (?:continues|starts) at ([0-9]+)");
  return std::regex_search(log, m, re) ? std::stoull(m[1]) : 0;
}

void ExpectSeqContinuous(const std::string& journal, uint64_t second_first_seq) {
  std::string error;
  const auto frames = ReadJournalDir(journal, &error);
  EXPECT_TRUE(error.empty()) << error;
  ASSERT_FALSE(frames.empty());
  uint64_t last_of_first_run = 0;
  for (size_t i = 0; i < frames.size(); ++i) {
    ASSERT_EQ(frames[i].seq, i + 1) << "seq reused or skipped at frame " << i << " in " << frames[i].file;
    if (frames[i].seq < second_first_seq) last_of_first_run = frames[i].seq;
  }
  // The restart's first seq is the first run's last + 1.
  EXPECT_EQ(second_first_seq, last_of_first_run + 1);
  EXPECT_GT(frames.size(), second_first_seq);  // the second run recorded too
}

TEST(ServerEndToEnd, SigtermFinalizesJournalAndArchivesEveryFile) {
  TempDir dir;
  RunLengths lengths;
  SCOPED_TRACE("run-length seed " + std::to_string(lengths.seed()));
  const std::string journal = dir.Sub("journal");
  const std::string archive = dir.Sub("archive");
  const std::vector<std::string> args = {"-source",
                                         "sim:",
                                         "-port",
                                         "0",
                                         "-journal-dir",
                                         journal,
                                         "-journal-rotate-duration",
                                         "PT1S",
                                         "-journal-archive-target",
                                         "file://" + archive,
                                         "-journal-archive-trigger",
                                         "on-rotate"};
  const std::string log1 = RunUntilSigterm(args, dir, 1, lengths.Next());
  EXPECT_EQ(FirstSeqFromLog(log1), 1u) << log1;
  EXPECT_THAT(log1, HasSubstr("shutdown: finalized the journal"));
  EXPECT_THAT(log1, HasSubstr("shutdown: keeper drained"));
  const std::string log2 = RunUntilSigterm(args, dir, 2, lengths.Next());
  const uint64_t second_first = FirstSeqFromLog(log2);
  ASSERT_GT(second_first, 1u) << log2;

  const auto files = JournalFiles(journal);
  ASSERT_GE(files.size(), 2u);
  for (const auto& f : files) {
    const std::string name = std::filesystem::path(f).filename().string();
    EXPECT_TRUE(std::filesystem::exists(journal::ArchivedMarkerPath(f))) << name << " left unarchived\n" << log2;
    const std::string copy = archive + "/" + name;
    ASSERT_TRUE(std::filesystem::exists(copy)) << name << " missing from the archive";
    EXPECT_EQ(FileText(copy), FileText(f)) << name << " differs in the archive";
  }
  ExpectSeqContinuous(journal, second_first);
}

TEST(ServerEndToEnd, SigtermArchivesEveryFileToS3ByteIdentical) {
  std::string why;
  if (!MotoServer::Available(&why)) GTEST_SKIP() << why;
  if (std::system("aws --version >/dev/null 2>&1") != 0) GTEST_SKIP() << "the AWS CLI (awscli) is not installed";
  MotoServer moto;
  MotoServer::Options mo;
  mo.buckets = {"boat-archive"};
  ASSERT_TRUE(moto.Start(mo, &why)) << why;
  ::setenv("AWS_ACCESS_KEY_ID", moto.access_key_id().c_str(), 1);
  ::setenv("AWS_SECRET_ACCESS_KEY", moto.secret_access_key().c_str(), 1);
  ::setenv("AWS_REGION", "us-east-1", 1);

  TempDir dir;
  RunLengths lengths;
  SCOPED_TRACE("run-length seed " + std::to_string(lengths.seed()));
  const std::string journal = dir.Sub("journal");
  const std::vector<std::string> args = {"-source", "sim:", "-port", "0", "-journal-dir", journal,
                                         "-journal-rotate-duration", "PT1S", "-journal-archive-target",
                                         "s3://boat-archive/lplex/", "-journal-archive-s3-endpoint", moto.endpoint()};
  RunUntilSigterm(args, dir, 1, lengths.Next());
  const std::string log2 = RunUntilSigterm(args, dir, 2, lengths.Next());
  const uint64_t second_first = FirstSeqFromLog(log2);
  ASSERT_GT(second_first, 1u) << log2;

  const auto files = JournalFiles(journal);
  ASSERT_GE(files.size(), 2u);
  for (const auto& f : files) {
    const std::string name = std::filesystem::path(f).filename().string();
    EXPECT_TRUE(std::filesystem::exists(journal::ArchivedMarkerPath(f))) << name << " left unarchived";
    // Read the object back with the real AWS CLI (signed GET).
    const std::string copy = dir.Sub("s3-" + name);
    const std::string cmd = "aws --endpoint-url " + moto.endpoint() +
                            " s3api get-object --bucket boat-archive --key 'lplex/" + name + "' '" + copy +
                            "' >/dev/null 2>&1";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << name << " missing from S3";
    EXPECT_EQ(FileText(copy), FileText(f)) << name << " differs in S3";
  }
  ExpectSeqContinuous(journal, second_first);
}

// Shutdown waits for the keeper to archive the last file; an operator who
// presses Ctrl-C again does not wait for a slow archive.
TEST(ServerEndToEnd, SecondSignalDuringShutdownExitsAtOnce) {
  TempDir dir;
  const std::string script = dir.Sub("slow-archive.sh");
  {
    // Records its pid so the test can end exactly this process afterwards.
    std::ofstream(script) << "#!/bin/sh\necho $$ > '" << dir.Sub("script.pid") << "'\nexec sleep 20\n";
  }
  std::filesystem::permissions(script, std::filesystem::perms::owner_all);
  ChildServer child;
  ASSERT_TRUE(child.Start({"-source", "sim:", "-port", "0", "-journal-dir", dir.Sub("journal"),
                           "-journal-archive-command", script, "-journal-archive-trigger", "on-rotate"},
                          dir.Sub("log"), dir.Sub("out")));
  ASSERT_TRUE(child.WaitForLog("lplex-server: ready", seconds(20))) << child.Log();
  std::this_thread::sleep_for(milliseconds(1500));
  child.Signal(SIGTERM);
  ASSERT_TRUE(child.WaitForLog("shutdown: finalized the journal", seconds(20))) << child.Log();
  std::this_thread::sleep_for(milliseconds(300));  // the keeper is now waiting for the script
  const auto t0 = std::chrono::steady_clock::now();
  child.Signal(SIGTERM);
  EXPECT_EQ(child.Wait(seconds(5)), 130) << child.Log();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, seconds(3));
  EXPECT_THAT(child.Log(), HasSubstr("second SIGTERM"));
  child.Kill();
  // The script runs in its own process group; do not leave it behind.
  const std::string pid = FileText(dir.Sub("script.pid"));
  if (!pid.empty()) ::kill(static_cast<pid_t>(std::stol(pid)), SIGKILL);
}

}  // namespace
}  // namespace lplex::testing
