// Hostile and damaged input: the LPJI index rules (§4.2), the outer header
// bounds (§4.3, §4.7), trailer ranges, decompression sizes, and header
// fields that would make a naive reader allocate gigabytes.
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

bool Contains(const Status& s, const std::string& what) { return s.message().find(what) != std::string::npos; }

// Keeps what the reader reports, in order.
struct Recorder : JournalReader::Reporter {
  struct Seen {
    uint64_t dropped_bytes;
    std::string message;
  };
  void Corruption(uint64_t dropped_bytes, const Status& problem) override {
    EXPECT_TRUE(problem.IsCorruption()) << problem.ToString();
    seen.push_back({dropped_bytes, problem.message()});
  }
  std::string All() const {
    std::string out;
    for (const Seen& s : seen) out += fmt::format("[{}] {}\n", s.dropped_bytes, s.message);
    return out;
  }
  std::vector<Seen> seen;
};

std::unique_ptr<JournalReader> OpenBytes(const Bytes& bytes, JournalReader::Reporter* reporter = nullptr) {
  auto r = JournalReader::Open(std::make_unique<MemoryFile>(bytes), "h.lpj", reporter);
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? std::move(r).value() : nullptr;
}

// Three good v2 zstd blocks, no footer yet.
VectorJournal ThreeZstdBlocks() {
  VectorJournal j(2, kBlockSize, Compression::kZstd);
  for (int b = 0; b < 3; ++b) {
    VectorBlock blk;
    blk.base_time_us = 1000 * b;
    blk.base_seq = 10 * static_cast<uint64_t>(b);
    blk.frames = VectorFrames(0, 10, 1);
    j.AddBlock(blk);
  }
  return j;
}

int CountFrames(JournalReader& rd) {
  int n = 0;
  while (rd.Next()) ++n;
  return n;
}

// ---------------------------------------------------------------------------
// §4.7 (1)-(3)

// Test 39: a footer claiming 262145 entries is refused and the reader
// falls back to scanning, which finds nothing in a zero-filled file.
TEST(ReaderHardening, IndexCountAboveLimitFallsBackToScan) {
  constexpr uint32_t kCount = kMaxIndexEntries + 1;
  Bytes file = VectorFileHeader(1, kBlockSize, 1);
  file.resize(16 + 8 * size_t{kCount}, 0);
  PutLE(file, kCount, 4);
  file.insert(file.end(), {'L', 'P', 'J', 'I'});
  ASSERT_EQ(file.size(), 16 + 8 * size_t{kCount} + 8);
  auto rd = OpenBytes(file);
  ASSERT_TRUE(rd);
  EXPECT_FALSE(rd->has_block_index());
  EXPECT_EQ(rd->block_count(), 0u);
}

// The limit itself is allowed: 262144 strictly increasing offsets.
TEST(ReaderHardening, IndexCountAtLimitAccepted) {
  constexpr uint32_t kCount = kMaxIndexEntries;
  Bytes file = VectorFileHeader(1, kBlockSize, 1);
  file.resize(16 + kCount, 0);
  for (uint32_t i = 0; i < kCount; ++i) PutLE(file, 16 + i, 8);
  PutLE(file, kCount, 4);
  file.insert(file.end(), {'L', 'P', 'J', 'I'});
  auto rd = OpenBytes(file);
  ASSERT_TRUE(rd);
  EXPECT_TRUE(rd->has_block_index());
  EXPECT_EQ(rd->block_count(), kCount);
  // One byte apart: no room for a 12-byte header.
  auto info = rd->InspectBlock(0);
  EXPECT_TRUE(Contains(info.status(), "block 0 has invalid boundaries")) << info.status().ToString();
}

