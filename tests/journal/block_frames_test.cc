// ForEachBlockFrame (walking a verified block's frames) and BlockWriter's
// two-step append (CheckBlock, then AppendCheckedBlock): what the cloud uses
// to look inside a backfill block before it keeps it.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>
#include <string>
#include <vector>

#include "can/can_id.h"
#include "core/file_system.h"
#include "journal/block_decoder.h"
#include "journal/block_writer.h"
#include "journal/format.h"
#include "journal/reader.h"
#include "journal/stored_blocks.h"
#include "journal/writer.h"
#include "journal_test_util.h"
#include "support/temp_dir.h"
#include "writer_test_frame.h"

namespace lplex::journal {
namespace {

using lplex::testing::TempDir;
using testutil::WFrame;
namespace fs = std::filesystem;

constexpr int64_t kT0 = 1'750'000'000'000'000;
constexpr uint32_t kBlockSize = 4096;

// A frame as a test compares it (can::Frame's data only lives for a call).
struct Seen {
  int64_t time;  // as read back
  can::CanHeader header;
  uint64_t seq;
  std::vector<uint8_t> data;
  int64_t written_time = 0;  // as given to the writer (VariedFrames)
};

bool SameHeader(const can::CanHeader& a, const can::CanHeader& b) {
  return a.priority == b.priority && a.pgn == b.pgn && a.source == b.source && a.destination == b.destination;
}

// With `as_written`, `want` are the frames given to the writer: a frame it
// clamped reads back at want.time (the latest time before it in its block),
// or at its own time when it starts a block.
void ExpectSame(const std::vector<Seen>& got, const std::vector<Seen>& want, bool as_written = false) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    SCOPED_TRACE(::testing::Message() << "frame " << i);
    if (as_written && got[i].time == want[i].written_time) {
      // a clamped frame that started a block
    } else {
      EXPECT_EQ(got[i].time, want[i].time);
    }
    EXPECT_TRUE(SameHeader(got[i].header, want[i].header))
        << "pgn " << got[i].header.pgn << " vs " << want[i].header.pgn << ", src " << int{got[i].header.source}
        << " vs " << int{want[i].header.source} << ", dst " << int{got[i].header.destination} << " vs "
        << int{want[i].header.destination};
    EXPECT_EQ(got[i].seq, want[i].seq);
    EXPECT_EQ(got[i].data, want[i].data);
  }
}

// Frames unlike each other in every field the walk reports: PDU1 and PDU2
// headers, priorities, payloads of 0..223 bytes (standard and extended
// records), irregular time steps and, every fifth frame, a step back of
// 300 us, which the writer clamps (delta 0: it reads back at the latest
// time before it, or its own time when it starts a block).
std::vector<Seen> VariedFrames(uint64_t first_seq, int n) {
  static const uint32_t kPgns[] = {129025, 59904, 126996, 127250, 130306, 129026};
  std::vector<Seen> out;
  int64_t latest = kT0;
  for (int i = 0; i < n; ++i) {
    Seen s;
    const uint32_t pgn = kPgns[i % 6];
    s.header = {static_cast<uint8_t>(i % 8), pgn, static_cast<uint8_t>(i % 251),
                static_cast<uint8_t>(can::IsPdu1(pgn) ? (i * 13) % 256 : 255)};
    if (i > 0 && i % 5 == 4) {
      s.written_time = latest - 300;
    } else {
      if (i > 0) latest += 1 + (i * 37) % 5000;
      s.written_time = latest;
    }
    s.time = latest;
    s.seq = first_seq + static_cast<uint64_t>(i);
    const size_t len = (i % 7 == 0) ? 0 : (i % 7 == 1 ? 223 : (i % 3 == 0 ? 8 : static_cast<size_t>(i % 12)));
    for (size_t k = 0; k < len; ++k) s.data.push_back(static_cast<uint8_t>(i * 31 + k));
    out.push_back(std::move(s));
  }
  return out;
}

