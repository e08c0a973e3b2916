// Keeper and retention policy: the reference's keeper tests (spec/journal.md
// §8, 43–101 but the script-protocol ones, which live with ScriptArchiver)
// with the same expectations, and tests for each place we do better.
#include "keeper/keeper.h"
#include "keeper/open_files.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "can/frame.h"
#include "core/log.h"
#include "core/time.h"
#include "journal/writer.h"
#include "keeper/directory_archiver.h"
#include "support/forwarding_file_system.h"
#include "support/temp_dir.h"

namespace lplex::keeper {
namespace {

namespace fs = std::filesystem;
using lplex::testing::TempDir;
using namespace std::chrono_literals;

constexpr int64_t kDay = 86400LL * 1'000'000;
constexpr int64_t kHour = 3600LL * 1'000'000;
const int64_t kNow = *timefmt::ParseRfc3339("2026-03-10T12:00:00Z");

// An archiver that answers from a function and records every batch.
class FakeArchiver final : public Archiver {
 public:
  std::vector<ArchiveOutcome> Archive(const std::vector<ArchiveItem>& batch, Deadline) override {
    std::lock_guard<std::mutex> lock(mu_);
    batches_.push_back(batch);
    std::vector<ArchiveOutcome> out;
    for (const auto& item : batch) out.push_back(fail_ ? ArchiveOutcome{false, fail_message_} : answer(item));
    return out;
  }
  std::string Describe() const override { return "fake"; }

  void set_fail(bool f, std::string message = "boom") {
    std::lock_guard<std::mutex> lock(mu_);
    fail_ = f;
    fail_message_ = std::move(message);
  }
  std::vector<std::vector<ArchiveItem>> batches() {
    std::lock_guard<std::mutex> lock(mu_);
    return batches_;
  }
  size_t archived_count() {
    std::lock_guard<std::mutex> lock(mu_);
    size_t n = 0;
    for (const auto& b : batches_) n += b.size();
    return n;
  }
  std::function<ArchiveOutcome(const ArchiveItem&)> answer = [](const ArchiveItem&) { return ArchiveOutcome{true, ""}; };

 private:
  std::mutex mu_;
  bool fail_ = false;
  std::string fail_message_ = "boom";
  std::vector<std::vector<ArchiveItem>> batches_;
};

class KeeperTest : public ::testing::Test {
 protected:
  // Options() sends the keeper's lines nowhere; this silences the tests that
  // build their KeeperOptions themselves.
  static void SetUpTestSuite() {
    saved_level_ = DefaultLogLevel();
    SetDefaultLogLevel(LogLevel::kOff);
  }
  static void TearDownTestSuite() { SetDefaultLogLevel(saved_level_); }
  static inline LogLevel saved_level_ = LogLevel::kInfo;

  // A zero-filled journal file named after `created`.
  std::string MakeFile(const std::string& dir, int64_t created, uint64_t size = 100) {
    fs::create_directories(dir);
    std::string path = dir + "/nmea2k-" + timefmt::FileStamp(created) + ".lpj";
    std::ofstream(path, std::ios::binary) << std::string(size, '\0');
    return path;
  }
  static bool Marked(const std::string& p) { return fs::exists(p + ".archived"); }
  static void Mark(const std::string& p) { std::ofstream(p + ".archived"); }
  static size_t CountLpj(const std::string& dir) {
    size_t n = 0;
    if (!fs::exists(dir)) return 0;
    for (const auto& e : fs::directory_iterator(dir)) n += e.path().extension() == ".lpj";
    return n;
  }
  static size_t CountMarkers(const std::string& dir) {
    size_t n = 0;
    for (const auto& e : fs::directory_iterator(dir)) n += e.path().extension() == ".archived";
    return n;
  }

  KeeperOptions Options(ArchiveTrigger trigger = ArchiveTrigger::kDisabled, bool with_archiver = true) {
    KeeperOptions o;
    o.dirs = {{dir_.Sub("j"), "boat-1"}};
    o.trigger = trigger;
    if (with_archiver) o.archiver = archiver_;
    o.retention.soft_pct = 0;  // the reference keeper's own default; tests opt in
    o.clock = &clock_;
    o.on_pause_change = [this](const KeeperDir&, bool p) { pauses_.push_back(p); };
    o.log = Logger::Discard();
    return o;
  }

  std::string J() const { return dir_.Sub("j"); }