// Test 40.
TEST(ReaderHardening, InspectRejectsOversizedCompressedLen) {
  Bytes file = VectorFileHeader(1, kBlockSize, 1);
  PutLE(file, 1, 8);     // block 0 @16: BaseTime 1
  PutLE(file, 9999, 4);  //              CompressedLen 9999
  // Spec layout: block 1 at 29, so block 0 has one payload byte of room.
  file.push_back(0);     // byte 28: block 0's (only) payload byte
  PutLE(file, 2, 8);     // block 1 @29: BaseTime 2
  PutLE(file, 1, 4);     //              CompressedLen 1
  file.push_back(0);     //              payload
  ASSERT_EQ(file.size(), 42u);
  PutLE(file, 16, 8);
  PutLE(file, 29, 8);
  PutLE(file, 2, 4);
  file.insert(file.end(), {'L', 'P', 'J', 'I'});
  auto rd = OpenBytes(file);
  ASSERT_TRUE(rd);
  EXPECT_TRUE(rd->has_block_index());
  ASSERT_EQ(rd->block_count(), 2u);
  EXPECT_EQ(*rd->BlockBaseTime(1), 2);
  auto info = rd->InspectBlock(0);
  ASSERT_FALSE(info.ok());
  EXPECT_TRUE(Contains(info.status(), "block 0 invalid compressed length 9999 (max 1)")) << info.status().ToString();
  EXPECT_TRUE(Contains(info.status(), "at file offset 16")) << info.status().ToString();
}

// Test 41.
TEST(ReaderHardening, InspectRejectsOversizedDictLen) {
  Bytes file = VectorFileHeader(1, kBlockSize, 2);
  PutLE(file, 1, 8);    // block 0 @16: BaseTime 1
  PutLE(file, 100, 4);  //              DictLen 100
  PutLE(file, 1, 4);    //              CompressedLen 1
  file.resize(34, 0);   // two bytes of room
  PutLE(file, 2, 8);    // block 1 @34: BaseTime 2
  PutLE(file, 0, 4);    //              DictLen 0
  PutLE(file, 1, 4);    //              CompressedLen 1
  file.push_back(0);
  file.push_back(0);
  ASSERT_EQ(file.size(), 52u);
  PutLE(file, 16, 8);
  PutLE(file, 34, 8);
  PutLE(file, 2, 4);
  file.insert(file.end(), {'L', 'P', 'J', 'I'});
  auto rd = OpenBytes(file);
  ASSERT_TRUE(rd);
  ASSERT_EQ(rd->block_count(), 2u);
  auto info = rd->InspectBlock(0);
  ASSERT_FALSE(info.ok());
  EXPECT_TRUE(Contains(info.status(), "block 0 invalid dictionary length 100 (max 2)")) << info.status().ToString();
}

TEST(ReaderHardening, CompressedLenPastDictionaryRoom) {
  VectorJournal j(2, kBlockSize, Compression::kZstdDict);
  const Bytes dict(10, 1);
  const Bytes payload(20, 2);
  j.AppendCompressed(0, 0, dict, payload, std::nullopt, 21);
  j.AppendCompressed(0, 0, dict, payload);
  j.AppendIndex({16, 16 + 24 + 30});
  auto rd = OpenBytes(j.bytes());
  ASSERT_TRUE(rd);
  ASSERT_TRUE(rd->has_block_index());
  auto info = rd->InspectBlock(0);
  EXPECT_TRUE(Contains(info.status(), "block 0 invalid compressed length 21 with dict 10 (max 20)"))
      << info.status().ToString();
}

TEST(ReaderHardening, ZeroCompressedLenRejected) {
  VectorJournal j(2, kBlockSize, Compression::kZstd);
  j.AppendCompressed(0, 0, {}, Bytes(8, 0), std::nullopt, 0);
  j.AppendIndex({16});
  auto rd = OpenBytes(j.bytes());
  ASSERT_TRUE(rd);
  ASSERT_EQ(rd->block_count(), 1u);
  EXPECT_FALSE(rd->Next());
  EXPECT_TRUE(Contains(rd->status(), "block 0 invalid compressed length 0 (max 24)")) << rd->status().ToString();
}

// ---------------------------------------------------------------------------
// Index rules (§4.2): anything unsound means a forward scan.

struct BadIndex {
  const char* name;
  std::vector<uint64_t> offsets;
  uint32_t count;
};