// Writes `frames` with a JournalWriter into one file of `dir` and returns its path.
std::string WriteJournal(const std::string& dir, Compression c, const std::vector<Seen>& frames) {
  WriterOptions o;
  o.dir = dir;
  o.block_size = kBlockSize;
  o.compression = c;
  auto w = JournalWriter::Create(o);
  EXPECT_TRUE(w.ok()) << w.status().ToString();
  for (const Seen& f : frames) {
    Status s = (*w)->Append(can::Frame{.timestamp_us = f.written_time, .header = f.header, .data = f.data, .seq = f.seq});
    EXPECT_TRUE(s.ok()) << s.ToString();
  }
  EXPECT_TRUE((*w)->Close().ok());
  EXPECT_EQ((*w)->stats().time_break_blocks, 0u);
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir)) files.push_back(e.path().string());
  EXPECT_EQ(files.size(), 1u);
  return files.empty() ? "" : files[0];
}

// Options for a BlockWriter of kBlockSize blocks into `dir`.
BlockWriterOptions BwOptions(const std::string& dir, uint64_t rotate_size = 0) {
  BlockWriterOptions o;
  o.dir = dir;
  o.block_size = kBlockSize;
  o.rotate_size = rotate_size;
  return o;
}

// A vector block at kT0 holding `frames`.
testutil::VectorBlock VBlock(uint64_t base_seq, std::vector<testutil::VectorFrame> frames = {}) {
  testutil::VectorBlock vb;
  vb.base_time_us = kT0;
  vb.base_seq = base_seq;
  vb.frames = std::move(frames);
  return vb;
}

std::vector<Seen> ReadWithReader(const std::string& path) {
  std::vector<Seen> out;
  auto r = JournalReader::OpenPath(path);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  while ((*r)->Next()) {
    const can::Frame& f = (*r)->frame();
    out.push_back({f.timestamp_us, f.header, f.seq, {f.data.begin(), f.data.end()}});
  }
  EXPECT_TRUE((*r)->status().ok()) << (*r)->status().ToString();
  return out;
}

// Appends every frame of `block` to `out`; returns the walk's status.
Status Walk(std::span<const uint8_t> block, const BlockLayout& layout, std::vector<Seen>* out) {
  return ForEachBlockFrame(block, layout, [&](const can::Frame& f) {
    out->push_back({f.timestamp_us, f.header, f.seq, {f.data.begin(), f.data.end()}});
  });
}

// Every frame of every block of `path`, decoded with BlockWriter::CheckBlock
// (blocks as a backfill Block carries them) and walked with ForEachBlockFrame.
std::vector<Seen> WalkThroughCheckBlock(const std::string& path, const std::string& scratch_dir) {
  std::vector<Seen> out;
  auto r = StoredBlockReader::OpenPath(path);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  auto bw = BlockWriter::Create(BwOptions(scratch_dir));
  EXPECT_TRUE(bw.ok()) << bw.status().ToString();
  for (uint64_t n = 0; n < (*r)->block_count(); ++n) {
    auto b = (*r)->ReadBackfillBlock(n);
    EXPECT_TRUE(b.ok()) << b.status().ToString();
    if (!b.ok()) break;
    BlockWriter::CheckedBlock checked;
    Status s = (*bw)->CheckBlock(b->base_seq, b->base_time_us, b->compressed ? Compression::kZstd : Compression::kNone,
                                 b->data, {}, &checked);
    EXPECT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(checked.block.size(), kBlockSize);
    EXPECT_EQ(checked.layout.frame_count, b->frame_count);
    const size_t before = out.size();
    s = Walk(checked.block, checked.layout, &out);
    EXPECT_TRUE(s.ok()) << "block " << n << ": " << s.ToString();
    EXPECT_EQ(out.size() - before, b->frame_count) << "block " << n;
    if (out.size() > before) {
      EXPECT_EQ(out.back().time, b->last_time_us) << "block " << n;
    }
  }
  return out;
}

TEST(BlockFrames, WalkOfUncompressedBlocksYieldsWhatTheWriterWrote) {
  TempDir d;
  const std::vector<Seen> frames = VariedFrames(100, 400);
  const std::string path = WriteJournal(d.Sub("j"), Compression::kNone, frames);
  ASSERT_GT(StoredBlockReader::OpenPath(path).value()->block_count(), 3u) << "the frames span several blocks";
  const std::vector<Seen> walked = WalkThroughCheckBlock(path, d.Sub("scratch"));
  ExpectSame(walked, frames, /*as_written=*/true);
  ExpectSame(walked, ReadWithReader(path));
}