  TempDir dir_;
  FakeClock clock_{kNow};
  std::shared_ptr<FakeArchiver> archiver_ = std::make_shared<FakeArchiver>();
  std::vector<bool> pauses_;
};

// 43
TEST(KeeperConfig, ParseArchiveTrigger) {
  EXPECT_EQ(*ParseArchiveTrigger(""), ArchiveTrigger::kDisabled);
  EXPECT_EQ(*ParseArchiveTrigger("disabled"), ArchiveTrigger::kDisabled);
  EXPECT_EQ(*ParseArchiveTrigger("on-rotate"), ArchiveTrigger::kOnRotate);
  EXPECT_EQ(*ParseArchiveTrigger("before-expire"), ArchiveTrigger::kBeforeExpire);
  auto bad = ParseArchiveTrigger("yolo");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("yolo"), std::string::npos);
  EXPECT_EQ(ArchiveTriggerName(ArchiveTrigger::kBeforeExpire), "before-expire");
}

// 85, 86
TEST(KeeperConfig, ParseOverflowPolicy) {
  EXPECT_EQ(*ParseOverflowPolicy(""), OverflowPolicy::kDeleteUnarchived);
  EXPECT_EQ(*ParseOverflowPolicy("delete-unarchived"), OverflowPolicy::kDeleteUnarchived);
  EXPECT_EQ(*ParseOverflowPolicy("pause-recording"), OverflowPolicy::kPauseRecording);
  EXPECT_FALSE(ParseOverflowPolicy("yolo").ok());
  EXPECT_EQ(OverflowPolicyName(OverflowPolicy::kDeleteUnarchived), "delete-unarchived");
  EXPECT_EQ(OverflowPolicyName(OverflowPolicy::kPauseRecording), "pause-recording");
}

// 44
TEST_F(KeeperTest, MarkerFileNextToJournal) {
  auto p = MakeFile(J(), kNow - kDay);
  EXPECT_EQ(Keeper::MarkerPath(p), p + ".archived");
  Keeper k(Options(ArchiveTrigger::kOnRotate));
  k.HandleRotation({p, "boat-1"});
  EXPECT_TRUE(Marked(p));
  EXPECT_EQ(fs::file_size(p + ".archived"), 0u);
}

// 45
TEST_F(KeeperTest, RetentionMaxAge) {
  MakeFile(J(), kNow - 10 * kDay);
  MakeFile(J(), kNow - 5 * kDay);
  MakeFile(J(), kNow - 1 * kDay);
  auto o = Options();
  o.retention.max_age_us = 7 * kDay;
  Keeper(o).ScanAll();
  EXPECT_EQ(CountLpj(J()), 2u);
}

// 46
TEST_F(KeeperTest, RetentionMaxAgeAllYoung) {
  MakeFile(J(), kNow - 2 * kHour);
  MakeFile(J(), kNow - 1 * kHour);
  auto o = Options();
  o.retention.max_age_us = 24 * kHour;
  Keeper(o).ScanAll();
  EXPECT_EQ(CountLpj(J()), 2u);
}

// 47
TEST_F(KeeperTest, RetentionMinKeepProtectsYoungerFiles) {
  auto old = MakeFile(J(), kNow - 10 * kDay);
  MakeFile(J(), kNow - 3 * kDay);
  MakeFile(J(), kNow - 1 * kDay);
  auto o = Options();
  o.retention.max_age_us = 2 * kDay;
  o.retention.min_keep_us = 5 * kDay;
  Keeper(o).ScanAll();
  EXPECT_FALSE(fs::exists(old));
  EXPECT_EQ(CountLpj(J()), 2u);
}

// 48
TEST_F(KeeperTest, RetentionMaxSizeOverridesMinKeep) {
  for (int i = 3; i >= 1; --i) MakeFile(J(), kNow - i * kHour, 500);
  auto o = Options();
  o.retention.max_size = 1000;
  o.retention.min_keep_us = 10 * kDay;
  Keeper(o).ScanAll();
  EXPECT_EQ(CountLpj(J()), 2u);
}

// 49
TEST_F(KeeperTest, RetentionMaxSizeDeletesSeveralInOnePass) {
  for (int i = 5; i >= 1; --i) MakeFile(J(), kNow - i * kHour, 300);
  auto o = Options();
  o.retention.max_size = 600;
  Keeper(o).ScanAll();
  EXPECT_EQ(CountLpj(J()), 2u);
}

// 50
TEST_F(KeeperTest, RetentionMaxSizeOnly) {
  MakeFile(J(), kNow - 2 * kHour, 700);
  MakeFile(J(), kNow - 1 * kHour, 700);
  auto o = Options();
  o.retention.max_size = 1000;
  Keeper(o).ScanAll();
  EXPECT_EQ(CountLpj(J()), 1u);
}

// 51
TEST_F(KeeperTest, RetentionDeletesArchivedFileAndMarker) {
  auto p = MakeFile(J(), kNow - 10 * kDay);
  Mark(p);
  auto o = Options(ArchiveTrigger::kBeforeExpire);
  o.retention.max_age_us = 7 * kDay;
  Keeper(o).ScanAll();
  EXPECT_FALSE(fs::exists(p));
  EXPECT_FALSE(fs::exists(p + ".archived"));
}

// 52
TEST_F(KeeperTest, RetentionNoConfigKeepsEverything) {
  MakeFile(J(), kNow - 100 * kDay);
  Keeper(Options()).ScanAll();
  EXPECT_EQ(CountLpj(J()), 1u);
}

// 53, 54
TEST_F(KeeperTest, RetentionEmptyAndMissingDirectories) {
  fs::create_directories(J());
  auto o = Options();
  o.retention.max_age_us = kDay;
  o.dirs.push_back({dir_.Sub("does-not-exist"), ""});
  Keeper k(o);
  k.ScanAll();
  EXPECT_EQ(k.stats().deleted, 0u);
}

// 55
TEST_F(KeeperTest, RetentionIgnoresNonJournalFiles) {
  auto p = MakeFile(J(), kNow - 10 * kDay);
  std::ofstream(J() + "/state.json") << "{}";
  std::ofstream(J() + "/notes.txt") << "x";
  auto o = Options();
  o.retention.max_age_us = 7 * kDay;
  Keeper(o).ScanAll();
  EXPECT_FALSE(fs::exists(p));
  EXPECT_TRUE(fs::exists(J() + "/state.json"));
  EXPECT_TRUE(fs::exists(J() + "/notes.txt"));
}

// 56
TEST_F(KeeperTest, RetentionPerDirectoryAge) {
  const std::string d1 = dir_.Sub("d1"), d2 = dir_.Sub("d2");
  MakeFile(d1, kNow - 10 * kDay);
  MakeFile(d1, kNow - 1 * kDay);
  MakeFile(d2, kNow - 10 * kDay);
  auto o = Options();
  o.dirs = {{d1, "a"}, {d2, "b"}};
  o.retention.max_age_us = 7 * kDay;
  Keeper(o).ScanAll();
  EXPECT_EQ(CountLpj(d1), 1u);
  EXPECT_EQ(CountLpj(d2), 0u);
}

// 57
TEST_F(KeeperTest, RetentionMaxSizeIsPerDirectory) {
  const std::string d1 = dir_.Sub("d1"), d2 = dir_.Sub("d2");
  for (int i = 3; i >= 1; --i) MakeFile(d1, kNow - i * kHour, 400);
  for (int i = 2; i >= 1; --i) MakeFile(d2, kNow - i * kHour, 300);
  auto o = Options();
  o.dirs = {{d1, "a"}, {d2, "b"}};
  o.retention.max_size = 1000;
  Keeper(o).ScanAll();
  EXPECT_EQ(CountLpj(d1), 2u);
  EXPECT_EQ(CountLpj(d2), 2u);
}

// 58
TEST_F(KeeperTest, DirFuncListedOnEveryScan) {
  int calls = 0;
  auto o = Options();
  o.dirs.clear();
  o.dir_func = [&] {
    ++calls;
    return std::vector<KeeperDir>{{J(), "x"}};
  };
  o.retention.max_age_us = 7 * kDay;
  MakeFile(J(), kNow - 10 * kDay);
  Keeper k(o);
  k.ScanAll();
  EXPECT_EQ(CountLpj(J()), 0u);
  k.ScanAll();
  EXPECT_EQ(calls, 2);
}

// 59
TEST_F(KeeperTest, BeforeExpireArchivesThenDeletes) {
  auto p = MakeFile(J(), kNow - 10 * kDay);
  auto o = Options(ArchiveTrigger::kBeforeExpire);
  o.retention.max_age_us = 7 * kDay;
  Keeper k(o);
  k.ScanAll();
  EXPECT_TRUE(fs::exists(p));
  EXPECT_TRUE(Marked(p));
  k.ScanAll();
  EXPECT_FALSE(fs::exists(p));
  EXPECT_FALSE(Marked(p));
}

// 60
TEST_F(KeeperTest, BeforeExpireMultipleFilesYoungOneStays) {
  auto a = MakeFile(J(), kNow - 10 * kDay);
  auto b = MakeFile(J(), kNow - 9 * kDay);
  auto young = MakeFile(J(), kNow - 1 * kDay);
  auto o = Options(ArchiveTrigger::kBeforeExpire);
  o.retention.max_age_us = 7 * kDay;
  Keeper k(o);
  k.ScanAll();
  EXPECT_TRUE(Marked(a) && Marked(b));
  EXPECT_FALSE(Marked(young));
  k.ScanAll();
  EXPECT_FALSE(fs::exists(a));
  EXPECT_FALSE(fs::exists(b));
  EXPECT_TRUE(fs::exists(young));
}

// 61, 62, 63
TEST_F(KeeperTest, HandleRotationArchivesOnlyWithOnRotate) {
  auto p = MakeFile(J(), kNow - kHour);
  Keeper(Options(ArchiveTrigger::kBeforeExpire)).HandleRotation({p, ""});
  EXPECT_FALSE(Marked(p));
  Keeper(Options(ArchiveTrigger::kDisabled)).HandleRotation({p, ""});
  EXPECT_FALSE(Marked(p));
  Keeper(Options(ArchiveTrigger::kOnRotate)).HandleRotation({p, "boat-7"});
  EXPECT_TRUE(Marked(p));
  ASSERT_EQ(archiver_->batches().size(), 1u);
  EXPECT_EQ(archiver_->batches()[0][0].instance_id, "boat-7");
}

// 64
TEST_F(KeeperTest, OnRotateScanCatchesMissedExpiredFile) {
  auto p = MakeFile(J(), kNow - 10 * kDay);
  auto o = Options(ArchiveTrigger::kOnRotate);
  o.retention.max_age_us = 7 * kDay;
  Keeper k(o);
  k.ScanAll();
  EXPECT_TRUE(Marked(p));
  EXPECT_TRUE(fs::exists(p));
  k.ScanAll();
  EXPECT_FALSE(fs::exists(p));
}

// 65
TEST_F(KeeperTest, ArchiveFailureQueuesRetry) {
  auto p = MakeFile(J(), kNow - kHour);
  archiver_->set_fail(true);
  Keeper k(Options(ArchiveTrigger::kOnRotate));
  k.HandleRotation({p, ""});
  EXPECT_EQ(k.pending_count(), 1u);
  EXPECT_FALSE(Marked(p));
}

// 66
TEST_F(KeeperTest, RetrySucceedsAfterInitialFailure) {
  auto p = MakeFile(J(), kNow - kHour);
  archiver_->set_fail(true);
  Keeper k(Options(ArchiveTrigger::kOnRotate));
  k.HandleRotation({p, ""});
  archiver_->set_fail(false);
  k.RetryPending();
  EXPECT_EQ(k.pending_count(), 0u);
  EXPECT_TRUE(Marked(p));
}

// 67
TEST_F(KeeperTest, RetryBackoffDoublesUpToMax) {
  auto p = MakeFile(J(), kNow - kHour);
  archiver_->set_fail(true);
  Keeper k(Options(ArchiveTrigger::kOnRotate));
  k.HandleRotation({p, ""});
  std::vector<int64_t> minutes;
  for (int i = 0; i < 9; ++i) {
    k.RetryPending();
    minutes.push_back(std::chrono::duration_cast<std::chrono::minutes>(k.backoff()).count());
  }
  EXPECT_EQ(minutes, (std::vector<int64_t>{1, 2, 4, 8, 16, 32, 60, 60, 60}));
}

// 68
TEST_F(KeeperTest, RetryBackoffResetsOnSuccess) {
  auto p = MakeFile(J(), kNow - kHour);
  archiver_->set_fail(true);
  Keeper k(Options(ArchiveTrigger::kOnRotate));
  k.HandleRotation({p, ""});
  k.RetryPending();
  k.RetryPending();
  k.RetryPending();
  EXPECT_EQ(k.backoff(), 4min);
  archiver_->set_fail(false);
  k.RetryPending();
  EXPECT_EQ(k.backoff(), 0ms);
}

// 69
TEST_F(KeeperTest, RetryDropsDeletedFiles) {
  auto p = MakeFile(J(), kNow - kHour);
  archiver_->set_fail(true);
  Keeper k(Options(ArchiveTrigger::kOnRotate));
  k.HandleRotation({p, ""});
  k.RetryPending();
  fs::remove(p);
  k.RetryPending();
  EXPECT_EQ(k.pending_count(), 0u);
  EXPECT_EQ(k.backoff(), 0ms);
}

// 70
TEST_F(KeeperTest, PartialSuccessMarksOnlyTheGoodOnes) {
  auto a = MakeFile(J(), kNow - 3 * kHour);
  auto b = MakeFile(J(), kNow - 2 * kHour);
  auto c = MakeFile(J(), kNow - 1 * kHour);
  archiver_->answer = [&](const ArchiveItem& i) { return ArchiveOutcome{i.path != b, i.path == b ? "nope" : ""}; };
  Keeper k(Options(ArchiveTrigger::kOnRotate));
  k.SweepUnarchived();
  EXPECT_TRUE(Marked(a));
  EXPECT_FALSE(Marked(b));
  EXPECT_TRUE(Marked(c));
  EXPECT_EQ(k.pending_paths(), std::vector<std::string>{b});
}

// 73
TEST_F(KeeperTest, RunAndSendArchivesPromptly) {
  auto o = Options(ArchiveTrigger::kOnRotate);
  Keeper k(o);
  k.Start();
  ASSERT_TRUE(clock_.AwaitBlocks(1));  // startup scan and sweep done
  auto p = MakeFile(J(), kNow - kHour);
  const uint64_t idle = clock_.blocks();
  ASSERT_TRUE(k.Send({p, "boat-1"}));
  ASSERT_TRUE(clock_.AwaitBlocks(idle + 1));  // handled, waiting again
  EXPECT_TRUE(Marked(p)) << "archived without any time passing";
  EXPECT_EQ(clock_.MonotonicMicros(), 0);
  k.Stop();
}

// 74
TEST_F(KeeperTest, StartupScanWithBeforeExpireArchivesOnlyExpired) {
  auto old = MakeFile(J(), kNow - 10 * kDay);
  MakeFile(J(), kNow - 1 * kDay);
  auto o = Options(ArchiveTrigger::kBeforeExpire);
  o.retention.max_age_us = 7 * kDay;
  Keeper k(o);
  k.Start();
  ASSERT_TRUE(clock_.AwaitBlocks(1));  // the startup scan is done
  EXPECT_TRUE(Marked(old));
  EXPECT_EQ(CountMarkers(J()), 1u);
  k.Stop();
}

// 78: writer → Send → keeper → archive; an old file is archived or deleted.
TEST_F(KeeperTest, FullPipelineWriterToKeeperToArchive) {
  auto stale = MakeFile(J(), kNow - 10 * kDay);
  auto o = Options(ArchiveTrigger::kOnRotate);
  o.retention.max_age_us = 7 * kDay;
  Keeper k(o);
  k.Start();
  journal::WriterOptions wo;
  wo.dir = J();
  wo.block_size = 4096;
  wo.compression = journal::Compression::kNone;
  wo.rotate_count = 2;
  wo.on_rotate = [&](const journal::RotatedFile& f) { k.Send({f.path, "boat-1"}); };
  auto w = journal::JournalWriter::Create(wo);
  std::vector<uint8_t> big(2000, 7);
  for (int i = 0; i < 6; ++i) {
    ASSERT_TRUE((*w)->Append(can::Frame{.timestamp_us = kNow + i * 1000, .header = {2, 129029, 1, 255}, .data = big}).ok());
  }
  ASSERT_TRUE((*w)->Close().ok());
  k.Stop();  // archives what the thread has not yet (Stop drains the queue)
  size_t written_marked = 0;
  for (const auto& e : fs::directory_iterator(J())) {
    if (e.path().extension() == ".lpj" && e.path().string() != stale) written_marked += Marked(e.path().string());
  }
  EXPECT_GE(written_marked, 2u);
  EXPECT_TRUE(!fs::exists(stale) || Marked(stale));
}

// 79
TEST_F(KeeperTest, BeforeExpireWithMaxSizeArchivesOnlyOverflow) {
  auto p1 = MakeFile(J(), kNow - 3 * kHour, 400);
  auto p2 = MakeFile(J(), kNow - 2 * kHour, 400);
  MakeFile(J(), kNow - 1 * kHour, 400);
  auto o = Options(ArchiveTrigger::kBeforeExpire);
  o.retention.max_size = 800;
  Keeper k(o);
  k.ScanAll();
  EXPECT_TRUE(Marked(p1));
  EXPECT_FALSE(Marked(p2));
  k.ScanAll();
  EXPECT_FALSE(fs::exists(p1));
  EXPECT_FALSE(Marked(p2));
  EXPECT_TRUE(fs::exists(p2));
}

// 83
TEST_F(KeeperTest, NoDuplicatePendingFiles) {
  auto p = MakeFile(J(), kNow - kHour);
  archiver_->set_fail(true);
  Keeper k(Options(ArchiveTrigger::kOnRotate));
  k.HandleRotation({p, ""});
  k.HandleRotation({p, ""});
  EXPECT_EQ(k.pending_count(), 1u);
}

// 84
TEST_F(KeeperTest, ConcurrentSendNoRaceNoDeadlock) {
  auto o = Options(ArchiveTrigger::kOnRotate);
  Keeper k(o);
  k.Start();
  auto p = MakeFile(J(), kNow - kHour);
  std::vector<std::thread> threads;
  for (int t = 0; t < 10; ++t) {
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i) k.Send({p, ""});
    });
  }
  for (auto& t : threads) t.join();
  k.Stop();
  EXPECT_TRUE(Marked(p));
}