TEST(ReaderHardening, UnsoundIndexFallsBackToScan) {
  VectorJournal base = ThreeZstdBlocks();
  const auto& o = base.offsets();
  const uint64_t end = base.bytes().size();
  for (const BadIndex& bad : {
           BadIndex{"not increasing", {o[0], o[2], o[1]}, 3},
           BadIndex{"duplicate", {o[0], o[1], o[1]}, 3},
           BadIndex{"below header", {8, o[1], o[2]}, 3},
           BadIndex{"at table start", {o[0], o[1], end}, 3},
           BadIndex{"past file", {o[0], o[1], end + 1000}, 3},
           BadIndex{"count larger than table", {o[0], o[1], o[2]}, 200},
       }) {
    SCOPED_TRACE(bad.name);
    VectorJournal j = base;
    j.AppendIndex(bad.offsets, bad.count);
    auto rd = OpenBytes(j.bytes());
    ASSERT_TRUE(rd);
    EXPECT_FALSE(rd->has_block_index());
    // The index bytes may look like one more (bogus) block to the scan.
    ASSERT_GE(rd->block_count(), 3u);
    for (uint64_t b = 0; b < 3; ++b) {
      auto info = rd->InspectBlock(b);
      ASSERT_TRUE(info.ok()) << info.status().ToString();
      EXPECT_EQ(info->offset, o[b]);
      EXPECT_EQ(info->base_seq, 10 * b);
    }
  }
}

TEST(ReaderHardening, MissingFooterScansSameBlocks) {
  // Test 20: the index removed, the scan finds the same blocks and frames.
  VectorJournal j = ThreeZstdBlocks();
  auto scanned = OpenBytes(j.bytes());
  j.AppendIndex();
  auto indexed = OpenBytes(j.bytes());
  ASSERT_TRUE(scanned && indexed);
  EXPECT_FALSE(scanned->has_block_index());
  EXPECT_TRUE(indexed->has_block_index());
  EXPECT_EQ(scanned->block_count(), indexed->block_count());
  EXPECT_EQ(CountFrames(*scanned), 30);
  EXPECT_EQ(CountFrames(*indexed), 30);
}

// Count 0 with the magic right after the file header is a sound, empty
// index: no scan, nothing reported.
TEST(ReaderHardening, EmptyIndexMeansNoBlocks) {
  VectorJournal j(2, kBlockSize, Compression::kZstd);
  j.AppendIndex({}, 0);
  Recorder rec;
  auto rd = OpenBytes(j.bytes(), &rec);
  ASSERT_TRUE(rd);
  EXPECT_TRUE(rd->has_block_index());
  EXPECT_EQ(rd->block_count(), 0u);
  EXPECT_FALSE(rd->Next());
  EXPECT_TRUE(rd->status().ok());
  EXPECT_TRUE(rec.seen.empty()) << rec.All();
}

// Count 0 over blocks (one bit of a count of 1 flipped) is a damaged index,
// not an empty file: the scan finds the blocks and the index is named.
TEST(ReaderHardening, EmptyIndexOverBlocksIsDamage) {
  VectorJournal j = ThreeZstdBlocks();
  j.AppendIndex({}, 0);
  Recorder rec;
  auto rd = OpenBytes(j.bytes(), &rec);
  ASSERT_TRUE(rd);
  EXPECT_FALSE(rd->has_block_index());
  EXPECT_EQ(rd->block_count(), 3u);
  EXPECT_EQ(CountFrames(*rd), 30);
  ASSERT_EQ(rec.seen.size(), 1u) << rec.All();
  EXPECT_EQ(rec.seen[0].dropped_bytes, 0u);
  EXPECT_NE(rec.seen[0].message.find("h.lpj: block index damaged: index lists no blocks"), std::string::npos)
      << rec.All();
}