TEST(BlockFrames, WalkOfZstdBlocksYieldsWhatTheWriterWrote) {
  TempDir d;
  const std::vector<Seen> frames = VariedFrames(7, 400);
  const std::string path = WriteJournal(d.Sub("j"), Compression::kZstd, frames);
  const std::vector<Seen> walked = WalkThroughCheckBlock(path, d.Sub("scratch"));
  ExpectSame(walked, frames, /*as_written=*/true);
  ExpectSame(walked, ReadWithReader(path));
}

TEST(BlockFrames, WalkOfBlocksDecodedWithZstdBlockDecompressorYieldsWhatTheWriterWrote) {
  for (Compression c : {Compression::kZstd, Compression::kZstdDict}) {
    SCOPED_TRACE(CompressionName(c));
    TempDir d;
    const std::vector<Seen> frames = VariedFrames(1, 300);
    const std::string path = WriteJournal(d.Sub("j"), c, frames);
    auto r = StoredBlockReader::OpenPath(path);
    ASSERT_TRUE(r.ok());
    ZstdBlockDecompressor dec;
    std::vector<uint8_t> block(kBlockSize);
    std::vector<Seen> walked;
    for (uint64_t n = 0; n < (*r)->block_count(); ++n) {
      auto v = (*r)->ReadVerifiedBlock(n);
      ASSERT_TRUE(v.ok()) << v.status().ToString();
      ASSERT_TRUE(dec.Decompress(v->payload, v->dictionary, block, n, v->meta.offset).ok());
      BlockLayout layout;
      ASSERT_TRUE(VerifyBlock(block, kVersion2, n, v->meta.offset, &layout).ok());
      Status s = Walk(block, layout, &walked);
      ASSERT_TRUE(s.ok()) << s.ToString();
    }
    ExpectSame(walked, frames, /*as_written=*/true);
  }
}

TEST(BlockFrames, ABlockWithoutFramesYieldsNothing) {
  const testutil::Bytes block = testutil::BuildVectorBlock(2, kBlockSize, VBlock(9));
  BlockLayout layout;
  ASSERT_TRUE(VerifyBlock(block, kVersion2, 0, 0, &layout).ok());
  std::vector<Seen> walked;
  EXPECT_TRUE(Walk(block, layout, &walked).ok());
  EXPECT_TRUE(walked.empty());
}

// A vector block: three good records, then one whose extended length runs
// past the device table.
testutil::Bytes BlockWithCutOffFourthRecord(uint64_t base_seq) {
  testutil::VectorBlock vb;
  vb.base_time_us = kT0;
  vb.base_seq = base_seq;
  vb.frames = testutil::VectorFrames(0, 3, 1000);
  testutil::Bytes bad;
  testutil::PutUvarint(bad, 5);                                       // delta
  testutil::PutLE(bad, testutil::VectorCanId(2, 129025, 10), 4);      // extended form
  testutil::PutUvarint(bad, 5000);                                    // length > what is left
  vb.raw_after_frames = bad;
  vb.frame_count = 5;
  return testutil::BuildVectorBlock(2, kBlockSize, vb);
}

TEST(BlockFrames, ACutOffRecordEndsTheWalkWithCorruptionNamingItAfterTheFramesBeforeIt) {
  const testutil::Bytes block = BlockWithCutOffFourthRecord(40);
  BlockLayout layout;
  ASSERT_TRUE(VerifyBlock(block, kVersion2, 0, 0, &layout).ok());
  std::vector<Seen> walked;
  Status s = Walk(block, layout, &walked);
  EXPECT_EQ(s.code(), Status::Code::kCorruption) << s.ToString();
  EXPECT_NE(s.message().find("frame record 3 of 5"), std::string::npos) << s.ToString();
  size_t fourth_at = kBlockDataOffsetV2;
  for (const testutil::VectorFrame& f : testutil::VectorFrames(0, 3, 1000)) fourth_at += testutil::EncodeVectorFrame(f).size();
  EXPECT_NE(s.message().find(fmt::format("block offset {}", fourth_at)), std::string::npos) << s.ToString();
  ASSERT_EQ(walked.size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_EQ(walked[i].seq, 40 + i);
    EXPECT_EQ(walked[i].time, kT0 + static_cast<int64_t>(i) * 1000);
    EXPECT_EQ(walked[i].data, testutil::VectorPayload(static_cast<uint32_t>(i)));
  }

  // The reader delivers the same three frames from this block.
  testutil::VectorJournal j(2, kBlockSize, Compression::kNone);
  j.Append(block);
  auto r = JournalReader::Open(j.File());
  ASSERT_TRUE(r.ok());
  size_t read = 0;
  while ((*r)->Next()) ++read;
  EXPECT_EQ(read, walked.size());
}