// 87: soft_pct is taken as given (0 means no soft zone; 50 means half).
TEST_F(KeeperTest, SoftPctTakenAsGiven) {
  for (int i = 5; i >= 1; --i) MakeFile(J(), kNow - i * kHour, 300);
  auto o = Options(ArchiveTrigger::kBeforeExpire);
  o.retention.max_size = 2000;
  o.retention.soft_pct = 0;
  Keeper(o).ScanAll();
  EXPECT_EQ(CountMarkers(J()), 0u);
  o.retention.soft_pct = 50;
  Keeper(o).ScanAll();
  EXPECT_EQ(CountMarkers(J()), 5u);  // 1500 > 2000 * 50 %
}

// 88
TEST_F(KeeperTest, SoftThresholdArchivesProactively) {
  for (int i = 5; i >= 1; --i) MakeFile(J(), kNow - i * kHour, 300);
  auto o = Options(ArchiveTrigger::kBeforeExpire);
  o.retention.max_size = 1500;
  o.retention.soft_pct = 80;
  Keeper(o).ScanAll();
  EXPECT_EQ(CountLpj(J()), 5u);
  EXPECT_EQ(CountMarkers(J()), 5u);
}

// 89
TEST_F(KeeperTest, SoftThresholdNeedsMaxSize) {
  for (int i = 5; i >= 1; --i) MakeFile(J(), kNow - i * kHour, 300);
  auto o = Options(ArchiveTrigger::kBeforeExpire);
  o.retention.max_age_us = 7 * kDay;
  o.retention.soft_pct = 80;
  Keeper(o).ScanAll();
  EXPECT_EQ(CountMarkers(J()), 0u);
}