// Issue 6 #3: an entry that is still increasing and in range but does not
// point at a block start (one flipped bit) must not cost the blocks around
// it: the index disagrees with the blocks' own lengths, the forward scan
// accounts for every byte up to the index, so the scan is used and the
// index is named as the damage (with no bytes dropped).
TEST(ReaderHardening, ReaderFallsBackToScanWhenIndexEntryCorrupt) {
  VectorJournal j(2, kBlockSize, Compression::kZstd);
  for (int b = 0; b < 5; ++b) {
    VectorBlock blk;
    blk.base_time_us = 1000 * b;
    blk.base_seq = 10 * static_cast<uint64_t>(b);
    blk.frames = VectorFrames(0, 10, 1);
    j.AddBlock(blk);
  }
  const auto o = j.offsets();
  std::vector<uint64_t> bad = o;
  bad[3] ^= 0x4;
  ASSERT_TRUE(bad[3] > bad[2] && bad[3] < bad[4]);
  j.AppendIndex(bad);
  Recorder rec;
  auto rd = OpenBytes(j.bytes(), &rec);
  ASSERT_TRUE(rd);
  EXPECT_FALSE(rd->has_block_index());
  ASSERT_EQ(rd->block_count(), 5u);
  for (uint64_t b = 0; b < 5; ++b) {
    auto info = rd->InspectBlock(b);
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    EXPECT_EQ(info->offset, o[b]);
  }
  ASSERT_TRUE(rd->SeekBlock(0).ok());
  EXPECT_EQ(CountFrames(*rd), 50);
  EXPECT_TRUE(rd->status().ok()) << rd->status().ToString();
  ASSERT_EQ(rec.seen.size(), 1u) << rec.All();
  EXPECT_EQ(rec.seen[0].dropped_bytes, 0u);
  EXPECT_EQ(rec.seen[0].message,
            fmt::format("h.lpj: block index damaged: entry 3 says block 3 starts at offset {}, but block 2 (at offset "
                        "{}) ends at {}; blocks located by forward scan",
                        bad[3], o[2], o[3]));
}

// The other way round: the index is right and an outer header's length is
// damaged, so the scan cannot get through either. The index is kept, its
// offsets bound each block, and only the damaged block fails.
TEST(ReaderHardening, IndexKeptWhenOuterHeaderLengthDamaged) {
  VectorJournal j = ThreeZstdBlocks();
  const auto o = j.offsets();
  j.AppendIndex();
  Bytes bytes = j.bytes();
  bytes[o[1] + 16] ^= 0x01;  // block 1's CompressedLen (v2: after BaseTime and BaseSeq)
  Recorder rec;
  auto rd = OpenBytes(bytes, &rec);
  ASSERT_TRUE(rd);
  EXPECT_TRUE(rd->has_block_index());
  ASSERT_EQ(rd->block_count(), 3u);
  EXPECT_TRUE(rd->SeekBlock(0).ok());
  EXPECT_TRUE(Contains(rd->SeekBlock(1), "block 1")) << rd->SeekBlock(1).ToString();
  EXPECT_TRUE(rd->SeekBlock(2).ok());
  EXPECT_TRUE(rec.seen.empty()) << rec.All();
}

// Offsets closer than one outer header, over blocks a scan can read: the
// index loses to the scan.
TEST(ReaderHardening, IndexOffsetsInsideABlockOverruledByScan) {
  VectorJournal k = ThreeZstdBlocks();
  k.AppendIndex({k.offsets()[0], k.offsets()[0] + 19});
  Recorder rec;
  auto rd = OpenBytes(k.bytes(), &rec);
  ASSERT_TRUE(rd);
  EXPECT_FALSE(rd->has_block_index());
  EXPECT_EQ(rd->block_count(), 3u);
  EXPECT_EQ(CountFrames(*rd), 30);
  ASSERT_EQ(rec.seen.size(), 1u) << rec.All();
  EXPECT_NE(rec.seen[0].message.find("block index damaged: entry 1 says block 1 starts at offset 35"),
            std::string::npos)
      << rec.All();
}

