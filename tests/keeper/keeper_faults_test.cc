// Fault tests of the keeper with real targets: whatever goes wrong, no file
// is lost and none is deleted against policy.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "core/log.h"
#include "core/time.h"
#include "keeper/archiver_factory.h"
#include "keeper/keeper.h"
#include "support/moto_server.h"
#include "support/pipeline_recorder.h"
#include "support/temp_dir.h"

namespace lplex::keeper {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using lplex::testing::MotoServer;
using lplex::testing::TempDir;

const int64_t kNow = *timefmt::ParseRfc3339("2026-03-10T12:00:00Z");
constexpr int64_t kHour = 3600LL * 1'000'000;

std::string MakeFile(const std::string& dir, int64_t created, size_t size) {
  fs::create_directories(dir);
  std::string path = dir + "/nmea2k-" + timefmt::FileStamp(created) + ".lpj";
  std::ofstream(path, std::ios::binary) << std::string(size, 'x');
  return path;
}

size_t Count(const std::string& dir, const std::string& ext) {
  size_t n = 0;
  for (const auto& e : fs::directory_iterator(dir)) n += e.path().extension() == ext;
  return n;
}

// Delegates to an archiver that a test can swap (credentials fixed, say).
class SwappableArchiver final : public Archiver {
 public:
  std::vector<ArchiveOutcome> Archive(const std::vector<ArchiveItem>& b, Deadline d) override {
    std::lock_guard<std::mutex> lock(mu_);
    return inner_->Archive(b, d);
  }
  std::string Describe() const override { return inner_->Describe(); }
  void Set(std::unique_ptr<Archiver> a) {
    std::lock_guard<std::mutex> lock(mu_);
    inner_ = std::move(a);
  }

 private:
  std::mutex mu_;
  std::unique_ptr<Archiver> inner_;
};

// `clock`: the keeper's (its deadlines are on that clock's time line).
ArchiverConfig S3Config(const MotoServer& moto, const std::string& secret, Clock* clock) {
  ArchiverConfig c;
  c.clock = clock;
  c.target = "s3://journals/boats/";
  c.s3.endpoint = moto.endpoint();
  c.s3.region = moto.region();
  c.s3.access_key_id = moto.access_key_id();
  c.s3.secret_access_key = secret;
  return c;
}

// Wrong credentials: a clear error naming the bucket and the status, the
// files are retried, and under pause-recording nothing is deleted; once the
// credentials are right, everything is archived and recording resumes.
TEST(KeeperFaults, WrongS3CredentialsRetriedNothingDeletedUnderPauseRecording) {
  std::string why;
  if (!MotoServer::Available(&why)) GTEST_SKIP() << why;
  MotoServer moto;
  MotoServer::Options mo;
  mo.iam_auth = true;
  mo.buckets = {"journals"};
  ASSERT_TRUE(moto.Start(mo, &why)) << why;

  TempDir dir;
  const std::string j = dir.Sub("journal");
  std::vector<std::string> files;
  for (int i = 3; i >= 1; --i) files.push_back(MakeFile(j, kNow - i * kHour, 500));
  FakeClock clock(kNow);
  auto swappable = std::make_shared<SwappableArchiver>();
  auto bad = MakeArchiver(S3Config(moto, "not-the-secret", &clock));
  ASSERT_TRUE(bad.ok()) << bad.status().ToString();
  swappable->Set(std::move(bad).value());

  std::vector<bool> pauses;
  KeeperOptions o;
  o.dirs = {{j, "boat-1"}};
  o.trigger = ArchiveTrigger::kOnRotate;
  o.archiver = swappable;
  o.retention.max_size = 1000;
  o.retention.soft_pct = 0;
  o.retention.overflow = OverflowPolicy::kPauseRecording;
  o.clock = &clock;
  o.on_pause_change = [&](const KeeperDir&, bool p) { pauses.push_back(p); };
  RecordingLogger log;
  o.log = &log;
  Keeper k(o);
  k.ScanAll();
  k.SweepUnarchived();
  k.ScanAll();
  k.RetryPending();
  EXPECT_TRUE(log.Contains(LogLevel::kWarn, "[boat-1] keeper: archiving " + files[0] + " to s3://journals/"))
      << log.Text();
  EXPECT_TRUE(log.Contains(LogLevel::kWarn, "403")) << log.Text();
  for (const auto& f : files) {
    EXPECT_TRUE(fs::exists(f)) << f << " deleted although it was never archived";
    EXPECT_FALSE(fs::exists(f + ".archived"));
  }
  EXPECT_EQ(k.pending_count(), 3u);
  EXPECT_EQ(pauses, std::vector<bool>{true});

  auto good = MakeArchiver(S3Config(moto, moto.secret_access_key(), &clock));
  ASSERT_TRUE(good.ok());
  swappable->Set(std::move(good).value());
  k.RetryPending();
  EXPECT_EQ(k.pending_count(), 0u);
  for (const auto& f : files) EXPECT_TRUE(fs::exists(f + ".archived")) << f;
  k.ScanAll();  // now archived: the oldest can go, and recording resumes
  EXPECT_FALSE(fs::exists(files[0]));
  EXPECT_EQ(pauses, (std::vector<bool>{true, false}));
}

// The keeper is SIGKILLed while an upload is under way: no marker appears for
// it, and once the keeper is back every file is archived.
TEST(KeeperFaults, SigkilledDuringUploadArchivedAfterRestart) {
  ASSERT_TRUE(fs::exists(lplex::testing::kPipelineRecorder));
  TempDir dir;
  const std::string journal = dir.Sub("journal");
  const std::string flag = dir.Sub("upload-started");
  const std::string script = dir.Sub("slow-upload.sh");
  {
    std::ofstream s(script);
    s << "#!/bin/sh\necho $$ > " << flag << "\nsleep 30\nfor f in \"$@\"; do echo '{\"status\":\"ok\"}'; done\n";
  }
  fs::permissions(script, fs::perms::owner_all);

  pid_t pid = lplex::testing::SpawnRecorder(journal, "cmd:" + script);
  for (int i = 0; i < 1000 && !fs::exists(flag); ++i) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(fs::exists(flag)) << "no upload started";
  std::this_thread::sleep_for(100ms);
  kill(pid, SIGKILL);
  waitpid(pid, nullptr, 0);
  const pid_t script_pid = std::stoi(lplex::testing::ReadWholeFile(flag));
  kill(-script_pid, SIGKILL);  // the upload's process group outlives the keeper
  kill(script_pid, SIGKILL);
  EXPECT_EQ(Count(journal, ".archived"), 0u) << "a marker appeared without a successful upload";

  pid = lplex::testing::SpawnRecorder(journal, dir.Sub("archive"));
  std::this_thread::sleep_for(2s);
  kill(pid, SIGTERM);
  int status = 0;
  waitpid(pid, &status, 0);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(journal)) {
    if (e.path().extension() != ".lpj") continue;
    ++files;
    EXPECT_TRUE(fs::exists(e.path().string() + ".archived")) << e.path();
    EXPECT_EQ(lplex::testing::ReadWholeFile(dir.Sub("archive") + "/boat-1/" + e.path().filename().string()), lplex::testing::ReadWholeFile(e.path().string()))
        << e.path();
  }
  EXPECT_GE(files, 2u);
}

}  // namespace
}  // namespace lplex::keeper