// 90
TEST_F(KeeperTest, SoftThresholdNeedsArchiving) {
  for (int i = 5; i >= 1; --i) MakeFile(J(), kNow - i * kHour, 300);
  auto o = Options(ArchiveTrigger::kDisabled, /*with_archiver=*/false);
  o.retention.max_size = 1000;
  o.retention.soft_pct = 80;
  Keeper(o).ScanAll();
  EXPECT_EQ(CountLpj(J()), 3u);
  EXPECT_EQ(CountMarkers(J()), 0u);
}

// 91
TEST_F(KeeperTest, SoftThresholdSkipsAlreadyArchived) {
  auto p1 = MakeFile(J(), kNow - 3 * kHour, 300);
  auto p2 = MakeFile(J(), kNow - 2 * kHour, 300);
  auto p3 = MakeFile(J(), kNow - 1 * kHour, 300);
  Mark(p1);
  auto o = Options(ArchiveTrigger::kBeforeExpire);
  o.retention.max_size = 1000;
  o.retention.soft_pct = 80;
  Keeper(o).ScanAll();
  EXPECT_TRUE(Marked(p2) && Marked(p3));
  EXPECT_EQ(CountLpj(J()), 3u);
  ASSERT_EQ(archiver_->batches().size(), 1u);
  EXPECT_EQ(archiver_->batches()[0].size(), 2u);
}

// 92
TEST_F(KeeperTest, OverflowDeleteUnarchived) {
  auto p1 = MakeFile(J(), kNow - 3 * kHour, 500);
  MakeFile(J(), kNow - 2 * kHour, 500);
  MakeFile(J(), kNow - 1 * kHour, 500);
  archiver_->set_fail(true);
  auto o = Options(ArchiveTrigger::kOnRotate);
  o.retention.max_size = 1000;
  Keeper k(o);
  k.ScanAll();
  EXPECT_EQ(CountLpj(J()), 3u);
  EXPECT_EQ(k.pending_count(), 1u);
  k.ScanAll();
  EXPECT_FALSE(fs::exists(p1));
  EXPECT_EQ(CountLpj(J()), 2u);
}

// 93
TEST_F(KeeperTest, OverflowDeleteUnarchivedMultiple) {
  for (int i = 5; i >= 1; --i) MakeFile(J(), kNow - i * kHour, 300);
  archiver_->set_fail(true);
  auto o = Options(ArchiveTrigger::kOnRotate);
  o.retention.max_size = 600;
  Keeper k(o);
  k.ScanAll();
  EXPECT_EQ(CountLpj(J()), 5u);
  EXPECT_EQ(k.pending_count(), 3u);
  k.ScanAll();
  EXPECT_EQ(CountLpj(J()), 2u);
}