// A file cut off inside a block (no index): every whole block reads, and the
// cut is reported with the bytes lost and where.
TEST(ReaderHardening, TruncatedTailIsReported) {
  VectorJournal j = ThreeZstdBlocks();
  Bytes bytes = j.bytes();
  bytes.resize(j.offsets()[2] + 25);
  Recorder rec;
  auto rd = OpenBytes(bytes, &rec);
  ASSERT_TRUE(rd);
  EXPECT_EQ(rd->block_count(), 2u);
  EXPECT_EQ(CountFrames(*rd), 20);
  ASSERT_EQ(rec.seen.size(), 1u) << rec.All();
  EXPECT_EQ(rec.seen[0].dropped_bytes, 25u);
  EXPECT_NE(rec.seen[0].message.find(fmt::format("h.lpj: 25 bytes at file offset {} after the last whole block",
                                                 j.offsets()[2])),
            std::string::npos)
      << rec.All();
  // Uncompressed: the partial block after the whole ones.
  VectorJournal u(2, kBlockSize, Compression::kNone);
  VectorBlock blk;
  blk.frames = VectorFrames(0, 3, 1);
  u.AddBlock(blk);
  u.AddBlock(blk);
  Bytes ub = u.bytes();
  ub.resize(ub.size() - 100);
  Recorder urec;
  auto urd = OpenBytes(ub, &urec);
  ASSERT_TRUE(urd);
  EXPECT_EQ(urd->block_count(), 1u);
  ASSERT_EQ(urec.seen.size(), 1u) << urec.All();
  EXPECT_EQ(urec.seen[0].dropped_bytes, kBlockSize - 100);
  EXPECT_NE(urec.seen[0].message.find("block 1 is cut off"), std::string::npos) << urec.All();
}

// An outer header whose BaseTime was changed (it is not covered by the CRC)
// would misdirect SeekToTime; the block's own value wins and the mismatch is
// reported once, with nothing dropped.
TEST(ReaderHardening, OuterBaseTimeDisagreeingWithBlockIsReported) {
  VectorJournal j = ThreeZstdBlocks();
  const auto o = j.offsets();
  j.AppendIndex();
  Bytes bytes = j.bytes();
  bytes[o[1] + 2] ^= 0x10;  // block 1's outer BaseTime
  Recorder rec;
  auto rd = OpenBytes(bytes, &rec);
  ASSERT_TRUE(rd);
  EXPECT_TRUE(rec.seen.empty()) << rec.All();
  EXPECT_EQ(CountFrames(*rd), 30);
  ASSERT_EQ(rec.seen.size(), 1u) << rec.All();
  EXPECT_EQ(rec.seen[0].dropped_bytes, 0u);
  EXPECT_NE(rec.seen[0].message.find("block 1 at file offset"), std::string::npos) << rec.All();
  EXPECT_NE(rec.seen[0].message.find("the block itself says 1000 / 10"), std::string::npos) << rec.All();
  EXPECT_EQ(*rd->BlockBaseTime(1), 1000);
  ASSERT_TRUE(rd->SeekBlock(1).ok());
  EXPECT_EQ(rec.seen.size(), 1u) << "corrected, so reported once";
}

// An uncompressed file never uses an index, even one that looks sound.
TEST(ReaderHardening, UncompressedIgnoresFooter) {
  VectorJournal j(2, kBlockSize, Compression::kNone);
  VectorBlock blk;
  blk.frames = VectorFrames(0, 3, 1);
  j.AddBlock(blk);
  j.AppendIndex();
  auto rd = OpenBytes(j.bytes());
  ASSERT_TRUE(rd);
  EXPECT_FALSE(rd->has_block_index());
  EXPECT_EQ(rd->block_count(), 1u);
  EXPECT_EQ(CountFrames(*rd), 3);
}

// Type 2 scan stops only when both lengths are 0; DictLen > 0 with an empty
// payload is a block (which then fails to load).
TEST(ReaderHardening, ScanStopsAtEmptyHeader) {
  VectorJournal j(2, kBlockSize, Compression::kZstdDict);
  VectorBlock blk;
  blk.frames = VectorFrames(0, 3, 1);
  j.AddBlock(blk);
  j.AppendCompressed(0, 0, Bytes(4, 9), {});
  j.AppendCompressed(0, 0, {}, {});  // stop here
  j.AddBlock(blk);                   // never seen
  auto rd = OpenBytes(j.bytes());
  ASSERT_TRUE(rd);
  EXPECT_EQ(rd->block_count(), 2u);
  EXPECT_EQ(CountFrames(*rd), 3);
  EXPECT_TRUE(Contains(rd->status(), "block 1 invalid compressed length 0 with dict 4 (max "))
      << rd->status().ToString();
}

// ---------------------------------------------------------------------------
// Trailer ranges (our addition to §4.3)

