// Crafted, CRC-valid blocks whose numbers overflow (issue 6, newcomer
// retest item 4), and bytes after the last whole block that are not a block
// (item 3): a damaged index or appended data must not count as lost frames,
// a block cut off by the end of the file still must.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <string>

#include "journal/block_decoder.h"
#include "journal/reader.h"
#include "journal_test_util.h"

namespace lplex::journal {
namespace {

using namespace testutil;  // NOLINT: test vectors

constexpr uint32_t kBlockSize = 4096;
constexpr int64_t kT = 1'700'000'000'000'000;  // 2023-11-14T22:13:20Z

struct Recorder : JournalReader::Reporter {
  struct Seen {
    uint64_t dropped_bytes;
    std::string message;
  };
  void Corruption(uint64_t dropped_bytes, const Status& problem) override {
    seen.push_back({dropped_bytes, problem.message()});
  }
  uint64_t Dropped() const {
    uint64_t n = 0;
    for (const Seen& s : seen) n += s.dropped_bytes;
    return n;
  }
  std::string All() const {
    std::string out;
    for (const Seen& s : seen) out += fmt::format("[{}] {}\n", s.dropped_bytes, s.message);
    return out;
  }
  bool Has(const std::string& what) const { return All().find(what) != std::string::npos; }
  std::vector<Seen> seen;
};

std::unique_ptr<JournalReader> OpenBytes(const Bytes& bytes, JournalReader::Reporter* reporter) {
  auto r = JournalReader::Open(std::make_unique<MemoryFile>(bytes), "d.lpj", reporter);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : nullptr;
}

// One uncompressed v2 block holding `frames`.
Bytes OneBlock(int64_t base_time, uint64_t base_seq, std::vector<VectorFrame> frames) {
  VectorJournal j(2, kBlockSize, Compression::kNone);
  VectorBlock b;
  b.base_time_us = base_time;
  b.base_seq = base_seq;
  b.frames = std::move(frames);
  j.AddBlock(b);
  return j.bytes();
}

VectorFrame Frame(uint64_t delta_us) {
  VectorFrame f;
  f.delta_us = delta_us;
  f.can_id = VectorCanId(2, 129025, 1);
  f.data = VectorPayload(static_cast<uint32_t>(delta_us & 0xFF));
  return f;
}

// ---------------------------------------------------------------------------
// Item 4: arithmetic on crafted blocks

// BaseTime 2^63-1 used to print as year 294247 and, with a delta of 2^62,
// wrap to year -144169.
TEST(ReaderOverflow, BaseTimeBeyondYear9999IsCorruption) {
  Recorder rec;
  auto rd = OpenBytes(OneBlock(INT64_MAX, 1, {Frame(0), Frame(uint64_t{1} << 62)}), &rec);
  ASSERT_TRUE(rd);
  EXPECT_FALSE(rd->Next());
  EXPECT_TRUE(rd->status().IsCorruption());
  EXPECT_NE(rd->status().message().find("block 0 base time 9223372036854775807 us out of range (valid: "
                                        "0001-01-01T00:00:00Z..9999-12-31T23:59:59.999999Z)"),
            std::string::npos)
      << rd->status().ToString();
}

TEST(ReaderOverflow, BaseTimeBeforeYear1IsCorruption) {
  Recorder rec;
  auto rd = OpenBytes(OneBlock(INT64_MIN, 1, {Frame(0)}), &rec);
  ASSERT_TRUE(rd);
  EXPECT_FALSE(rd->Next());
  EXPECT_NE(rd->status().message().find("base time -9223372036854775808 us out of range"), std::string::npos)
      << rd->status().ToString();
  // The last valid microseconds of both ends are accepted.
  auto lo = OpenBytes(OneBlock(kMinTimestampUs, 1, {Frame(0)}), &rec);
  ASSERT_TRUE(lo && lo->Next()) << lo->status().ToString();
  EXPECT_EQ(lo->frame().timestamp_us, kMinTimestampUs);
  auto hi = OpenBytes(OneBlock(kMaxTimestampUs, 1, {Frame(0)}), &rec);
  ASSERT_TRUE(hi && hi->Next()) << hi->status().ToString();
  EXPECT_EQ(hi->frame().timestamp_us, kMaxTimestampUs);
}

// A 10-byte varint delta near 2^64 wrapped to a frame 1 us before the
// previous one. Now the record ends the block, and is reported.
TEST(ReaderOverflow, DeltaNear2To64EndsBlockInsteadOfGoingBackInTime) {
  Recorder rec;
  auto rd = OpenBytes(OneBlock(kT, 1, {Frame(0), Frame(UINT64_MAX), Frame(5)}), &rec);
  ASSERT_TRUE(rd);
  ASSERT_TRUE(rd->Next());
  EXPECT_EQ(rd->frame().timestamp_us, kT);
  EXPECT_FALSE(rd->Next()) << "frame at " << rd->frame().timestamp_us;
  EXPECT_TRUE(rd->status().ok());
  EXPECT_EQ(rd->truncated_blocks(), 1u);
  ASSERT_EQ(rec.seen.size(), 1u) << rec.All();
  EXPECT_GT(rec.seen[0].dropped_bytes, 0u);
  EXPECT_TRUE(rec.Has("frame record 1 of 3")) << rec.All();
  EXPECT_TRUE(rec.Has("delta 18446744073709551615 us takes the time past 9999-12-31T23:59:59.999999Z")) << rec.All();
}

// From the last valid microsecond, even a delta of 1 leaves the range.
TEST(ReaderOverflow, DeltaPastYear9999EndsBlock) {
  Recorder rec;
  auto rd = OpenBytes(OneBlock(kMaxTimestampUs - 10, 1, {Frame(0), Frame(10), Frame(1)}), &rec);
  ASSERT_TRUE(rd);
  ASSERT_TRUE(rd->Next());
  ASSERT_TRUE(rd->Next());
  EXPECT_EQ(rd->frame().timestamp_us, kMaxTimestampUs);
  EXPECT_FALSE(rd->Next());
  EXPECT_TRUE(rec.Has("frame record 2 of 3")) << rec.All();
  EXPECT_TRUE(rec.Has("valid: deltas up to 0 us here")) << rec.All();
}

TEST(BlockDecoder, CheckFrameTimeRefusesOverflow) {
  int64_t t = 0;
  EXPECT_TRUE(CheckFrameTime(kT, 5, &t).ok());
  EXPECT_EQ(t, kT + 5);
  EXPECT_TRUE(CheckFrameTime(kMinTimestampUs, static_cast<uint64_t>(kMaxTimestampUs - kMinTimestampUs), &t).ok());
  EXPECT_EQ(t, kMaxTimestampUs);
  EXPECT_FALSE(CheckFrameTime(kMaxTimestampUs, 1, &t).ok());
  EXPECT_FALSE(CheckFrameTime(kT, UINT64_MAX, &t).ok());
  EXPECT_FALSE(CheckFrameTime(kT, uint64_t{1} << 63, &t).ok());
}

// BaseSeq 2^64-1: the block's first frame has that seq; the next would have
// been seq 0, and is refused instead.
TEST(ReaderOverflow, SeqDoesNotWrapPast2To64) {
  Recorder rec;
  auto rd = OpenBytes(OneBlock(kT, UINT64_MAX, {Frame(0), Frame(1)}), &rec);
  ASSERT_TRUE(rd);
  ASSERT_TRUE(rd->Next());
  EXPECT_EQ(rd->frame().seq, UINT64_MAX);
  EXPECT_FALSE(rd->Next()) << "next seq " << rd->frame().seq;
  EXPECT_TRUE(rec.Has("frame record 1 of 2")) << rec.All();
  EXPECT_TRUE(rec.Has("its seq would wrap past 2^64-1")) << rec.All();
}

// ---------------------------------------------------------------------------
// Item 3: bytes after the last whole block

VectorJournal ClosedZstdJournal(int blocks = 3) {
  VectorJournal j(2, kBlockSize, Compression::kZstd);
  for (int b = 0; b < blocks; ++b) {
    VectorBlock blk;
    blk.base_time_us = kT + 1000 * b;
    blk.base_seq = 10 * static_cast<uint64_t>(b);
    blk.frames = VectorFrames(0, 10, 1);
    j.AddBlock(blk);
  }
  j.AppendIndex();
  return j;
}

int CountFrames(JournalReader& rd) {
  int n = 0;
  while (rd.Next()) ++n;
  return n;
}

// One bit of the LPJI magic flipped: the 3 x 8 + 8 index bytes were
// reported as a cut-off block ("frames skipped").
TEST(ReaderTrailing, DamagedIndexMagicIsTrailingDataNotLostFrames) {
  VectorJournal j = ClosedZstdJournal();
  Bytes b = j.bytes();
  b[b.size() - 3] ^= 0x10;
  Recorder rec;
  auto rd = OpenBytes(b, &rec);
  ASSERT_TRUE(rd);
  EXPECT_EQ(CountFrames(*rd), 30);
  EXPECT_EQ(rec.Dropped(), 0u) << rec.All();
  ASSERT_EQ(rec.seen.size(), 1u) << rec.All();
  EXPECT_TRUE(rec.Has(fmt::format("d.lpj: 32 bytes of trailing data at file offset {} that are not a block (a "
                                  "damaged index?",
                                  b.size() - 32)))
      << rec.All();
}

// Same when the entries are damaged too, as long as the size is an index's.
TEST(ReaderTrailing, IndexSizedTailIsTrailingDataNotLostFrames) {
  VectorJournal j = ClosedZstdJournal();
  Bytes b = j.bytes();
  b[b.size() - 32] ^= 0x40;  // entry 0
  b[b.size() - 1] ^= 0x01;   // magic
  Recorder rec;
  auto rd = OpenBytes(b, &rec);
  ASSERT_TRUE(rd);
  EXPECT_EQ(CountFrames(*rd), 30);
  EXPECT_EQ(rec.Dropped(), 0u) << rec.All();
  EXPECT_TRUE(rec.Has("32 bytes of trailing data")) << rec.All();
  EXPECT_TRUE(rec.Has("the size of the block index of the 3 blocks")) << rec.All();
}

// Data appended after a closed file hides the footer; the index is found
// where the blocks end, and nothing is lost.
TEST(ReaderTrailing, GarbageAfterClosedFileIsNotLostFrames) {
  for (size_t extra : {1u, 19u, 700u, 5000u}) {
    VectorJournal j = ClosedZstdJournal();
    const size_t closed = j.bytes().size();
    Bytes junk(extra);
    for (size_t i = 0; i < extra; ++i) junk[i] = static_cast<uint8_t>(i * 131 + 7);
    j.Append(junk);
    Recorder rec;
    auto rd = OpenBytes(j.bytes(), &rec);
    ASSERT_TRUE(rd);
    EXPECT_EQ(rd->block_count(), 3u) << extra;
    EXPECT_EQ(CountFrames(*rd), 30) << extra;
    EXPECT_EQ(rec.Dropped(), 0u) << extra << "\n" << rec.All();
    EXPECT_TRUE(rec.Has(fmt::format("{} bytes of trailing data at file offset {} that are not a block (after the "
                                    "intact block index",
                                    extra, closed)))
        << rec.All();
  }
}

// A file without an index (a crash) followed by bytes that cannot start a
// block (their BaseTime is outside years 0001..9999): a warning.
TEST(ReaderTrailing, ImplausibleHeaderAfterUnindexedFileIsTrailingData) {
  VectorJournal j(2, kBlockSize, Compression::kZstd);
  VectorBlock blk;
  blk.base_time_us = kT;
  blk.frames = VectorFrames(0, 10, 1);
  j.AddBlock(blk);
  j.Append(Bytes(40, 0xFF));
  Recorder rec;
  auto rd = OpenBytes(j.bytes(), &rec);
  ASSERT_TRUE(rd);
  EXPECT_EQ(CountFrames(*rd), 10);
  EXPECT_EQ(rec.Dropped(), 0u) << rec.All();
  EXPECT_TRUE(rec.Has("40 bytes of trailing data")) << rec.All();
  EXPECT_TRUE(rec.Has("do not start with a plausible block header")) << rec.All();
}

// A real cut: a plausible header whose block runs past the end of the file
// still costs its frames, compressed or not.
TEST(ReaderTrailing, BlockCutOffByEndOfFileStillCountsAsLost) {
  VectorJournal j = ClosedZstdJournal();
  Bytes b = j.bytes();
  b.resize(j.offsets()[2] + 60);
  Recorder rec;
  auto rd = OpenBytes(b, &rec);
  ASSERT_TRUE(rd);
  EXPECT_EQ(CountFrames(*rd), 20);
  EXPECT_EQ(rec.Dropped(), 60u) << rec.All();
  EXPECT_TRUE(rec.Has("block 2 is cut off")) << rec.All();
  // Cut inside the outer header: too little to judge, so counted as lost.
  b.resize(j.offsets()[2] + 5);
  Recorder short_rec;
  auto srd = OpenBytes(b, &short_rec);
  ASSERT_TRUE(srd);
  EXPECT_EQ(short_rec.Dropped(), 5u) << short_rec.All();

  VectorJournal u(2, kBlockSize, Compression::kNone);
  VectorBlock blk;
  blk.base_time_us = kT;
  blk.frames = VectorFrames(0, 3, 1);
  u.AddBlock(blk);
  u.AddBlock(blk);
  Bytes ub = u.bytes();
  ub.resize(ub.size() - 100);
  Recorder urec;
  auto urd = OpenBytes(ub, &urec);
  ASSERT_TRUE(urd);
  EXPECT_EQ(urec.Dropped(), kBlockSize - 100) << urec.All();
}

// Appended bytes after an uncompressed file that cannot start a block.
TEST(ReaderTrailing, ImplausibleTailOfUncompressedFileIsTrailingData) {
  VectorJournal u(2, kBlockSize, Compression::kNone);
  VectorBlock blk;
  blk.base_time_us = kT;
  blk.frames = VectorFrames(0, 3, 1);
  u.AddBlock(blk);
  u.Append(Bytes(300, 0xEE));
  Recorder rec;
  auto rd = OpenBytes(u.bytes(), &rec);
  ASSERT_TRUE(rd);
  EXPECT_EQ(CountFrames(*rd), 3);
  EXPECT_EQ(rec.Dropped(), 0u) << rec.All();
  EXPECT_TRUE(rec.Has("300 bytes of trailing data")) << rec.All();
}

// A damaged header in the middle of an unindexed file stops the scan with
// more than one block's worth of bytes left: those are blocks, and lost.
TEST(ReaderTrailing, DamagedHeaderMidFileStillCountsAsLost) {
  VectorJournal j(2, kBlockSize, Compression::kZstd);
  for (int b = 0; b < 12; ++b) {
    VectorBlock blk;
    blk.base_time_us = kT + b;
    blk.frames = VectorFrames(0, 300, 1);
    j.AddBlock(blk);
  }
  Bytes b = j.bytes();
  ASSERT_GE(b.size() - j.offsets()[1], 20 + kBlockSize + MaxZstdPayloadSize(kBlockSize));
  b[j.offsets()[1] + 19] ^= 0x80;  // block 1's CompressedLen, top byte
  Recorder rec;
  auto rd = OpenBytes(b, &rec);
  ASSERT_TRUE(rd);
  EXPECT_EQ(rd->block_count(), 1u);
  EXPECT_EQ(rec.Dropped(), b.size() - j.offsets()[1]) << rec.All();
}

// The §4.2 message for an index whose table leaves no room for a block no
// longer contradicts itself ("offset 16 (valid: above 0 and below 16)").
TEST(ReaderTrailing, IndexTableAtOffset16MessageSaysNoRoom) {
  VectorJournal j(2, kBlockSize, Compression::kZstd);
  j.AppendIndex({16, 16}, 2);
  Recorder rec;
  auto rd = OpenBytes(j.bytes(), &rec);
  ASSERT_TRUE(rd);
  EXPECT_TRUE(rec.Has("index entry 0 has offset 16, but the index table of 2 entries starts at offset 16, leaving "
                      "no room for block 0"))
      << rec.All();
  EXPECT_FALSE(rec.Has("below 16")) << rec.All();
}

}  // namespace
}  // namespace lplex::journal
