// JournalReader behaviour: header checks, timestamps, seqs, frame-level
// damage, skipping bad blocks, device tables.
#include "journal/reader.h"

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <string>

#include "journal_test_util.h"

namespace lplex::journal {
namespace {

using namespace testutil;  // NOLINT: test vectors

constexpr uint32_t kBlockSize = 4096;

std::unique_ptr<JournalReader> OpenOrDie(const VectorJournal& j) {
  auto r = JournalReader::Open(j.File(), "test.lpj");
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : nullptr;
}

Status OpenError(const Bytes& bytes) {
  auto r = JournalReader::Open(std::make_unique<MemoryFile>(bytes), "x.lpj");
  return r.ok() ? Status::Ok() : r.status();
}

bool Contains(const Status& s, const std::string& what) { return s.message().find(what) != std::string::npos; }

// ---------------------------------------------------------------------------
// File header (§1.2), checked in order

TEST(ReaderHeader, ShortFile) {
  Status s = OpenError(Bytes{'L', 'P', 'J', 2, 0});
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(Contains(s, "read journal header")) << s.ToString();
  EXPECT_TRUE(Contains(s, "x.lpj")) << s.ToString();
}

TEST(ReaderHeader, BadMagic) {
  Bytes h = VectorFileHeader(2, kBlockSize, 0);
  h[2] = 'K';
  Status s = OpenError(h);
  EXPECT_TRUE(Contains(s, "not a journal file (bad magic)")) << s.ToString();
}

TEST(ReaderHeader, UnsupportedVersion) {
  for (uint8_t v : {0, 3, 255}) {
    Status s = OpenError(VectorFileHeader(v, kBlockSize, 0));
    EXPECT_TRUE(Contains(s, fmt::format("unsupported journal version {}", v))) << s.ToString();
  }
}

TEST(ReaderHeader, InvalidBlockSize) {
  for (uint32_t bs : {0u, 1000u, 2048u, 4095u, 4097u, 6144u, 0xFFFFFFFFu}) {
    Status s = OpenError(VectorFileHeader(2, bs, 0));
    EXPECT_TRUE(Contains(s, fmt::format("invalid block size {}", bs))) << s.ToString();
  }
}

// Issue 6 #8: a header claiming more than 16 MiB would make the reader hold
// (and verify allocate) a block that large; it is refused as corrupt, naming
// the value and the valid range. 16 MiB itself opens.
TEST(ReaderHeader, ReaderRejectsHeaderBlockSizeOver16MiB) {
  for (uint32_t bs : {kMaxBlockSize * 2, 1u << 31}) {
    for (uint32_t flags : {0u, 1u, 2u}) {
      Status s = OpenError(VectorFileHeader(2, bs, flags));
      EXPECT_TRUE(s.IsCorruption()) << s.ToString();
      EXPECT_TRUE(Contains(s, fmt::format("x.lpj: invalid block size {} (valid: 4096..16777216, a power of 2)", bs)))
          << s.ToString();
    }
  }
  EXPECT_EQ(kMaxBlockSize, 16u << 20);
  EXPECT_TRUE(OpenError(VectorFileHeader(2, kMaxBlockSize, 1)).ok());
}

// The writers' check uses the same bound and says the same range.
TEST(ReaderHeader, ValidateBlockSizeEnforcesTheSameRange) {
  EXPECT_TRUE(ValidateBlockSize(kMinBlockSize).ok());
  EXPECT_TRUE(ValidateBlockSize(kMaxBlockSize).ok());
  for (uint64_t bs : {uint64_t{kMaxBlockSize} * 2, uint64_t{1} << 31, uint64_t{1} << 40, uint64_t{6000}, uint64_t{0}}) {
    Status s = ValidateBlockSize(bs);
    EXPECT_TRUE(Contains(s, fmt::format("block size {} out of range (valid: 4096..16777216, a power of 2)", bs)))
        << s.ToString();
  }
}

TEST(ReaderHeader, UnsupportedCompression) {
  Status s = OpenError(VectorFileHeader(2, kBlockSize, 3));
  EXPECT_TRUE(Contains(s, "unsupported compression type 3")) << s.ToString();
}

TEST(ReaderHeader, UpperFlagBitsIgnored) {
  auto r = JournalReader::Open(std::make_unique<MemoryFile>(VectorFileHeader(2, kBlockSize, 0xABCDEF01u)));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)->compression(), Compression::kZstd);
}