// 94
TEST_F(KeeperTest, OverflowPauseRecording) {
  for (int i = 5; i >= 1; --i) MakeFile(J(), kNow - i * kHour, 300);
  archiver_->set_fail(true);
  auto o = Options(ArchiveTrigger::kOnRotate);
  o.retention.max_size = 600;
  o.retention.overflow = OverflowPolicy::kPauseRecording;
  Keeper k(o);
  k.ScanAll();
  EXPECT_TRUE(pauses_.empty());
  k.ScanAll();
  EXPECT_EQ(CountLpj(J()), 5u);
  EXPECT_EQ(pauses_, std::vector<bool>{true});
}

// 95
TEST_F(KeeperTest, OverflowPauseResumedOnceArchived) {
  auto p1 = MakeFile(J(), kNow - 3 * kHour, 500);
  MakeFile(J(), kNow - 2 * kHour, 500);
  MakeFile(J(), kNow - 1 * kHour, 500);
  archiver_->set_fail(true);
  auto o = Options(ArchiveTrigger::kOnRotate);
  o.retention.max_size = 1000;
  o.retention.overflow = OverflowPolicy::kPauseRecording;
  Keeper k(o);
  k.ScanAll();
  k.ScanAll();
  EXPECT_EQ(pauses_, std::vector<bool>{true});
  Mark(p1);
  k.ScanAll();
  EXPECT_FALSE(fs::exists(p1));
  EXPECT_EQ(pauses_, (std::vector<bool>{true, false}));
}

// 96
TEST_F(KeeperTest, OverflowPausePerDirectory) {
  const std::string d1 = dir_.Sub("d1"), d2 = dir_.Sub("d2");
  for (int i = 3; i >= 1; --i) MakeFile(d1, kNow - i * kHour, 500);
  MakeFile(d2, kNow - kHour, 100);
  archiver_->set_fail(true);
  auto o = Options(ArchiveTrigger::kOnRotate);
  o.dirs = {{d1, "a"}, {d2, "b"}};
  o.retention.max_size = 1000;
  o.retention.overflow = OverflowPolicy::kPauseRecording;
  std::vector<std::pair<std::string, bool>> calls;
  o.on_pause_change = [&](const KeeperDir& d, bool p) { calls.push_back({d.dir, p}); };
  Keeper k(o);
  k.ScanAll();
  k.ScanAll();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0], std::make_pair(d1, true));
}

// 98: the writer's pause flag follows the keeper (soft → hard → pause → resume).
TEST_F(KeeperTest, EndToEndSoftToHardToPause) {
  auto p1 = MakeFile(J(), kNow - 3 * kHour, 500);
  MakeFile(J(), kNow - 2 * kHour, 500);
  MakeFile(J(), kNow - 1 * kHour, 500);
  journal::WriterOptions wo;
  wo.dir = dir_.Sub("w");
  auto w = journal::JournalWriter::Create(wo);
  archiver_->set_fail(true);
  auto o = Options(ArchiveTrigger::kOnRotate);
  o.retention.max_size = 1000;
  o.retention.overflow = OverflowPolicy::kPauseRecording;
  o.on_pause_change = [&](const KeeperDir&, bool p) { (*w)->SetPaused(p); };
  Keeper k(o);
  k.ScanAll();
  k.ScanAll();
  EXPECT_TRUE((*w)->paused());
  Mark(p1);
  k.ScanAll();
  EXPECT_FALSE((*w)->paused());
}

// 99
TEST_F(KeeperTest, StartupSweepArchivesUnarchivedFiles) {
  auto a = MakeFile(J(), kNow - 3 * kHour);
  auto b = MakeFile(J(), kNow - 2 * kHour);
  auto c = MakeFile(J(), kNow - 1 * kHour);
  Keeper k(Options(ArchiveTrigger::kOnRotate));
  k.Start();
  ASSERT_TRUE(clock_.AwaitBlocks(1));  // the startup sweep is done
  EXPECT_TRUE(Marked(a) && Marked(b) && Marked(c));
  k.Stop();
}

// 100
TEST_F(KeeperTest, StartupSweepSkipsArchivedFiles) {
  auto a = MakeFile(J(), kNow - 3 * kHour);
  auto b = MakeFile(J(), kNow - 2 * kHour);
  auto c = MakeFile(J(), kNow - 1 * kHour);
  Mark(a);
  Keeper k(Options(ArchiveTrigger::kOnRotate));
  k.SweepUnarchived();
  ASSERT_EQ(archiver_->batches().size(), 1u);
  std::vector<std::string> seen;
  const auto batches = archiver_->batches();
  for (const auto& i : batches[0]) seen.push_back(i.path);
  EXPECT_EQ(seen, (std::vector<std::string>{b, c}));
  EXPECT_EQ(archiver_->batches()[0][0].instance_id, "boat-1");
}

// 101
TEST_F(KeeperTest, StartupSweepArchivesSingleFile) {
  auto a = MakeFile(J(), kNow - kHour);
  Keeper k(Options(ArchiveTrigger::kOnRotate));
  k.SweepUnarchived();
  EXPECT_TRUE(Marked(a));
}

// Fix: the sweep and the soft zone never touch a file a writer has open.
TEST_F(KeeperTest, OpenFileNeverArchivedOrDeleted) {
  auto done = MakeFile(J(), kNow - 2 * kHour, 300);
  auto open = MakeFile(J(), kNow - 1 * kHour, 300);
  auto o = Options(ArchiveTrigger::kOnRotate);
  o.is_open = [&](const std::string& p) { return p == open; };
  o.retention.max_size = 400;  // over the cap, and in the soft zone
  o.retention.soft_pct = 50;
  Keeper k(o);
  k.SweepUnarchived();
  EXPECT_TRUE(Marked(done));
  EXPECT_FALSE(Marked(open));
  k.ScanAll();
  k.ScanAll();
  EXPECT_TRUE(fs::exists(open));
  EXPECT_FALSE(Marked(open));
  o.retention.max_age_us = kHour / 2;  // even when expired by age
  Keeper(o).ScanAll();
  EXPECT_TRUE(fs::exists(open));
}

// A notification that finds the queue full: keeper_fleet_test.cc
// (OverflowedNotificationSweepsItsDirectoryWithoutWaitingForARescan).

