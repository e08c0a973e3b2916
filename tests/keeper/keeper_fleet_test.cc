// The keeper at fleet scale (issue 8): a burst of rotations from thousands of
// boats is archived at once, never lost to a full queue nor left to the
// five-minute rescan, and uploads run in parallel on a bounded pool without
// giving up "marker only after a confirmed upload".
#include <gtest/gtest.h>

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "core/log.h"
#include "core/time.h"
#include "keeper/keeper.h"
#include "support/temp_dir.h"

namespace lplex::keeper {
namespace {

namespace fs = std::filesystem;
using lplex::testing::TempDir;
using namespace std::chrono_literals;

constexpr int64_t kHour = 3600LL * 1'000'000;
const int64_t kNow = *timefmt::ParseRfc3339("2026-03-10T12:00:00Z");

// What every archiver of one keeper saw: calls, paths, and how many ran at
// once. An archiver blocks in Archive() while the gate is closed.
class Uploads {
 public:
  void Enter(const Archiver* who, const std::vector<ArchiveItem>& batch) {
    std::unique_lock<std::mutex> lock(mu_);
    ++calls_;
    ++in_flight_;
    max_in_flight_ = std::max(max_in_flight_, in_flight_);
    archivers_.insert(who);
    for (const auto& item : batch) ++paths_[item.path];
    cv_.notify_all();
    cv_.wait(lock, [&] { return gate_open_; });
  }
  void Leave() {
    std::lock_guard<std::mutex> lock(mu_);
    --in_flight_;
    cv_.notify_all();
  }
  void Close() {
    std::lock_guard<std::mutex> lock(mu_);
    gate_open_ = false;
  }
  void Open() {
    std::lock_guard<std::mutex> lock(mu_);
    gate_open_ = true;
    cv_.notify_all();
  }
  // Waits (real time, at most `limit`) until `pred` holds; false on timeout.
  bool WaitFor(const std::function<bool()>& pred, std::chrono::milliseconds limit = 60s) {
    std::unique_lock<std::mutex> lock(mu_);
    return cv_.wait_for(lock, limit, pred);
  }
  size_t distinct_paths() const { return paths_.size(); }  // call under WaitFor or after the work
  size_t in_flight() const { return in_flight_; }
  size_t max_in_flight() const { return max_in_flight_; }
  size_t calls() const { return calls_; }
  size_t archivers() const { return archivers_.size(); }
  std::map<std::string, int> paths() {
    std::lock_guard<std::mutex> lock(mu_);
    return paths_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool gate_open_ = true;
  size_t calls_ = 0;
  size_t in_flight_ = 0;
  size_t max_in_flight_ = 0;
  std::set<const Archiver*> archivers_;
  std::map<std::string, int> paths_;
};

class RecordingArchiver final : public Archiver {
 public:
  explicit RecordingArchiver(Uploads* uploads) : uploads_(uploads) {}
  std::vector<ArchiveOutcome> Archive(const std::vector<ArchiveItem>& batch, Deadline) override {
    uploads_->Enter(this, batch);
    std::vector<ArchiveOutcome> out;
    for (const auto& item : batch) out.push_back(answer(item));
    uploads_->Leave();
    return out;
  }
  std::string Describe() const override { return "recording"; }
  std::function<ArchiveOutcome(const ArchiveItem&)> answer = [](const ArchiveItem&) { return ArchiveOutcome{true, ""}; };

 private:
  Uploads* uploads_;
};

class KeeperFleetTest : public ::testing::Test {
 protected:
  std::string MakeFile(const std::string& dir, int64_t created) {
    fs::create_directories(dir);
    std::string path = dir + "/nmea2k-" + timefmt::FileStamp(created) + ".lpj";
    std::ofstream(path, std::ios::binary) << std::string(100, '\0');
    return path;
  }
  static bool Marked(const std::string& p) { return fs::exists(p + ".archived"); }

  KeeperOptions Options() {
    KeeperOptions o;
    o.dirs = {{dir_.Sub("j"), "boat-1"}};
    o.trigger = ArchiveTrigger::kOnRotate;
    o.archiver = std::make_shared<RecordingArchiver>(&uploads_);
    o.retention.soft_pct = 0;
    o.clock = &clock_;
    o.log = Logger::Discard();
    return o;
  }
  // Each parallel slot gets its own archiver, all reporting to uploads_.
  void WithPool(KeeperOptions& o, size_t n) {
    o.upload_parallelism = n;
    o.make_upload_archiver = [this] { return std::make_shared<RecordingArchiver>(&uploads_); };
  }
  std::string J() const { return dir_.Sub("j"); }