TEST(BlockFrames, ATimeOverflowEndsTheWalkWithCorruptionNamingTheRecord) {
  testutil::VectorBlock vb;
  vb.base_time_us = kMaxTimestampUs - 10;
  vb.base_seq = 1;
  vb.frames = testutil::VectorFrames(0, 4, 5);
  vb.frames[2].delta_us = 1'000'000;  // frame 2 would leave year 9999
  const testutil::Bytes block = testutil::BuildVectorBlock(2, kBlockSize, vb);
  BlockLayout layout;
  ASSERT_TRUE(VerifyBlock(block, kVersion2, 0, 0, &layout).ok());
  std::vector<Seen> walked;
  Status s = Walk(block, layout, &walked);
  EXPECT_EQ(s.code(), Status::Code::kCorruption) << s.ToString();
  EXPECT_NE(s.message().find("frame record 2 of 4"), std::string::npos) << s.ToString();
  EXPECT_EQ(walked.size(), 2u);
}

TEST(BlockFrames, ASeqThatWouldWrapEndsTheWalkAtTheFrameThatWraps) {
  testutil::VectorBlock vb;
  vb.base_time_us = kT0;
  vb.base_seq = UINT64_MAX - 1;
  vb.frames = testutil::VectorFrames(0, 4, 1000);
  const testutil::Bytes block = testutil::BuildVectorBlock(2, kBlockSize, vb);
  BlockLayout layout;
  ASSERT_TRUE(VerifyBlock(block, kVersion2, 0, 0, &layout).ok());
  std::vector<Seen> walked;
  Status s = Walk(block, layout, &walked);
  EXPECT_EQ(s.code(), Status::Code::kCorruption) << s.ToString();
  EXPECT_NE(s.message().find("frame record 2"), std::string::npos) << s.ToString();
  ASSERT_EQ(walked.size(), 2u);
  EXPECT_EQ(walked[1].seq, UINT64_MAX);
}

TEST(BlockFrames, ALayoutThatDoesNotFitTheBlockIsInvalidArgumentAndYieldsNothing) {
  const testutil::Bytes block =
      testutil::BuildVectorBlock(2, kBlockSize, VBlock(1, testutil::VectorFrames(0, 3, 1000)));
  BlockLayout good;
  ASSERT_TRUE(VerifyBlock(block, kVersion2, 0, 0, &good).ok());
  int calls = 0;
  auto count = [&](const can::Frame&) { ++calls; };

  BlockLayout past_end = good;
  past_end.device_table_offset = kBlockSize + 1;
  Status s = ForEachBlockFrame(block, past_end, count);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find(std::to_string(kBlockSize)), std::string::npos) << "names the block size: " << s.ToString();

  BlockLayout reversed = good;
  reversed.data_start = good.device_table_offset + 1;
  s = ForEachBlockFrame(block, reversed, count);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << s.ToString();

  // The layout of a 4096-byte block over the first half of it.
  s = ForEachBlockFrame(std::span<const uint8_t>(block).first(kBlockSize / 2), good, count);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << s.ToString();

  s = ForEachBlockFrame({}, good, count);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << s.ToString();
  EXPECT_EQ(calls, 0);
}