// Fix: a failure during the startup sweep is retried after the first
// backoff, without waiting for another event.
TEST_F(KeeperTest, StartupFailureRetriedAfterBackoff) {
  auto p = MakeFile(J(), kNow - kHour);
  std::atomic<int> calls{0};
  archiver_->answer = [&](const ArchiveItem&) { return ArchiveOutcome{++calls > 1, "first try fails"}; };
  auto o = Options(ArchiveTrigger::kOnRotate);
  o.first_backoff = 100ms;
  Keeper k(o);
  k.Start();
  ASSERT_TRUE(clock_.AwaitBlocks(1));  // the startup sweep failed
  EXPECT_FALSE(Marked(p));
  EXPECT_EQ(calls.load(), 1);
  clock_.Advance(99ms);
  ASSERT_TRUE(clock_.AwaitBlocks(2));
  EXPECT_EQ(calls.load(), 1) << "retried before the backoff";
  clock_.Advance(1ms);
  ASSERT_TRUE(clock_.AwaitBlocks(3));
  k.Stop();
  EXPECT_TRUE(Marked(p));
  EXPECT_EQ(calls.load(), 2);
}

// Shutdown drains notifications still queued, within drain_timeout.
TEST_F(KeeperTest, StopDrainsQueuedRotations) {
  auto o = Options(ArchiveTrigger::kOnRotate);
  Keeper k(o);
  auto a = MakeFile(J(), kNow - 2 * kHour);
  auto b = MakeFile(J(), kNow - 1 * kHour);
  // Not started: everything stays queued until Stop drains it.
  k.Send({a, "boat-1"});
  k.Send({b, "boat-1"});
  k.Start();
  k.Stop();
  EXPECT_TRUE(Marked(a));
  EXPECT_TRUE(Marked(b));
}

TEST_F(KeeperTest, StopGivesUpAfterDrainTimeout) {
  auto o = Options(ArchiveTrigger::kOnRotate);
  o.drain_timeout = 50ms;
  RecordingLogger log;
  o.log = &log;
  archiver_->answer = [this](const ArchiveItem&) {
    clock_.Advance(100ms);  // each upload takes 100 ms
    return ArchiveOutcome{true, ""};
  };
  std::vector<std::string> files;
  for (int i = 0; i < 5; ++i) files.push_back(MakeFile(J(), kNow - (i + 1) * kHour));
  Keeper k(o);
  for (const auto& f : files) k.Send({f, ""});  // never started: all still queued at Stop
  k.Stop();
  EXPECT_EQ(clock_.MonotonicMicros(), 100'000) << "kept archiving past drain_timeout";
  EXPECT_EQ(CountMarkers(J()), 1u);  // the one under way when the time ran out
  EXPECT_TRUE(log.Contains(LogLevel::kWarn, "keeper: stopped after 100 ms with 4 of 5 queued files not archived"))
      << log.Text();
}

}  // namespace
}  // namespace lplex::keeper

namespace lplex::keeper {
namespace {

// A keeper sweeping continuously beside a live writer never archives the
// file being written: it is registered before it exists on disk.
TEST_F(KeeperTest, SweepBesideLiveWriterNeverArchivesOpenFile) {
  OpenFiles open;
  std::vector<std::string> finished;
  std::mutex mu;
  auto o = Options(ArchiveTrigger::kOnRotate);
  o.is_open = open.Checker();
  o.scan_interval = 1ms;  // sweep on every append (the loop below advances the clock)
  std::set<std::string> archived_while_open;
  archiver_->answer = [&](const ArchiveItem& i) {
    if (open.Contains(i.path)) archived_while_open.insert(i.path);
    return ArchiveOutcome{true, ""};
  };
  Keeper k(o);
  k.Start();
  journal::WriterOptions wo;
  wo.dir = J();
  wo.block_size = 4096;
  wo.compression = journal::Compression::kZstd;
  wo.rotate_count = 50;
  wo.on_open_change = open.Tracker();
  wo.on_rotate = [&](const journal::RotatedFile& f) {
    std::lock_guard<std::mutex> lock(mu);
    finished.push_back(f.path);
    k.Send({f.path, "boat-1"});
  };
  auto w = journal::JournalWriter::Create(wo);
  std::vector<uint8_t> big(1000, 3);
  for (int i = 0; i < 2000; ++i) {
    ASSERT_TRUE((*w)->Append(can::Frame{.timestamp_us = kNow + i * 1000, .header = {2, 129029, 1, 255}, .data = big}).ok());
    clock_.Advance(1ms);  // a sweep races the next append
  }
  ASSERT_TRUE((*w)->Close().ok());
  k.Stop();  // archives the notifications the thread has not handled yet
  EXPECT_GT(k.stats().scans, 10u) << "no sweep ran beside the writer";
  EXPECT_TRUE(archived_while_open.empty());
  EXPECT_EQ(open.size(), 0u);
  EXPECT_EQ(CountMarkers(J()), finished.size());
  EXPECT_GT(finished.size(), 10u);
}

}  // namespace
}  // namespace lplex::keeper

namespace lplex::keeper {
namespace {

// The cloud's layout: one directory per instance, found afresh on every scan.
TEST_F(KeeperTest, CloudInstanceDirectoriesListedOnEveryScan) {
  const std::string data = dir_.Sub("data");
  auto a = MakeFile(data + "/instances/boat-a/journal", kNow - 10 * kDay);
  fs::create_directories(data + "/instances/.sneaky/journal");
  auto o = Options(ArchiveTrigger::kOnRotate);
  o.dirs.clear();
  o.dir_func = [&] { return ListInstanceJournalDirs(FileSystem::Default(), data); };
  Keeper k(o);
  k.SweepUnarchived();
  EXPECT_TRUE(Marked(a));
  auto b = MakeFile(data + "/instances/boat-b/journal", kNow - kHour);  // a boat that appears later
  k.SweepUnarchived();
  EXPECT_TRUE(Marked(b));
  const auto batches = archiver_->batches();
  ASSERT_EQ(batches.size(), 2u);
  EXPECT_EQ(batches[0][0].instance_id, "boat-a");
  EXPECT_EQ(batches[1][0].instance_id, "boat-b");
  auto dirs = ListInstanceJournalDirs(FileSystem::Default(), data);
  ASSERT_EQ(dirs.size(), 2u);
  EXPECT_EQ(dirs[0], (KeeperDir{data + "/instances/boat-a/journal", "boat-a"}));
}

}  // namespace
}  // namespace lplex::keeper