  TempDir dir_;
  FakeClock clock_{kNow};
  Uploads uploads_;
};

TEST_F(KeeperFleetTest, ThousandsOfRotationsAtOnceAreAllArchivedWithoutWaitingForARescan) {
  const std::string data = dir_.Sub("data");
  std::vector<std::string> files;
  for (int b = 0; b < 1000; ++b) {
    const std::string dir = data + "/instances/" + fmt::format("boat-{:04}", b) + "/journal";
    fs::create_directories(dir);
  }
  KeeperOptions o = Options();
  o.dirs.clear();
  o.dir_func = [data] { return ListInstanceJournalDirs(FileSystem::Default(), data, Logger::Discard()); };
  WithPool(o, 4);
  Keeper k(o);
  k.Start();
  ASSERT_TRUE(clock_.AwaitBlocks(1));  // startup scan and sweep done: nothing there yet
  for (int b = 0; b < 1000; ++b) {
    const std::string dir = data + "/instances/" + fmt::format("boat-{:04}", b) + "/journal";
    for (int i = 0; i < 2; ++i) files.push_back(MakeFile(dir, kNow - (i + 1) * kHour));
  }
  // 2,000 rotations (31 times the reference's 64-slot queue): every boat rotates
  // at once, from several writer threads, while the first
  // upload holds the keeper (so the burst really queues up).
  uploads_.Close();
  std::vector<std::thread> writers;
  std::atomic<size_t> refused{0};
  for (size_t t = 0; t < 4; ++t) {
    writers.emplace_back([&, t] {
      for (size_t i = t; i < files.size(); i += 4) {
        const std::string id = fs::path(files[i]).parent_path().parent_path().filename().string();
        if (!k.Send({files[i], id})) ++refused;
      }
    });
  }
  for (auto& w : writers) w.join();
  uploads_.Open();
  clock_.Advance(o.scan_interval - 1ms);  // short of the periodic rescan
  EXPECT_TRUE(uploads_.WaitFor([&] { return uploads_.distinct_paths() == files.size(); }))
      << "archived " << uploads_.paths().size() << " of " << files.size() << " without a rescan";
  k.Stop();
  EXPECT_EQ(refused.load(), 0u);
  EXPECT_EQ(k.dropped_notifications(), 0u);
  EXPECT_EQ(k.stats().scans, 1u) << "a periodic rescan ran";
  EXPECT_EQ(k.stats().archived, files.size());
  for (const auto& [path, n] : uploads_.paths()) EXPECT_EQ(n, 1) << path << " archived more than once";
  EXPECT_TRUE(std::all_of(files.begin(), files.end(), Marked));
  EXPECT_EQ(uploads_.archivers(), 4u) << "the burst was not uploaded on the whole pool";
  EXPECT_LE(uploads_.max_in_flight(), 4u);
}

// A notification that finds the queue full marks its directory, which the
// keeper sweeps at its next turn instead of at the next periodic scan.
TEST_F(KeeperFleetTest, OverflowedNotificationSweepsItsDirectoryWithoutWaitingForARescan) {
  KeeperOptions o = Options();
  o.queue_capacity = 1;
  Keeper k(o);
  k.Start();
  ASSERT_TRUE(clock_.AwaitBlocks(1));
  uploads_.Close();  // the first upload holds the keeper while the queue fills
  std::vector<std::string> files;
  files.push_back(MakeFile(J(), kNow - 10 * kHour));
  ASSERT_TRUE(k.Send({files.back(), "boat-1"}));
  ASSERT_TRUE(uploads_.WaitFor([&] { return uploads_.in_flight() == 1; }));
  int refused = 0;
  for (int i = 1; i < 6; ++i) {
    files.push_back(MakeFile(J(), kNow - (10 - i) * kHour));
    refused += !k.Send({files.back(), "boat-1"});
  }
  EXPECT_EQ(refused, 4);  // one queued behind the upload, four over capacity
  EXPECT_EQ(k.dropped_notifications(), 4u);
  uploads_.Open();
  ASSERT_TRUE(clock_.AwaitBlocks(2));  // idle again, the clock never moved
  EXPECT_TRUE(std::all_of(files.begin(), files.end(), Marked));
  k.Stop();
  EXPECT_EQ(k.stats().scans, 1u);
  for (const auto& [path, n] : uploads_.paths()) EXPECT_EQ(n, 1) << path;
}

TEST_F(KeeperFleetTest, DuplicateRotationNotificationArchivesOnceAndTakesOneQueueSlot) {
  KeeperOptions o = Options();
  o.queue_capacity = 2;
  auto p = MakeFile(J(), kNow - 2 * kHour);
  auto q = MakeFile(J(), kNow - 1 * kHour);
  Keeper k(o);
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(k.Send({p, "boat-1"})) << "duplicate " << i << " took a slot";
  EXPECT_TRUE(k.Send({q, "boat-1"}));
  EXPECT_EQ(k.dropped_notifications(), 0u);
  k.Stop();  // never started: the drain archives the queue
  EXPECT_TRUE(Marked(p));
  EXPECT_TRUE(Marked(q));
  EXPECT_EQ(uploads_.paths()[p], 1);
  EXPECT_EQ(uploads_.calls(), 2u);  // p once, q once
}

TEST_F(KeeperFleetTest, UploadsRunInParallelUpToThePoolSize) {
  std::vector<std::string> files;
  for (int i = 0; i < 10; ++i) files.push_back(MakeFile(J(), kNow - (i + 1) * kHour));
  KeeperOptions o = Options();
  WithPool(o, 4);
  Keeper k(o);
  uploads_.Close();
  std::thread sweep([&] { k.SweepUnarchived(); });
  EXPECT_TRUE(uploads_.WaitFor([&] { return uploads_.in_flight() == 4; })) << "in flight: " << uploads_.in_flight();
  EXPECT_TRUE(std::none_of(files.begin(), files.end(), Marked)) << "a marker before its upload was confirmed";
  uploads_.Open();
  sweep.join();
  EXPECT_EQ(uploads_.max_in_flight(), 4u);
  EXPECT_EQ(uploads_.calls(), 4u);
  EXPECT_EQ(uploads_.archivers(), 4u);
  EXPECT_EQ(uploads_.paths().size(), files.size());
  EXPECT_TRUE(std::all_of(files.begin(), files.end(), Marked));
  EXPECT_EQ(k.stats().archived, files.size());
}

// Archiver's contract: one call at a time per archiver. Without a way to
// make more, the keeper's one archiver uploads alone.
TEST_F(KeeperFleetTest, UploadsStayOneAtATimeWithoutAnArchiverFactory) {
  for (int i = 0; i < 10; ++i) MakeFile(J(), kNow - (i + 1) * kHour);
  KeeperOptions o = Options();
  o.upload_parallelism = 8;
  Keeper(o).SweepUnarchived();
  EXPECT_EQ(uploads_.max_in_flight(), 1u);
  EXPECT_EQ(uploads_.paths().size(), 10u);
}

TEST_F(KeeperFleetTest, ParallelUploadFailuresGetNoMarkerAndJoinTheRetryList) {
  std::vector<std::string> files;
  for (int i = 0; i < 8; ++i) files.push_back(MakeFile(J(), kNow - (i + 1) * kHour));
  std::set<std::string> failing = {files[1], files[4], files[6]};
  KeeperOptions o = Options();
  o.upload_parallelism = 4;
  o.make_upload_archiver = [&] {
    auto a = std::make_shared<RecordingArchiver>(&uploads_);
    a->answer = [&](const ArchiveItem& i) { return ArchiveOutcome{failing.count(i.path) == 0, "503"}; };
    return a;
  };
  auto first = std::make_shared<RecordingArchiver>(&uploads_);
  first->answer = [&](const ArchiveItem& i) { return ArchiveOutcome{failing.count(i.path) == 0, "503"}; };
  o.archiver = first;
  Keeper k(o);
  k.SweepUnarchived();
  EXPECT_EQ(uploads_.archivers(), 4u);
  for (const auto& f : files) EXPECT_EQ(Marked(f), failing.count(f) == 0) << f;
  auto pending = k.pending_paths();
  EXPECT_EQ(std::set<std::string>(pending.begin(), pending.end()), failing);
  EXPECT_EQ(k.stats().archive_failures, 3u);
}

}  // namespace
}  // namespace lplex::keeper
