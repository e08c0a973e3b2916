// WriterOptions::on_block_written, JournalWriter::WriteOpenBlock and
// JournalSink::WriteOut: what a cloud relies on before it acknowledges a
// boat's seqs. A notice must name exactly the seqs of a block the file
// system accepted, once, in order — never a block whose write failed — and
// WriteOut must put everything queued before it into the file (which stays
// open), where a reader finds it.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "can/can_id.h"
#include "core/clock.h"
#include "core/file_system.h"
#include "journal/journal_sink.h"
#include "journal/reader.h"
#include "journal/writer.h"
#include "support/temp_dir.h"
#include "writer_test_frame.h"

namespace lplex::journal {
namespace {

using testutil::WFrame;
using lplex::testing::TempDir;
namespace fs = std::filesystem;

constexpr int64_t kT0 = 1'750'000'000'000'000;  // 2025-06-15T15:06:40Z
const uint32_t kId = can::BuildCanId({2, 129025, 10, 255});

using Notice = std::pair<uint64_t, uint64_t>;  // (base_seq, frame_count)

std::vector<uint8_t> Data(uint64_t seq) {
  return {static_cast<uint8_t>(seq), static_cast<uint8_t>(seq >> 8), 0x11, 0x22, 0x33, 0x44, 0x55, 0x66};
}

can::Frame FrameFor(uint64_t seq, const std::vector<uint8_t>& data, int64_t t = 0) {
  return WFrame(t != 0 ? t : kT0 + static_cast<int64_t>(seq) * 1000, kId, seq, data);
}

// A writer in a temp dir whose notices, rotations and open-file changes are recorded.
struct Rig {
  TempDir dir;
  FakeClock clock{kT0, 1};
  FaultInjectingFileSystem faulty{FileSystem::Default()};
  std::vector<Notice> notices;
  std::vector<std::string> rotated;
  std::unique_ptr<JournalWriter> writer;

  WriterOptions Options(Compression c = Compression::kNone) {
    WriterOptions o;
    o.dir = dir.path() + "/journal";
    o.block_size = 4096;
    o.compression = c;
    o.flush_interval_us = 1'000'000;
    o.fs = &faulty;
    o.clock = &clock;
    o.on_block_written = [this](uint64_t base, uint64_t n) { notices.emplace_back(base, n); };
    o.on_rotate = [this](const RotatedFile& f) { rotated.push_back(f.path); };
    return o;
  }
  void Make(Compression c = Compression::kNone) {
    auto w = JournalWriter::Create(Options(c));
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    writer = std::move(w).value();
  }
  Status Append(uint64_t seq, int64_t t = 0) { return writer->Append(FrameFor(seq, Data(seq), t)); }