namespace lplex::keeper {
namespace {

// Fails RemoveFile for journal files (what EACCES / EROFS / EBUSY do to a
// real keeper); everything else goes to the real file system. Tests run as
// root, where permission bits would not stop a delete.
class UndeletableJournals final : public lplex::testing::ForwardingFileSystem {
 public:
  Status RemoveFile(const std::string& p) override {
    if (p.size() > 4 && p.compare(p.size() - 4, 4, ".lpj") == 0) {
      return Status::FromErrno("remove " + p, EACCES);
    }
    return base()->RemoveFile(p);
  }
};

// Finding 5: a delete that failed was only a log line; now it is counted and
// reported, so `lplex retention` can exit non-zero.
TEST_F(KeeperTest, DeleteFailureIsCountedAndReported) {
  auto p = MakeFile(J(), kNow - 10 * kDay);
  UndeletableJournals undeletable;
  auto o = Options();
  o.fs = &undeletable;
  o.retention.max_age_us = 7 * kDay;
  std::vector<std::string> reports;
  o.on_delete = [&](const std::string& path, bool, const Status& s) { reports.push_back(path + " " + s.ToString()); };
  Keeper k(o);
  k.ScanAll();
  EXPECT_TRUE(fs::exists(p));
  EXPECT_EQ(k.stats().deleted, 0u);
  EXPECT_EQ(k.stats().delete_failures, 1u);
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_NE(reports[0].find("Permission denied"), std::string::npos) << reports[0];
}

// Finding 7: what was deleted without a copy is counted apart.
TEST_F(KeeperTest, FilesDeletedUnarchivedAreCounted) {
  auto archived = MakeFile(J(), kNow - 10 * kDay);
  Mark(archived);
  auto unarchived = MakeFile(J(), kNow - 9 * kDay);
  auto o = Options();
  o.retention.max_age_us = 7 * kDay;
  std::vector<std::pair<std::string, bool>> deleted;
  o.on_delete = [&](const std::string& path, bool was_archived, const Status& s) {
    EXPECT_TRUE(s.ok()) << s.ToString();
    deleted.push_back({path, was_archived});
  };
  Keeper k(o);
  k.ScanAll();
  EXPECT_EQ(k.stats().deleted, 2u);
  EXPECT_EQ(k.stats().deleted_unarchived, 1u);
  EXPECT_EQ(deleted, (std::vector<std::pair<std::string, bool>>{{archived, true}, {unarchived, false}}));
}

// Finding 6: one run archives the expired files and deletes those archived.
TEST_F(KeeperTest, ApplyRetentionOnceArchivesAndDeletesInOneRun) {
  auto old = MakeFile(J(), kNow - 10 * kDay);
  auto young = MakeFile(J(), kNow - 1 * kDay);
  auto o = Options(ArchiveTrigger::kBeforeExpire);
  o.retention.max_age_us = 7 * kDay;
  Keeper k(o);
  k.ApplyRetentionOnce();
  EXPECT_FALSE(fs::exists(old));
  EXPECT_FALSE(Marked(old));
  EXPECT_TRUE(fs::exists(young));
  EXPECT_EQ(archiver_->archived_count(), 1u);
  EXPECT_EQ(k.stats().archived, 1u);
  EXPECT_EQ(k.stats().deleted, 1u);
  EXPECT_EQ(k.stats().deleted_unarchived, 0u);
}

// Finding 6: a file that failed to archive in this run counts as pending, so
// delete-unarchived deletes it when over the size cap...
TEST_F(KeeperTest, ApplyRetentionOnceDeleteUnarchivedDeletesFilesThatFailedOverTheCap) {
  auto p1 = MakeFile(J(), kNow - 3 * kHour, 500);
  auto p2 = MakeFile(J(), kNow - 2 * kHour, 500);
  auto p3 = MakeFile(J(), kNow - 1 * kHour, 500);
  archiver_->set_fail(true);
  auto o = Options(ArchiveTrigger::kBeforeExpire);
  o.retention.max_size = 1000;
  Keeper k(o);
  k.ApplyRetentionOnce();
  EXPECT_FALSE(fs::exists(p1));
  EXPECT_TRUE(fs::exists(p2));
  EXPECT_TRUE(fs::exists(p3));
  EXPECT_EQ(k.stats().archive_failures, 1u);
  EXPECT_EQ(k.stats().deleted_unarchived, 1u);
  EXPECT_TRUE(pauses_.empty());
}

// ...pause-recording keeps it and reports the pause...
TEST_F(KeeperTest, ApplyRetentionOncePauseRecordingKeepsFilesThatFailedToArchive) {
  auto p1 = MakeFile(J(), kNow - 3 * kHour, 500);
  MakeFile(J(), kNow - 2 * kHour, 500);
  MakeFile(J(), kNow - 1 * kHour, 500);
  archiver_->set_fail(true);
  auto o = Options(ArchiveTrigger::kBeforeExpire);
  o.retention.max_size = 1000;
  o.retention.overflow = OverflowPolicy::kPauseRecording;
  Keeper k(o);
  k.ApplyRetentionOnce();
  EXPECT_TRUE(fs::exists(p1));
  EXPECT_EQ(CountLpj(J()), 3u);
  EXPECT_EQ(k.stats().deleted, 0u);
  EXPECT_EQ(pauses_, std::vector<bool>{true});
}

// ...and a file expired by age only (under the cap) waits for its retry.
TEST_F(KeeperTest, ApplyRetentionOnceKeepsFileThatFailedUnderTheCap) {
  auto old = MakeFile(J(), kNow - 10 * kDay);
  archiver_->set_fail(true);
  auto o = Options(ArchiveTrigger::kBeforeExpire);
  o.retention.max_age_us = 7 * kDay;
  Keeper k(o);
  k.ApplyRetentionOnce();
  EXPECT_TRUE(fs::exists(old));
  EXPECT_EQ(k.stats().archive_failures, 1u);
  EXPECT_EQ(archiver_->archived_count(), 1u) << "the second pass must not retry at once";
}

// Finding 1, in the keeper: a server whose archive target is its journal
// directory must neither mark nor delete anything there.
TEST_F(KeeperTest, KeeperLeavesAloneJournalDirThatIsTheArchiveTarget) {
  auto old = MakeFile(J(), kNow - 10 * kDay);
  auto young = MakeFile(J(), kNow - 1 * kHour);
  auto o = Options(ArchiveTrigger::kOnRotate);
  o.archiver = std::make_shared<DirectoryArchiver>(J());
  o.retention.max_age_us = 7 * kDay;
  Keeper k(o);
  k.ScanAll();
  k.SweepUnarchived();
  k.ScanAll();
  EXPECT_TRUE(fs::exists(old));
  EXPECT_TRUE(fs::exists(young));
  EXPECT_EQ(CountMarkers(J()), 0u);
  EXPECT_EQ(k.stats().deleted, 0u);
  EXPECT_GT(k.stats().skipped_dirs, 0u);
  Status s = CheckKeeperOptions(o);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("is the journal directory"), std::string::npos) << s.message();
}

// Finding 1, a notification the writer sends for a file in such a directory:
// the archiver itself refuses the copy onto itself.
TEST_F(KeeperTest, KeeperNeverMarksAFileCopiedOntoItself) {
  auto p = MakeFile(J(), kNow - 1 * kHour);
  auto o = Options(ArchiveTrigger::kOnRotate);
  o.archiver = std::make_shared<DirectoryArchiver>(J());
  Keeper k(o);
  k.HandleRotation({p, ""});
  EXPECT_FALSE(Marked(p));
  EXPECT_EQ(k.pending_count(), 1u);
}

// Finding 2, in the keeper: whatever the archiver, an item with a bad
// instance id never reaches it, and such a directory is left alone.
TEST_F(KeeperTest, KeeperNeverHandsTheArchiverAnItemWithABadInstanceId) {
  auto p = MakeFile(J(), kNow - 10 * kDay);
  auto o = Options(ArchiveTrigger::kOnRotate);
  o.dirs = {{J(), "../../evil"}};
  o.retention.max_age_us = 7 * kDay;
  RecordingLogger log;
  o.log = &log;
  Keeper k(o);
  k.HandleRotation({p, "../../evil"});
  k.SweepUnarchived();
  k.ScanAll();
  EXPECT_TRUE(archiver_->batches().empty());
  EXPECT_TRUE(fs::exists(p));
  EXPECT_FALSE(Marked(p));
  EXPECT_EQ(k.pending_paths(), std::vector<std::string>{p});
  EXPECT_FALSE(log.Contains("[../../evil]")) << log.Text();  // a refused id never prefixes a line
  EXPECT_TRUE(log.Contains(LogLevel::kError, "keeper: leaving " + J() + " alone")) << log.Text();
  Status s = CheckKeeperOptions(o);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("\"../../evil\""), std::string::npos) << s.message();
}