TEST(ReaderHeader, HeaderOnlyIsAnEmptyJournal) {
  for (uint32_t comp : {0u, 1u, 2u}) {
    auto r = JournalReader::Open(std::make_unique<MemoryFile>(VectorFileHeader(2, kBlockSize, comp)));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ((*r)->block_count(), 0u);
    EXPECT_FALSE((*r)->Next());
    EXPECT_TRUE((*r)->status().ok());
    Status s = (*r)->SeekToTime(0);
    EXPECT_TRUE(Contains(s, "empty journal")) << s.ToString();
    s = (*r)->SeekToSeq(0);
    EXPECT_TRUE(Contains(s, "empty journal")) << s.ToString();
    EXPECT_TRUE(Contains((*r)->SeekBlock(0), "block 0 out of range [0, 0)"));
  }
}

TEST(ReaderHeader, OpenPathMissingFile) {
  auto r = JournalReader::OpenPath("/nonexistent/dir/x.lpj");
  EXPECT_FALSE(r.ok());
}

// ---------------------------------------------------------------------------
// Timestamps and seqs (§1.5, §4.4)

// The writer stores 100, 90, 110 as deltas 0, 0 (clamped), 20; reading adds
// each delta to the previous reconstructed time.
TEST(ReaderTimestamps, ClampedDeltasAccumulate) {
  VectorJournal j(2, kBlockSize, Compression::kNone);
  VectorBlock blk;
  blk.base_time_us = 100;
  blk.frames = VectorFrames(0, 3, 0);
  blk.frames[0].delta_us = 0;
  blk.frames[1].delta_us = 0;
  blk.frames[2].delta_us = 20;
  j.AddBlock(blk);
  auto rd = OpenOrDie(j);
  std::vector<int64_t> got;
  while (rd->Next()) got.push_back(rd->frame().timestamp_us);
  EXPECT_EQ(got, (std::vector<int64_t>{100, 100, 120}));
}

TEST(ReaderTimestamps, FirstFrameDeltaIgnored) {
  VectorJournal j(2, kBlockSize, Compression::kNone);
  VectorBlock blk;
  blk.base_time_us = 5'000'000;
  blk.frames = VectorFrames(0, 2, 7);
  blk.frames[0].delta_us = 123'456;  // not what a writer does, but must not matter
  j.AddBlock(blk);
  auto rd = OpenOrDie(j);
  ASSERT_TRUE(rd->Next());
  EXPECT_EQ(rd->frame().timestamp_us, 5'000'000);
  ASSERT_TRUE(rd->Next());
  EXPECT_EQ(rd->frame().timestamp_us, 5'000'007);
}

