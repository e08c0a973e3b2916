// JournalSink on a disk that refuses every write: the metrics count only
// frames a reader would find, and the errors are logged (rate-limited)
// instead of piling up unseen.
#include <gtest/gtest.h>

#include <cerrno>
#include <vector>

#include "core/clock.h"
#include "core/file_system.h"
#include "core/log.h"
#include "journal/journal_sink.h"
#include "journal/writer.h"
#include "support/temp_dir.h"

namespace lplex::journal {
namespace {

constexpr int64_t kT0 = 1'750'000'000'000'000;

can::Frame Frame(uint64_t seq, const std::vector<uint8_t>& data) {
  return can::Frame{.timestamp_us = kT0 + static_cast<int64_t>(seq), .header = {2, 129025, 10, 255}, .data = data,
                    .seq = seq};
}

struct Fixture {
  lplex::testing::TempDir dir;
  FakeClock clock{kT0, 1};
  FaultInjectingFileSystem fs{FileSystem::Default()};
  RecordingLogger log;

  std::shared_ptr<JournalSink> Make() {
    WriterOptions wo;
    wo.dir = dir.path() + "/journal";
    wo.compression = Compression::kNone;
    wo.block_size = 4096;
    wo.flush_interval_us = 1'000'000;
    wo.fs = &fs;
    wo.clock = &clock;
    SinkOptions so;
    so.clock = &clock;
    so.log = &log;
    auto w = JournalWriter::Create(std::move(wo));
    EXPECT_TRUE(w.ok()) << w.status().ToString();
    auto s = JournalSink::Create(std::move(w).value(), so);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return std::move(s).value();
  }
};

TEST(SinkDiskError, FramesWrittenCountsOnlyFramesOnDiskWhenEveryWriteFails) {
  Fixture f;
  f.fs.FailCreates(EACCES);
  auto sink = f.Make();
  SinkRunner runner;
  runner.Add(sink);
  const std::vector<uint8_t> data(8, 0x11);
  uint64_t seq = 1;
  for (int round = 0; round < 5; ++round) {
    for (int i = 0; i < 100; ++i, ++seq) ASSERT_TRUE(sink->Offer(Frame(seq, data)));
    f.clock.Advance(2'000'000);  // past flush_interval and the tick interval
    runner.RunOnce();
  }
  const SinkMetrics m = sink->metrics();
  EXPECT_GT(m.frames_written, 0u) << "frames reached the writer's block";
  EXPECT_EQ(m.frames_on_disk, 0u) << "nothing reached the disk";
  EXPECT_GT(m.write_errors, 0u);
}

TEST(SinkDiskError, FramesOnDiskMatchWhatAReaderFindsOnAHealthyDisk) {
  Fixture f;
  auto sink = f.Make();
  SinkRunner runner;
  runner.Add(sink);
  const std::vector<uint8_t> data(8, 0x22);
  for (uint64_t seq = 1; seq <= 1000; ++seq) ASSERT_TRUE(sink->Offer(Frame(seq, data)));
  runner.RunOnce();
  runner.Stop();
  ASSERT_TRUE(sink->Close().status.ok());
  EXPECT_EQ(sink->metrics().frames_on_disk, 1000u);
}

TEST(SinkDiskError, DiskErrorsAreLoggedFirstAtOnceThenOncePerMinute) {
  Fixture f;
  f.fs.FailCreates(EACCES);
  auto sink = f.Make();
  SinkRunner runner;
  runner.Add(sink);
  const std::vector<uint8_t> data(8, 0x33);
  uint64_t seq = 1;
  auto round = [&] {
    for (int i = 0; i < 10; ++i, ++seq) ASSERT_TRUE(sink->Offer(Frame(seq, data)));
    f.clock.Advance(2'000'000);
    runner.RunOnce();
  };
  round();  // the block opens
  round();  // flush_interval: the block's write fails
  auto errors = [&] {
    size_t n = 0;
    for (const auto& l : f.log.lines()) n += l.level == LogLevel::kError;
    return n;
  };
  ASSERT_EQ(errors(), 1u) << f.log.Text();
  EXPECT_TRUE(f.log.Contains(LogLevel::kError, "journal: write error")) << f.log.Text();
  for (int i = 0; i < 20; ++i) round();  // 40 s more: still one line
  EXPECT_EQ(errors(), 1u) << f.log.Text();
  for (int i = 0; i < 15; ++i) round();  // past a minute since the first
  EXPECT_EQ(errors(), 2u) << f.log.Text();
  EXPECT_TRUE(f.log.Contains(LogLevel::kError, "write error(s) in the last")) << f.log.Text();
}

}  // namespace
}  // namespace lplex::journal