// Random bytes under a random layout: the walk may stop anywhere, but never
// reads outside [data_start, device_table_offset), never delivers more than
// frame_count frames and returns only OK, Corruption or InvalidArgument.
// Each block lives in its own exactly-sized allocation so that an
// AddressSanitizer build catches any read past it.
TEST(BlockFrames, RandomBytesUnderARandomLayoutNeverReadOutsideTheFrameArea) {
  std::mt19937_64 rng(20261130);
  int ok = 0, corrupt = 0, invalid = 0;
  for (int iter = 0; iter < 20000; ++iter) {
    const size_t size = rng() % 600;
    std::vector<uint8_t> block(size);
    // Bias toward bytes that parse as records (small varints, plausible lengths).
    const int flavour = iter % 3;
    for (uint8_t& b : block) {
      b = static_cast<uint8_t>(rng());
      if (flavour == 1) b &= 0x0F;
      if (flavour == 2 && (rng() % 4) != 0) b = 0;
    }
    BlockLayout layout;
    layout.base_time_us = static_cast<int64_t>(rng());
    if (iter % 2 == 0) layout.base_time_us = kT0;
    layout.base_seq = (iter % 5 == 0) ? UINT64_MAX - rng() % 8 : rng() % 1000;
    layout.frame_count = static_cast<uint32_t>(iter % 4 == 0 ? rng() : rng() % 64);
    const size_t a = size == 0 ? 0 : rng() % (size + 2);
    const size_t b = size == 0 ? 0 : rng() % (size + 2);
    layout.data_start = static_cast<uint32_t>(iter % 7 == 0 ? std::max(a, b) : std::min(a, b));
    layout.device_table_offset = static_cast<uint32_t>(iter % 7 == 0 ? std::min(a, b) : std::max(a, b));

    const uint8_t* lo = block.data() + std::min<size_t>(layout.data_start, size);
    const uint8_t* hi = block.data() + std::min<size_t>(layout.device_table_offset, size);
    uint64_t delivered = 0;
    int64_t prev_time = INT64_MIN;
    Status s = ForEachBlockFrame(block, layout, [&](const can::Frame& f) {
      if (!f.data.empty()) {
        ASSERT_GE(f.data.data(), lo) << "iteration " << iter;
        ASSERT_LE(f.data.data() + f.data.size(), hi) << "iteration " << iter;
      }
      ASSERT_GE(f.timestamp_us, prev_time) << "iteration " << iter;
      ASSERT_EQ(f.seq, layout.base_seq + delivered) << "iteration " << iter;
      prev_time = f.timestamp_us;
      ++delivered;
    });
    ASSERT_LE(delivered, layout.frame_count) << "iteration " << iter;
    switch (s.code()) {
      case Status::Code::kOk:
        ASSERT_EQ(delivered, layout.frame_count) << "iteration " << iter;
        ++ok;
        break;
      case Status::Code::kCorruption:
        ++corrupt;
        break;
      case Status::Code::kInvalidArgument:
        ASSERT_EQ(delivered, 0u) << "iteration " << iter;
        ++invalid;
        break;
      default:
        FAIL() << "iteration " << iter << ": " << s.ToString();
    }
  }
  // The generator reached every outcome (else this test proves little).
  EXPECT_GT(ok, 100);
  EXPECT_GT(corrupt, 100);
  EXPECT_GT(invalid, 100);
}

// --- BlockWriter::CheckBlock / AppendCheckedBlock ---------------------------