Bytes UncompressedFileWith(const VectorBlock& blk, uint8_t version = 2) {
  Bytes file = VectorFileHeader(version, kBlockSize, 0);
  const Bytes raw = BuildVectorBlock(version, kBlockSize, blk);
  file.insert(file.end(), raw.begin(), raw.end());
  return file;
}

TEST(ReaderHardening, DeviceTableSizeOutOfRange) {
  for (uint8_t version : {1, 2}) {
    const uint32_t room = kBlockSize - 10 - (version == 1 ? 8 : 16);
    for (uint32_t dts : {0u, 1u, room + 1, 0xFFFFu}) {
      SCOPED_TRACE(fmt::format("v{} dts {}", version, dts));
      VectorBlock blk;
      blk.frames = VectorFrames(0, 2, 1);
      blk.dts = static_cast<uint16_t>(dts);
      auto rd = OpenBytes(UncompressedFileWith(blk, version));
      ASSERT_TRUE(rd);
      EXPECT_FALSE(rd->Next());
      EXPECT_TRUE(Contains(rd->status(), fmt::format("block 0 device table size {} out of range [2, {}]", dts, room)))
          << rd->status().ToString();
      EXPECT_FALSE(rd->InspectBlock(0).ok());
      EXPECT_TRUE(rd->BlockDevices().status().IsNotFound());
    }
  }
}

// The largest DTS leaves no room for frames but is a valid block.
TEST(ReaderHardening, DeviceTableFillingTheBlockAccepted) {
  VectorBlock blk;
  blk.dts = kBlockSize - 10 - 16;
  blk.frame_count = 0;
  auto rd = OpenBytes(UncompressedFileWith(blk));
  ASSERT_TRUE(rd);
  EXPECT_FALSE(rd->Next());
  EXPECT_TRUE(rd->status().ok()) << rd->status().ToString();
  auto info = rd->InspectBlock(0);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->device_count, 0);
}

TEST(ReaderHardening, FrameCountOutOfRange) {
  const uint32_t room = kBlockSize - 10 - 16;
  const uint32_t max = room / kMinFrameRecordSize;
  for (uint32_t count : {max + 1, 0xFFFFFFFFu}) {
    VectorBlock blk;
    blk.frames = VectorFrames(0, 2, 1);
    blk.frame_count = count;
    auto rd = OpenBytes(UncompressedFileWith(blk));
    ASSERT_TRUE(rd);
    EXPECT_FALSE(rd->Next());
    EXPECT_TRUE(Contains(rd->status(), fmt::format("block 0 frame count {} exceeds the {} frames", count, max)))
        << rd->status().ToString();
  }
  // At the bound the block loads; the records run out at the table and the
  // block ends early instead.
  VectorBlock blk;
  blk.frames = VectorFrames(0, 2, 1);
  blk.frame_count = max;
  auto rd = OpenBytes(UncompressedFileWith(blk));
  ASSERT_TRUE(rd);
  int n = CountFrames(*rd);
  EXPECT_TRUE(rd->status().ok()) << rd->status().ToString();
  EXPECT_GT(n, 2) << "zero padding decodes as empty frames";
  EXPECT_LT(static_cast<uint32_t>(n), max);
  EXPECT_EQ(rd->truncated_blocks(), 1u);
}

// ---------------------------------------------------------------------------
// Decompression sizes and huge block sizes

TEST(ReaderHardening, DecompressedTooSmall) {
  VectorJournal j(2, kBlockSize, Compression::kZstd);
  j.AppendCompressed(0, 0, {}, ZstdCompressBytes(Bytes(2048, 0)));
  auto rd = OpenBytes(j.bytes());
  ASSERT_TRUE(rd);
  EXPECT_FALSE(rd->Next());
  EXPECT_TRUE(Contains(rd->status(), "block 0 decompressed to 2048 bytes, expected 4096")) << rd->status().ToString();
}

TEST(ReaderHardening, DeclaredContentTooLarge) {
  VectorJournal j(2, kBlockSize, Compression::kZstd);
  j.AppendCompressed(0, 0, {}, ZstdCompressBytes(Bytes(8192, 0)));
  auto rd = OpenBytes(j.bytes());
  ASSERT_TRUE(rd);
  EXPECT_FALSE(rd->Next());
  EXPECT_TRUE(Contains(rd->status(), "block 0 decompressed to 8192 bytes, expected 4096")) << rd->status().ToString();
}

