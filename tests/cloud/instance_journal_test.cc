#include "cloud/instance_journal.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <mutex>

#include "cloud_test_util.h"
#include "core/clock.h"
#include "journal/journal_sink.h"
#include "support/temp_dir.h"

namespace lplex::cloud {
namespace {

using testing::kT0;
using testing::LpjFiles;
using testing::ReadJournal;
using testing::Replica;

constexpr int64_t kSecond = 1'000'000;

// One instance journal on a FakeClock, served by a runner the test drives.
struct Fixture {
  lplex::testing::TempDir tmp;
  FakeClock clock{kT0, 1'000 * kSecond};
  journal::SinkRunner runner;
  std::mutex mu;
  std::vector<journal::RotatedFile> rotated;
  std::unique_ptr<InstanceJournal> journal;

  std::string dir() const { return tmp.Sub("instances/boat-1/journal"); }

  explicit Fixture(JournalSettings settings = {}) {
    InstanceJournalOptions o;
    o.instance_id = "boat-1";
    o.dir = dir();
    o.settings = settings;
    o.runner = &runner;
    o.on_rotate = [this](const journal::RotatedFile& f) {
      std::lock_guard<std::mutex> lock(mu);
      rotated.push_back(f);
    };
    o.clock = &clock;
    auto r = InstanceJournal::Create(std::move(o));
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    journal = std::move(*r);
  }
  size_t rotations() {
    std::lock_guard<std::mutex> lock(mu);
    return rotated.size();
  }
};

TEST(InstanceJournal, NewJournalHoldsNoWriterQueueNorFile) {
  Fixture f;
  EXPECT_FALSE(f.journal->active());
  EXPECT_EQ(f.runner.sink_count(), 0u);
  EXPECT_FALSE(std::filesystem::exists(f.dir()));
  EXPECT_TRUE(f.journal->Close().ok());
  EXPECT_EQ(f.rotations(), 0u) << "closing a journal that never saw a frame finishes no file";
}

TEST(InstanceJournal, SnapshotFramesWithSeqZeroAreNotJournaled) {
  Fixture f;
  const uint8_t name[8] = {0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88};
  EXPECT_TRUE(f.journal->Offer(testing::SnapshotClaim(5, name)));
  EXPECT_TRUE(f.journal->Offer(Replica(0)));
  // The snapshot alone starts nothing: no writer, no queue, no file.
  EXPECT_FALSE(f.journal->active());
  EXPECT_EQ(f.runner.sink_count(), 0u);
  for (uint64_t s = 1; s <= 3; ++s) EXPECT_TRUE(f.journal->Offer(Replica(s, kT0 + static_cast<int64_t>(s))));
  f.runner.RunOnce();
  ASSERT_TRUE(f.journal->Close().ok());

  auto files = LpjFiles(f.dir());
  ASSERT_EQ(files.size(), 1u);
  testing::FileContents c = ReadJournal(files[0]);
  EXPECT_EQ(c.seqs, (std::vector<uint64_t>{1, 2, 3})) << "seq-0 frames must not be numbered into a block";
  EXPECT_EQ(f.journal->metrics().snapshot_frames_skipped, 2u);

  // The snapshot's claim still names source 5 in the block's device table.
  auto rd = journal::JournalReader::OpenPath(files[0]);
  ASSERT_TRUE(rd.ok());
  ASSERT_TRUE((*rd)->Next());
  auto devices = (*rd)->BlockDevices();
  ASSERT_TRUE(devices.ok());
  ASSERT_EQ(devices->size(), 1u);
  EXPECT_EQ((*devices)[0].source, 5);
  EXPECT_EQ((*devices)[0].name, 0x8877665544332211ULL);
}

TEST(InstanceJournal, SeqGapStartsANewBlock) {
  Fixture f;
  for (uint64_t s : {1, 2, 3, 10, 11}) ASSERT_TRUE(f.journal->Offer(Replica(s, kT0 + static_cast<int64_t>(s))));
  f.runner.RunOnce();
  ASSERT_TRUE(f.journal->Close().ok());
  auto files = LpjFiles(f.dir());
  ASSERT_EQ(files.size(), 1u);
  testing::FileContents c = ReadJournal(files[0]);
  using Block = std::pair<uint64_t, uint32_t>;
  EXPECT_EQ(c.blocks, (std::vector<Block>{{1, 3}, {10, 2}}));
  EXPECT_EQ(c.seqs, (std::vector<uint64_t>{1, 2, 3, 10, 11})) << "each frame keeps the boat's seq";
}

TEST(InstanceJournal, SeqGoingBackAfterAReconnectStartsANewBlock) {
  Fixture f;
  for (uint64_t s : {100, 101, 50, 51}) ASSERT_TRUE(f.journal->Offer(Replica(s, kT0 + static_cast<int64_t>(s))));
  ASSERT_TRUE(f.journal->Close().ok());
  auto files = LpjFiles(f.dir());
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(ReadJournal(files[0]).seqs, (std::vector<uint64_t>{100, 101, 50, 51}));
}

TEST(InstanceJournal, CloseFinishesTheFileAndFiresOnRotateWithTheInstanceId) {
  Fixture f;
  ASSERT_TRUE(f.journal->Offer(Replica(1)));
  f.runner.RunOnce();
  ASSERT_TRUE(f.journal->Close().ok());
  ASSERT_EQ(f.rotations(), 1u) << "on_rotate must have fired when Close returns";
  EXPECT_EQ(f.rotated[0].instance_id, "boat-1");
  auto files = LpjFiles(f.dir());
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(f.rotated[0].path, files[0]);
  EXPECT_TRUE(ReadJournal(files[0]).has_index) << "a finalized zstd file ends with its block index";
  EXPECT_FALSE(f.journal->active()) << "Close frees the writer";
  ASSERT_TRUE(f.journal->Close().ok());
  EXPECT_EQ(f.rotations(), 1u) << "a second Close finishes nothing";
  f.runner.RunOnce();
  EXPECT_EQ(f.runner.sink_count(), 0u) << "the runner lets go of the closed sink";
}

TEST(InstanceJournal, AFrameAfterCloseStartsANewFile) {
  Fixture f;
  ASSERT_TRUE(f.journal->Offer(Replica(1)));
  ASSERT_TRUE(f.journal->Close().ok());
  f.clock.Advance(kSecond);
  ASSERT_TRUE(f.journal->Offer(Replica(2, kT0 + kSecond)));
  ASSERT_TRUE(f.journal->Close().ok());
  EXPECT_EQ(LpjFiles(f.dir()).size(), 2u);
  EXPECT_EQ(f.rotations(), 2u);
}

TEST(InstanceJournal, RotatesByDurationOnTheRunnersTick) {
  JournalSettings s;
  s.rotate_duration_us = 42 * kSecond;
  Fixture f(s);
  ASSERT_TRUE(f.journal->Offer(Replica(1)));
  f.runner.RunOnce();
  f.clock.Advance(41 * kSecond);
  f.runner.RunOnce();
  EXPECT_EQ(f.rotations(), 0u);
  f.clock.Advance(2 * kSecond);
  f.runner.RunOnce();
  ASSERT_EQ(f.rotations(), 1u) << "42 s after the file started, the runner's tick rotates it";
  EXPECT_EQ(f.rotated[0].instance_id, "boat-1");
  EXPECT_EQ(ReadJournal(f.rotated[0].path).seqs, (std::vector<uint64_t>{1}));
}

TEST(InstanceJournal, SetRotationBeforeTheFirstFrameReachesTheWriter) {
  Fixture f;  // no rotation
  f.journal->SetRotation(60 * kSecond, 0);
  ASSERT_TRUE(f.journal->Offer(Replica(1)));
  f.runner.RunOnce();
  f.clock.Advance(61 * kSecond);
  f.runner.RunOnce();
  EXPECT_EQ(f.rotations(), 1u);
}

TEST(InstanceJournal, SetRotationAppliesToAnOpenFile) {
  Fixture f;  // no rotation: the file is open when the setting arrives
  ASSERT_TRUE(f.journal->Offer(Replica(1)));
  f.runner.RunOnce();
  f.clock.Advance(30 * kSecond);
  f.journal->SetRotation(60 * kSecond, 0);
  f.runner.RunOnce();
  EXPECT_EQ(f.rotations(), 0u) << "the open file is 30 s old: not due yet";
  f.clock.Advance(31 * kSecond);
  f.runner.RunOnce();
  EXPECT_EQ(f.rotations(), 1u) << "60 s after the open file started, it rotates under the new setting";
}

TEST(InstanceJournal, FullQueueRefusesTheFrameSoItIsNotCountedAsAccepted) {
  JournalSettings s;
  s.queue_bytes = 4096;  // the smallest queue: about 100 frames
  Fixture f(s);
  size_t refused = 0;
  for (uint64_t seq = 1; seq <= 1000; ++seq) {
    if (!f.journal->Offer(Replica(seq, kT0 + static_cast<int64_t>(seq)))) ++refused;
  }
  EXPECT_GT(refused, 0u);
  EXPECT_EQ(f.journal->metrics().frames_dropped, refused);
}

// Pause-recording discards what arrives; the frames are refused, not
// accepted, so the replication server leaves their seqs holes to backfill
// (a review found them acknowledged and lost for good).
TEST(InstanceJournal, PausedJournalRefusesFramesAndWritesNoFile) {
  Fixture f;
  f.journal->SetPaused(true);
  for (uint64_t seq = 1; seq <= 10; ++seq) EXPECT_FALSE(f.journal->Offer(Replica(seq)));
  f.runner.RunOnce();
  ASSERT_TRUE(f.journal->Close().ok());
  EXPECT_TRUE(LpjFiles(f.dir()).empty());
  EXPECT_EQ(f.rotations(), 0u);
}

TEST(InstanceJournal, CheckJournalSettingsNamesTheBadBlockSize) {
  JournalSettings s;
  s.block_size = 1000;
  Status st = CheckJournalSettings(s);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("1000"), std::string::npos) << st.ToString();
}

}  // namespace
}  // namespace lplex::cloud