std::vector<uint8_t> FileBytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::vector<std::string> FilesIn(const std::string& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(CheckedBlockAppend, CheckBlockWritesNothingAndOpensNoFile) {
  TempDir d;
  const std::string path = WriteJournal(d.Sub("j"), Compression::kZstd, VariedFrames(1, 300));
  auto r = StoredBlockReader::OpenPath(path);
  ASSERT_TRUE(r.ok());
  int open_changes = 0, rotations = 0;
  BlockWriterOptions o = BwOptions(d.Sub("out"));
  o.on_rotate = [&](const RotatedFile&) { ++rotations; };
  o.on_open_change = [&](const std::string&, bool) { ++open_changes; };
  auto bw = BlockWriter::Create(o);
  ASSERT_TRUE(bw.ok());
  for (uint64_t n = 0; n < (*r)->block_count(); ++n) {
    auto b = (*r)->ReadBackfillBlock(n);
    ASSERT_TRUE(b.ok());
    BlockWriter::CheckedBlock checked;
    ASSERT_TRUE((*bw)->CheckBlock(b->base_seq, b->base_time_us, Compression::kZstd, b->data, {}, &checked).ok());
    EXPECT_EQ(checked.layout.base_seq, b->base_seq);
    EXPECT_EQ(checked.layout.base_time_us, b->base_time_us);
  }
  EXPECT_EQ((*bw)->current_path(), "");
  EXPECT_TRUE(FilesIn(d.Sub("out")).empty());
  EXPECT_EQ(open_changes, 0);
  ASSERT_TRUE((*bw)->Close().ok());
  EXPECT_EQ(rotations, 0) << "nothing was open, so Close finishes nothing";
  EXPECT_EQ((*bw)->files_finished(), 0u);
  EXPECT_TRUE(FilesIn(d.Sub("out")).empty());
}

TEST(CheckedBlockAppend, CheckBlockOfARejectedBlockLeavesTheOutputAlone) {
  TempDir d;
  const std::string path = WriteJournal(d.Sub("j"), Compression::kNone, VariedFrames(1, 50));
  auto r = StoredBlockReader::OpenPath(path);
  ASSERT_TRUE(r.ok());
  auto b = (*r)->ReadBackfillBlock(0);
  ASSERT_TRUE(b.ok());
  auto bw = BlockWriter::Create(BwOptions(d.Sub("out")));
  ASSERT_TRUE(bw.ok());
  BlockWriter::CheckedBlock checked;
  checked.layout.frame_count = 12345;
  Status s = (*bw)->CheckBlock(b->base_seq + 1, b->base_time_us, Compression::kNone, b->data, {}, &checked);
  EXPECT_EQ(s.code(), Status::Code::kInvalidArgument) << s.ToString();
  EXPECT_NE(s.message().find(std::to_string(b->base_seq + 1)), std::string::npos) << s.ToString();
  EXPECT_EQ(checked.layout.frame_count, 12345u) << "*out is only set on OK";
  EXPECT_TRUE(checked.block.empty());
  EXPECT_TRUE(FilesIn(d.Sub("out")).empty());
}

TEST(CheckedBlockAppend, AppendCheckedBlockAfterCheckBlockWritesTheSameFilesAsAppendBlock) {
  for (Compression c : {Compression::kNone, Compression::kZstd}) {
    SCOPED_TRACE(CompressionName(c));
    TempDir d;
    const std::string path = WriteJournal(d.Sub("j"), c, VariedFrames(1, 500));
    auto r = StoredBlockReader::OpenPath(path);
    ASSERT_TRUE(r.ok());
    ASSERT_GT((*r)->block_count(), 2u);
    // Rotation by size too, so both writers must also cut files at the same blocks.
    auto one = BlockWriter::Create(BwOptions(d.Sub("one"), 3 * kBlockSize));
    auto two = BlockWriter::Create(BwOptions(d.Sub("two"), 3 * kBlockSize));
    ASSERT_TRUE(one.ok() && two.ok());
    for (uint64_t n = 0; n < (*r)->block_count(); ++n) {
      auto b = (*r)->ReadBackfillBlock(n);
      ASSERT_TRUE(b.ok());
      const Compression kind = b->compressed ? Compression::kZstd : Compression::kNone;
      ASSERT_TRUE((*one)->AppendBlock(b->base_seq, b->base_time_us, kind, b->data).ok());
      BlockWriter::CheckedBlock checked;
      ASSERT_TRUE((*two)->CheckBlock(b->base_seq, b->base_time_us, kind, b->data, {}, &checked).ok());
      ASSERT_TRUE((*two)->AppendCheckedBlock(b->base_seq, b->base_time_us, kind, b->data).ok());
    }
    ASSERT_TRUE((*one)->Close().ok());
    ASSERT_TRUE((*two)->Close().ok());
    EXPECT_EQ((*one)->files_finished(), (*two)->files_finished());
    const std::vector<std::string> names = FilesIn(d.Sub("one"));
    ASSERT_FALSE(names.empty());
    ASSERT_EQ(names, FilesIn(d.Sub("two")));
    for (const std::string& name : names) {
      EXPECT_EQ(FileBytes(d.Sub("one") + "/" + name), FileBytes(d.Sub("two") + "/" + name)) << name;
    }
    // And the copy reads back as the original.
    std::vector<Seen> copied;
    for (const std::string& name : names) {
      std::vector<Seen> part = ReadWithReader(d.Sub("two") + "/" + name);
      copied.insert(copied.end(), part.begin(), part.end());
    }
    ExpectSame(copied, ReadWithReader(path));
  }
}

}  // namespace
}  // namespace lplex::journal