  std::vector<std::string> Files() const {
    std::vector<std::string> out;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(dir.path() + "/journal", ec)) out.push_back(e.path().string());
    std::sort(out.begin(), out.end());
    return out;
  }
};

// Every frame a reader finds in `path`, as seqs, checking time and data on the way.
std::vector<uint64_t> ReadSeqs(const std::string& path) {
  std::vector<uint64_t> out;
  auto r = JournalReader::OpenPath(path);
  EXPECT_TRUE(r.ok()) << path << ": " << r.status().ToString();
  if (!r.ok()) return out;
  while ((*r)->Next()) {
    const can::Frame& f = (*r)->frame();
    EXPECT_EQ(f.timestamp_us, kT0 + static_cast<int64_t>(f.seq) * 1000) << "seq " << f.seq;
    const std::vector<uint8_t> want = Data(f.seq);
    EXPECT_TRUE(std::equal(f.data.begin(), f.data.end(), want.begin(), want.end())) << "seq " << f.seq;
    out.push_back(f.seq);
  }
  EXPECT_TRUE((*r)->status().ok()) << (*r)->status().ToString();
  return out;
}

// The (base seq, frame count) of every block of `path`, as a reader sees them.
std::vector<Notice> BlocksOf(const std::string& path) {
  std::vector<Notice> out;
  auto r = JournalReader::OpenPath(path);
  EXPECT_TRUE(r.ok()) << path << ": " << r.status().ToString();
  if (!r.ok()) return out;
  for (uint64_t n = 0; n < (*r)->block_count(); ++n) {
    auto info = (*r)->InspectBlock(n);
    EXPECT_TRUE(info.ok()) << info.status().ToString();
    if (info.ok()) out.emplace_back(info->base_seq, info->frame_count);
  }
  return out;
}

std::vector<uint64_t> Range(uint64_t first, uint64_t end) {
  std::vector<uint64_t> v;
  for (uint64_t s = first; s < end; ++s) v.push_back(s);
  return v;
}

// --- JournalWriter ----------------------------------------------------------

TEST(BlockWrittenNotice, FullBlocksAreReportedInOrderWithExactlyTheSeqsTheyHold) {
  for (Compression c : {Compression::kNone, Compression::kZstd}) {
    SCOPED_TRACE(CompressionName(c));
    Rig rig;
    rig.Make(c);
    for (uint64_t seq = 1; seq <= 1000; ++seq) ASSERT_TRUE(rig.Append(seq).ok());
    ASSERT_GE(rig.notices.size(), 3u) << "1000 frames fill several 4 KiB blocks before Close";
    ASSERT_TRUE(rig.writer->Close().ok());
    ASSERT_EQ(rig.Files().size(), 1u);
    // The notices are the file's blocks, one each, in order: contiguous seq ranges covering 1..1000.
    EXPECT_EQ(rig.notices, BlocksOf(rig.Files()[0]));
    uint64_t next = 1;
    for (const Notice& n : rig.notices) {
      EXPECT_EQ(n.first, next);
      EXPECT_GT(n.second, 0u);
      next = n.first + n.second;
    }
    EXPECT_EQ(next, 1001u);
    EXPECT_EQ(rig.writer->stats().blocks_written, rig.notices.size());
  }
}

TEST(BlockWrittenNotice, ABlockEndedBySeqBreakIsReportedWithItsOwnRange) {
  Rig rig;
  rig.Make();
  for (uint64_t seq = 1; seq <= 10; ++seq) ASSERT_TRUE(rig.Append(seq).ok());
  EXPECT_TRUE(rig.notices.empty()) << "the block is still open";
  for (uint64_t seq = 500; seq <= 504; ++seq) ASSERT_TRUE(rig.Append(seq).ok());
  EXPECT_EQ(rig.writer->stats().seq_break_blocks, 1u);
  EXPECT_EQ(rig.notices, (std::vector<Notice>{{1, 10}}));
  ASSERT_TRUE(rig.writer->Close().ok());
  EXPECT_EQ(rig.notices, (std::vector<Notice>{{1, 10}, {500, 5}}));
}

TEST(BlockWrittenNotice, AStreamWithoutSeqsIsReportedWithBaseSeqZero) {
  Rig rig;
  rig.Make();
  const std::vector<uint8_t> data(8, 0x5A);
  for (int i = 0; i < 7; ++i) ASSERT_TRUE(rig.writer->Append(WFrame(kT0 + i * 1000, kId, 0, data)).ok());
  ASSERT_TRUE(rig.writer->Close().ok());
  EXPECT_EQ(rig.notices, (std::vector<Notice>{{0, 7}}));
}

TEST(BlockWrittenNotice, ATimedFlushReportsTheBlockWhenTickWritesIt) {
  Rig rig;
  rig.Make();
  for (uint64_t seq = 1; seq <= 3; ++seq) ASSERT_TRUE(rig.Append(seq).ok());
  ASSERT_TRUE(rig.writer->Tick(rig.clock.NowMicros() + 500'000).ok());
  EXPECT_TRUE(rig.notices.empty()) << "flush_interval (1 s) has not passed";
  ASSERT_TRUE(rig.writer->Tick(rig.clock.NowMicros() + 1'000'000).ok());
  EXPECT_EQ(rig.writer->stats().timed_flushes, 1u);
  EXPECT_EQ(rig.notices, (std::vector<Notice>{{1, 3}}));
  EXPECT_TRUE(rig.rotated.empty()) << "a timed flush does not finish the file";
  ASSERT_TRUE(rig.writer->Close().ok());
  EXPECT_EQ(rig.notices, (std::vector<Notice>{{1, 3}})) << "Close has no block left to report";
}

TEST(BlockWrittenNotice, CloseReportsTheLastPartialBlockBeforeOnRotate) {
  Rig rig;
  WriterOptions o = rig.Options();
  std::vector<std::string> order;
  o.on_block_written = [&](uint64_t base, uint64_t n) { order.push_back(fmt::format("block {}+{}", base, n)); };
  o.on_rotate = [&](const RotatedFile&) { order.push_back("rotate"); };
  auto w = JournalWriter::Create(o);
  ASSERT_TRUE(w.ok());
  const std::vector<uint8_t> data = Data(7);
  for (uint64_t seq = 7; seq <= 11; ++seq) ASSERT_TRUE((*w)->Append(FrameFor(seq, data)).ok());
  EXPECT_TRUE(order.empty());
  ASSERT_TRUE((*w)->Close().ok());
  EXPECT_EQ(order, (std::vector<std::string>{"block 7+5", "rotate"}));
}

TEST(BlockWrittenNotice, AFailedCreateReportsNothingAndTheRetryReportsTheBlockOnce) {
  Rig rig;
  rig.Make();
  rig.faulty.FailCreates(EACCES);
  for (uint64_t seq = 1; seq <= 20; ++seq) ASSERT_TRUE(rig.Append(seq).ok());
  Status s = rig.writer->WriteOpenBlock();
  EXPECT_FALSE(s.ok());
  EXPECT_TRUE(rig.notices.empty()) << "the block never reached the disk";
  EXPECT_FALSE(rig.writer->WriteOpenBlock().ok()) << "still failing";
  EXPECT_TRUE(rig.notices.empty());
  EXPECT_EQ(rig.writer->stats().frames_on_disk, 0u);

  rig.faulty.Heal();
  ASSERT_TRUE(rig.writer->WriteOpenBlock().ok());
  EXPECT_EQ(rig.notices, (std::vector<Notice>{{1, 20}}));
  ASSERT_TRUE(rig.writer->Close().ok());
  EXPECT_EQ(rig.notices, (std::vector<Notice>{{1, 20}})) << "the retried block is reported once";
  ASSERT_EQ(rig.Files().size(), 1u);
  EXPECT_EQ(ReadSeqs(rig.Files()[0]), Range(1, 21));
}

TEST(BlockWrittenNotice, AShortWriteReportsNothingAndTheRetryIntoANewFileReportsTheBlock) {
  Rig rig;
  rig.Make();
  for (uint64_t seq = 1; seq <= 10; ++seq) ASSERT_TRUE(rig.Append(seq).ok());
  ASSERT_TRUE(rig.writer->WriteOpenBlock().ok());
  ASSERT_EQ(rig.notices, (std::vector<Notice>{{1, 10}}));
  for (uint64_t seq = 11; seq <= 30; ++seq) ASSERT_TRUE(rig.Append(seq).ok());
  rig.faulty.FailWritesAfter(100, ENOSPC);  // the next block gets 100 bytes in, then the disk is full
  EXPECT_FALSE(rig.writer->WriteOpenBlock().ok());
  EXPECT_EQ(rig.notices, (std::vector<Notice>{{1, 10}})) << "the cut-off block is not reported";
  EXPECT_EQ(rig.rotated.size(), 1u) << "the file that failed was finished as it stands";

  rig.faulty.Heal();
  ASSERT_TRUE(rig.Append(31).ok()) << "Append writes the pending block first";
  EXPECT_EQ(rig.notices, (std::vector<Notice>{{1, 10}, {11, 20}}));
  ASSERT_TRUE(rig.writer->Close().ok());
  EXPECT_EQ(rig.notices, (std::vector<Notice>{{1, 10}, {11, 20}, {31, 1}}));

  // What was reported is what readers find, each seq once.
  std::vector<uint64_t> all;
  for (const std::string& p : rig.Files()) {
    std::vector<uint64_t> part = ReadSeqs(p);
    all.insert(all.end(), part.begin(), part.end());
  }
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all, Range(1, 32));
}

TEST(BlockWrittenNotice, WriteOpenBlockWithNoOpenBlockIsOkAndReportsNothing) {
  Rig rig;
  rig.Make();
  EXPECT_TRUE(rig.writer->WriteOpenBlock().ok());
  EXPECT_TRUE(rig.notices.empty());
  EXPECT_TRUE(rig.Files().empty()) << "a writer that saw no frame creates no file";
  EXPECT_EQ(rig.writer->current_path(), "");

  for (uint64_t seq = 1; seq <= 4; ++seq) ASSERT_TRUE(rig.Append(seq).ok());
  ASSERT_TRUE(rig.writer->WriteOpenBlock().ok());
  ASSERT_TRUE(rig.writer->WriteOpenBlock().ok()) << "the block was just written: nothing is open";
  EXPECT_EQ(rig.notices, (std::vector<Notice>{{1, 4}}));
  EXPECT_EQ(rig.writer->stats().blocks_written, 1u);
}

TEST(BlockWrittenNotice, WriteOpenBlockKeepsTheFileOpenAndTheNextFrameStartsANewBlock) {
  Rig rig;
  rig.Make(Compression::kZstd);
  for (uint64_t seq = 1; seq <= 5; ++seq) ASSERT_TRUE(rig.Append(seq).ok());
  ASSERT_TRUE(rig.writer->WriteOpenBlock().ok());
  EXPECT_TRUE(rig.rotated.empty());
  ASSERT_NE(rig.writer->current_path(), "");
  // A reader of the open file already finds the frames (no index yet: it scans).
  EXPECT_EQ(ReadSeqs(rig.writer->current_path()), Range(1, 6));

  for (uint64_t seq = 6; seq <= 8; ++seq) ASSERT_TRUE(rig.Append(seq).ok());
  ASSERT_TRUE(rig.writer->Close().ok());
  EXPECT_EQ(rig.notices, (std::vector<Notice>{{1, 5}, {6, 3}}));
  ASSERT_EQ(rig.Files().size(), 1u) << "one file, two blocks";
  EXPECT_EQ(BlocksOf(rig.Files()[0]), rig.notices);
  EXPECT_EQ(rig.rotated.size(), 1u);
}

// A cloud writes out a partial block before every acknowledgement, so its
// blocks may never fill up; rotation ("after any block is written, when the
// file reached rotate_size bytes or rotate_count frames") must still happen.
TEST(BlockWrittenNotice, BlocksWrittenByWriteOpenBlockStillRotateAtRotateSize) {
  Rig rig;
  WriterOptions o = rig.Options();
  o.rotate_size = 3 * 4096;  // uncompressed: the file header and three blocks pass it
  auto w = JournalWriter::Create(o);
  ASSERT_TRUE(w.ok());
  uint64_t seq = 1;
  for (int round = 0; round < 10; ++round) {
    for (int i = 0; i < 5; ++i, ++seq) {
      const std::vector<uint8_t> d = Data(seq);
      ASSERT_TRUE((*w)->Append(FrameFor(seq, d)).ok());
    }
    ASSERT_TRUE((*w)->WriteOpenBlock().ok());
  }
  EXPECT_EQ(rig.notices.size(), 10u);
  EXPECT_GE(rig.rotated.size(), 2u) << "10 blocks of 4 KiB with rotate_size 12 KiB, but the file grew to "
                                    << (*w)->stats().bytes_written << " bytes unrotated";
  ASSERT_TRUE((*w)->Close().ok());
  EXPECT_GE(rig.Files().size(), 3u);
}

TEST(BlockWrittenNotice, BlocksWrittenByWriteOpenBlockStillRotateAtRotateCount) {
  Rig rig;
  WriterOptions o = rig.Options();
  o.rotate_count = 12;
  auto w = JournalWriter::Create(o);
  ASSERT_TRUE(w.ok());
  uint64_t seq = 1;
  for (int round = 0; round < 10; ++round) {
    for (int i = 0; i < 5; ++i, ++seq) {
      const std::vector<uint8_t> d = Data(seq);
      ASSERT_TRUE((*w)->Append(FrameFor(seq, d)).ok());
    }
    ASSERT_TRUE((*w)->WriteOpenBlock().ok());
  }
  ASSERT_TRUE((*w)->Close().ok());
  EXPECT_GE(rig.Files().size(), 3u) << "50 frames with rotate_count 12";
}

// --- JournalSink::WriteOut --------------------------------------------------

struct SinkRig : Rig {
  std::shared_ptr<JournalSink> sink;

  void MakeSink(Compression c = Compression::kNone) {
    Make(c);
    if (!writer) return;
    SinkOptions so;
    so.clock = &clock;
    auto s = JournalSink::Create(std::move(writer), so);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    sink = std::move(s).value();
  }
  void Offer(uint64_t first, uint64_t end) {
    for (uint64_t seq = first; seq < end; ++seq) {
      const std::vector<uint8_t> d = Data(seq);
      ASSERT_TRUE(sink->Offer(FrameFor(seq, d)));
    }
  }
};

TEST(SinkWriteOut, WritesEveryQueuedFrameAndThePartialBlockWhileTheFileStaysOpen) {
  SinkRig rig;
  rig.MakeSink(Compression::kZstd);
  rig.Offer(1, 601);  // several blocks, the last one partial; no runner has serviced anything
  ASSERT_TRUE(rig.sink->WriteOut().ok());

  ASSERT_FALSE(rig.notices.empty());
  EXPECT_EQ(rig.notices.back().first + rig.notices.back().second, 601u) << "the partial block was written too";
  const SinkMetrics m = rig.sink->metrics();
  EXPECT_EQ(m.frames_on_disk, 600u);
  EXPECT_EQ(m.queue_depth, 0u);
  EXPECT_EQ(m.files_finished, 0u) << "the file stays open";
  EXPECT_TRUE(rig.rotated.empty()) << "on_rotate must not fire for WriteOut";
  EXPECT_FALSE(rig.sink->closed());

  const std::vector<std::string> files = rig.Files();
  ASSERT_EQ(files.size(), 1u);
  EXPECT_EQ(ReadSeqs(files[0]), Range(1, 601));
  EXPECT_EQ(BlocksOf(files[0]), rig.notices);

  // The sink goes on writing into the same file; Close finishes it.
  rig.Offer(601, 611);
  ASSERT_TRUE(rig.sink->WriteOut().ok());
  EXPECT_EQ(rig.notices.back(), (Notice{601, 10}));
  EXPECT_EQ(rig.Files().size(), 1u);
  ASSERT_TRUE(rig.sink->Close().status.ok());
  EXPECT_EQ(rig.rotated.size(), 1u);
  EXPECT_EQ(ReadSeqs(rig.Files()[0]), Range(1, 611));
}

TEST(SinkWriteOut, WithNothingQueuedIsOkAndCreatesNoFile) {
  SinkRig rig;
  rig.MakeSink();
  EXPECT_TRUE(rig.sink->WriteOut().ok());
  EXPECT_TRUE(rig.notices.empty());
  EXPECT_TRUE(rig.Files().empty());
}

TEST(SinkWriteOut, AfterCloseIsOkAndWritesNothing) {
  SinkRig rig;
  rig.MakeSink();
  rig.Offer(1, 11);
  ASSERT_TRUE(rig.sink->Close().status.ok());
  const std::vector<Notice> at_close = rig.notices;
  EXPECT_EQ(at_close, (std::vector<Notice>{{1, 10}}));
  EXPECT_EQ(rig.rotated.size(), 1u);

  EXPECT_TRUE(rig.sink->WriteOut().ok());
  EXPECT_TRUE(rig.sink->WriteOut().ok());
  EXPECT_EQ(rig.notices, at_close);
  EXPECT_EQ(rig.rotated.size(), 1u) << "no file reopened or finished again";
  EXPECT_EQ(rig.Files().size(), 1u);
}

TEST(SinkWriteOut, ReturnsTheWriteErrorAndALaterWriteOutWritesThePendingBlock) {
  SinkRig rig;
  rig.MakeSink();
  rig.faulty.FailCreates(EACCES);
  rig.Offer(1, 21);
  Status s = rig.sink->WriteOut();
  EXPECT_EQ(s.code(), Status::Code::kIOError) << s.ToString();
  EXPECT_TRUE(rig.notices.empty());
  EXPECT_EQ(rig.sink->metrics().frames_on_disk, 0u);
  EXPECT_FALSE(rig.sink->last_error().ok());

  rig.faulty.Heal();
  ASSERT_TRUE(rig.sink->WriteOut().ok());
  EXPECT_EQ(rig.notices, (std::vector<Notice>{{1, 20}}));
  EXPECT_EQ(rig.sink->metrics().frames_on_disk, 20u);
  EXPECT_EQ(rig.sink->metrics().frames_lost, 0u) << "the frames were in the pending block, not lost";
  ASSERT_TRUE(rig.sink->Close().status.ok());
  ASSERT_EQ(rig.Files().size(), 1u);
  EXPECT_EQ(ReadSeqs(rig.Files()[0]), Range(1, 21));
}

TEST(SinkWriteOut, FramesOfferedBeforeTheCallAreOnDiskWhileARunnerServesTheSinkConcurrently) {
  SinkRig rig;
  rig.MakeSink();
  SinkRunner runner(SinkRunnerOptions{.poll_interval_us = 1000});
  runner.Add(rig.sink);
  runner.Start();
  uint64_t next = 1;
  for (int round = 0; round < 20; ++round) {
    rig.Offer(next, next + 37);
    next += 37;
    ASSERT_TRUE(rig.sink->WriteOut().ok());
    // Everything offered so far is on disk now, whoever wrote it.
    EXPECT_EQ(rig.sink->metrics().frames_on_disk, next - 1) << "round " << round;
  }
  runner.Stop();
  ASSERT_TRUE(rig.sink->Close().status.ok());
  ASSERT_EQ(rig.Files().size(), 1u);
  EXPECT_EQ(ReadSeqs(rig.Files()[0]), Range(1, next));
  uint64_t covered = 1;
  for (const Notice& n : rig.notices) {
    EXPECT_EQ(n.first, covered);
    covered = n.first + n.second;
  }
  EXPECT_EQ(covered, next);
}

}  // namespace
}  // namespace lplex::journal