// A frame without a content size that still decodes past the block.
TEST(ReaderHardening, StreamedContentTooLarge) {
  ZSTD_CCtx* cctx = ZSTD_createCCtx();
  ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 0);
  const Bytes src(8192, 0x5A);
  Bytes payload(ZSTD_compressBound(src.size()));
  ZSTD_outBuffer out{payload.data(), payload.size(), 0};
  ZSTD_inBuffer in{src.data(), src.size(), 0};
  ASSERT_EQ(ZSTD_compressStream2(cctx, &out, &in, ZSTD_e_end), 0u);
  ZSTD_freeCCtx(cctx);
  payload.resize(out.pos);
  ASSERT_EQ(ZSTD_getFrameContentSize(payload.data(), payload.size()), ZSTD_CONTENTSIZE_UNKNOWN);

  VectorJournal j(2, kBlockSize, Compression::kZstd);
  j.AppendCompressed(0, 0, {}, payload);
  auto rd = OpenBytes(j.bytes());
  ASSERT_TRUE(rd);
  EXPECT_FALSE(rd->Next());
  EXPECT_TRUE(Contains(rd->status(), "block 0 decompressed to more than 4096 bytes")) << rd->status().ToString();
}

TEST(ReaderHardening, GarbagePayload) {
  VectorJournal j(2, kBlockSize, Compression::kZstd);
  j.AppendCompressed(0, 0, {}, Bytes(100, 0xEE));
  VectorBlock blk;
  blk.frames = VectorFrames(0, 3, 1);
  j.AddBlock(blk);
  auto rd = OpenBytes(j.bytes());
  ASSERT_TRUE(rd);
  EXPECT_FALSE(rd->Next());
  EXPECT_TRUE(Contains(rd->status(), "block 0 zstd decode failed")) << rd->status().ToString();
  rd->SkipBlock();
  EXPECT_EQ(CountFrames(*rd), 3);
}

// The largest block size in a tiny file: no block exists, nothing is allocated.
TEST(ReaderHardening, HugeBlockSizeUncompressed) {
  Bytes file = VectorFileHeader(2, kMaxBlockSize, 0);
  file.resize(4096 + 16, 0);
  auto rd = OpenBytes(file);
  ASSERT_TRUE(rd);
  EXPECT_EQ(rd->block_size(), kMaxBlockSize);
  EXPECT_EQ(rd->block_count(), 0u);
  EXPECT_FALSE(rd->Next());
  EXPECT_TRUE(rd->status().ok());
}

// Compressed, the block is refused from the payload length alone: 200 bytes
// of zstd cannot describe 16 MiB, so no 16 MiB buffer is ever requested.
TEST(ReaderHardening, HugeBlockSizeCompressedRefusedBeforeAllocation) {
  Bytes file = VectorFileHeader(2, kMaxBlockSize, 1);
  PutLE(file, 0, 8);
  PutLE(file, 0, 8);
  const Bytes payload = ZstdCompressBytes(Bytes(4096, 0));
  PutLE(file, payload.size(), 4);
  file.insert(file.end(), payload.begin(), payload.end());
  auto rd = OpenBytes(file);
  ASSERT_TRUE(rd);
  ASSERT_EQ(rd->block_count(), 1u);
  EXPECT_FALSE(rd->Next());
  EXPECT_TRUE(Contains(rd->status(), "cannot decompress to 16777216 bytes")) << rd->status().ToString();
}

TEST(ReaderHardening, ZstdContentBound) {
  EXPECT_EQ(MaxZstdContentSize(0), 0u);
  EXPECT_EQ(MaxZstdContentSize(4), 128u * 1024);
  // Every real block compresses far less than the bound allows.
  const Bytes zeros(256 * 1024, 0);
  const Bytes z = ZstdCompressBytes(zeros, 19);
  EXPECT_GE(MaxZstdContentSize(z.size()), zeros.size());
}

}  // namespace
}  // namespace lplex::journal