TEST(ReaderTimestamps, LargeDeltasAndNegativeBase) {
  VectorJournal j(2, kBlockSize, Compression::kNone);
  VectorBlock blk;
  blk.base_time_us = -1'000;
  blk.frames = VectorFrames(0, 3, 0);
  blk.frames[1].delta_us = 1ull << 40;  // a 6-byte varint
  blk.frames[2].delta_us = 1;
  j.AddBlock(blk);
  auto rd = OpenOrDie(j);
  std::vector<int64_t> got;
  while (rd->Next()) got.push_back(rd->frame().timestamp_us);
  EXPECT_EQ(got, (std::vector<int64_t>{-1'000, -1'000 + (1ll << 40), -1'000 + (1ll << 40) + 1}));
}

TEST(ReaderTimestamps, EachBlockRestartsAtItsBaseTime) {
  VectorJournal j(2, kBlockSize, Compression::kNone);
  for (int64_t base : {1'000, 500}) {  // blocks need not be in time order to be read
    VectorBlock blk;
    blk.base_time_us = base;
    blk.frames = VectorFrames(0, 2, 10);
    j.AddBlock(blk);
  }
  auto rd = OpenOrDie(j);
  std::vector<int64_t> got;
  while (rd->Next()) got.push_back(rd->frame().timestamp_us);
  EXPECT_EQ(got, (std::vector<int64_t>{1'000, 1'010, 500, 510}));
}

// Test 31: seqs are BaseSeq + index, for every compression.
TEST(ReaderSeq, BaseSeqPlusIndex) {
  for (Compression c : {Compression::kNone, Compression::kZstd, Compression::kZstdDict}) {
    VectorJournal j(2, kBlockSize, c);
    VectorBlock blk;
    blk.base_seq = 100;
    blk.frames = VectorFrames(0, 3, 1000);
    j.AddBlock(blk);
    auto rd = OpenOrDie(j);
    std::vector<uint64_t> got;
    while (rd->Next()) got.push_back(rd->frame().seq);
    EXPECT_EQ(got, (std::vector<uint64_t>{100, 101, 102})) << CompressionName(c);
    EXPECT_EQ(rd->version(), 2);
  }
}

// ---------------------------------------------------------------------------
// Frame records (§1.5)

TEST(ReaderFrames, StandardAndExtendedForms) {
  VectorJournal j(2, kBlockSize, Compression::kNone);
  VectorBlock blk;
  const uint32_t id = VectorCanId(6, 59904, 254, 10);
  for (size_t len : {8, 15, 3, 0, 8, 223, 1785}) {
    VectorFrame f;
    f.can_id = id;
    f.data = VectorPayload(static_cast<uint32_t>(len), len);
    f.force_extended = len == 8 && !blk.frames.empty();
    blk.frames.push_back(f);
  }
  j.AddBlock(blk);
  auto rd = OpenOrDie(j);
  for (const VectorFrame& f : blk.frames) {
    ASSERT_TRUE(rd->Next()) << rd->status().ToString();
    EXPECT_EQ(Bytes(rd->frame().data.begin(), rd->frame().data.end()), f.data);
    EXPECT_EQ(rd->can_id(), id);
    EXPECT_EQ(rd->frame().header.pgn, 59904u);
    EXPECT_EQ(rd->frame().header.source, 254);
    EXPECT_EQ(rd->frame().header.destination, 10);
    EXPECT_EQ(rd->frame().header.priority, 6);
  }
  EXPECT_FALSE(rd->Next());
  EXPECT_TRUE(rd->status().ok());
}

// Bits 29-30 of the stored word are not part of the identifier.
TEST(ReaderFrames, HighIdBitsMasked) {
  VectorJournal j(2, kBlockSize, Compression::kNone);
  VectorBlock blk;
  blk.frames = VectorFrames(0, 2, 1);
  const uint32_t id = blk.frames[0].can_id;
  blk.frames[0].can_id |= 0x60000000u;
  blk.frames[1].can_id |= 0x60000000u;
  blk.frames[1].data = VectorPayload(1, 2);
  j.AddBlock(blk);
  auto rd = OpenOrDie(j);
  while (rd->Next()) EXPECT_EQ(rd->can_id(), id);
}

// FrameCount decides how many records are read, not the bytes present.
TEST(ReaderFrames, FrameCountBoundsRecords) {
  VectorJournal j(2, kBlockSize, Compression::kNone);
  VectorBlock blk;
  blk.frames = VectorFrames(0, 5, 1);
  blk.frame_count = 3;
  j.AddBlock(blk);
  auto rd = OpenOrDie(j);
  int n = 0;
  while (rd->Next()) ++n;
  EXPECT_EQ(n, 3);
  EXPECT_EQ(rd->truncated_blocks(), 0u);
}

// A record cut off by the device table ends the block early; the next
// block is read normally and the damaged block is counted.
TEST(ReaderFrames, RecordRunningIntoDeviceTableEndsBlock) {
  VectorJournal j(2, kBlockSize, Compression::kNone);
  VectorBlock bad;
  bad.frames = VectorFrames(0, 4, 1);
  // An extended record claiming 4090 data bytes.
  bad.raw_after_frames = {0x01, 0x00, 0x00, 0x00, 0x00, 0xFA, 0x1F};
  bad.frame_count = 6;
  j.AddBlock(bad);
  VectorBlock good;
  good.base_time_us = 9;
  good.frames = VectorFrames(100, 2, 1);
  j.AddBlock(good);
  auto rd = OpenOrDie(j);
  std::vector<int64_t> blocks;
  while (rd->Next()) blocks.push_back(rd->current_block());
  EXPECT_TRUE(rd->status().ok()) << rd->status().ToString();
  EXPECT_EQ(blocks, (std::vector<int64_t>{0, 0, 0, 0, 1, 1}));
  EXPECT_EQ(rd->truncated_blocks(), 1u);
}

TEST(ReaderFrames, OverlongVarintEndsBlock) {
  VectorJournal j(2, kBlockSize, Compression::kNone);
  VectorBlock bad;
  bad.frames = VectorFrames(0, 2, 1);
  bad.raw_after_frames = Bytes(11, 0x80);  // delta varint never ends within 10 bytes
  bad.frame_count = 3;
  j.AddBlock(bad);
  auto rd = OpenOrDie(j);
  int n = 0;
  while (rd->Next()) ++n;
  EXPECT_EQ(n, 2);
  EXPECT_EQ(rd->truncated_blocks(), 1u);
  EXPECT_TRUE(rd->status().ok());
}

// Test 30: block 1 bytes 8..63 overwritten with 0xFF and the CRC fixed:
// the block is structurally valid but its first record is garbage.
TEST(ReaderFrames, GarbageRecordsWithGoodCrcAreSkipped) {
  VectorJournal j(2, kBlockSize, Compression::kNone);
  for (int b = 0; b < 3; ++b) {
    VectorBlock blk;
    blk.base_time_us = b * 1000;
    blk.frames = VectorFrames(0, 100, 1);
    j.AddBlock(blk);
  }
  Bytes& bytes = j.mutable_bytes();
  const size_t at = j.offsets()[1];
  std::fill(bytes.begin() + static_cast<ptrdiff_t>(at + 8), bytes.begin() + static_cast<ptrdiff_t>(at + 64), 0xFF);
  Bytes block(bytes.begin() + static_cast<ptrdiff_t>(at), bytes.begin() + static_cast<ptrdiff_t>(at + kBlockSize));
  SealVectorBlock(block);
  std::copy(block.begin(), block.end(), bytes.begin() + static_cast<ptrdiff_t>(at));
  auto rd = OpenOrDie(j);
  int n = 0;
  while (rd->Next()) ++n;
  EXPECT_TRUE(rd->status().ok()) << rd->status().ToString();
  EXPECT_EQ(n, 200);
  EXPECT_EQ(rd->truncated_blocks(), 1u);
}

// ---------------------------------------------------------------------------
// Block-level errors and SkipBlock (§4.4)

VectorJournal ThreeBlocksWithBadMiddle(Compression c) {
  VectorJournal j(2, kBlockSize, c);
  for (int b = 0; b < 3; ++b) {
    VectorBlock blk;
    blk.base_time_us = b * 1000;
    blk.base_seq = static_cast<uint64_t>(b) * 10;
    blk.frames = VectorFrames(0, 10, 1);
    blk.bad_crc = b == 1;
    j.AddBlock(blk);
  }
  if (c != Compression::kNone) j.AppendIndex();
  return j;
}

TEST(ReaderSkip, BadBlockStopsThenSkipBlockContinues) {
  for (Compression c : {Compression::kNone, Compression::kZstd, Compression::kZstdDict}) {
    SCOPED_TRACE(std::string(CompressionName(c)));
    VectorJournal j = ThreeBlocksWithBadMiddle(c);
    auto rd = OpenOrDie(j);
    int n = 0;
    while (rd->Next()) ++n;
    EXPECT_EQ(n, 10);
    ASSERT_FALSE(rd->status().ok());
    EXPECT_TRUE(Contains(rd->status(), "block 1 checksum mismatch")) << rd->status().ToString();
    EXPECT_TRUE(Contains(rd->status(), fmt::format("at file offset {}", j.offsets()[1]))) << rd->status().ToString();
    EXPECT_EQ(rd->current_block(), 1);
    EXPECT_FALSE(rd->Next()) << "an error is sticky until SkipBlock";
    rd->SkipBlock();
    EXPECT_TRUE(rd->status().ok());
    while (rd->Next()) {
      EXPECT_EQ(rd->current_block(), 2);
      EXPECT_EQ(rd->frame().seq, 20 + rd->frame_index());
      ++n;
    }
    EXPECT_TRUE(rd->status().ok());
    EXPECT_EQ(n, 20);
  }
}

TEST(ReaderSkip, SkipBlockWithoutErrorDropsRestOfBlock) {
  VectorJournal j = ThreeBlocksWithBadMiddle(Compression::kNone);
  auto rd = OpenOrDie(j);
  ASSERT_TRUE(rd->SeekBlock(2).ok());
  ASSERT_TRUE(rd->SeekBlock(0).ok());
  ASSERT_TRUE(rd->Next());
  rd->SkipBlock();
  EXPECT_FALSE(rd->Next());  // block 1 is bad
  EXPECT_EQ(rd->current_block(), 1);
}

TEST(ReaderSkip, FailedSeekReportsAndSuccessfulSeekClears) {
  VectorJournal j = ThreeBlocksWithBadMiddle(Compression::kZstd);
  auto rd = OpenOrDie(j);
  Status s = rd->SeekBlock(1);
  EXPECT_TRUE(Contains(s, "block 1 checksum mismatch")) << s.ToString();
  EXPECT_FALSE(rd->Next());
  EXPECT_FALSE(rd->status().ok());
  EXPECT_TRUE(rd->BlockDevices().status().IsNotFound()) << "no block is loaded after a failed seek";
  ASSERT_TRUE(rd->SeekBlock(2).ok());
  EXPECT_TRUE(rd->status().ok());
  ASSERT_TRUE(rd->Next());
  EXPECT_EQ(rd->frame().seq, 20u);
  auto info = rd->InspectBlock(1);
  EXPECT_FALSE(info.ok());
  EXPECT_TRUE(Contains(info.status(), "checksum mismatch"));
  // Seeking by time onto the bad block reports it as well.
  s = rd->SeekToTime(1000);
  EXPECT_TRUE(Contains(s, "block 1 checksum mismatch")) << s.ToString();
}

TEST(ReaderSkip, SeekBlockOutOfRange) {
  VectorJournal j = ThreeBlocksWithBadMiddle(Compression::kNone);
  auto rd = OpenOrDie(j);
  Status s = rd->SeekBlock(3);
  EXPECT_EQ(s.code(), Status::Code::kOutOfRange);
  EXPECT_TRUE(Contains(s, "block 3 out of range [0, 3)")) << s.ToString();
  EXPECT_FALSE(rd->InspectBlock(7).ok());
  EXPECT_FALSE(rd->BlockBaseSeq(3).ok());
}

// ---------------------------------------------------------------------------
// Device tables (§1.6, §4.6)

TEST(ReaderDevices, TableDecodesWithAllFields) {
  VectorJournal j(2, kBlockSize, Compression::kZstd);
  VectorBlock blk;
  blk.frames = VectorFrames(0, 3, 1);
  DeviceEntry d = VectorDevice(10, 0x1122334455667788ull, 0, 4242, "Model");
  d.software_version = "1.2.3";
  d.model_version = "Rev B";
  d.model_serial = std::string(255, 'S');
  blk.devices = {d, VectorDevice(11, 77, 2)};
  j.AddBlock(blk);
  auto rd = OpenOrDie(j);
  EXPECT_TRUE(rd->BlockDevices().status().IsNotFound()) << "nothing loaded yet";
  ASSERT_TRUE(rd->Next());
  auto devices = rd->BlockDevices();
  ASSERT_TRUE(devices.ok()) << devices.status().ToString();
  EXPECT_EQ(*devices, blk.devices);
  auto info = rd->InspectBlock(0);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->device_count, 2);
}

// Test 4 plus the tie and order rules: the largest ActiveFrom <= i wins,
// the first entry wins a tie, and the result is sorted by source.
TEST(ReaderDevices, BlockDevicesAtPicksLatestActiveEntry) {
  VectorJournal j(2, kBlockSize, Compression::kNone);
  VectorBlock blk;
  blk.frames = VectorFrames(0, 5, 1);
  blk.devices = {
      VectorDevice(9, 0x91, 0),  VectorDevice(5, 0xA, 0),   VectorDevice(7, 0xC, 0), VectorDevice(9, 0x92, 0),
      VectorDevice(5, 0xB, 2),   VectorDevice(3, 0xD, 1),   VectorDevice(5, 0xE, 2),
  };
  j.AddBlock(blk);
  auto rd = OpenOrDie(j);
  ASSERT_TRUE(rd->Next());
  auto names_at = [&](uint32_t i) {
    std::vector<std::pair<int, uint64_t>> out;
    auto at = rd->BlockDevicesAt(i);
    EXPECT_TRUE(at.ok()) << at.status().ToString();
    if (at.ok()) {
      for (const DeviceEntry& e : *at) out.emplace_back(e.source, e.name);
    }
    return out;
  };
  using V = std::vector<std::pair<int, uint64_t>>;
  EXPECT_EQ(names_at(0), (V{{5, 0xA}, {7, 0xC}, {9, 0x91}}));
  EXPECT_EQ(names_at(1), (V{{3, 0xD}, {5, 0xA}, {7, 0xC}, {9, 0x91}}));
  EXPECT_EQ(names_at(2), (V{{3, 0xD}, {5, 0xB}, {7, 0xC}, {9, 0x91}}));
  EXPECT_EQ(names_at(0xFFFFFFFFu), names_at(2));
  EXPECT_EQ(rd->BlockDevices()->size(), 7u);
}

// A table whose entries run out is reported as corrupt, naming the file, the
// block and the entry (it used to come back as an empty list); frames still read.
TEST(ReaderDevices, BlockDevicesReportsCorruptTable) {
  VectorJournal j(2, kBlockSize, Compression::kNone);
  VectorBlock blk;
  blk.frames = VectorFrames(0, 2, 1);
  blk.devices = {VectorDevice(1, 1, 0)};
  j.AddBlock(blk);
  // Raise the entry count from 1 to 3 and re-seal.
  Bytes& bytes = j.mutable_bytes();
  const size_t table_at = 16 + kBlockSize - 10 - (2 + kDeviceEntryMinSize);
  bytes[table_at] = 3;
  Bytes block(bytes.begin() + 16, bytes.end());
  SealVectorBlock(block);
  std::copy(block.begin(), block.end(), bytes.begin() + 16);
  auto rd = OpenOrDie(j);
  ASSERT_TRUE(rd->Next());
  auto all = rd->BlockDevices();
  ASSERT_FALSE(all.ok());
  EXPECT_TRUE(all.status().IsCorruption()) << all.status().ToString();
  EXPECT_TRUE(Contains(all.status(), "test.lpj: block 0 at file offset 16: device table entry 1"))
      << all.status().ToString();
  auto at = rd->BlockDevicesAt(0);
  ASSERT_FALSE(at.ok());
  EXPECT_EQ(at.status().message(), all.status().message());
  EXPECT_TRUE(rd->Next());
  EXPECT_TRUE(rd->status().ok());
}

// Frame data points into the block buffer and stays put until the reader moves.
TEST(ReaderFrames, DataValidUntilNextMove) {
  VectorJournal j(2, kBlockSize, Compression::kZstd);
  VectorBlock blk;
  blk.frames = VectorFrames(0, 2, 1);
  j.AddBlock(blk);
  auto rd = OpenOrDie(j);
  ASSERT_TRUE(rd->Next());
  const Bytes first(rd->frame().data.begin(), rd->frame().data.end());
  EXPECT_EQ(first, blk.frames[0].data);
  ASSERT_TRUE(rd->Next());
  EXPECT_EQ(Bytes(rd->frame().data.begin(), rd->frame().data.end()), blk.frames[1].data);
}

}  // namespace
}  // namespace lplex::journal