// Finding 7, in the keeper: a trigger without an archiver would delete
// expired files unarchived.
TEST_F(KeeperTest, CheckKeeperOptionsRefusesTriggerWithoutArchiver) {
  auto o = Options(ArchiveTrigger::kBeforeExpire, /*with_archiver=*/false);
  Status s = CheckKeeperOptions(o);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("before-expire"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("unarchived"), std::string::npos) << s.message();
  EXPECT_TRUE(CheckKeeperOptions(Options(ArchiveTrigger::kBeforeExpire)).ok());
  EXPECT_TRUE(CheckKeeperOptions(Options(ArchiveTrigger::kDisabled, false)).ok());
}

// Issue 6, seams: every line about a directory's files starts with its
// instance id, so the cloud's log (one keeper, many boats) says which boat a
// line is about; lines about the keeper as a whole carry none.
TEST_F(KeeperTest, KeeperLogLinesCarryTheInstanceId) {
  auto old = MakeFile(J(), kNow - 10 * kDay);
  RecordingLogger log;
  auto o = Options(ArchiveTrigger::kOnRotate);
  o.retention.max_age_us = 7 * kDay;
  o.log = &log;
  Keeper k(o);
  k.SweepUnarchived();
  EXPECT_TRUE(log.Contains(LogLevel::kInfo, "keeper: sweeping 1 unarchived journal files")) << log.Text();
  EXPECT_TRUE(log.Contains(LogLevel::kInfo, "[boat-1] keeper: archived " + old + " to fake")) << log.Text();
  k.ScanAll();
  EXPECT_TRUE(log.Contains(LogLevel::kInfo, "[boat-1] keeper: deleted " + old)) << log.Text();
  archiver_->set_fail(true);
  auto fresh = MakeFile(J(), kNow - kHour);
  k.HandleRotation({fresh, "boat-1"});
  EXPECT_TRUE(log.Contains(LogLevel::kWarn, "[boat-1] keeper: archiving " + fresh + " to fake failed: boom"))
      << log.Text();
  for (const auto& line : log.lines()) {
    if (line.message.find(J()) != std::string::npos) {
      EXPECT_EQ(line.message.rfind("[boat-1] keeper: ", 0), 0u) << line.message;
    }
  }
}

// Markers whose journal file is gone (deleted by hand) made a later file of
// the same name count as archived. The scan removes them, and says so;
// markers of existing files stay.
TEST_F(KeeperTest, OrphanArchivedMarkerIsRemovedDuringTheRetentionScan) {
  auto kept = MakeFile(J(), kNow - kHour);
  Mark(kept);
  const std::string orphan = J() + "/nmea2k-" + timefmt::FileStamp(kNow - 2 * kHour) + ".lpj";
  Mark(orphan);
  const std::string not_a_marker = J() + "/notes.archived";  // no .lpj before the suffix: not ours
  std::ofstream(not_a_marker).put('x');
  RecordingLogger log;
  auto o = Options();
  o.log = &log;
  Keeper k(o);
  k.ScanAll();
  EXPECT_FALSE(fs::exists(orphan + ".archived"));
  EXPECT_TRUE(Marked(kept));
  EXPECT_TRUE(fs::exists(kept));
  EXPECT_TRUE(fs::exists(not_a_marker));
  EXPECT_TRUE(log.Contains(LogLevel::kInfo, "[boat-1] keeper: removed " + orphan + ".archived: its journal file"))
      << log.Text();
}

// The archiver's error names the file and the target already; the keeper's
// warning used to repeat both ("archiving F to T failed: archive F to …").
TEST_F(KeeperTest, ArchiveFailureWarningNamesTheFileOnce) {
  auto f = MakeFile(J(), kNow - kHour);
  RecordingLogger log;
  auto o = Options(ArchiveTrigger::kOnRotate);
  o.log = &log;
  archiver_->set_fail(true, "archive " + f + " to fake/x: no response");
  Keeper k(o);
  k.HandleRotation({f, "boat-1"});
  EXPECT_TRUE(log.Contains(LogLevel::kWarn, "[boat-1] keeper: archiving " + f + " to fake/x failed: no response"))
      << log.Text();
  auto g = MakeFile(J(), kNow - 2 * kHour);
  archiver_->set_fail(true, g + ": no response");  // names the file, not the target
  k.HandleRotation({g, "boat-1"});
  EXPECT_TRUE(log.Contains(LogLevel::kWarn, "[boat-1] keeper: archiving " + g + " to fake failed: no response"))
      << log.Text();
  for (const auto& line : log.lines()) {
    const std::string& m = line.message;
    for (const std::string& p : {f, g}) {
      size_t first = m.find(p);
      if (first != std::string::npos) {
        EXPECT_EQ(m.find(p, first + 1), std::string::npos) << m;
      }
    }
  }
}

// The cloud's listing names the directory it skips, through the logger given.
TEST_F(KeeperTest, ListInstanceJournalDirsLogsSkippedDirectoryToTheLoggerGiven) {
  const std::string data = dir_.Sub("data");
  fs::create_directories(data + "/instances/.sneaky/journal");
  RecordingLogger log;
  EXPECT_TRUE(ListInstanceJournalDirs(FileSystem::Default(), data, &log).empty());
  EXPECT_TRUE(log.Contains(LogLevel::kWarn, "skipping " + data + "/instances/.sneaky")) << log.Text();
}

}  // namespace
}  // namespace lplex::keeper
